"""A visitation case as FHIR R4 resources (pure; built through the ``fhir.resources`` models).

- ``ServiceRequest`` (id = the referral id): the referral — who referred (``requester``: the partner's
  organisation by SOR, or the referring staff), why (``reasonCode.text``, the referrer's words), what was
  asked for (``code``: the requested offer's legal basis and step on the indsatstrappe), the citizen's
  wishes in their own words (``note``), and where the case stands (``status``).
- ``EpisodeOfCare`` (id = the referral id; only once a place is granted): the placement at the botilbud
  (``managingOrganization``), ``status`` planned → active → finished with the ``statusHistory`` of the
  case, ``referralRequest`` the ServiceRequest, ``team`` the citizen's network (``CareTeam/<citizen_id>``
  at plans), ``careManager`` the tovholder: the nurse consultant the citizen chose at that botilbud (health's
  ``tovholder-chosen``), by staff identifier and name — for a finished placement the tovholder in force at
  its end, for a running one the current one (``in_force``), when chosen at the placement's botilbud.
- ``Patient`` (id = the citizen id, the ``Patient/<citizen_id>`` every resource points at): ``patient``.
What a caller sees follows the case's views: internal notes never, staff names only to staff.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any, Sequence

from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from services.referrals.domain.access import View
from tovholder import clock
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM
from tovholder.fhir import botilbud_ref, meta, organisation_ref, patient_ref, practitioner_ref, validated

OFFER_SYSTEM = "urn:tovholder:offer-legal-basis"
STEP_SYSTEM = "urn:tovholder:indsatstrappe-step"
CASE_STATUS_SYSTEM = "urn:tovholder:case-status"

SERVICE_REQUEST_STATUS = {"received": "active", "screening": "active", "granted": "completed", "waiting": "completed",
                          "placed": "completed", "ended": "completed", "refused": "revoked", "withdrawn": "revoked"}
SERVICE_REQUEST_STATUSES = ("active", "completed", "revoked")
EPISODE_STATUS = {"granted": "planned", "waiting": "waitlist", "placed": "active", "ended": "finished",
                  "withdrawn": "cancelled"}
EPISODE_STATUSES = ("planned", "waitlist", "active", "finished", "cancelled")


def _day(d: Any) -> str:
    return datetime.combine(d, time(), tzinfo=timezone.utc).isoformat() if d else None


def service_request(row: Any, view: View) -> ServiceRequest:
    code = [c for c in (
        {"system": OFFER_SYSTEM, "code": row.requested_offer} if row.requested_offer else None,
        {"system": STEP_SYSTEM, "code": str(row.requested_step)} if row.requested_step else None) if c]
    requester = (organisation_ref(row.referrer_org, row.referrer_name) if row.referrer_org
                 else practitioner_ref(row.referrer_sub, row.referrer_name if view is not View.CITIZEN else None))
    return validated(ServiceRequest, {
        "resourceType": "ServiceRequest", "id": str(row.id), "meta": meta(row.updated_at or row.received_at),
        "status": SERVICE_REQUEST_STATUS.get(row.status, "unknown"), "intent": "order",
        "category": [{"coding": [{"system": CASE_STATUS_SYSTEM, "code": row.status}], "text": "Henvisning til botilbud"}],
        "code": {"coding": code, "text": row.requested_offer or "Botilbud"} if code else {"text": "Botilbud"},
        "subject": patient_ref(row.citizen_id), "authoredOn": row.received_at.isoformat(),
        "requester": requester,
        "reasonCode": [{"text": row.reason}],
        "note": [{"text": row.citizen_wishes, "authorReference": patient_ref(row.citizen_id)}] if row.citizen_wishes else None,
    })


def has_episode(row: Any) -> bool:
    return row.status in EPISODE_STATUS


def in_force(choices: Sequence[Any], row: Any, ended_at: datetime | None = None) -> Any:
    """The tovholder choice in force for this placement (``choices``: the citizen's, oldest first): at the
    placement's end — the last choice made on or before the day it ended and, when known, before the end
    was recorded (``ended_at``) — or, while it runs, the current one; provided it was made at the
    placement's botilbud (a tovholder is a nurse consultant of the botilbud where they were chosen; a
    withdrawn grant never had one). None otherwise."""
    if row.status == "withdrawn":
        return None
    made = [c for c in choices if row.ended_on is None or (clock.local_date(c.chosen_at) <= row.ended_on
                                                          and (ended_at is None or c.chosen_at <= ended_at))]
    choice = made[-1] if made else None
    return choice if choice is not None and choice.botilbud_id == row.botilbud_id else None


def manages(tovholder: Any, row: Any) -> bool:
    """Whether this one choice (the citizen's current tovholder) is the care manager of the placement."""
    return tovholder is not None and in_force([tovholder], row) is tovholder


def episode_of_care(row: Any, history: Sequence[Any], choices: Sequence[Any] = ()) -> EpisodeOfCare:
    """A placement; ``history``: the case's status changes, oldest first; ``choices``: the citizen's
    tovholder choices (``models.TovholderChoice``), oldest first."""
    ended_at = next((h.at for h in reversed(history) if h.status == "ended"), None)
    tovholder = in_force(choices, row, ended_at)
    changes = [h for h in history if h.status in EPISODE_STATUS]
    status_history = []
    for n, change in enumerate(changes):
        end = changes[n + 1].at.isoformat() if n + 1 < len(changes) else None
        status_history.append({"status": EPISODE_STATUS[change.status],
                               "period": {"start": change.at.isoformat(), **({"end": end} if end else {})}})
    period = {k: v for k, v in (("start", _day(row.moved_in_on or row.start_date)), ("end", _day(row.ended_on))) if v}
    managed = tovholder is not None
    changed = max(row.updated_at or row.received_at, tovholder.chosen_at) if managed else row.updated_at or row.received_at
    return validated(EpisodeOfCare, {
        "resourceType": "EpisodeOfCare", "id": str(row.id), "meta": meta(changed),
        "status": EPISODE_STATUS[row.status], "statusHistory": status_history,
        "type": [{"coding": [c for c in ({"system": OFFER_SYSTEM, "code": row.legal_basis} if row.legal_basis else None,
                                         {"system": STEP_SYSTEM, "code": str(row.step)} if row.step else None) if c],
                  "text": row.offer_id or "Botilbud"}],
        "patient": patient_ref(row.citizen_id), "managingOrganization": botilbud_ref(row.botilbud_id),
        "period": period or None, "referralRequest": [{"reference": f"ServiceRequest/{row.id}"}],
        "careManager": practitioner_ref(tovholder.nurse_consultant_sub, tovholder.nurse_consultant_name)
        if managed else None,
        "team": [{"reference": f"CareTeam/{row.citizen_id}", "display": "Borgerens netværk (tovholderen er dets sygeplejekonsulent)"}],
    })


def patient(citizen: Any, *, reference: str | None = None) -> Patient:
    """The citizen as a ``Patient``: what referrals holds of them, and to whom.

    - Everyone let through reads the id (the citizen id), the name as referrals has it (``name.text``: one
      string, the referrer's spelling — not split into given and family names we do not have) and the
      municipality whose visitation holds the citizen's case (``managingOrganization``, by name).
    - The citizen themselves and staff (who see the citizen's name in the REST API) also read the birth
      date (``reference`` None).
    - A partner reads, instead of the birth date, its own citizen reference (``identifier`` with system
      ``urn:tovholder:citizen-reference``: ``reference``, the same its deliveries carry and
      ``POST /integration/v1/citizen-references`` returns): it matches the Patient against its own records
      with that, and the birth date — half of the CPR number — is not needed for it.
    Never the CPR number (to no one: it is not an identifier a FHIR client needs here, and a partner
    already holds it), nor a general practitioner (referrals records none)."""
    partner = reference is not None
    return validated(Patient, {
        "resourceType": "Patient", "id": str(citizen.id), "meta": meta(citizen.created_at),
        "identifier": [{"system": CITIZEN_REFERENCE_SYSTEM, "value": reference}] if partner else None,
        "name": [{"use": "official", "text": citizen.name}] if citizen.name else None,
        "birthDate": citizen.birth_date.isoformat() if citizen.birth_date and not partner else None,
        "managingOrganization": {"type": "Organization", "display": citizen.municipality} if citizen.municipality else None,
    })
