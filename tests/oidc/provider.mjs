// A real, certified OpenID provider (node-oidc-provider) for the portal's sign-in tests. Not for
// production. Usage: node provider.mjs CONFIG.json — CONFIG holds port, client, redirect and
// post-logout URIs, and the accounts (sub -> role, name, botilbud, municipality) whose access tokens
// carry the claims the services read. Access tokens are JWTs (RS256) for the resource urn:tovholder
// with audience "tovholder", so the services verify them against this provider's JWKS. Consent is
// given up front (a first-party client), so a sign-in is: the provider's login form, then back.
import fs from 'node:fs';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };
const RESOURCE = 'urn:tovholder';
const SCOPE = 'openid profile';

const provider = new Provider(config.issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['tests-only-not-a-secret'] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE, audience: 'tovholder', accessTokenFormat: 'jwt', accessTokenTTL: config.access_token_ttl || 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, name: account.name }; } };
  },
  async extraTokenClaims(ctx, token) {
    const account = config.accounts[token.accountId];
    if (!account) return {};
    const claims = { role: account.role, name: account.name };
    if (account.botilbud) claims.botilbud = account.botilbud;
    if (account.municipality) claims.municipality = account.municipality;
    return claims;
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPE);
    grant.addResourceScope(RESOURCE, SCOPE);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
