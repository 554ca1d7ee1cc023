"""A hospital stay as a FHIR R4 ``Encounter``, from the hospital notices about it.

One stay is one hospital episode (the notices of one sender with one ``hospital_episode_id``).
Its status follows the last effective notice: admitted or back from leave → ``in-progress``, on leave
→ ``onleave``, discharged or died → ``finished``; a stay whose every notice was cancelled is
``entered-in-error``. Class ``IMP`` (admitted, STIN) or ``EMER`` (acute ambulant, STAA).
The id is ``<citizen_id>.<16 hex>``: the citizen it is about, and the stay (a hash of sender and episode).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from fhir.resources.R4B.encounter import Encounter

from services.health.fhir.medcom import SOR_SYSTEM

ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
EPISODE_SYSTEM = "urn:tovholder:hospital-episode"  # the sender's own episode-of-care identifier
STATUS_AFTER = {"admission": "in-progress", "leave-ended": "in-progress", "leave-started": "onleave",
                "discharge": "finished", "death": "finished"}
STATUSES = ("in-progress", "onleave", "finished", "entered-in-error")


@dataclass(frozen=True)
class Stay:
    id: str
    citizen_id: uuid.UUID
    status: str
    last_updated: datetime
    resource: Encounter


def stay_id(citizen_id: uuid.UUID, sender_org: str, episode: str) -> str:
    digest = hashlib.sha256("\n".join((sender_org, episode)).encode()).hexdigest()
    return f"{citizen_id}.{digest[:16]}"


def citizen_of(encounter_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(encounter_id.split(".", 1)[0])
    except ValueError:
        return None


def _sor(org: str) -> dict[str, Any]:
    return {"identifier": {"system": SOR_SYSTEM, "value": org.removeprefix("SOR:")}} if org.startswith("SOR:") else {
        "display": org}


def stays(citizen_id: uuid.UUID, notices: Iterable[Any]) -> list[Stay]:
    """Every stay of the citizen, newest first (``notices``: the citizen's hospital notice rows)."""
    episodes: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for notice in notices:
        if notice.action != "cancel":
            episodes[(notice.sender_org, notice.hospital_episode_id)].append(notice)
    result = []
    for (sender_org, episode), rows in episodes.items():
        effective = sorted((r for r in rows if r.status == "active"), key=lambda r: r.occurred_at)
        admission = next((r for r in effective if r.kind == "admission"), None)
        if effective:
            status = STATUS_AFTER.get(effective[-1].kind, "in-progress")
        else:
            status = "entered-in-error"
        ends = [r.occurred_at for r in effective if r.kind in ("discharge", "death")]
        start = admission.occurred_at if admission else min(r.occurred_at for r in (effective or rows))
        latest = max(rows, key=lambda r: r.received_at)
        encounter_id = stay_id(citizen_id, sender_org, episode)
        leave = next((r for r in reversed(effective) if r.kind == "leave-started"), None)
        last_updated = max(r.received_at for r in rows)
        resource = Encounter.model_validate({
            "resourceType": "Encounter", "id": encounter_id,
            "meta": {"lastUpdated": last_updated.isoformat()},
            "identifier": [{"system": EPISODE_SYSTEM, "value": episode, "assigner": _sor(sender_org)}],
            "status": status,
            "class": {"system": ACT_CODES, "code": "EMER" if admission is not None and admission.code == "STAA" else "IMP"},
            "subject": {"reference": f"Patient/{citizen_id}"},
            "period": {"start": start.isoformat(), **({"end": max(ends).isoformat()} if ends else {})},
            "serviceProvider": {"display": latest.department, **({"identifier": _sor(sender_org)["identifier"]}
                                                                  if sender_org.startswith("SOR:") else {})},
            **({"extension": [{"url": "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/"
                                      "medcom-hospitalnotifiation-leave-period-extension",
                               "valuePeriod": {"start": leave.occurred_at.isoformat()}}]}
               if status == "onleave" and leave else {}),
        })
        result.append(Stay(encounter_id, citizen_id, status, last_updated, resource))
    return sorted(result, key=lambda s: s.last_updated, reverse=True)


def matches_last_updated(stay: Stay, conditions: Iterable[tuple[str, datetime]]) -> bool:
    ops = {"eq": lambda a, b: a == b, "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b,
           "gt": lambda a, b: a > b, "lt": lambda a, b: a < b}
    return all(ops[op](stay.last_updated, when) for op, when in conditions)
