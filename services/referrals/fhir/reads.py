"""Referrals' FHIR reads, on the case's own rule (``domain.access.view_of``: visitation of the case's
municipality, the coordinators of the botilbud it is placed at, the partner that referred, the citizen;
anyone else gets the unknown case's 404), after the token's SMART scopes. Every read is audited as
``referral.read`` / ``referral.list`` (the citizen's Min log shows it).

The ``Patient`` (the citizen, ``Patient/<citizen_id>``): the citizen and staff on the cases' rule
(``domain.access.sees_patient``), a partner under the kit's consent decision only
(``domain.access.may_read_patient``, as health's Encounter); what it carries for whom is
``resources.patient``'s. Audited as ``citizen.read`` / ``citizen.list`` / ``citizen.refused``."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from fhir.resources.R4B.resource import Resource

from services.referrals import repository
from services.referrals import services
from services.referrals.domain.access import View, may_read_patient, sees_patient, view_of
from services.referrals.fhir import resources as fr
from tovholder import clock
from tovholder.access import Role
from tovholder.auth import Principal
from tovholder.consent import CATEGORY_WORDS, Recipient, legal_bases_naming
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM
from tovholder.errors import Forbidden, NotFound, NotVisible
from tovholder.fhir import PATIENT_PREFIX, Search, dump, invalid_search, require_scope
from tovholder.service import ServiceContext
from tovholder.uow import UnitOfWork

NOT_FOUND = {"ServiceRequest": "No such ServiceRequest that you may read.",
             "EpisodeOfCare": "No such EpisodeOfCare that you may read (a placement exists once a place is granted)."}


async def _resource(uow: UnitOfWork, resource_type: str, row: Any, view: View) -> Resource:
    if resource_type == "ServiceRequest":
        return fr.service_request(row, view)
    return fr.episode_of_care(row, await repository.history_rows(uow, row.id),
                              await repository.tovholder_choices(uow, row.citizen_id))


async def _one(uow: UnitOfWork, user: Principal, resource_type: str, resource_id: str, ctx: ServiceContext) -> Resource:
    try:
        referral_id = uuid.UUID(resource_id)
    except ValueError:
        raise NotFound(NOT_FOUND[resource_type]) from None
    row = await repository.get_referral(uow, referral_id)
    require_scope(user, resource_type, object_type="referral", citizen_id=row.citizen_id if row else None,
                  object_id=row.id if row else None)
    if row is None or (resource_type == "EpisodeOfCare" and not fr.has_episode(row)):
        raise NotFound(NOT_FOUND[resource_type])
    row, view, _ = await services._readable_case_and_additions(uow, ctx, referral_id, user)
    resource = await _resource(uow, resource_type, row, view)
    uow.audit(user, "referral.read", citizen_id=row.citizen_id, object_type="referral", object_id=row.id,
              detail={"view": view.value, "fhir": resource_type})
    await uow.commit()
    return resource


async def _search(uow: UnitOfWork, user: Principal, resource_type: str, search: Search, ctx: ServiceContext,
                  allowed: tuple[str, ...]) -> tuple[list[Resource], int]:
    citizen_id = search.citizen_id(user, resource_type)
    statuses = search.statuses(allowed)
    require_scope(user, resource_type, object_type="referral", citizen_id=citizen_id)
    actor = services.actor_of(user, ctx)
    found: list[tuple[Any, Resource]] = []
    for row in await repository.cases_of_citizen(uow, citizen_id):
        if resource_type == "EpisodeOfCare" and not fr.has_episode(row):
            continue
        case, _ = await services._case_with_additions(uow, row)
        view = view_of(actor, case)
        if view is View.NONE:
            continue  # a list shows only what the single read would
        resource = await _resource(uow, resource_type, row, view)
        if (statuses is None or resource.status in statuses) and search.updated(resource.meta.lastUpdated):
            found.append((row, resource))
    page, total = search.page(found)
    await uow.audit_many(user, "referral.list", [(r.citizen_id, r.id) for r, _ in page], object_type="referral")
    await uow.commit()
    return [resource for _, resource in page], total


async def read_service_request(uow: UnitOfWork, user: Principal, resource_id: str, *, ctx: ServiceContext) -> dict[str, Any]:
    return dump(await _one(uow, user, "ServiceRequest", resource_id, ctx))


async def search_service_requests(uow: UnitOfWork, user: Principal, search: Search, *,
                                  ctx: ServiceContext) -> tuple[list[Resource], int]:
    return await _search(uow, user, "ServiceRequest", search, ctx, fr.SERVICE_REQUEST_STATUSES)


async def read_episode_of_care(uow: UnitOfWork, user: Principal, resource_id: str, *, ctx: ServiceContext) -> dict[str, Any]:
    return dump(await _one(uow, user, "EpisodeOfCare", resource_id, ctx))


async def search_episodes_of_care(uow: UnitOfWork, user: Principal, search: Search, *,
                                  ctx: ServiceContext) -> tuple[list[Resource], int]:
    return await _search(uow, user, "EpisodeOfCare", search, ctx, fr.EPISODE_STATUSES)


# ---------------------------------------------------------------- Patient: the citizen every resource points at

NO_SUCH_PATIENT = "No such Patient that you may read."
NO_SUCH_PATIENT_DA = "Borgeren findes ikke, eller du har ikke adgang til borgeren."
# One answer for every Patient a partner may not read (unknown, never consented, consent revoked), so a
# refusal tells the partner nothing about the citizen; the reason of the decision stays in our audit log.
PARTNER_WITHOUT_CONSENT = (
    "Your organisation ({org}) may read a Patient only while a consent of the citizen to share information with "
    "it is in force (or a legal basis names it), and there is no such consent for this Patient. The citizen "
    "gives or withdraws consent with the municipality's staff.")
PARTNER_WITHOUT_ORG = "Your token names no organisation (claim org, e.g. SOR:1234567): a partner reads on the consent given to it."
IDENTIFIER_FOR_PARTNERS = (
    f"identifier search takes a partner's own citizen reference ({CITIZEN_REFERENCE_SYSTEM}|<reference>); staff and "
    "citizens search by _id=<citizen_id>.")
ONLY_REFERENCE_SYSTEM = (
    f"identifier search takes only {CITIZEN_REFERENCE_SYSTEM}|<your reference for the citizen>. A CPR number is "
    "never searched in a URL (URLs are logged along the way): POST /integration/v1/citizen-references with the CPR "
    "number in the body returns the reference.")
SEARCH_ONE = ("Search Patient by _id=<citizen_id> or (partners) identifier="
              f"{CITIZEN_REFERENCE_SYSTEM}|<your reference>; a citizen's own token needs neither.")


@dataclass(frozen=True)
class PatientSearch:
    """``GET /fhir/r4/Patient``'s parameters: ``_id``, ``identifier`` (a partner's citizen reference only),
    ``_count``/``_offset`` (read by ``patient_search_params``)."""

    id: str | None = None
    identifier: str | None = None
    count: int = 20
    offset: int = 0

    def reference(self) -> str | None:
        """The citizen reference searched; a 400 for any other identifier (never echoing its value)."""
        if self.identifier is None:
            return None
        system, bar, value = self.identifier.partition("|")
        if not bar or system != CITIZEN_REFERENCE_SYSTEM or not value:
            raise invalid_search(ONLY_REFERENCE_SYSTEM)
        return value


def patient_search_params(
    id: Annotated[str | None, Query(alias="_id", max_length=100)] = None,
    identifier: Annotated[str | None, Query(max_length=200)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=100)] = 20,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=100_000)] = 0,
) -> PatientSearch:
    return PatientSearch(id=id, identifier=identifier, count=count, offset=offset)


PatientSearchQuery = Annotated[PatientSearch, Depends(patient_search_params)]


def _citizen_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.removeprefix(PATIENT_PREFIX))
    except ValueError:
        return None


async def _readable_patient(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID | None, ctx: ServiceContext,
                            *, object_id: str) -> tuple[Any, str | None, str | None]:
    """The citizen, the partner's reference (None for staff and the citizen) and what let a partner read
    (``consent <id>``), after the token's SMART scopes — or the refusal (audited as ``citizen.refused``):
    a partner's 403, the same for an unknown and an unconsented Patient; everyone else the unknown one's 404."""
    citizen = await repository.get_citizen(uow, citizen_id) if citizen_id else None
    known = citizen.id if citizen else None
    require_scope(user, "Patient", object_type="citizen", citizen_id=known, object_id=object_id)
    names = dict(citizen_id=known, audit_action="citizen.refused", object_type="citizen", object_id=object_id)
    if user.role == Role.PARTNER:
        if not user.org:
            raise Forbidden(PARTNER_WITHOUT_ORG, **names)
        decision = may_read_patient(await repository.consents(uow, citizen.id), user.org, clock.now()) if citizen else None
        if not decision:
            raise Forbidden(PARTNER_WITHOUT_CONSENT.format(org=user.org), **names)
        return citizen, ctx.cpr_vault().citizen_reference(user.org, citizen.id), decision.basis
    if citizen is None:
        raise NotFound(NO_SUCH_PATIENT_DA, en=NO_SUCH_PATIENT)
    cases = [(await services._case_with_additions(uow, row))[0] for row in await repository.cases_of_citizen(uow, citizen.id)]
    if not sees_patient(services.actor_of(user, ctx), cases):
        raise NotVisible(NO_SUCH_PATIENT_DA, en=NO_SUCH_PATIENT, **names)
    return citizen, None, None


def _detail(basis: str | None) -> dict[str, Any]:
    return {"fhir": "Patient", **({"basis": basis} if basis else {})}


async def read_patient(uow: UnitOfWork, user: Principal, resource_id: str, *, ctx: ServiceContext) -> dict[str, Any]:
    """``GET /fhir/r4/Patient/{citizen_id}`` (audited as ``citizen.read``: the citizen's Min log shows it)."""
    citizen, reference, basis = await _readable_patient(uow, user, _citizen_uuid(resource_id), ctx, object_id=resource_id)
    resource = fr.patient(citizen, reference=reference)
    uow.audit(user, "citizen.read", citizen_id=citizen.id, object_type="citizen", object_id=citizen.id,
              detail=_detail(basis))
    await uow.commit()
    return dump(resource)


async def _by_reference(uow: UnitOfWork, user: Principal, reference: str, ctx: ServiceContext) -> uuid.UUID | None:
    """The citizen a partner's own reference names, among those it may know of (a consent to its
    organisation, or every citizen where a legal basis names it); None when none does."""
    if user.role != Role.PARTNER:
        raise invalid_search(IDENTIFIER_FOR_PARTNERS)
    if not user.org:
        raise Forbidden(PARTNER_WITHOUT_ORG, audit_action="citizen.refused", object_type="citizen")
    recipient = Recipient.organisation(user.org)
    named = any(legal_bases_naming(recipient, c) for c in CATEGORY_WORDS)
    vault = ctx.cpr_vault()
    candidates = await (repository.all_citizen_ids(uow) if named else repository.citizens_consenting_to(uow, user.org))
    return next((c for c in candidates if hmac.compare_digest(vault.citizen_reference(user.org, c), reference)), None)


async def search_patients(uow: UnitOfWork, user: Principal, search: PatientSearch, *,
                          ctx: ServiceContext) -> tuple[list[Resource], int]:
    """``GET /fhir/r4/Patient?_id=…`` / ``?identifier=urn:tovholder:citizen-reference|…``: at most one
    citizen. ``_id`` answers as the read does (its refusals too, as health's Encounter search by patient);
    a partner's reference that names no citizen it may read finds nothing (an empty searchset, the
    same for an unknown reference and a revoked consent). Audited as ``citizen.list``."""
    reference = search.reference()
    wanted = _citizen_uuid(search.id) if search.id else None
    if search.id is None and reference is None:
        if user.role != Role.CITIZEN:
            raise invalid_search(SEARCH_ONE)
        wanted = _citizen_uuid(user.sub)
    if reference is not None:
        found = await _by_reference(uow, user, reference, ctx)
        if found is None or (search.id is not None and found != wanted):
            await uow.commit()
            return [], 0
        wanted = found
        if not may_read_patient(await repository.consents(uow, found), user.org or "", clock.now()):
            uow.audit(user, "citizen.refused", citizen_id=found, object_type="citizen", object_id=found,
                      detail={"fhir": "Patient", "search": "identifier"})
            await uow.commit()
            return [], 0
    citizen, reference, basis = await _readable_patient(uow, user, wanted, ctx, object_id=search.id or str(wanted))
    page = [fr.patient(citizen, reference=reference)][search.offset:search.offset + search.count]
    if page:
        uow.audit(user, "citizen.list", citizen_id=citizen.id, object_type="citizen", object_id=citizen.id,
                  detail=_detail(basis))
    await uow.commit()
    return page, 1
