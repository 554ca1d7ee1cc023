"""The staff register's SCIM resources: ``User`` with Tovholder's extension, and the discovery
resources (``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``). The models are scim2-models'.

Tovholder's extension schema ``urn:dk:tovholder:params:scim:schemas:extension:tovholder:2.0:User``:

- ``role`` (required): ``coordinator`` or ``nurse-consultant``, the staff member's role in Tovholder;
- ``botilbudId`` (required): the botilbud they work at (the same id as the token's ``botilbud`` claim).

Of the core ``User``: ``userName`` is the staff id (the ``sub`` the identity provider puts in the
member's tokens; it cannot change), ``externalId`` the identity provider's id, ``name``/``displayName``
the name staff see, ``active`` whether they still work there. Other core attributes are accepted and
not kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationError
from scim2_models import (URN, AuthenticationScheme, Bulk, ChangePassword, Context, ETag, Extension, Filter, ListResponse,
                          Meta, Name, Pagination, Patch, PatchOp, Required, ResourceType, SCIMException,
                          ServiceProviderConfig, Sort, User)

from services.plans.domain.staff import REGISTER_SCHEMA
from services.plans.models import StaffMemberRow
from tovholder.scim import ScimError

MAX_PAGE = 100
# What scim2-models raises for a body or filter it cannot take: SCIM's own errors, pydantic's, and the
# plain Python errors a malformed PATCH path or value can surface as; each is the request's fault (400).
MALFORMED = (SCIMException, ValidationError, ValueError, TypeError, KeyError, AttributeError, IndexError, LookupError)
SUPPORTED_FILTERS = ("userName", "externalId")


class TovholderStaff(Extension):
    """The role and botilbud a staff member has in Tovholder."""

    __schema__ = URN(REGISTER_SCHEMA)

    role: Annotated[str | None, Required.true] = None
    """coordinator or nurse-consultant."""

    botilbud_id: Annotated[str | None, Required.true] = None
    """The botilbud the staff member works at (the token's botilbud claim)."""


StaffUser = User[TovholderStaff]


def _refusal(exc: Exception) -> ScimError:
    if isinstance(exc, SCIMException):
        return ScimError(exc.status, exc.detail, exc.scim_type or None)
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)]
        return ScimError(400, "; ".join(problems), "invalidValue")
    return ScimError(400, str(exc), "invalidValue")


def parse_user(body: Any, ctx: Context) -> StaffUser:
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a SCIM User (a JSON object).", "invalidSyntax")
    try:
        return StaffUser.model_validate(body, scim_ctx=ctx)
    except MALFORMED as exc:
        raise _refusal(exc) from None


def apply_patch(user: StaffUser, body: Any) -> StaffUser:
    """The user as the PatchOp leaves it (Entra's ``"False"`` strings are SCIM booleans here)."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a SCIM PatchOp (a JSON object).", "invalidSyntax")
    try:
        patch = PatchOp[StaffUser].model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        patched = user.model_copy(deep=True)
        patch.patch(patched)
        return StaffUser.model_validate(patched.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    except MALFORMED as exc:
        raise _refusal(exc) from None


def extension_of(user: StaffUser) -> TovholderStaff:
    return user[TovholderStaff] or TovholderStaff()


def display_name(user: StaffUser) -> str | None:
    if user.display_name:
        return user.display_name
    if user.name:
        return user.name.formatted or " ".join(p for p in (user.name.given_name, user.name.family_name) if p) or None
    return None


def as_user(row: StaffMemberRow, base: str) -> StaffUser:
    name = Name(given_name=row.given_name, family_name=row.family_name) if row.given_name or row.family_name else None
    user = StaffUser(id=str(row.scim_id), user_name=row.staff_id, external_id=row.external_id, display_name=row.name,
                     name=name, active=row.active,
                     meta=Meta(resource_type="User", created=row.first_seen_at, last_modified=row.updated_at,
                               location=f"{base}/Users/{row.scim_id}"))
    user[TovholderStaff] = TovholderStaff(role=row.role, botilbud_id=row.botilbud_id)
    return user


def dump(model: Any) -> dict[str, Any]:
    return model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def list_response(resources: list[StaffUser], *, total: int, start_index: int) -> dict[str, Any]:
    answer = ListResponse[StaffUser](total_results=total, start_index=start_index, items_per_page=len(resources),
                                     resources=resources or None)
    return answer.model_dump(scim_ctx=Context.SEARCH_RESPONSE)


def parse_filter(text: str | None) -> dict[str, str]:
    """``userName eq "…"`` or ``externalId eq "…"`` (or both, joined by ``and``): the filters an identity
    provider sends before it creates a user; anything else is 400 ``invalidFilter``."""
    if text is None or not text.strip():
        return {}
    from scim2_models import ScimFilter
    from scim2_models.path.expressions import Comparison, CompareOperator, LogicalExpr, LogicalOperator

    try:
        node = ScimFilter(text).ast
    except MALFORMED as exc:
        raise ScimError(400, f"The filter is not valid SCIM: {exc}", "invalidFilter") from None
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    found: dict[str, str] = {}
    for term in terms:
        attr = getattr(getattr(term, "attr_path", None), "attr", None)
        if not (isinstance(term, Comparison) and term.op == CompareOperator.eq and attr in SUPPORTED_FILTERS
                and isinstance(term.value, str) and not term.attr_path.sub_attr):
            raise ScimError(400, "Tovholder filters users by 'userName eq \"…\"' and 'externalId eq \"…\"' "
                                 "(joined by 'and'); nothing else.", "invalidFilter")
        found[attr] = term.value
    return found


def service_provider_config(base: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=None, patch=Patch(supported=True), bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_PAGE), change_password=ChangePassword(supported=False),
        sort=Sort(supported=False), etag=ETag(supported=False), pagination=Pagination(cursor=False, index=True),
        authentication_schemes=[AuthenticationScheme(
            type="oauthbearertoken", name="OAuth Bearer Token", primary=True,
            description="A system token of the municipality's provisioning client with the scope scim:users")],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"))
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def resource_types(base: str) -> list[dict[str, Any]]:
    user = ResourceType.from_resource(StaffUser)
    user.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/User")
    return [user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)]


def schemas(base: str) -> list[dict[str, Any]]:
    found = []
    for model in (User, TovholderStaff):
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
        found.append(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return found
