"""FHIR R4 read of hospital stays (``Encounter``): staff and the citizen on the REST API's access rule;
a partner organisation only under the citizen's consent for ``health`` to it (the kit's one consent
decision, ``tovholder.consent``, as for partner documents and notifications' deliveries)."""

from __future__ import annotations

import uuid
from typing import Any

from services.health import repository as repo
from services.health.domain.access import Action, may_pass_on
from services.health.domain.hospital_notices import LEGAL_BASIS
from services.health.fhir import encounter as fhir_encounter
from services.health.services.common import authorize, now_utc
from tovholder.access import Role
from tovholder.auth import Principal
from tovholder.errors import Forbidden, NotFound
from tovholder.fhir import Search, require_scope
from tovholder.fhir import dump as dump_resource
from tovholder.uow import UnitOfWork

# ==================================================================== FHIR R4 read: Encounter (hospital stays)

NO_SUCH_ENCOUNTER = "No such Encounter that you may read."
NO_PATIENT_YOU_MAY_READ = "No such Patient whose hospital stays you may read."
# One answer for every Patient a partner may not read (unknown, never consented, consent revoked), so a
# refusal tells the partner nothing about the citizen; the reason of the decision stays in our audit log.
PARTNER_WITHOUT_CONSENT = (
    "Your organisation ({org}) may read a citizen's hospital stays only while the citizen's consent to share health "
    "information (category 'health') with it is in force, and there is no such consent for this Patient. Hospital "
    "notices reach the municipality under retssikkerhedsloven § 12 c, which does not let it pass them on; the citizen "
    "gives or withdraws consent with the municipality's staff.")
PARTNER_WITHOUT_ORG = "Your token names no organisation (claim org, e.g. SOR:1234567): a partner reads on the consent given to it."


async def _readable_stays(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, not_found: str = NO_PATIENT_YOU_MAY_READ,
                          object_id: str | None = None) -> tuple[list[fhir_encounter.Stay], str | None]:
    """The citizen's stays, and what let ``user`` read them (a partner: ``consent <id>``), after the
    token's SMART scopes, if any. Staff and the citizen: the REST API's rule (``authorize``, i.e.
    ``tovholder.access.may_read_health_details``). A partner organisation: the citizen's consent for
    ``health`` to it, in force now — otherwise 403 (audited as ``encounter.refused``)."""
    require_scope(user, "Encounter", object_type="encounter", citizen_id=citizen_id, object_id=object_id)
    basis = None
    if user.role == Role.PARTNER:
        if not user.org:
            raise Forbidden(PARTNER_WITHOUT_ORG, citizen_id=citizen_id, audit_action="encounter.refused",
                            object_type="encounter", object_id=object_id)
        decision = may_pass_on(await repo.consents(uow, citizen_id), user.org, now_utc(), legal_basis=LEGAL_BASIS)
        if not decision:
            raise Forbidden(PARTNER_WITHOUT_CONSENT.format(org=user.org), citizen_id=citizen_id,
                            audit_action="encounter.refused", object_type="encounter", object_id=object_id)
        basis = decision.basis
    else:
        await authorize(uow, user, Action.READ, citizen_id, not_found=not_found)
    return fhir_encounter.stays(citizen_id, await repo.hospital_notices(uow, citizen_id)), basis


def _detail(basis: str | None, **detail: Any) -> dict[str, Any]:
    return {**detail, **({"basis": basis} if basis else {})}


async def read_encounter(uow: UnitOfWork, user: Principal, encounter_id: str) -> dict[str, Any]:
    """``GET /fhir/r4/Encounter/{id}``: one hospital stay (audited)."""
    citizen_id = fhir_encounter.citizen_of(encounter_id)
    if citizen_id is None:
        raise NotFound(NO_SUCH_ENCOUNTER)
    stays, basis = await _readable_stays(uow, user, citizen_id, not_found=NO_SUCH_ENCOUNTER, object_id=encounter_id)
    stay = next((x for x in stays if x.id == encounter_id), None)
    if stay is None:
        raise NotFound(NO_SUCH_ENCOUNTER)
    uow.audit(user, "encounter.read", citizen_id=citizen_id, object_type="encounter", object_id=encounter_id,
              detail=_detail(basis) or None)
    await uow.commit()
    return dump_resource(stay.resource)


async def search_encounters(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Any], int]:
    """``GET /fhir/r4/Encounter?patient=…``: one citizen's stays, newest first, one page (audited); a list
    shows exactly what the single read would (the same rule decides both). The search parameters are read
    and checked by the kit, as for every FHIR search."""
    citizen_id = search.citizen_id(user, "Encounter")
    statuses = search.statuses(fhir_encounter.STATUSES)
    readable, basis = await _readable_stays(uow, user, citizen_id)
    stays = [x for x in readable if (statuses is None or x.status in statuses) and search.updated(x.last_updated)]
    page, total = search.page(stays)
    uow.audit(user, "encounter.list", citizen_id=citizen_id, object_type="encounter",
              detail=_detail(basis, count=len(page), total=total))
    await uow.commit()
    return [x.resource for x in page], total
