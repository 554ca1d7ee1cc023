"""The staff register's use cases (SCIM 2.0 ``/scim/v2/Users``): one async function per request of
the municipality's provisioning client, ``(uow, principal, input) -> SCIM JSON``. Every change is
audited (``staff.register.*``) and committed here; the register has the last word over the staff
directory (``services/plans/domain/staff.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from scim2_models import Context
from sqlalchemy.exc import IntegrityError

from services.plans import repository
from services.plans.domain import staff as staff_rules
from services.plans.models import StaffMemberRow
from services.plans.scim import resources as res
from tovholder import clock
from tovholder.auth import Principal
from tovholder.inputs import CONTROL_CHARACTERS
from tovholder.scim import ScimError, require_scim_client
from tovholder.uow import UnitOfWork

MAX_TEXT = 200
MAX_BOTILBUD = 100  # staff_member.botilbud_id


def _not_found(scim_id: str) -> ScimError:
    return ScimError(404, f"No user with id {scim_id!r} in Tovholder's staff register.")


def _parse_id(scim_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(scim_id)
    except ValueError:
        raise _not_found(scim_id) from None


def _text(value: str | None, attribute: str) -> str | None:
    if value is None:
        return None
    if CONTROL_CHARACTERS.search(value):
        raise ScimError(400, f"{attribute} holds a control character (e.g. NUL), which cannot be stored.", "invalidValue")
    if len(value) > MAX_TEXT:
        raise ScimError(400, f"{attribute} is longer than {MAX_TEXT} characters.", "invalidValue")
    return value


def _member(user: res.StaffUser) -> staff_rules.StaffMember:
    ext = res.extension_of(user)
    for value, attribute in ((user.user_name, "userName"), (user.external_id, "externalId"),
                             (res.display_name(user), "displayName"), (ext.role, "role"), (ext.botilbud_id, "botilbudId"),
                             (user.name.given_name if user.name else None, "name.givenName"),
                             (user.name.family_name if user.name else None, "name.familyName")):
        _text(value, attribute)
    if ext.botilbud_id and len(ext.botilbud_id) > MAX_BOTILBUD:
        raise ScimError(400, f"botilbudId is longer than {MAX_BOTILBUD} characters.", "invalidValue")
    try:
        return staff_rules.from_register(user_name=user.user_name or "", role=ext.role, botilbud_id=ext.botilbud_id,
                                         name=res.display_name(user), active=user.active is not False)
    except staff_rules.RegisterEntryInvalid as exc:
        raise ScimError(400, str(exc), "invalidValue") from None


def _write(row: StaffMemberRow, user: res.StaffUser, member: staff_rules.StaffMember) -> None:
    row.role, row.botilbud_id, row.name, row.active = member.role, member.botilbud_id, member.name, member.active
    row.source = staff_rules.Source.REGISTER.value
    row.external_id = user.external_id
    row.given_name = user.name.given_name if user.name else None
    row.family_name = user.name.family_name if user.name else None
    row.updated_at = clock.now()


def _audit(uow: UnitOfWork, principal: Principal, action: str, row: StaffMemberRow, **detail: Any) -> None:
    uow.audit(principal, f"staff.register.{action}", object_type="staff-member", object_id=row.staff_id,
              detail={"scim_id": str(row.scim_id), "role": row.role, "botilbud_id": row.botilbud_id,
                      "active": row.active, **detail})


async def create_user(uow: UnitOfWork, principal: Principal, body: Any, base: str) -> dict[str, Any]:
    """A newly hired staff member (or one the directory knew from a token: the register takes them over)."""
    require_scim_client(principal)
    user = res.parse_user(body, Context.RESOURCE_CREATION_REQUEST)
    member = _member(user)
    await repository.lock_user_name(uow, member.staff_id)
    row = await repository.staff_row_named(uow, member.staff_id)
    if row is not None and row.source == staff_rules.Source.REGISTER.value and row.deleted_at is None:
        raise ScimError(409, f"userName {member.staff_id!r} is already in the staff register (id {row.scim_id}).",
                        "uniqueness")
    took_over = row.source if row is not None else None
    if row is None:
        row = repository.add_staff_row(uow, StaffMemberRow(staff_id=member.staff_id, first_seen_at=clock.now()))
    row.scim_id, row.deleted_at = uuid.uuid4(), None
    _write(row, user, member)
    _audit(uow, principal, "create", row, **({"took_over": took_over} if took_over else {}))
    try:
        await uow.commit()
    except IntegrityError:
        # The staff member signed in at this very moment and the sign-in wrote the row first.
        raise ScimError(409, f"userName {member.staff_id!r} was written by another request at the same moment; "
                             "send the request again.", "uniqueness") from None
    return res.dump(res.as_user(row, base))


async def _registered(uow: UnitOfWork, scim_id: str) -> StaffMemberRow:
    row = await repository.register_user(uow, _parse_id(scim_id))
    if row is None:
        raise _not_found(scim_id)
    return row


async def get_user(uow: UnitOfWork, principal: Principal, scim_id: str, base: str) -> dict[str, Any]:
    require_scim_client(principal)
    return res.dump(res.as_user(await _registered(uow, scim_id), base))


async def list_users(uow: UnitOfWork, principal: Principal, *, filter: str | None, start_index: int, count: int | None,
                     base: str) -> dict[str, Any]:
    """One page of the register (RFC 7644 §3.4.2.4: startIndex is 1-based; count 0 asks only for the total)."""
    require_scim_client(principal)
    wanted = res.parse_filter(filter)
    start_index = max(start_index, 1)
    count = res.MAX_PAGE if count is None else min(max(count, 0), res.MAX_PAGE)
    rows, total = await repository.register_users(uow, user_name=wanted.get("userName"),
                                                  external_id=wanted.get("externalId"), offset=start_index - 1,
                                                  limit=count)
    return res.list_response([res.as_user(r, base) for r in rows], total=total, start_index=start_index)


async def _change(uow: UnitOfWork, principal: Principal, row: StaffMemberRow, user: res.StaffUser, action: str,
                  base: str) -> dict[str, Any]:
    member = _member(user)
    if member.staff_id != row.staff_id and member.staff_id.lower() != row.staff_id.lower():
        raise ScimError(400, f"userName is the staff member's sign-in id and cannot change ({row.staff_id!r}); "
                             "deactivate this user and create a new one.", "mutability")
    before = {"role": row.role, "botilbud_id": row.botilbud_id, "active": row.active}
    _write(row, user, member)
    changed = {k: v for k, v in before.items() if getattr(row, k) != v}
    _audit(uow, principal, "deactivate" if changed.get("active") is True else action, row,
           previous=changed)
    await uow.commit()
    return res.dump(res.as_user(row, base))


async def replace_user(uow: UnitOfWork, principal: Principal, scim_id: str, body: Any, base: str) -> dict[str, Any]:
    require_scim_client(principal)
    row = await _registered(uow, scim_id)
    user = res.parse_user(body, Context.RESOURCE_REPLACEMENT_REQUEST)
    return await _change(uow, principal, row, user, "replace", base)


async def patch_user(uow: UnitOfWork, principal: Principal, scim_id: str, body: Any, base: str) -> dict[str, Any]:
    require_scim_client(principal)
    row = await _registered(uow, scim_id)
    user = res.apply_patch(res.as_user(row, base), body)
    return await _change(uow, principal, row, user, "patch", base)


async def delete_user(uow: UnitOfWork, principal: Principal, scim_id: str) -> None:
    """Gone from the register: gone for SCIM, inactive for plans (the row stays; history names them)."""
    require_scim_client(principal)
    row = await _registered(uow, scim_id)
    row.active, row.deleted_at, row.updated_at = False, clock.now(), clock.now()
    _audit(uow, principal, "delete", row)
    await uow.commit()
