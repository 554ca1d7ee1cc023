"""Health's tables. No CPR here, except encrypted in ``unmatched_hospital_notice`` (a notice whose CPR
matched no known citizen, parked for visitation staff); citizens are matched by the keyed ``cpr_hash``
from referrals. Nothing is deleted: corrected and cancelled notices keep a status."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tovholder.consent_read_model import ConsentReadModel
from tovholder.db import make_base

Base = make_base()


class KnownCitizen(Base):
    """Read model of the citizens known to the municipality (from CitizenRegistered events)."""

    __tablename__ = "known_citizen"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    cpr_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class HealthRecord(Base):
    __tablename__ = "health_record"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    botilbud_id: Mapped[str] = mapped_column(String(100), index=True)
    tovholder_sub: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    gp_practice: Mapped[str | None] = mapped_column(String(200))
    deceased_at: Mapped[datetime | None]


class HealthCheckCadence(Base):
    """How often a botilbud's citizens have the health check (a setting per botilbud; without a row the
    GP agreement's default, every second year). Set by an administrator or the botilbud's nurse consultant."""

    __tablename__ = "health_check_cadence"

    botilbud_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    every_years: Mapped[int] = mapped_column(Integer)
    extended_every_years: Mapped[int | None] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(server_default=func.now())


class NurseConsultant(Base):
    """The nurse consultants of each botilbud: the citizen chooses their tovholder among them. Set by
    an administrator (``PUT /api/v1/botilbud/{id}/nurse-consultants``) and by the demo data; using the
    service never adds anyone (a read would otherwise undo the administrator's change)."""

    __tablename__ = "nurse_consultant"

    botilbud_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))


class NetworkMember(Base):
    """Read model of the citizen's network (from plans' network-member events), for access."""

    __tablename__ = "network_member"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    staff_sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(50))


class HospitalNotice(Base):
    """One hospital notification for a known citizen. ``action`` new/correct/cancel; a cancellation
    row is kept for history and changes the status of the notice it cancels."""

    __tablename__ = "hospital_notice"
    __table_args__ = (
        Index("ix_hospital_notice_citizen_occurred", "citizen_id", "occurred_at"),
        # A message_id is unique per sender organisation (the contract), not across organisations.
        UniqueConstraint("sender_org", "message_id", name="uq_hospital_notice_sender_message"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    action: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(20))
    hospital_episode_id: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    sender_org: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    replaces_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    replaces_notice_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    status: Mapped[str] = mapped_column(String(12), default="active")
    replaced_by_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    legal_basis: Mapped[str] = mapped_column(String(100))
    matched_from_unmatched_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class UnmatchedHospitalNotice(Base):
    """A notice whose CPR matched no citizen known to the municipality: accepted (``ok``) and parked
    for visitation staff. The CPR is held only encrypted (and as its keyed hash, to match later)."""

    __tablename__ = "unmatched_hospital_notice"
    __table_args__ = (UniqueConstraint("sender_org", "message_id", name="uq_unmatched_hospital_notice_sender_message"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID)
    cpr_encrypted: Mapped[str] = mapped_column(Text)
    cpr_hash: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(10))  # as sent, e.g. RE_STIN
    hospital_episode_id: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    sender_org: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    replaces_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    legal_basis: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open / matched / rejected / dismissed
    resolution: Mapped[str | None] = mapped_column(Text)
    matched_citizen_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]


class UnmatchedPartnerMessage(Base):
    """A partner document or medication change whose CPR matched no citizen known to the municipality:
    accepted (``ok``, as for a known CPR: a receipt never tells whether a CPR is known) and held until
    the citizen is registered, then recorded on them. Only the CPR's keyed hash is kept; ``content``
    is emptied once the message is recorded on the citizen."""

    __tablename__ = "unmatched_partner_message"
    __table_args__ = (UniqueConstraint("sender_org", "message_id", name="uq_unmatched_partner_message_sender_message"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # a document kind, or medication-change
    message_id: Mapped[uuid.UUID] = mapped_column(UUID)
    sender_org: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime]  # taken/reviewed/written/changed at, as the partner sent it
    received_at: Mapped[datetime]
    content: Mapped[dict[str, Any]]
    cpr_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open / matched
    matched_citizen_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    resolved_at: Mapped[datetime | None]


class TimelineEntry(Base):
    """The citizen's health timeline: every external contact (who, which organisation, what, when)."""

    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_entry_citizen_occurred", "citizen_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(30))
    counterpart: Mapped[str | None] = mapped_column(String(50))
    org: Mapped[str | None] = mapped_column(String(200))
    who: Mapped[str | None] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))


class MedicationChange(Base):
    __tablename__ = "medication_change"
    __table_args__ = (
        Index("ix_medication_change_citizen_changed", "citizen_id", "changed_at"),
        # A partner's change carries its message_id, unique per sending organisation (changed_by_org).
        UniqueConstraint("changed_by_org", "message_id", name="uq_medication_change_org_message"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    fmk_reference: Mapped[str] = mapped_column(String(100))
    change_kind: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20))
    changed_by_org: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    during_admission: Mapped[bool] = mapped_column(Boolean)
    message_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MedicationAlert(Base):
    __tablename__ = "medication_alert"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    change_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("medication_change.id"))
    hospital_episode_ids: Mapped[list[str]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]


class HealthCheck(Base):
    __tablename__ = "health_check"
    __table_args__ = (UniqueConstraint("citizen_id", "year", name="uq_health_check_citizen_year"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    year: Mapped[int] = mapped_column(Integer)
    extended: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[datetime]
    gp_practice: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    steps_done: Mapped[list[str]] = mapped_column(JSONB, default=list)
    pre_assessment: Mapped[dict[str, Any] | None]
    examination: Mapped[dict[str, Any] | None]
    participants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    minutes: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    declined_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    scheduled_by: Mapped[str] = mapped_column(String(200))


class HealthCheckDecision(Base):
    __tablename__ = "health_check_decision"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    health_check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("health_check.id"), index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    responsible_sub: Mapped[str | None] = mapped_column(String(200))
    reminders_at: Mapped[list[str]] = mapped_column(JSONB, default=list)
    review_on: Mapped[date | None] = mapped_column(Date)  # a decision without a date: when to look again


class PartnerDocument(Base):
    """The pharmacist's review, lab results or the psychiatrist's notes, as a partner sent them."""

    __tablename__ = "partner_document"
    __table_args__ = (
        Index("ix_partner_document_citizen_received", "citizen_id", "received_at"),
        UniqueConstraint("sender_org", "message_id", name="uq_partner_document_sender_message"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(30))
    sender_org: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    health_check_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    content: Mapped[dict[str, Any]]


class TreatmentOrder(Base):
    """The citizen's behandlingsdom (one current order per citizen; replaced orders are kept)."""

    __tablename__ = "treatment_order"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    court: Mapped[str] = mapped_column(String(200))
    judgment_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    conditions: Mapped[list[str]] = mapped_column(JSONB)
    forensic_team_org: Mapped[str | None] = mapped_column(String(200))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DepotSchedule(Base):
    __tablename__ = "depot_schedule"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    at: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    interval_weeks: Mapped[int] = mapped_column(Integer, default=1)
    grace_minutes: Mapped[int] = mapped_column(Integer, default=240)
    forensic_team_org: Mapped[str | None] = mapped_column(String(200))
    checked_until: Mapped[datetime | None]  # missed-visit detection has looked at slots up to here


class DepotVisit(Base):
    __tablename__ = "depot_visit"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("depot_schedule.id"), index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID)
    visited_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(200))


class MissedDepotVisit(Base):
    """One alert per missed slot (the unique key makes detection idempotent)."""

    __tablename__ = "missed_depot_visit"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for", name="uq_missed_depot_visit_slot"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("depot_schedule.id"))
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    scheduled_for: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(20))
    detected_at: Mapped[datetime]


class CoercionLogEntry(Base):
    __tablename__ = "coercion_log_entry"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    considered_at: Mapped[datetime]
    measure: Mapped[str] = mapped_column(String(30))
    situation: Mapped[str] = mapped_column(Text)
    least_intrusive_alternative: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(20))
    decided_by_sub: Mapped[str] = mapped_column(String(200))
    decided_by_role: Mapped[str] = mapped_column(String(50))
    participants: Mapped[list[str]] = mapped_column(JSONB, default=list)
    citizen_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ConsentRecord(ConsentReadModel, Base):
    """Read model of the citizen's consents (the kit's, from plans' consent events): decides what health
    information may be passed on to which organisation."""


class DocumentShare(Base):
    """A partner document passed on to another organisation (with the consent that allowed it)."""

    __tablename__ = "document_share"
    __table_args__ = (UniqueConstraint("document_id", "recipient_org", name="uq_document_share_document_org"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_document.id"))
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    recipient_org: Mapped[str] = mapped_column(String(200), index=True)
    shared_by: Mapped[str] = mapped_column(String(200))
    shared_at: Mapped[datetime]


class MedComAcknowledgement(Base):
    """The MedCom Acknowledgement a MedCom message got, kept for the duplicate window: a message with
    the same MessageHeader.id from the same sender gets the same acknowledgement content again."""

    __tablename__ = "medcom_acknowledgement"

    sender_org: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_header_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    response_code: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int] = mapped_column(Integer)
    acknowledgement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
