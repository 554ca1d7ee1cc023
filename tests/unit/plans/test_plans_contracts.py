"""The plans events stay in step with the domain's enums and carry what read models need."""

import typing
from datetime import datetime, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import plans as events
from contracts.topics import PLANS
from services.plans.domain.consent import CONSENTABLE_CATEGORIES, RecipientKind
from services.plans.domain.followup import SubjectKind
from services.plans.domain.network import ChangeBasis, NetworkRole
from services.plans.domain.safety import La2Level


def literal_values(alias) -> set[str]:
    return set(typing.get_args(alias))


def test_literals_match_the_domain_enums():
    assert literal_values(events.NetworkRole) == {r.value for r in NetworkRole}
    assert literal_values(events.La2Level) == {lvl.value for lvl in La2Level}
    assert literal_values(events.RecipientKind) == {k.value for k in RecipientKind}
    assert literal_values(events.ConsentCategory) == {c.value for c in CONSENTABLE_CATEGORIES}
    assert literal_values(events.FollowUpSubject) == {s.value for s in SubjectKind}
    basis = typing.get_type_hints(events.NetworkMemberAddedV1)["basis"]
    assert literal_values(basis) == {b.value for b in ChangeBasis}


def test_every_plans_event_is_on_the_plans_topic_and_named_for_plans():
    bodies = [v for v in vars(events).values() if isinstance(v, type) and issubclass(v, events.EventBody)
              and v is not events.EventBody]
    assert len(bodies) >= 13
    for body in bodies:
        assert body.topic is PLANS
        assert body.event_type.startswith("tovholder.plans.")
        version = int(body.event_type.rsplit(".v", 1)[1])
        assert body.__name__.endswith(f"V{version}")


def test_consent_events_carry_recipient_category_and_times():
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    revoked = events.ConsentRevokedV1(citizen_id=uuid4(), consent_id=uuid4(), recipient_kind="group",
                                      recipient_id="relatives", category="safety-plan", given_at=now,
                                      revoked_at=now, recorded_by="c")
    assert revoked.category == "safety-plan"
    with pytest.raises(ValidationError):
        events.ConsentGivenV1(citizen_id=uuid4(), consent_id=uuid4(), recipient_kind="organisation",
                              recipient_id="SOR:1", category="hospital-notice", given_at=now, recorded_by="s")


def test_fit_event_scores_are_optional_so_unshared_sessions_carry_none():
    body = events.FitRecordedV1(citizen_id=uuid4(), session_id=uuid4(), held_at=datetime.now(timezone.utc),
                                shared=False)
    assert body.ors is None and body.srs is None


def test_fit_v2_carries_totals_on_0_to_40_and_v1_still_reads():
    """A published version never changes: v1 (1–10) still parses; v2 carries the 0–40 totals and cut-offs."""
    held = datetime.now(timezone.utc)
    v2 = events.FitRecordedV2(citizen_id=uuid4(), session_id=uuid4(), held_at=held, shared=True, ors=22.5, srs=35,
                              ors_below_cutoff=True, srs_below_cutoff=True)
    assert v2.event_type == "tovholder.plans.fit-recorded.v2" and (v2.ors, v2.srs) == (22.5, 35.0)
    assert events.FitRecordedV2(citizen_id=uuid4(), session_id=uuid4(), held_at=held, shared=False).ors is None
    v1 = events.FitRecordedV1.model_validate({"citizen_id": str(uuid4()), "session_id": str(uuid4()),
                                              "held_at": held.isoformat(), "shared": True, "ors": 7, "srs": 9})
    assert v1.event_type == "tovholder.plans.fit-recorded.v1" and v1.ors == 7.0
