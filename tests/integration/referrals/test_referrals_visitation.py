"""The visitation lifecycle through the API on real PostgreSQL + Tansu: every step, its events,
capacity bookkeeping, bad input (4xx, nothing changed) and the audit log."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contracts.topics import REFERRALS
from services.referrals.services import today
from services.referrals.models import Offer, Referral, ReferralStatusChange
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tests.support import json_body, read_topic
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration

V = dict(role="visitation", sub="visitation-1")


async def put_offer(svc, offer_id, **kw):
    r = await svc.client.put(f"/api/v1/offers/{offer_id}", json=offer_body(offer_id, **kw), headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()


async def staff_referral(svc, cpr, **kw):
    body = {"cpr": cpr, "citizen_name": "Bo Hansen", "reason": "Hjemløs efter udskrivning.",
            "citizen_wishes": "Et sted med ro.", "requested_step": 7, "requested_offer": "SEL §108"}
    body.update(kw)
    r = await svc.client.post("/api/v1/referrals", json=body, headers=svc.auth(**V))
    assert r.status_code == 201, r.text
    return r.json()["referral_id"]


async def post(svc, path, body=None, **auth):
    return await svc.client.post(path, json=body if body is not None else {}, headers=svc.auth(**(auth or V)))


async def screened(svc, cpr, traits=()):
    rid = await staff_referral(svc, cpr)
    r = await svc.client.put(f"/api/v1/referrals/{rid}/assessment", json=dict(ASSESSMENT, traits=list(traits)),
                             headers=svc.auth(**V))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "screening"
    return rid


def grant(offer_id, **kw):
    body = {"decision": "granted", "legal_basis": "SEL §108", "offer_id": offer_id,
            "reason": "Borgeren har brug for døgnstøtte.", "start_date": today().isoformat()}
    body.update(kw)
    return body


async def offer_row(svc, offer_id) -> Offer:
    async with svc.ctx.sessions() as s:
        return await s.get(Offer, offer_id)


async def test_from_referral_to_step_down_with_events(referrals, kafka):
    await put_offer(referrals, "havnehuset", approved_places=5)
    await put_offer(referrals, "bostotte-ost", name="Bostøtte Øst", botilbud_id=None, legal_basis="SEL §85", step=3,
                    approved_places=40, target_group={})
    partner = dict(role="partner", sub="pck", org="SOR:1234567")
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr="0102754321"),
                                    headers=referrals.auth(**partner))
    rid = r.json()["referral_id"]

    assert (await post(referrals, f"/api/v1/referrals/{rid}/screening", {"note": "Ring til søsteren"})).status_code == 200
    r = await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT, headers=referrals.auth(**V))
    assert r.status_code == 200 and r.json()["assessment"]["scores"]["egenomsorg"] == 3

    m = (await referrals.client.get(f"/api/v1/referrals/{rid}/matches", headers=referrals.auth(**V))).json()
    by_id = {o["offer_id"]: o for o in m["offers"]}
    assert by_id["havnehuset"]["fits"] and by_id["havnehuset"]["free_places"] == 5
    assert not by_id["bostotte-ost"]["fits"] and by_id["bostotte-ost"]["exclusions"]
    assert m["considered"]["age"] is not None and m["considered"]["step"] == 7

    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("havnehuset"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "granted" and r.json()["botilbud_id"] == "havnehuset"
    assert (await offer_row(referrals, "havnehuset")).reserved_places == 1

    r = await post(referrals, f"/api/v1/referrals/{rid}/move-in", {"moved_in_on": today().isoformat()})
    assert r.status_code == 200, r.text
    o = await offer_row(referrals, "havnehuset")
    assert (o.reserved_places, o.occupied_places) == (0, 1)

    nxt = today() + timedelta(days=120)
    r = await post(referrals, f"/api/v1/referrals/{rid}/follow-ups", {"next_follow_up_date": nxt.isoformat(),
                                                                      "note": "Trives; mål justeret"})
    assert r.status_code == 200 and r.json()["follow_up_date"] == nxt.isoformat()

    planned = today() + timedelta(days=30)
    r = await referrals.client.put(f"/api/v1/referrals/{rid}/move-out-plan", headers=referrals.auth(**V), json={
        "destination": "offer", "planned_on": planned.isoformat(), "receiving_offer_id": "bostotte-ost",
        "phase_out_visits_planned": 5})
    assert r.status_code == 200, r.text
    assert r.json()["move_out_plan"]["receiving_step"] == 3 and r.json()["warnings"] == []
    r = await post(referrals, f"/api/v1/referrals/{rid}/phase-out-visits", {"visited_on": today().isoformat()})
    assert r.status_code == 200 and r.json()["move_out_plan"]["phase_out_visits_done"] == [today().isoformat()]

    r = await post(referrals, f"/api/v1/referrals/{rid}/end", {"ended_on": today().isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["end_cause"] == "stepped_down" and r.json()["stepped_down"] and r.json()["to_step"] == 3
    assert (await offer_row(referrals, "havnehuset")).occupied_places == 0

    case = (await referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**V))).json()
    actions = [h["action"] for h in case["history"]]
    assert actions == ["received", "screening-started", "assessment-recorded", "granted", "moved-in",
                       "follow-up-held", "move-out-planned", "phase-out-visit", "placement-ended", "continued-in"]
    assert case["history"][1]["internal_note"] == "Ring til søsteren" and case["history"][1]["by"] == "visitation-1"
    assert case["cpr_masked"] == "010275-xxxx"

    wanted = {"referral-received", "visitation-decided", "placement-started", "follow-up-held", "move-out-planned",
              "placement-ended"}
    records = await read_topic(kafka, REFERRALS.name, until=lambda rec: json_body(rec).get("referral_id") == rid
                               and rec["headers"]["ce_type"].endswith("placement-ended.v1"))
    mine = {rec["headers"]["ce_type"].split(".")[2]: json_body(rec) for rec in records
            if json_body(rec).get("referral_id") == rid}
    assert wanted <= set(mine)
    assert all(b["citizen_id"] == case["citizen_id"] for b in mine.values())
    assert mine["placement-ended"]["stepped_down"] and mine["placement-ended"]["to_step"] == 3
    assert mine["move-out-planned"]["phase_out_visits_planned"] == 5
    assert mine["visitation-decided"]["waitlisted"] is False
    assert all("0102754321" not in json.dumps(b) for b in mine.values())

    async with referrals.ctx.sessions() as s:
        audited = set((await s.execute(select(AuditEntry.action).where(
            AuditEntry.object_id == rid))).scalars())
    assert {"referral.create", "referral.screening", "referral.assessment", "referral.match", "referral.granted",
            "referral.move_in", "referral.follow_up", "referral.move_out_plan", "referral.end", "referral.read"} <= audited


async def test_bad_input_is_4xx_and_changes_nothing(referrals):
    await put_offer(referrals, "lille-hus", approved_places=1, occupied_places=1)
    rid = await staff_referral(referrals, "0203754321")

    # decision before screening: an invalid transition, explained
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("lille-hus"))
    assert r.status_code == 409 and "'modtaget'" in r.json()["detail"]
    # move-in on a received case
    r = await post(referrals, f"/api/v1/referrals/{rid}/move-in", {})
    assert r.status_code == 409 and "kun gå til" in r.json()["detail"]

    await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT, headers=referrals.auth(**V))
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("findes-ikke"))
    assert r.status_code == 422 and "Ukendt tilbud 'findes-ikke'" in r.json()["detail"]
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("lille-hus", step=9))
    assert r.status_code == 422 and "1 til 7" in r.json()["detail"]
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("lille-hus"))
    assert r.status_code == 409 and "ingen ledig plads" in r.json()["detail"] and "join_waitlist" in r.json()["detail"]
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", {"decision": "refused", "legal_basis": "SEL §108"})
    assert r.status_code == 422 and "Begrundelsen" in r.json()["detail"]
    bad_scores = await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", headers=referrals.auth(**V),
                                            json=dict(ASSESSMENT, scores={"egenomsorg": 7}))
    assert bad_scores.status_code == 422 and "0–4" in bad_scores.json()["detail"]

    async with referrals.ctx.sessions() as s:
        row = await s.get(Referral, uuid.UUID(rid))
        assert row.status == "screening" and row.decision is None and row.assessment["scores"]["egenomsorg"] == 3
        assert (await s.get(Offer, "lille-hus")).reserved_places == 0

    r = await post(referrals, f"/api/v1/referrals/{rid}/decision",
                   {"decision": "refused", "legal_basis": "SEL §108", "reason": "Behovet kan dækkes med bostøtte."})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision",
                   {"decision": "refused", "legal_basis": "SEL §108", "reason": "igen"})
    assert r.status_code == 409 and "allerede afgjort" in r.json()["detail"]
    async with referrals.ctx.sessions() as s:
        n = await s.scalar(select(func.count()).select_from(ReferralStatusChange).where(
            ReferralStatusChange.referral_id == uuid.UUID(rid), ReferralStatusChange.action == "refused"))
        assert n == 1


@pytest.mark.parametrize("body,reason", [
    ({"cpr": "3002901234"}, "rigtig fødselsdato"), ({"requested_step": 0}, "requested_step"),
    ({"requested_offer_id": "findes-ikke"}, "Ukendt tilbud"), ({"reason": ""}, "reason: skal have mindst 1 tegn"),
])
async def test_bad_staff_intake(referrals, body, reason):
    base = {"cpr": "0303754321", "citizen_name": "X", "reason": "r"}
    r = await referrals.client.post("/api/v1/referrals", json=dict(base, **body), headers=referrals.auth(**V))
    assert r.status_code == 422 and reason in r.text


async def test_unknown_referral_and_unknown_status_filter(referrals):
    r = await post(referrals, f"/api/v1/referrals/{uuid.uuid4()}/screening")
    assert r.status_code == 404
    r = await referrals.client.get("/api/v1/referrals?status=flying", headers=referrals.auth(**V))
    assert r.status_code == 422 and "Ukendt status flying" in r.json()["detail"]


async def test_waitlist_reserve_and_move_in(referrals):
    await put_offer(referrals, "fuldt-hus", approved_places=1, occupied_places=0)
    first = await screened(referrals, "0403754321")
    second = await screened(referrals, "0503754321")
    assert (await post(referrals, f"/api/v1/referrals/{first}/decision", grant("fuldt-hus"))).json()["status"] == "granted"
    r = await post(referrals, f"/api/v1/referrals/{second}/decision", grant("fuldt-hus", join_waitlist=True))
    assert r.status_code == 200 and r.json()["status"] == "waiting" and r.json()["waitlisted"] is True

    wl = (await referrals.client.get("/api/v1/offers/fuldt-hus/waitlist", headers=referrals.auth(**V))).json()
    assert [e["referral_id"] for e in wl["entries"]] == [first, second]
    assert [e["queue_position"] for e in wl["entries"]] == [None, 1]
    assert wl["free_places"] == 0 and wl["median_days_waiting"] == 0
    assert (wl["waiting"], wl["reserved"]) == (2, 1)
    # The figures only (the capacity overview): no citizen listed, so none is audited as seen.
    async def waitlist_reads() -> int:
        async with referrals.ctx.sessions() as s:
            return await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "referral.waitlist"))

    # Referred 10 and 31 days ago (late in the evening, when the Copenhagen day is ahead of UTC's): the
    # figures PostgreSQL counts are the ones the full waitlist computes.
    async with referrals.ctx.sessions() as s, s.begin():
        for rid, days in ((first, 10), (second, 31)):
            row = await s.get(Referral, uuid.UUID(rid))
            row.received_at = row.received_at.replace(hour=23, minute=30) - timedelta(days=days)
    wl = (await referrals.client.get("/api/v1/offers/fuldt-hus/waitlist", headers=referrals.auth(**V))).json()
    audited = await waitlist_reads()
    figures = (await referrals.client.get("/api/v1/offers/fuldt-hus/waitlist", params={"entries": "false"},
                                          headers=referrals.auth(**V))).json()
    assert figures["entries"] == [] and (figures["waiting"], figures["reserved"]) == (2, 1)
    assert (figures["median_days_waiting"], figures["longest_days_waiting"]) == \
        (wl["median_days_waiting"], wl["longest_days_waiting"])
    assert wl["longest_days_waiting"] in (30, 31, 32) and wl["median_days_waiting"] > 10
    assert await waitlist_reads() == audited > 0

    r = await post(referrals, f"/api/v1/referrals/{second}/move-in", {})
    assert r.status_code == 409 and "ventelisten" in r.json()["detail"]
    assert (await post(referrals, f"/api/v1/referrals/{first}/move-in", {})).status_code == 200
    # first moves out again: a place is free, the waiting citizen gets it
    r = await post(referrals, f"/api/v1/referrals/{first}/end", {"destination": "own_home", "to_step": 3})
    assert r.status_code == 200 and r.json()["end_cause"] == "stepped_down"
    assert (await post(referrals, f"/api/v1/referrals/{second}/reserve-place")).json()["status"] == "granted"
    assert (await post(referrals, f"/api/v1/referrals/{second}/move-in", {})).json()["status"] == "placed"
    o = await offer_row(referrals, "fuldt-hus")
    assert (o.occupied_places, o.reserved_places) == (1, 0)


async def test_withdraw_frees_the_reserved_place(referrals):
    await put_offer(referrals, "trukket-hus", approved_places=2)
    rid = await screened(referrals, "0603754321")
    await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("trukket-hus"))
    assert (await offer_row(referrals, "trukket-hus")).reserved_places == 1
    r = await post(referrals, f"/api/v1/referrals/{rid}/withdraw", {"reason": "Borgeren har fundet egen bolig."})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert (await offer_row(referrals, "trukket-hus")).reserved_places == 0
    r = await post(referrals, f"/api/v1/referrals/{rid}/screening")
    assert r.status_code == 409 and "ny henvisning" in r.json()["detail"]


async def test_target_group_and_resident_mix_in_matching(referrals):
    await put_offer(referrals, "ung-hus", legal_basis="SEL §107", step=6, target_group={"min_age": 18, "max_age": 30})
    await put_offer(referrals, "rus-hus", target_group={"requires": ["misbrug"]}, occupied_places=7)
    await put_offer(referrals, "stille-hus", target_group={"excludes": ["udadreagerende"]})
    resident = await screened(referrals, "0803754321", traits=["misbrug"])
    assert (await post(referrals, f"/api/v1/referrals/{resident}/decision", grant("rus-hus"))).status_code == 200
    assert (await post(referrals, f"/api/v1/referrals/{resident}/move-in", {})).status_code == 200
    rid = await screened(referrals, "0703754321", traits=["tilbagetrukket"])  # born 1975
    m = (await referrals.client.get(f"/api/v1/referrals/{rid}/matches?all_steps=true",
                                    headers=referrals.auth(**V))).json()
    by_id = {o["offer_id"]: o for o in m["offers"]}
    assert "slutter ved 30 år" in by_id["ung-hus"]["exclusions"][0]
    assert by_id["rus-hus"]["exclusions"] == ["målgruppen kræver misbrug"]
    # counted from the one placement visitation made, not from the 8 occupied places
    assert any("1 af de 1 beboere, visitationen har anbragt, har et misbrug" in w for w in by_id["rus-hus"]["warnings"])
    assert by_id["stille-hus"]["fits"]
    # granting outside the target group needs a professional override
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision", grant("rus-hus"))
    assert r.status_code == 409 and "target_group_override" in r.json()["detail"]
    r = await post(referrals, f"/api/v1/referrals/{rid}/decision",
                   grant("rus-hus", target_group_override="Borgeren ønsker at bo tæt på sin bror, som bor der."))
    assert r.status_code == 200


async def test_offer_validation(referrals):
    r = await referrals.client.put("/api/v1/offers/forkert", headers=referrals.auth("admin"),
                                   json=offer_body("forkert", legal_basis="SEL §107", step=7))
    assert r.status_code == 422 and "trin 6" in r.json()["detail"]
    r = await referrals.client.put("/api/v1/offers/forkert", headers=referrals.auth("admin"),
                                   json=offer_body("forkert", target_group={"requires": ["flyvende"]}))
    assert r.status_code == 422 and "Ukendt kendetegn" in r.json()["detail"]
    r = await referrals.client.put("/api/v1/offers/forkert", headers=referrals.auth("coordinator", botilbud="x"),
                                   json=offer_body("forkert"))
    assert r.status_code == 403
    async with referrals.ctx.sessions() as s:
        assert await s.get(Offer, "forkert") is None
