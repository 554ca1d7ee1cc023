"""The health events: no CPR anywhere, and the contract literals match the domain's enums."""

import typing

import pytest

from contracts import health as h
from contracts.base import EVENT_REGISTRY, UnattributedEventBody
from contracts.topics import HEALTH
from services.health.domain.forensic import CoercionDecision, CoercionMeasure, MissReason
from services.health.domain.health_check import DecisionKind, PreparationStep
from services.health.domain.hospital_notices import BaseCode, NoticeKind
from services.health.domain.medication import ChangeKind, ChangeSource

HEALTH_EVENTS = [cls for name, cls in EVENT_REGISTRY.items() if name.startswith("tovholder.health.")]


def literal_values(model, field):
    annotation = model.model_fields[field].annotation
    return set(typing.get_args(annotation))


def test_the_names_the_notifications_service_relies_on():
    assert h.HospitalNoticeRegisteredV1.event_type == "tovholder.health.hospital-notice-registered.v1"
    assert h.HospitalNoticeCorrectedV1.event_type == "tovholder.health.hospital-notice-corrected.v1"
    assert h.HospitalNoticeCancelledV1.event_type == "tovholder.health.hospital-notice-cancelled.v1"
    assert h.TovholderChosenV1.event_type == "tovholder.health.tovholder-chosen.v1"


@pytest.mark.parametrize("model", HEALTH_EVENTS, ids=lambda m: m.event_type)
def test_no_cpr_and_on_the_health_topic(model):
    assert model.topic is HEALTH
    assert not any("cpr" in name.lower() for name in model.model_fields)
    # About one citizen, except a notice parked because its CPR matched nobody (keyed by the parked notice).
    assert "citizen_id" in model.model_fields or issubclass(model, UnattributedEventBody)


def test_corrected_carries_every_field_of_registered():
    assert set(h.HospitalNoticeRegisteredV1.model_fields) <= set(h.HospitalNoticeCorrectedV1.model_fields)


def test_literals_match_the_domain():
    assert literal_values(h.HospitalNoticeRegisteredV1, "kind") == {k.value for k in NoticeKind}
    assert literal_values(h.HospitalNoticeRegisteredV1, "code") == {c.value for c in BaseCode}
    assert literal_values(h.MedicationChangedV1, "change_kind") == {k.value for k in ChangeKind}
    assert literal_values(h.MedicationChangedV1, "source") == {s.value for s in ChangeSource}
    assert literal_values(h.HealthCheckDecisionRecordedV1, "kind") == {k.value for k in DecisionKind}
    assert literal_values(h.DepotVisitMissedV1, "reason") == {r.value for r in MissReason}
    assert literal_values(h.CoercionConsideredV1, "measure") == {m.value for m in CoercionMeasure}
    assert literal_values(h.CoercionConsideredV1, "decision") == {d.value for d in CoercionDecision}
    step_literal = typing.get_args(h.HealthCheckStepDueV1.model_fields["step"].annotation)
    assert set(step_literal) == {s.value for s in PreparationStep}
