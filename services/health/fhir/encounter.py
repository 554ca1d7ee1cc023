"""A hospital stay as a FHIR R4 ``Encounter``, from the hospital notices about it.

One stay is one hospital episode (the notices of one sender with one ``hospital_episode_id``).
Its status follows the last effective notice: admitted or back from leave → ``in-progress``, on leave
→ ``onleave``, discharged or died → ``finished``; a stay whose every notice was cancelled is
``entered-in-error``. Class ``IMP`` (admitted, STIN) or ``EMER`` (acute ambulant, STAA).
The id is ``<citizen_id>.<16 hex>``: the citizen it is about, and the stay (a hash of sender and episode).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from fhir.resources.R4B.encounter import Encounter

from tovholder.fhir import ENCOUNTER_STATUS_AFTER, encounter_json, hospital_stay_id

STATUSES = ("in-progress", "onleave", "finished", "entered-in-error")


@dataclass(frozen=True)
class Stay:
    id: str
    citizen_id: uuid.UUID
    status: str
    last_updated: datetime
    resource: Encounter


stay_id = hospital_stay_id


def citizen_of(encounter_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(encounter_id.split(".", 1)[0])
    except ValueError:
        return None


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
        status = ENCOUNTER_STATUS_AFTER.get(effective[-1].kind, "in-progress") if effective else "entered-in-error"
        ends = [r.occurred_at for r in effective if r.kind in ("discharge", "death")]
        leave = next((r for r in reversed(effective) if r.kind == "leave-started"), None)
        last_updated = max(r.received_at for r in rows)
        encounter_id = stay_id(citizen_id, sender_org, episode)
        resource = Encounter.model_validate(encounter_json(
            encounter_id=encounter_id, citizen_id=citizen_id, sender_org=sender_org, episode=episode, status=status,
            acute=admission is not None and admission.code == "STAA",
            start=admission.occurred_at if admission else min(r.occurred_at for r in (effective or rows)),
            end=max(ends) if ends else None, department=max(rows, key=lambda r: r.received_at).department,
            last_updated=last_updated, leave_start=leave.occurred_at if status == "onleave" and leave else None))
        result.append(Stay(encounter_id, citizen_id, status, last_updated, resource))
    return sorted(result, key=lambda s: s.last_updated, reverse=True)


