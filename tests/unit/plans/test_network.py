from datetime import datetime, timezone

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.network import (
    MAX_MEMBERS,
    ChangeBasis,
    Network,
    NetworkRole,
    add_member,
    change_role,
    remove_member,
)

T0 = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
CHOICE = ChangeBasis.CITIZEN_CHOICE


def network_of(n: int) -> Network:
    net = Network(citizen_id="c-1")
    for i in range(n):
        net = add_member(net, staff_id=f"staff-{i}", role=NetworkRole.OTHER, at=T0, basis=CHOICE)
    return net


def test_fourteen_members_fit_and_the_fifteenth_is_refused():
    net = network_of(MAX_MEMBERS)
    assert len(net.members) == 14
    with pytest.raises(PlanRuleViolation, match="at most 14"):
        add_member(net, staff_id="staff-15", role=NetworkRole.OTHER, at=T0, basis=CHOICE)


def test_the_last_member_cannot_be_removed():
    net = network_of(1)
    with pytest.raises(PlanRuleViolation, match="at least 1"):
        remove_member(net, staff_id="staff-0")


def test_a_member_can_be_removed_and_the_removed_member_is_returned():
    net, removed = remove_member(network_of(3), staff_id="staff-1")
    assert removed.staff_id == "staff-1" and not net.contains("staff-1") and len(net.members) == 2


def test_the_same_staff_member_is_not_added_twice():
    with pytest.raises(PlanRuleViolation, match="already"):
        add_member(network_of(2), staff_id="staff-1", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)


def test_blank_staff_id_is_refused():
    with pytest.raises(PlanRuleViolation, match="which staff"):
        add_member(network_of(0), staff_id="  ", role=NetworkRole.OTHER, at=T0, basis=CHOICE)


def test_unknown_role_is_refused():
    with pytest.raises(ValueError):
        add_member(network_of(0), staff_id="x", role="boss", at=T0, basis=CHOICE)


def test_one_coordinator_and_one_nurse_consultant_but_several_makkere():
    net = add_member(network_of(0), staff_id="k", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="n", role=NetworkRole.NURSE_CONSULTANT, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="m1", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="m2", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="already has a coordinator"):
        add_member(net, staff_id="k2", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="already has a nurse-consultant"):
        change_role(net, staff_id="m1", role=NetworkRole.NURSE_CONSULTANT)
    assert net.tovholder.staff_id == "n" and net.coordinator.staff_id == "k"


def test_missing_fixed_roles_are_reported_not_enforced():
    net = add_member(network_of(0), staff_id="k", role=NetworkRole.COORDINATOR, at=T0,
                     basis=ChangeBasis.INITIAL_ASSIGNMENT)
    assert net.missing_fixed_roles() == (NetworkRole.MAKKER, NetworkRole.NURSE_CONSULTANT,
                                         NetworkRole.REHABILITATION_LEADER)


def test_follow_ups_go_to_the_coordinator_else_the_tovholder():
    assert network_of(2).follow_up_owner() is None
    net = add_member(network_of(1), staff_id="n", role=NetworkRole.NURSE_CONSULTANT, at=T0, basis=CHOICE)
    assert net.follow_up_owner() == "n"
    net = add_member(net, staff_id="k", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    assert net.follow_up_owner() == "k"


def test_changing_a_role_to_the_same_role_is_refused_and_unknown_members_too():
    net = network_of(2)
    with pytest.raises(PlanRuleViolation, match="already is"):
        change_role(net, staff_id="staff-0", role=NetworkRole.OTHER)
    with pytest.raises(PlanRuleViolation, match="not in the citizen's network"):
        change_role(net, staff_id="ghost", role=NetworkRole.MAKKER)
    assert change_role(net, staff_id="staff-0", role=NetworkRole.COORDINATOR).coordinator.staff_id == "staff-0"
