"""Min log: every action a service audits reaches the citizen's log with a Danish category."""

import ast
import pathlib

import pytest

from tovholder import access_log

ROOT = pathlib.Path(__file__).resolve().parents[3]


def audited_actions() -> set[str]:
    """Every literal action given to an audit call (``uow.audit``, ``audit_many``, the services'
    small helpers named ``*audit*``) in services/ and the kit."""
    actions: set[str] = set()
    for path in [*ROOT.glob("services/*/**/*.py"), *ROOT.glob("tovholder/*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if "audit" not in name:
                continue
            for arg in node.args[:3]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "." in arg.value \
                        and " " not in arg.value:
                    actions.add(arg.value)
    return actions


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


def test_a_broken_cursor_is_a_clear_422():
    with pytest.raises(access_log.InvalidCursor):
        access_log._uncursor("not-a-cursor")
