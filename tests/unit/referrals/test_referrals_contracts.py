"""The referrals events: registered, versioned, always citizen_id, never a CPR."""

import pytest

from contracts import EVENT_REGISTRY
from contracts import referrals as ev
from contracts.topics import REFERRALS

NAMES = {
    "referral-received", "visitation-decided", "referral-withdrawn", "placement-started", "move-out-planned",
    "placement-ended", "follow-up-due", "follow-up-held", "citizen-registered",
}


def referral_events():
    return {k: v for k, v in EVENT_REGISTRY.items() if k.startswith("tovholder.referrals.")}


def test_issue_events_are_registered_with_versions_on_the_referrals_topic():
    names = {k.split(".")[2] for k in referral_events()}
    assert NAMES <= names
    for type_name, model in referral_events().items():
        assert type_name.endswith(".v1") and model.__name__.endswith("V1")
        assert model.topic is REFERRALS


@pytest.mark.parametrize("type_name", sorted(referral_events()))
def test_every_event_carries_citizen_id_and_no_cpr(type_name):
    fields = referral_events()[type_name].model_fields
    assert "citizen_id" in fields
    assert not any("cpr" in f and f != "cpr_hash" for f in fields)


def test_legal_basis_values_match_the_domain():
    from typing import get_args

    from services.referrals.domain.model import Destination, EndCause, LegalBasis

    assert set(get_args(ev.LegalBasis)) == {b.value for b in LegalBasis}
    assert set(get_args(ev.EndCause)) == {c.value for c in EndCause}
    assert set(get_args(ev.Destination)) == {d.value for d in Destination}
