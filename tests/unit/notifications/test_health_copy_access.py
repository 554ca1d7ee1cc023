"""One access rule for health details, whichever service holds the copy: the kit's rule
(``tovholder.access``) that notifications applies to its timeline copy agrees with the health
service's own rule for reading a citizen's health data, for every role and relation."""

from __future__ import annotations

import dataclasses
import itertools

from services.health.domain.access import Action, Actor as HealthActor, CitizenContext, may
from services.notifications.domain.access import carries_health_details, may_see_task_on_timeline
from services.notifications.domain.tasks import Actor, Pool, Role
from tovholder.access import CitizenCircle, Viewer, may_read_health_details

from .builders import make_task

CITIZEN_ID = "00000000-0000-0000-0000-0000000000c1"
ROLES = ("visitation", "coordinator", "nurse-consultant", "partner", "citizen", "admin")
SUBS = ("nurse-a", "koord-1", CITIZEN_ID, "someone")
BOTILBUD = ("orion", "cirklen", None)
CIRCLES = [
    CitizenCircle(CITIZEN_ID, botilbud, tovholder, network)
    for botilbud, tovholder, network in itertools.product(
        ("orion", None), ("nurse-a", None), (frozenset(), frozenset({"koord-1"}), frozenset({"nurse-a", "someone"})))
]


def test_the_kit_rule_is_the_health_services_read_rule():
    checked = 0
    for role, sub, botilbud, circle in itertools.product(ROLES, SUBS, BOTILBUD, CIRCLES):
        health_says = may(HealthActor(role=role, sub=sub, botilbud=botilbud), Action.READ, CitizenContext(
            citizen_id=circle.citizen_id, botilbud_id=circle.botilbud_id, tovholder_sub=circle.tovholder_sub,
            network_subs=circle.network_subs))
        assert may_read_health_details(Viewer(role, sub, botilbud), circle) is health_says, (role, sub, botilbud, circle)
        checked += 1
    assert checked == len(ROLES) * len(SUBS) * len(BOTILBUD) * len(CIRCLES)


def test_admin_visitation_and_the_botilbuds_coordinator_do_not_see_health_details():
    circle = CitizenCircle(CITIZEN_ID, "orion", "nurse-a")
    for viewer in (Viewer("admin", "admin-1"), Viewer("visitation", "visit-1"), Viewer("coordinator", "koord-1", "orion")):
        assert not may_read_health_details(viewer, circle)
    for viewer in (Viewer("nurse-consultant", "nurse-a"), Viewer("nurse-consultant", "nurse-b", "orion"),
                   Viewer("citizen", CITIZEN_ID)):
        assert may_read_health_details(viewer, circle)


def test_a_task_from_a_health_event_shows_on_the_timeline_to_health_readers_and_to_whoever_must_do_it():
    task = make_task(pool=Pool(Role.COORDINATOR, "orion"))
    health_task = dataclasses.replace(task, source_event_type="tovholder.health.hospital-notice-registered.v1")
    plan_task = dataclasses.replace(task, source_event_type="tovholder.plans.follow-up-due.v1")
    assert carries_health_details(health_task.source_event_type) and not carries_health_details(plan_task.source_event_type)
    admin, coordinator = Actor("admin-1", Role.ADMIN), Actor("koord-1", Role.COORDINATOR, "orion")
    assert not may_see_task_on_timeline(health_task, admin, sees_health=False)
    assert may_see_task_on_timeline(health_task, coordinator, sees_health=False)  # it is in her pool
    assert may_see_task_on_timeline(health_task, admin, sees_health=True)
    assert may_see_task_on_timeline(plan_task, admin, sees_health=False)
