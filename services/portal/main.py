"""Composition root of the portal (``services/portal``, port 8100): the one web application for people
— staff, and citizens — as a backend-for-frontend. Pages are rendered on the server (Jinja2, htmx
vendored from npm); data comes from the four services' REST APIs, called with the signed-in person's
token, so authorisation and audit stay in the services.

The portal has a database of its own for sessions only (``services.portal.models``) and no events:
it is not one of the four event-driven services (``contracts.topics.SERVICES``), so it does not use
the kit's ``create_service`` (no Kafka), but the same kit parts: settings, logging, tracing, the
request guard and security headers, error bodies, ``/healthz``, ``/readyz``, ``/metrics``.

Settings: the kit's ``Settings`` (``TOVHOLDER_*``: environment, database, secret box key, how service
tokens are verified) and ``PortalConfig`` (``TOVHOLDER_PORTAL_*``: where the services are, timeouts,
the session policy, the identity provider)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.portal.backends import SERVICES, Backends
from services.portal.oidc import OidcClient
from services.portal.services import SessionPolicy
from tovholder.auth import TokenVerifier
from tovholder.db import create_engine, session_factory
from tovholder.logs import setup_logging
from tovholder.page_sessions import PageSessions
from tovholder.secretbox import SecretBox
from tovholder.settings import DEFAULT_PORTS, Settings
from tovholder.telemetry import setup_tracing
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)


class PortalConfig(BaseSettings):
    """The portal's own settings (``TOVHOLDER_PORTAL_*``)."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_PORTAL_", extra="ignore")

    # Where the four services answer (in Kubernetes: their Services' cluster addresses).
    referrals_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['referrals']}"
    plans_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['plans']}"
    health_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['health']}"
    notifications_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['notifications']}"
    # One call to a service may take this long (connecting: connect_timeout_s) before its part of the
    # page says the service does not answer.
    request_timeout_s: float = 5.0
    connect_timeout_s: float = 1.0
    max_connections: int = 100

    # Sessions: signed out after this long without a request, and after max_hours in any case.
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    purge_interval_s: float = 300.0

    # The municipality's OpenID Connect provider (authorization code flow with PKCE). Without an issuer
    # the portal offers the local sign-in with the demo staff and citizens (never in production).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile"
    # RFC 8707 resource indicator, when the provider issues the services' access tokens for a resource.
    oidc_resource: str | None = None
    # The portal's public address (https://…); the redirect URI is {public_url}/logind/svar. Locally the
    # address the browser used.
    public_url: str | None = None

    # The work queue refreshes on server-sent events; when they fail, it asks this often.
    queue_poll_interval_s: float = 30.0

    @property
    def service_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url") for name in SERVICES}

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(idle=timedelta(minutes=self.session_idle_minutes), max_age=timedelta(hours=self.session_max_hours))


@dataclass
class PortalContext:
    settings: Settings
    config: PortalConfig
    sessions: Any  # async_sessionmaker
    engine: Any
    verifier: TokenVerifier
    box: SecretBox
    login: PageSessions  # the kit's CSRF for forms shown before anyone is signed in
    backends: Backends
    oidc: OidcClient | None
    tasks: list[asyncio.Task] = field(default_factory=list)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, service="portal")

    @property
    def demo_sign_in(self) -> bool:
        """The local sign-in page (demo staff and citizens): outside production, with development tokens."""
        return not self.settings.is_production and self.oidc is None and not self.verifier.oidc


def check_production(settings: Settings, config: PortalConfig) -> None:
    if not settings.is_production:
        return
    missing = [name for name in ("oidc_issuer", "oidc_client_id", "oidc_client_secret", "public_url")
               if not getattr(config, name)]
    if missing:
        raise RuntimeError("production needs " + ", ".join(f"TOVHOLDER_PORTAL_{m.upper()}" for m in missing))
    if not config.public_url.startswith("https://"):
        raise RuntimeError("TOVHOLDER_PORTAL_PUBLIC_URL must be an https:// address in production")


def create_portal(config: PortalConfig | None = None, settings: Settings | None = None, *,
                  transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    from services.portal import jobs, pages

    config = config or PortalConfig()
    settings = settings or Settings(service="portal")
    if settings.service != "portal":
        settings = settings.model_copy(update={"service": "portal"})
    check_production(settings, config)
    setup_logging(settings)
    provider = setup_tracing(settings)
    engine = create_engine(settings)
    backends = Backends(config.service_urls, timeout_s=config.request_timeout_s,
                        connect_timeout_s=config.connect_timeout_s, max_connections=config.max_connections,
                        transport=transport)
    verifier = TokenVerifier(settings)
    oidc = None
    if config.oidc_issuer:
        if not config.oidc_client_id:
            raise RuntimeError("TOVHOLDER_PORTAL_OIDC_ISSUER needs TOVHOLDER_PORTAL_OIDC_CLIENT_ID")
        secret = config.oidc_client_secret.get_secret_value() if config.oidc_client_secret else None
        oidc = OidcClient(issuer=config.oidc_issuer, client_id=config.oidc_client_id, client_secret=secret,
                          scope=config.oidc_scope, resource=config.oidc_resource, http=backends.client,
                          timeout_s=config.request_timeout_s)
    ctx = PortalContext(settings=settings, config=config, sessions=session_factory(engine), engine=engine,
                        verifier=verifier, box=SecretBox(settings), login=PageSessions(settings, verifier),
                        backends=backends, oidc=oidc)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.tasks.append(asyncio.create_task(jobs.purge_sessions_job(ctx), name="purge-sessions"))
        try:
            yield
        finally:
            for task in ctx.tasks:
                task.cancel()
            await asyncio.gather(*ctx.tasks, return_exceptions=True)
            await backends.close()
            await engine.dispose()

    app = FastAPI(title="Tovholder · portal", lifespan=lifespan, version="1", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.ctx = ctx
    pages.install(app, provider)
    return app


def create_app() -> FastAPI:
    """``tovholder serve portal``: the environment is read here, when the app is made."""
    return create_portal()
