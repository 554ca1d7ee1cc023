from datetime import datetime, timezone

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.network import (
    MAX_MEMBERS,
    ChangeBasis,
    MemberKind,
    Network,
    NetworkRole,
    add_external_partner,
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
    with pytest.raises(PlanRuleViolation, match="højst 14"):
        add_member(net, staff_id="staff-15", role=NetworkRole.OTHER, at=T0, basis=CHOICE)


def test_a_full_networks_refusal_names_the_members_who_have_left():
    net = network_of(MAX_MEMBERS)
    departed = {"staff-3": "Lone Berg", "staff-9": "Per Holm", "someone-else": "Not In This Network"}
    with pytest.raises(PlanRuleViolation, match="højst 14.*Lone Berg og Per Holm er fratrådt og kan fjernes"):
        add_member(net, staff_id="staff-15", role=NetworkRole.OTHER, at=T0, basis=CHOICE, departed=departed)
    with pytest.raises(PlanRuleViolation) as refused:
        add_member(net, staff_id="staff-15", role=NetworkRole.OTHER, at=T0, basis=CHOICE, departed={})
    assert "fratrådt" not in str(refused.value.args[0])


def test_the_last_member_cannot_be_removed():
    net = network_of(1)
    with pytest.raises(PlanRuleViolation, match="mindst 1"):
        remove_member(net, staff_id="staff-0")


def test_a_member_can_be_removed_and_the_removed_member_is_returned():
    net, removed = remove_member(network_of(3), staff_id="staff-1")
    assert removed.staff_id == "staff-1" and not net.contains("staff-1") and len(net.members) == 2


def test_the_same_staff_member_is_not_added_twice():
    with pytest.raises(PlanRuleViolation, match="allerede"):
        add_member(network_of(2), staff_id="staff-1", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)


def test_blank_staff_id_is_refused():
    with pytest.raises(PlanRuleViolation, match="hvilken medarbejder"):
        add_member(network_of(0), staff_id="  ", role=NetworkRole.OTHER, at=T0, basis=CHOICE)


def test_unknown_role_is_refused():
    with pytest.raises(ValueError):
        add_member(network_of(0), staff_id="x", role="boss", at=T0, basis=CHOICE)


def test_one_coordinator_and_one_nurse_consultant_but_several_makkere():
    net = add_member(network_of(0), staff_id="k", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="n", role=NetworkRole.NURSE_CONSULTANT, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="m1", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="m2", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="allerede en netværkskoordinator"):
        add_member(net, staff_id="k2", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="allerede en sygeplejekonsulent"):
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
    with pytest.raises(PlanRuleViolation, match="allerede rollen"):
        change_role(net, staff_id="staff-0", role=NetworkRole.OTHER)
    with pytest.raises(PlanRuleViolation, match="ikke i borgerens netværk"):
        change_role(net, staff_id="ghost", role=NetworkRole.MAKKER)
    assert change_role(net, staff_id="staff-0", role=NetworkRole.COORDINATOR).coordinator.staff_id == "staff-0"


def with_coordinator() -> Network:
    net = add_member(network_of(0), staff_id="k", role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    net = add_member(net, staff_id="n", role=NetworkRole.NURSE_CONSULTANT, at=T0, basis=CHOICE)
    return add_member(net, staff_id="m", role=NetworkRole.MAKKER, at=T0, basis=CHOICE)


def test_the_last_coordinator_cannot_be_removed_not_even_by_themselves():
    """Regression (issue 15): a coordinator who removed themselves left the plan without coordination."""
    net = with_coordinator()
    with pytest.raises(PlanRuleViolation, match="koordinator kan ikke fjernes"):
        remove_member(net, staff_id="k")
    with pytest.raises(PlanRuleViolation, match="give koordinatorrollen videre"):
        change_role(net, staff_id="k", role=NetworkRole.MAKKER)
    # Handed over first, the former coordinator may then leave.
    handed = change_role(net, staff_id="m", role=NetworkRole.COORDINATOR, previous_holder_role=NetworkRole.MAKKER)
    assert handed.coordinator.staff_id == "m" and handed.holder_of(NetworkRole.MAKKER).staff_id == "k"
    left, removed = remove_member(handed, staff_id="k")
    assert removed.staff_id == "k" and left.coordinator.staff_id == "m"


def test_a_single_holder_role_is_handed_over_explicitly_never_silently():
    net = with_coordinator()
    with pytest.raises(PlanRuleViolation, match="previous_holder_role"):
        change_role(net, staff_id="m", role=NetworkRole.COORDINATOR)
    with pytest.raises(PlanRuleViolation, match="ikke beholde"):
        change_role(net, staff_id="m", role=NetworkRole.COORDINATOR, previous_holder_role=NetworkRole.COORDINATOR)
    swapped = change_role(net, staff_id="n", role=NetworkRole.COORDINATOR,
                          previous_holder_role=NetworkRole.NURSE_CONSULTANT)
    assert swapped.coordinator.staff_id == "n" and swapped.tovholder.staff_id == "k"
    with pytest.raises(PlanRuleViolation, match="udelad previous_holder_role"):
        change_role(network_of(2), staff_id="staff-0", role=NetworkRole.COORDINATOR,
                    previous_holder_role=NetworkRole.OTHER)


def test_external_partners_have_a_name_and_an_organisation_and_do_not_count_as_staff():
    net = add_external_partner(network_of(MAX_MEMBERS), member_id="ekstern:1", name="Lise Holm",
                               organisation="Lægehuset Nørrebro", role=NetworkRole.OTHER, at=T0, basis=CHOICE)
    ext = net.members[-1]
    assert ext.kind == MemberKind.EXTERNAL and (ext.name, ext.organisation) == ("Lise Holm", "Lægehuset Nørrebro")
    assert len(net.staff_members()) == MAX_MEMBERS and len(net.members) == MAX_MEMBERS + 1
    for name, org, reason in (("", "Lægehuset", "navn"), ("Lise", " ", "organisation")):
        with pytest.raises(PlanRuleViolation, match=reason):
            add_external_partner(network_of(1), member_id="ekstern:2", name=name, organisation=org,
                                 role=NetworkRole.OTHER, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="rollen 'other'"):
        add_external_partner(network_of(1), member_id="ekstern:3", name="Lise", organisation="Lægehuset",
                             role=NetworkRole.COORDINATOR, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="allerede"):
        add_external_partner(net, member_id="ekstern:4", name="lise holm", organisation="Lægehuset Nørrebro",
                             role=NetworkRole.OTHER, at=T0, basis=CHOICE)
    # The last staff member stays even when an external partner is in the network.
    one = add_external_partner(network_of(1), member_id="ekstern:5", name="Lise", organisation="Lægehuset",
                               role=NetworkRole.OTHER, at=T0, basis=CHOICE)
    with pytest.raises(PlanRuleViolation, match="mindst 1"):
        remove_member(one, staff_id="staff-0")
    assert len(remove_member(one, staff_id="ekstern:5")[0].members) == 1
