"""Issue 15's visitation rules through the API on real PostgreSQL + the broker: dates and places,
one reopen path and the flow report, step-down that moves the citizen, one case per citizen, drift of
temporary stays and the statutory clocks. The reproductions from the issue are tests here."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from contracts.topics import REFERRALS
from services.referrals.services import today
from tests.support import json_body, read_topic
from tovholder import clock
from tests.integration.referrals.conftest import offer_body, partner_message
from tests.integration.referrals.test_referrals_visitation import V, grant, offer_row, post, put_offer, screened

pytestmark = pytest.mark.integration


async def placed(svc, cpr, offer_id, *, traits=(), **grant_kw):
    rid = await screened(svc, cpr, traits=traits)
    r = await post(svc, f"/api/v1/referrals/{rid}/decision", grant(offer_id, **grant_kw))
    assert r.status_code == 200, r.text
    r = await post(svc, f"/api/v1/referrals/{rid}/move-in", {"moved_in_on": today().isoformat()})
    assert r.status_code == 200, r.text
    return rid


# ---------------------------------------------------------------------------------------------
# Dates and places


async def test_facts_in_the_future_are_refused_in_danish_and_schedules_may_lie_ahead(referrals):
    await put_offer(referrals, "dato-hus", approved_places=3)
    rid = await screened(referrals, "0101804321")
    assert (await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("dato-hus"))).status_code == 200
    tomorrow = (today() + timedelta(days=1)).isoformat()
    r = await post(referrals, f"/api/v1/referrals/{rid}/move-in", {"moved_in_on": tomorrow})
    assert r.status_code == 422 and "Indflytningsdatoen" in r.json()["detail"] and "fremtiden" in r.json()["detail"]
    assert (await post(referrals, f"/api/v1/referrals/{rid}/move-in", {"moved_in_on": today().isoformat()})).status_code == 200

    r = await post(referrals, f"/api/v1/referrals/{rid}/follow-ups", {"held_on": "2030-01-01",
                                                                      "next_follow_up_date": "2030-03-01"})
    assert r.status_code == 422 and "fremtiden" in r.json()["detail"]
    nxt = (today() + timedelta(days=90)).isoformat()
    r = await post(referrals, f"/api/v1/referrals/{rid}/follow-ups", {"next_follow_up_date": nxt})
    assert r.status_code == 200 and r.json()["follow_up_date"] == nxt

    planned = (today() + timedelta(days=40)).isoformat()
    r = await referrals.client.put(f"/api/v1/referrals/{rid}/move-out-plan", headers=referrals.auth(**V),
                                   json={"destination": "own_home", "planned_on": planned, "receiving_step": 3})
    assert r.status_code == 200, r.text
    r = await post(referrals, f"/api/v1/referrals/{rid}/phase-out-visits",
                   {"visited_on": (today() + timedelta(days=30)).isoformat()})
    assert r.status_code == 422 and "udslusningsbesøget" in r.json()["detail"]
    r = await post(referrals, f"/api/v1/referrals/{rid}/end", {"ended_on": planned})
    assert r.status_code == 422 and "opholdet sluttede" in r.json()["detail"]
    case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    assert case["status"] == "placed" and case["move_out_plan"]["phase_out_visits_done"] == []


async def test_occupancy_never_above_the_approved_places(referrals):
    r = await referrals.client.put("/api/v1/offers/for-fuldt", headers=referrals.auth("admin"),
                                   json=offer_body("for-fuldt", approved_places=1, occupied_places=5))
    assert r.status_code == 422 and "1 godkendte pladser, men 5 optagne" in r.json()["detail"]
    assert await offer_row(referrals, "for-fuldt") is None

    await put_offer(referrals, "taelle-hus", approved_places=2)
    await placed(referrals, "0201804321", "taelle-hus", traits=["udadreagerende"])
    # updating the offer without occupied_places keeps the occupancy the move-in set
    body = await put_offer(referrals, "taelle-hus", approved_places=2, occupied_places=None)
    assert body["occupied_places"] == 1
    r = await referrals.client.put("/api/v1/offers/taelle-hus", headers=referrals.auth("admin"),
                                   json=offer_body("taelle-hus", approved_places=2, occupied_places=0))
    assert r.status_code == 422 and "1 borgere, som visitationen har registreret som flyttet ind" in r.json()["detail"]
    r = await referrals.client.put("/api/v1/offers/taelle-hus", headers=referrals.auth("admin"),
                                   json=offer_body("taelle-hus", approved_places=0, occupied_places=None))
    assert r.status_code == 422 and "godkendte pladser" in r.json()["detail"]
    assert (await offer_row(referrals, "taelle-hus")).approved_places == 2


async def test_the_resident_mix_is_counted_from_placements_and_cannot_be_typed_in(referrals):
    r = await referrals.client.put("/api/v1/offers/haand-hus", headers=referrals.auth("admin"),
                                   json=offer_body("haand-hus", resident_mix={"outward_reacting": 1}))
    assert r.status_code == 422 and "resident_mix" in r.text

    await put_offer(referrals, "mix-hus", approved_places=4, occupied_places=0)
    await placed(referrals, "0301804321", "mix-hus", traits=["udadreagerende"])
    offers = {o["offer_id"]: o for o in (await referrals.client.get("/api/v1/offers", headers=referrals.auth(**V))).json()}
    assert offers["mix-hus"]["resident_mix"] == {"residents": 1, "outward_reacting": 1, "drug_using": 0, "withdrawn": 0}
    assert offers["mix-hus"]["occupied_places"] == 1

    quiet = await screened(referrals, "0401804321", traits=["tilbagetrukket"])
    m = (await referrals.client.get(f"/api/v1/referrals/{quiet}/matches?all_steps=true",
                                    headers=referrals.auth(**V))).json()
    [mix_hus] = [o for o in m["offers"] if o["offer_id"] == "mix-hus"]
    assert mix_hus["warnings"] == ["1 af de 1 beboere, visitationen har anbragt, er udadreagerende; en tilbagetrukket "
                                   "borger bør ikke bo blandt udadreagerende beboere"]


# ---------------------------------------------------------------------------------------------
# One reopen path; the flow report counts citizens and decisions apart, by offer and month


async def flow_now(svc):
    y = today().year
    r = await svc.client.get(f"/api/v1/reports/flow?from={y}-01-01&to={y}-12-31", headers=svc.auth(**V))
    assert r.status_code == 200, r.text
    return r.json()


async def test_screening_no_longer_reopens_a_refusal_and_the_report_counts_one_citizen(referrals):
    before = await flow_now(referrals)
    rid = await screened(referrals, "0501804321")
    refuse = {"decision": "refused", "legal_basis": "SEL §108", "reason": "Behovet kan dækkes med bostøtte."}
    assert (await post(referrals, f"/api/v1/referrals/{rid}/decision", refuse)).status_code == 200

    r = await post(referrals, f"/api/v1/referrals/{rid}/screening")
    assert r.status_code == 409 and "POST …/reopen" in r.json()["detail"]
    assert (await post(referrals, f"/api/v1/referrals/{rid}/reopen", {"reason": ""})).status_code == 422
    for reason in ("Klage modtaget.", "Ny lægeerklæring."):
        r = await post(referrals, f"/api/v1/referrals/{rid}/reopen", {"reason": reason})
        assert r.status_code == 200 and r.json()["status"] == "screening"
        assert (await post(referrals, f"/api/v1/referrals/{rid}/decision", refuse)).status_code == 200

    after = await flow_now(referrals)
    assert after["decisions_refused"] - before["decisions_refused"] == 3
    assert after["citizens_refused"] - before["citizens_refused"] == 1
    assert after["citizens_referred"] - before["citizens_referred"] == 1

    await put_offer(referrals, "rapport-split", approved_places=2)
    await placed(referrals, "0601804321", "rapport-split")
    month = today().strftime("%Y-%m")
    final = await flow_now(referrals)
    assert final["by_offer"]["rapport-split"] == {"decisions_granted": 1, "placements_started": 1, "move_outs": 0,
                                                  "step_downs": 0}
    assert final["by_month"][month]["decisions_refused"] - after["by_month"][month]["decisions_refused"] == 0
    assert final["by_month"][month]["placements_started"] - after["by_month"][month]["placements_started"] == 1
    assert len(final["by_month"]) == 12


# ---------------------------------------------------------------------------------------------
# Step-down that moves the citizen


async def test_step_down_continues_the_case_at_the_receiving_offer(referrals, kafka):
    await put_offer(referrals, "trin-hus", approved_places=2)
    await put_offer(referrals, "flex-stoette", name="Fleksibel bostøtte", botilbud_id=None, legal_basis="SEL §85",
                    step=4, approved_places=5, target_group={})
    rid = await placed(referrals, "0701804321", "trin-hus")
    planned = (today() + timedelta(days=20)).isoformat()
    r = await referrals.client.put(f"/api/v1/referrals/{rid}/move-out-plan", headers=referrals.auth(**V), json={
        "destination": "offer", "planned_on": planned, "receiving_offer_id": "flex-stoette"})
    assert r.status_code == 200, r.text

    # the reproduction: to_step 7 was silently replaced by the plan's 4
    r = await post(referrals, f"/api/v1/referrals/{rid}/end", {"cause": "stepped_down", "to_step": 7})
    assert r.status_code == 422 and "to_step 7 passer ikke" in r.json()["detail"] and "trin 4" in r.json()["detail"]
    assert (await offer_row(referrals, "flex-stoette")).occupied_places == 0

    r = await post(referrals, f"/api/v1/referrals/{rid}/end", {"cause": "stepped_down"})
    assert r.status_code == 200, r.text
    ended = r.json()
    assert ended["to_step"] == 4 and ended["stepped_down"]
    assert ended["continued_in"]["status"] == "placed" and ended["continued_in"]["offer_id"] == "flex-stoette"
    new_id = ended["continued_in"]["referral_id"]
    assert (await offer_row(referrals, "flex-stoette")).occupied_places == 1
    assert (await offer_row(referrals, "trin-hus")).occupied_places == 0

    old = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    new = (await referrals.client.get(f"/api/v1/referrals/{new_id}", headers=referrals.auth(**V))).json()
    assert old["continued_in_referral_id"] == new_id and new["continued_from_referral_id"] == rid
    assert new["citizen_id"] == old["citizen_id"] and new["step"] == 4 and new["moved_in_on"] == today().isoformat()
    assert [h["action"] for h in new["history"]] == ["continued-from", "assessment-carried-over", "granted", "moved-in"]
    assert old["history"][-1]["action"] == "continued-in"

    records = await read_topic(kafka, REFERRALS.name, until=lambda rec: json_body(rec).get("referral_id") == new_id
                               and rec["headers"]["ce_type"].endswith("placement-started.v1"))
    ended_event = [json_body(rec) for rec in records if json_body(rec).get("referral_id") == rid
                   and rec["headers"]["ce_type"].endswith("placement-ended.v1")]
    assert ended_event and ended_event[0]["continued_in_referral_id"] == new_id


async def test_a_step_down_to_a_full_offer_waits_on_its_waitlist(referrals):
    await put_offer(referrals, "trin-hus-2", approved_places=2)
    await put_offer(referrals, "fuld-stoette", name="Fuld bostøtte", botilbud_id=None, legal_basis="SEL §85", step=3,
                    approved_places=1, occupied_places=1, target_group={})
    rid = await placed(referrals, "0801804321", "trin-hus-2")
    r = await post(referrals, f"/api/v1/referrals/{rid}/end", {"destination": "offer", "receiving_offer_id": "fuld-stoette"})
    assert r.status_code == 200, r.text
    assert r.json()["continued_in"]["status"] == "waiting"
    wl = (await referrals.client.get("/api/v1/offers/fuld-stoette/waitlist", headers=referrals.auth(**V))).json()
    assert [e["referral_id"] for e in wl["entries"]] == [r.json()["continued_in"]["referral_id"]]
    assert (await offer_row(referrals, "fuld-stoette")).occupied_places == 1


# ---------------------------------------------------------------------------------------------
# One case per citizen


async def test_two_staff_and_one_partner_referral_make_one_case(referrals):
    cpr = "0901804321"
    body = {"cpr": cpr, "citizen_name": "Bo Hansen", "reason": "Hjemløs efter udskrivning.", "requested_step": 7,
            "requested_offer": "SEL §108"}
    first = await referrals.client.post("/api/v1/referrals", json=body, headers=referrals.auth(**V))
    assert first.status_code == 201 and first.json()["added_to_open_case"] is False
    rid = first.json()["referral_id"]
    assert (await post(referrals, f"/api/v1/referrals/{rid}/screening")).status_code == 200

    second = await referrals.client.post("/api/v1/referrals", headers=referrals.auth(role="visitation", sub="visitation-2"),
                                         json=dict(body, reason="Ny henvendelse fra bostøtten.", requested_step=6,
                                                   requested_offer="SEL §107"))
    assert second.status_code == 201, second.text
    assert second.json() == {"referral_id": rid, "citizen_id": first.json()["citizen_id"], "status": "screening",
                             "added_to_open_case": True}

    partner = dict(role="partner", sub="dp", org="SOR:7654321")
    msg = partner_message(cpr=cpr, org="SOR:7654321")
    r = await referrals.client.post("/integration/v1/referrals", json=msg, headers=referrals.auth(**partner))
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert set(receipt) == {"message_id", "status", "reason", "received_at", "referral_id"}  # the contract's receipt
    assert receipt["status"] == "ok" and receipt["referral_id"] == rid

    # the partner follows the case it referred into, from its own referral on
    followed = (await referrals.client.get(f"/integration/v1/referrals/{rid}", headers=referrals.auth(**partner))).json()
    assert followed["referral_id"] == rid and followed["status"] == "screening"
    assert [h["status"] for h in followed["history"]] == ["screening"]
    assert (await referrals.client.get(f"/integration/v1/referrals/{rid}",
                                       headers=referrals.auth(role="partner", sub="x", org="SOR:1111111"))).status_code == 404

    case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    assert [(a["channel"], a["requested_step"]) for a in case["additions"]] == [("staff", 6), ("partner", 7)]
    assert case["additions"][1]["referrer_org"] == "SOR:7654321"
    assert [h["action"] for h in case["history"]].count("referral-added") == 2
    listed = (await referrals.client.get(f"/api/v1/referrals?citizen_id={case['citizen_id']}",
                                         headers=referrals.auth(**V))).json()
    assert [(c["referral_id"], c["additions"]) for c in listed] == [(rid, 2)]


async def test_after_a_refusal_a_new_referral_opens_a_new_case(referrals):
    rid = await screened(referrals, "1001804321")
    await post(referrals, f"/api/v1/referrals/{rid}/decision",
               {"decision": "refused", "legal_basis": "SEL §108", "reason": "Behovet dækkes af bostøtte."})
    r = await referrals.client.post("/api/v1/referrals", headers=referrals.auth(**V), json={
        "cpr": "1001804321", "citizen_name": "Bo Hansen", "reason": "Ny situation."})
    assert r.status_code == 201 and r.json()["referral_id"] != rid and r.json()["added_to_open_case"] is False


# ---------------------------------------------------------------------------------------------
# Drift of temporary stays; statutory clocks


def frozen_on(day):
    return clock.frozen(datetime.combine(day, time(10), tzinfo=clock.COPENHAGEN))


async def test_a_temporary_stay_followed_up_every_180_days_drifts_warns_and_signals_once(referrals, kafka):
    await put_offer(referrals, "cirkel-107", legal_basis="SEL §107", step=6, approved_places=4,
                    target_group={"min_age": 18, "max_age": 67})
    rid = await placed(referrals, "1101804321", "cirkel-107", legal_basis="SEL §107")
    start = today()
    held = start
    for k in range(1, 5):  # follow-ups every 180 days, as in the reproduction
        held = start + timedelta(days=180 * k)
        with frozen_on(held):
            r = await post(referrals, f"/api/v1/referrals/{rid}/follow-ups",
                           {"next_follow_up_date": (held + timedelta(days=180)).isoformat()})
            assert r.status_code == 200, r.text
            case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
        assert bool(case["warnings"]) is (k >= 3), (k, case["warnings"])
    assert "4 opfølgninger" in case["warnings"][0] and "§ 107" in case["warnings"][0]

    past = start + timedelta(days=2 * 366 + 7)
    with frozen_on(past):
        scan = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth(**V))
        assert scan.status_code == 200 and scan.json()["drifting"] >= 1
        again = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth(**V))
        case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    assert again.json()["drifting"] == 0
    assert len(case["warnings"]) == 2 and any("planlagte periode på 2 år" in w for w in case["warnings"])
    assert {d["kind"] for d in case["deadlines"]} == {"follow-up", "temporary-stay-end"}
    [end] = [d for d in case["deadlines"] if d["kind"] == "temporary-stay-end"]
    assert end["overdue"] and end["time_left"].startswith("overskredet med")

    records = await read_topic(kafka, REFERRALS.name, until=lambda rec: json_body(rec).get("referral_id") == rid
                               and json_body(rec).get("reason") == "past-planned-period")
    drift = [json_body(rec)["reason"] for rec in records if json_body(rec).get("referral_id") == rid
             and rec["headers"]["ce_type"].endswith("temporary-stay-drifting.v1")]
    assert sorted(drift) == ["no-movement", "past-planned-period"]  # each reason once

    y = past.year
    rep = (await referrals.client.get(f"/api/v1/reports/flow?from={y}-01-01&to={past.isoformat()}",
                                      headers=referrals.auth(**V))).json()
    assert rep["temporary_stays_drifting"] >= 1


async def test_a_new_referral_shows_its_decision_deadline_in_working_days(referrals):
    r = await referrals.client.post("/api/v1/referrals", headers=referrals.auth(**V), json={
        "cpr": "1201804321", "citizen_name": "Ida Holm", "reason": "Har brug for et midlertidigt botilbud."})
    rid = r.json()["referral_id"]
    case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    [d] = case["deadlines"]
    assert d["kind"] == "decision" and d["working_days_left"] == 20 and d["time_left"] == "20 arbejdsdage tilbage"
    assert d["due_on"] == clock.add_working_days(today(), 20).isoformat()
    assert case["warnings"] == []
