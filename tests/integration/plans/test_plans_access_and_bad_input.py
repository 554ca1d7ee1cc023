"""Who may read and write the plan, every read and write audited, and bad input answered 4xx with a
reason and nothing changed (no new version, no event, no row)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.plans.models import ConsentRow, NetworkMemberRow, PlanVersionRow, SafetyRatingRow
from tests.integration.plans.conftest import (
    audit_actions, citizen, count_rows, form_network, known_staff, open_plan, outbox_types, staff,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def formed(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    goal = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1"),
                                   json={"text": "Komme ud at gå hver dag", "written_with_citizen": True})
    assert goal.status_code == 201
    return citizen_id, goal.json()["goal_id"]


async def snapshot(plans, citizen_id):
    """Everything a refused request must leave as it was."""
    return (await count_rows(plans, PlanVersionRow, PlanVersionRow.content["citizen_id"].astext == str(citizen_id)),
            await count_rows(plans, NetworkMemberRow, NetworkMemberRow.citizen_id == citizen_id),
            await count_rows(plans, SafetyRatingRow, SafetyRatingRow.citizen_id == citizen_id),
            await count_rows(plans, ConsentRow, ConsentRow.citizen_id == citizen_id),
            await outbox_types(plans, citizen_id))


async def test_the_citizen_reads_and_comments_on_their_own_plan(plans, formed):
    citizen_id, goal_id = formed
    me = citizen(plans, citizen_id)
    read = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=me)
    assert read.status_code == 200 and read.json()["goals"][0]["text"] == "Komme ud at gå hver dag"
    comment = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/entries", headers=me,
                                      json={"kind": "citizen-comment", "text": "Helst om formiddagen",
                                            "goal_id": goal_id})
    assert comment.status_code == 201, comment.text
    entry = comment.json()["goals"][0]["entries"][-1]
    assert entry["author"] == {"id": str(citizen_id), "role": "citizen"} and entry["written_with_citizen"] is True
    # The citizen's own perspective is kept apart from the staff's observation.
    observation = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/entries", headers=staff(plans, "n1"),
                                          json={"kind": "staff-observation", "text": "Gik en tur i dag",
                                                "goal_id": goal_id, "written_with_citizen": False})
    assert observation.status_code == 201
    kinds = [e["kind"] for e in observation.json()["goals"][0]["entries"]]
    assert kinds == ["citizen-comment", "staff-observation"]
    forged = await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/entries", headers=me,
                                     json={"kind": "staff-observation", "text": "x"})
    assert forged.status_code == 422
    assert ("orion-n1", "plan.entry-added") in await audit_actions(plans, citizen_id)
    assert (str(citizen_id), "plan.read") in await audit_actions(plans, citizen_id)


@pytest.mark.parametrize("who", ["other-citizen", "colleague", "other-home", "partner", "admin", "visitation"])
async def test_nobody_outside_reads_the_plan_and_the_refusal_is_audited(plans, formed, who):
    citizen_id, _ = formed
    headers = {
        "other-citizen": citizen(plans, uuid.uuid4()),
        "colleague": staff(plans, "k2"),  # same botilbud, not in the network
        "other-home": staff(plans, "k1", botilbud="cirklen"),
        "partner": plans.auth("partner", sub="epj", org="SOR:1234567"),
        "admin": plans.auth("admin", sub="admin-1"),
        "visitation": plans.auth("visitation", sub="visitation-1"),
    }[who]
    response = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=headers)
    if who == "colleague":  # staff of the citizen's botilbud know the citizen: they are told why not
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith("Ikke tilladt: kun medarbejdere i borgerens netværk")
    else:  # anyone else gets the answer for a citizen without a plan: a refusal reveals no citizen
        unknown = await plans.client.get(f"/api/v1/citizens/{uuid.uuid4()}/plan", headers=headers)
        assert response.status_code == unknown.status_code == 404, response.text
        assert response.json() == unknown.json()
    assert any(action == "read-plan.denied" for _, action in await audit_actions(plans, citizen_id))


async def test_a_plan_change_from_outside_the_network_changes_nothing(plans, formed):
    citizen_id, goal_id = formed
    before = await snapshot(plans, citizen_id)
    outsider = staff(plans, "k2")
    for method, path, body in [
        ("post", "plan/goals", {"text": "Nyt mål", "written_with_citizen": True}),
        ("patch", f"plan/goals/{goal_id}", {"text": "Ændret"}),
        ("post", "plan/entries", {"kind": "staff-observation", "text": "x"}),
        ("post", "network/members", {"staff_id": "orion-k2", "role": "makker"}),
        ("post", "consents", {"recipient_kind": "group", "recipient_id": "relatives", "category": "plan"}),
    ]:
        response = await plans.client.request(method, f"/api/v1/citizens/{citizen_id}/{path}", headers=outsider,
                                              json=body)
        assert response.status_code == 403, (path, response.text)
    assert await snapshot(plans, citizen_id) == before


@pytest.mark.parametrize(("path", "body", "reason"), [
    ("plan/goals", {"text": "   ", "written_with_citizen": True}, "måls tekst må ikke være tom"),
    ("plan/goals", {"written_with_citizen": True}, "text"),
    ("plan/goals", {"text": "Mål", "written_with_citizen": True, "cadence": {"days": 0}}, "kadence på nul"),
    ("plan/goals", {"text": "Mål", "written_with_citizen": True, "cadence": {"weeks": 0}}, "kadence på nul"),
    ("plan/goals", {"text": "Mål", "written_with_citizen": True, "cadence": {"preset": "weekly-ish"}}, "ukendt kadence"),
    ("safety/ratings", {"level": "yellow", "reassess_at": "2099-01-01T10:00:00Z"}, "begrundelsen for vurderingen gul"),
    ("safety/ratings", {"level": "red", "reason": " ", "reassess_at": "2099-01-01T10:00:00Z"}, "begrundelsen for vurderingen rød"),
    ("safety/ratings", {"level": "red", "reason": "Truede personale"}, "tidspunkt for ny vurdering"),
    ("consents", {"recipient_kind": "organisation", "recipient_id": "SOR:1234567", "category": "medication"},
     "ukendt oplysningskategori"),
    ("consents", {"recipient_kind": "organisation", "recipient_id": "SOR:1234567", "category": "hospital-notice"},
     "hjemmel i loven"),
    ("fit", {"held_at": "2026-01-01T10:00:00Z", "ors": 41, "srs": 5, "shared_by_citizen": True}, "0 til 40"),
])
async def test_bad_input_is_refused_with_a_reason_and_nothing_changes(plans, formed, path, body, reason):
    citizen_id, _ = formed
    before = await snapshot(plans, citizen_id)
    response = await plans.client.post(f"/api/v1/citizens/{citizen_id}/{path}", headers=staff(plans, "k1"), json=body)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert await snapshot(plans, citizen_id) == before


async def test_the_fifteenth_network_member_is_refused_and_nothing_changes(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    members = tuple((f"s{i}", "other") for i in range(1, 15))
    await form_network(plans, citizen_id, members=members)
    before = await snapshot(plans, citizen_id)
    await known_staff(plans, citizen_id, "s15")
    response = await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=citizen(plans, citizen_id),
                                       json={"staff_id": "orion-s15", "role": "makker"})
    assert response.status_code == 422 and "højst 14" in response.json()["detail"]
    assert await snapshot(plans, citizen_id) == before


async def test_the_citizen_chooses_the_network_and_staff_outside_only_make_the_initial_assignment(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    base = f"/api/v1/citizens/{citizen_id}/network/members"
    not_initial = await plans.client.post(base, headers=staff(plans, "k1"),
                                          json={"staff_id": "orion-k1", "role": "coordinator"})
    assert not_initial.status_code == 403  # the citizen's choice is recorded by the citizen or the network
    await form_network(plans, citizen_id)
    await known_staff(plans, citizen_id, "m1", "k9")
    added = await plans.client.post(base, headers=citizen(plans, citizen_id),
                                    json={"staff_id": "orion-m1", "role": "makker"})
    assert added.status_code == 201 and added.json()["size"] == 3
    second_coordinator = await plans.client.post(base, headers=citizen(plans, citizen_id),
                                                 json={"staff_id": "orion-k9", "role": "coordinator"})
    assert second_coordinator.status_code == 422 and "allerede en netværkskoordinator" in second_coordinator.json()["detail"]
    late_initial = await plans.client.post(base, headers=staff(plans, "k7"),
                                           json={"staff_id": "orion-k7", "role": "other", "basis": "initial-assignment"})
    assert late_initial.status_code == 403
    removed = await plans.client.delete(f"{base}/orion-m1", headers=citizen(plans, citizen_id))
    assert removed.status_code == 200 and removed.json()["size"] == 2
    # Removed from the network, the makker no longer reads the plan.
    gone = await plans.client.get(f"/api/v1/citizens/{citizen_id}/plan", headers=staff(plans, "m1"))
    assert gone.status_code == 403
    types = await outbox_types(plans, citizen_id)
    assert types.count("tovholder.plans.network-member-added.v1") == 3
    assert types.count("tovholder.plans.network-member-removed.v1") == 1


async def test_an_unknown_citizen_is_404_with_a_reason(plans):
    response = await plans.client.get(f"/api/v1/citizens/{uuid.uuid4()}/plan", headers=staff(plans, "k1"))
    assert response.status_code == 404 and "ingen plan endnu" in response.json()["detail"]


async def test_safety_rating_with_reason_told_and_learning_plan_due(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    on_duty = staff(plans, "vagt1")  # staff on duty at the botilbud, outside the network
    now = datetime.now(timezone.utc)
    rated = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/ratings", headers=on_duty,
                                    json={"level": "yellow", "reason": "Sparkede til stolen; forandret blik",
                                          "reassess_at": (now + timedelta(hours=3)).isoformat()})
    assert rated.status_code == 201, rated.text
    assert rated.json()["citizen_told_at"] is None
    told = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/ratings/{rated.json()['rating_id']}/citizen-told",
                                   headers=on_duty, json={})
    assert told.status_code == 200 and told.json()["citizen_told_by"] == "orion-vagt1"
    again = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/ratings/{rated.json()['rating_id']}/citizen-told",
                                    headers=on_duty, json={})
    assert again.status_code == 422
    learning = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/learning-plans", headers=on_duty,
                                       json={"episode_started_at": (now - timedelta(hours=2)).isoformat(),
                                             "episode_ended_at": (now - timedelta(hours=1)).isoformat(),
                                             "written_with_staff_id": "orion-n1"})
    assert learning.status_code == 201, learning.text
    assert learning.json()["due_at"].startswith((now + timedelta(hours=23)).date().isoformat())
    too_far_back = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/learning-plans", headers=on_duty,
                                           json={"episode_started_at": (now - timedelta(hours=2)).isoformat(),
                                                 "episode_ended_at": (now - timedelta(hours=1)).isoformat(),
                                                 "looks_back_from": (now - timedelta(hours=27)).isoformat()})
    assert too_far_back.status_code == 422 and "24 timer" in too_far_back.json()["detail"]
    tryg = await plans.client.put(f"/api/v1/citizens/{citizen_id}/safety/tryghedsplan", headers=staff(plans, "k1"),
                                  json={"triggers": ["Nye mennesker"], "staff_should_do": ["Tilbyde PN", "Små besøg"],
                                        "written_with_citizen": True})
    assert tryg.status_code == 200 and tryg.json()["version"] == 1
    # All staff at the botilbud read the safety plan (it hangs in the back office) — not other homes.
    read = await plans.client.get(f"/api/v1/citizens/{citizen_id}/safety", headers=on_duty)
    assert read.status_code == 200
    assert read.json()["rating"]["level"] == "yellow" and read.json()["tryghedsplan"]["triggers"] == ["Nye mennesker"]
    assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/safety",
                                   headers=staff(plans, "k1", botilbud="cirklen"))).status_code == 404
    # The history: every tryghedsplan version and every LA2 rating, newest first, for the same readers.
    again = await plans.client.put(f"/api/v1/citizens/{citizen_id}/safety/tryghedsplan", headers=staff(plans, "k1"),
                                   json={"triggers": ["Nye mennesker", "Larm"], "written_with_citizen": True})
    assert again.status_code == 200 and again.json()["version"] == 2
    versions = await plans.client.get(f"/api/v1/citizens/{citizen_id}/safety/tryghedsplan/versions", headers=on_duty)
    assert versions.status_code == 200 and [v["version"] for v in versions.json()] == [2, 1]
    assert versions.json()[1]["triggers"] == ["Nye mennesker"]
    green = await plans.client.post(f"/api/v1/citizens/{citizen_id}/safety/ratings", headers=on_duty,
                                    json={"level": "green", "reason": "Rolig igen"})
    assert green.status_code == 201, green.text
    history = await plans.client.get(f"/api/v1/citizens/{citizen_id}/safety/ratings", headers=on_duty)
    assert history.status_code == 200 and [r["level"] for r in history.json()] == ["green", "yellow"]
    for path in ("safety/ratings", "safety/tryghedsplan/versions"):
        assert (await plans.client.get(f"/api/v1/citizens/{citizen_id}/{path}",
                                       headers=staff(plans, "k1", botilbud="cirklen"))).status_code == 404
    types = await outbox_types(plans, citizen_id)
    assert {"tovholder.plans.safety-rating-changed.v1", "tovholder.plans.learning-plan-due.v1",
            "tovholder.plans.tryghedsplan-revised.v1"} <= set(types)


async def test_fit_scores_travel_only_where_the_citizen_shares(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/fit"
    start = datetime.now(timezone.utc) - timedelta(days=42)
    for i, (ors, shared) in enumerate([(12, False), (20, True), (24, True), (32, False)]):
        response = await plans.client.post(base, headers=staff(plans, "n1"),
                                           json={"held_at": (start + timedelta(days=14 * i)).isoformat(), "ors": ors,
                                                 "srs": 32, "shared_by_citizen": shared})
        assert response.status_code == 201, response.text
    mine = (await plans.client.get(base, headers=citizen(plans, citizen_id))).json()
    assert [s["ors"] for s in mine["sessions"]] == [12, 20, 24, 32] and mine["trend"]["ors"]["direction"] == "improving"
    colleague = (await plans.client.get(base, headers=staff(plans, "k1"))).json()
    assert [s["ors"] for s in colleague["sessions"]] == [None, 20, 24, None]
    recorder = (await plans.client.get(base, headers=staff(plans, "n1"))).json()
    assert [s["ors"] for s in recorder["sessions"]] == [12, 20, 24, 32]
    recording_citizen = await plans.client.post(base, headers=citizen(plans, citizen_id),
                                                json={"held_at": start.isoformat(), "ors": 5, "shared_by_citizen": True})
    assert recording_citizen.status_code == 403
