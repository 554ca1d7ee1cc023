"""Medication changes (references into FMK) and the alerts raised for a change during an admission."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from contracts.health import MedicationAlertAcknowledgedV1, MedicationAlertRaisedV1, MedicationChangedV1
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain.access import Action
from services.health.domain.medication import (
    CHANGE_WORDS,
    ChangeKind,
    ChangeSource,
    FmkReference,
    alert_for,
    validate_change,
)
from services.health.domain.medication import MedicationChange as DomainChange
from services.health.domain.tovholder import ContactKind
from services.health.models import MedicationAlert, MedicationChange, TimelineEntry
from services.health.services.common import KnownPerson, NO_SUCH_ALERT, _aware, authorize, now_utc
from tovholder.auth import Principal
from tovholder.errors import NotFound
from tovholder.uow import UnitOfWork

async def _record_medication_change(
    uow: UnitOfWork, person: KnownPerson, change: DomainChange, *, actor: Principal | None, recorded_by: str,
    message_id: uuid.UUID | None = None,
) -> MedicationChange:
    """The change (a reference into FMK), its event, the timeline entry and — during an admission —
    an alert for the tovholder."""
    citizen_id, record = person.citizen_id, person.record
    tovholder_sub, botilbud_id = (record.tovholder_sub, record.botilbud_id) if record else (None, None)
    alert = alert_for(change, await repo.notice_records(uow, citizen_id))
    row = MedicationChange(
        id=uuid.uuid4(), citizen_id=citizen_id, fmk_reference=change.fmk_reference.value,
        change_kind=change.kind.value, changed_at=change.changed_at, source=change.source.value,
        changed_by_org=change.changed_by_org, note=change.note, during_admission=alert is not None,
        message_id=message_id, recorded_by=recorded_by,
    )
    # Nothing in the transaction reads these back: they go with the commit's one write (the alert
    # refers to the change; PostgreSQL checks the foreign key when that statement ends).
    repo.add_unread(uow, row)
    uow.emit(MedicationChangedV1(
        citizen_id=citizen_id, change_id=row.id, fmk_reference=row.fmk_reference, change_kind=row.change_kind,
        changed_at=row.changed_at, source=row.source, changed_by_org=row.changed_by_org,
        during_admission=row.during_admission, tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
    ))
    repo.add_unread(uow, TimelineEntry(
        citizen_id=citizen_id, kind=ContactKind.MEDICATION_CHANGE.value,
        counterpart="hospital" if alert else None, org=change.changed_by_org, who=None,
        what=f"Medicinændring i FMK: {CHANGE_WORDS[change.kind]} ({change.fmk_reference.value})", occurred_at=change.changed_at,
        recorded_by=row.recorded_by, object_type="medication_change", object_id=str(row.id),
    ))
    if alert is not None:
        alert_row = MedicationAlert(id=uuid.uuid4(), citizen_id=citizen_id, change_id=row.id,
                                    hospital_episode_ids=list(alert.hospital_episodes), reason=alert.reason,
                                    raised_at=now_utc())
        repo.add_unread(uow, alert_row)
        uow.emit(MedicationAlertRaisedV1(
            citizen_id=citizen_id, alert_id=alert_row.id, change_id=row.id,
            hospital_episode_ids=list(alert.hospital_episodes), raised_at=alert_row.raised_at,
            tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
        ))
    uow.audit(actor, "medication_change.record", citizen_id=citizen_id, object_type="medication_change",
              object_id=row.id, detail={"during_admission": row.during_admission})
    return row


# ==================================================================== medication (staff)


def _change_out(row: MedicationChange) -> dict[str, Any]:
    return {"change_id": str(row.id), "fmk_reference": row.fmk_reference, "change_kind": row.change_kind,
            "changed_at": row.changed_at, "source": row.source, "changed_by_org": row.changed_by_org,
            "note": row.note, "during_admission": row.during_admission, "recorded_by": row.recorded_by}


async def record_medication_change(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                   body: s.StaffMedicationChange) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    change = validate_change(
        DomainChange(FmkReference(body.fmk_reference), ChangeKind(body.change_kind), _aware(body.changed_at, "changed_at"),
                     ChangeSource(body.source), body.changed_by_org, body.note), recorded_at=now_utc() + timedelta(minutes=1))
    row = await _record_medication_change(uow, KnownPerson(record.citizen_id, record), change, actor=user,
                                          recorded_by=user.sub)
    await uow.commit()
    return _change_out(row)


async def list_medication_changes(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    rows = await repo.medication_changes(uow, citizen_id)
    alerts = await repo.medication_alerts(uow, citizen_id)
    uow.audit(user, "medication_change.read", citizen_id=citizen_id, object_type="medication_change")
    await uow.commit()
    return {"fmk": "Selve medicinen står på Fælles Medicinkort (FMK); her er henvisninger til ændringerne.",
            "changes": [_change_out(r) for r in rows],
            "alerts": [{"alert_id": str(a.id), "change_id": str(a.change_id), "hospital_episode_ids": a.hospital_episode_ids,
                        "reason": a.reason, "raised_at": a.raised_at, "acknowledged_by": a.acknowledged_by,
                        "acknowledged_at": a.acknowledged_at} for a in alerts]}


async def acknowledge_alert(uow: UnitOfWork, user: Principal, alert_id: uuid.UUID) -> dict[str, Any]:
    alert = await repo.medication_alert(uow, alert_id)
    if alert is None:
        raise NotFound(NO_SUCH_ALERT)
    await authorize(uow, user, Action.WRITE, alert.citizen_id, not_found=NO_SUCH_ALERT)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user.sub, now_utc()
        # The alert's urgent task (notifications) is done with it.
        uow.emit(MedicationAlertAcknowledgedV1(citizen_id=alert.citizen_id, alert_id=alert.id, change_id=alert.change_id,
                                               acknowledged_at=alert.acknowledged_at, acknowledged_by=user.sub))
    uow.audit(user, "medication_alert.acknowledge", citizen_id=alert.citizen_id, object_type="medication_alert", object_id=alert.id)
    await uow.commit()
    return {"alert_id": str(alert.id), "acknowledged_by": alert.acknowledged_by, "acknowledged_at": alert.acknowledged_at}
