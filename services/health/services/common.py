"""The pieces every use case shares: who the caller is (``actor_of``), the one access check
(``authorize``, which audits a refusal), the answers that reveal nothing, and small input helpers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.health import repository as repo
from services.health.domain.access import Action, Actor, knows_of, may, reads_health_data, why_not
from services.health.models import HealthRecord
from tovholder import clock
from tovholder import access as kit_access
from tovholder.access import actor_from
from tovholder.auth import Principal
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.cpr import CprVault, InvalidCpr, normalize_cpr
from tovholder.receipts import FatalMessage, person_reads
from tovholder.scopes import scope_of
from tovholder.uow import UnitOfWork

now_utc = clock.now


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise DomainError(f"{field} skal have en tidszone, fx 2027-03-10T09:00:00+01:00")
    return value


def _partner_aware(value: datetime, field: str) -> datetime:
    """``_aware`` for a partner's message: the receipt's reason is English."""
    if value.tzinfo is None:
        raise FatalMessage(f"{field} needs a time zone offset, e.g. 2027-03-10T09:00:00+01:00")
    return value


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# ==================================================================== who may see what


def actor_of(user: Principal) -> Actor:
    return actor_from(user)


# One answer for a citizen without a health record and for a record the caller may not see, so a
# nurse consultant or coordinator elsewhere cannot learn that a citizen exists (or has a record).
NO_RECORD_YOU_MAY_SEE = ("Ingen sundhedsjournal for denne borger, som du har adgang til "
                         "(den oprettes, når borgeren får en plads på et botilbud).")

# Found by id, but the caller may not see the citizen's record: the same 404 as for an unknown id.
NO_SUCH_DOCUMENT = "Intet sådant dokument fra en samarbejdspartner."
NO_SUCH_ALERT = "Ingen sådan medicinadvarsel."
NO_SUCH_CHECK = "Intet sådant sundhedstjek."


async def authorize(
    uow: UnitOfWork, user: Principal, action: Action, citizen_id: uuid.UUID, *, lock: bool = False,
    not_found: str = NO_RECORD_YOU_MAY_SEE,
) -> HealthRecord:
    """The citizen's health record, if ``user`` may do ``action``. Otherwise the refusal is audited
    (when there is a record) and answered without revealing whether the citizen exists:

    - roles that never read health data (partner, admin, visitation) get the same 403 for every citizen;
    - the others get ``not_found`` (404) — the very answer for an unknown citizen (or for the
      unknown object the route looked up, e.g. a health check) — unless they may do something
      else with this record, which they then know of: then a 403 says why not.
    """
    actor = actor_of(user)
    record = await repo.health_record(uow, citizen_id, lock=lock)
    if record is None:
        if not reads_health_data(user.role):
            raise Forbidden(why_not(actor, action))
        raise NotFound(not_found)
    context = await repo.citizen_context(uow, record)
    # A refusal is audited by the kit (health.access_denied, naming the citizen).
    kit_access.authorize(may(actor, action, context), why_not(actor, action),
              hide=reads_health_data(user.role) and not knows_of(actor, context), not_found=not_found,
              citizen_id=citizen_id, action="health.access_denied", object_type="health_record", object_id=record.id)
    return record


def require_unmatched_queue(user: Principal, serving: str | None) -> None:
    """The queue of unmatched hospital notices is visitation's — of the municipality that received
    them: the one this installation serves (a notice matching nobody names no municipality)."""
    actor = actor_of(user)
    if not may(actor, Action.UNMATCHED_QUEUE):
        raise Forbidden(why_not(actor, Action.UNMATCHED_QUEUE))
    if not scope_of(user, serving=serving).sees_records_without_municipality:
        # The same answer for the list and every notice in it: nothing about any one notice.
        raise Forbidden(f"Køen af uparrede sygehusadviser hører til {serving or 'installationens kommune'}; "
                        f"dit token er udstedt til visitationen i {user.municipality}.")


@dataclass(frozen=True)
class KnownPerson:
    citizen_id: uuid.UUID
    record: HealthRecord | None  # None: known to the municipality, no place at a botilbud yet


def person_intake_reads(vault: CprVault,
                        look_up_intake: Callable[[UnitOfWork, str, Any, dict[str, Any]], Awaitable[Any]]) -> dict[str, Any]:
    """The kit's ``person_reads`` for a partner message about a person here (a hospital notice, a document,
    a medication change): health's CPR hash and person lock."""

    def cpr_hash_of(message: Any) -> str | None:
        try:
            return vault.hash(normalize_cpr(message.cpr))
        except InvalidCpr:
            return None

    return person_reads(cpr_hash_of, repo.cpr_locks, look_up_intake)
