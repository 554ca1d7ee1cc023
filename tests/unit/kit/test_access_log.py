"""Min log: every action a service audits reaches the citizen's log with a Danish category."""

import pytest

from tests.audit_scan import audit_calls
from tovholder import access_log


def audited_actions() -> set[str]:
    """Every literal action given to an audit call (``uow.audit``, ``audit_many``, the services'
    small helpers named ``*audit*``) in services/ and the kit (``tests/audit_scan.py``)."""
    return {c.action for c in audit_calls()}


def test_the_scan_finds_the_services_audited_actions():
    found = audited_actions()
    assert {"plan.read", "delivery.sent", "health_record.read", "referral.read", "task.read"} <= found
    assert len(found) > 50


@pytest.mark.parametrize("action", sorted(audited_actions()))
def test_every_audited_action_has_a_danish_category(action):
    assert access_log.category_of(action) is not None, f"{action}: add its category to tovholder.access_log.CATEGORIES"


def test_reads_and_writes_are_told_apart():
    assert access_log.is_read("plan.read") and access_log.is_read("unmatched_hospital_notice.list")
    assert access_log.is_read("citizen.cpr.reveal")
    assert not access_log.is_read("consent.give") and not access_log.is_read("plan.open")


def test_a_delivery_says_what_allowed_it():
    assert access_log.purpose_of("delivery.sent", "system", {"basis": "consent 7f0c"}) == "Videregivet med dit samtykke"
    assert "sundhedsloven § 12 c" in access_log.purpose_of("delivery.sent", "system", {"basis": "sundhedsloven § 12 c"})
    assert access_log.purpose_of("delivery.withheld", "system", {}).startswith("Ikke videregivet")
    assert access_log.purpose_of("encounter.read", "partner", {"basis": "consent 7f0c"}).endswith("med dit samtykke")
    assert access_log.purpose_of("receipt.write", "partner", {}) == "Samarbejdspartneren sendte eller hentede oplysninger"


def test_a_broken_cursor_is_a_clear_422():
    with pytest.raises(access_log.InvalidCursor):
        access_log._uncursor("not-a-cursor")


def test_every_refusal_plans_audits_has_a_danish_category():
    """Plans audits a refusal as ``<Action>.denied`` (an f-string the scan above cannot read)."""
    from services.plans.domain.access import Action

    assert [a.value for a in Action if access_log.category_of(f"{a.value}.denied") is None] == []
