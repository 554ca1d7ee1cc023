"""Who sees what (visitation, coordinator, partner, citizen), the CPR, the follow-up scan and the
flow report, on real PostgreSQL + Tansu."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contracts.topics import REFERRALS
from services.referrals.services import today
from services.referrals.models import Referral
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tests.support import json_body, read_topic
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration

V = dict(role="visitation", sub="visitation-2")
PARTNER = dict(role="partner", sub="pck", org="SOR:1234567")


async def placed_case(svc, cpr, offer_id, *, internal_note="Intern: borgeren var påvirket", basis="SEL §108", step=7):
    r = await svc.client.put(f"/api/v1/offers/{offer_id}", headers=svc.auth("admin"),
                             json=offer_body(offer_id, legal_basis=basis, step=step, approved_places=20))
    assert r.status_code == 200, r.text
    r = await svc.client.post("/integration/v1/referrals", json=partner_message(cpr=cpr), headers=svc.auth(**PARTNER))
    rid = r.json()["referral_id"]
    await svc.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT, headers=svc.auth(**V))
    r = await svc.client.post(f"/api/v1/referrals/{rid}/decision", headers=svc.auth(**V), json={
        "decision": "granted", "legal_basis": basis, "offer_id": offer_id, "reason": "Behov for døgnstøtte.",
        "internal_note": internal_note})
    assert r.status_code == 200, r.text
    r = await svc.client.post(f"/api/v1/referrals/{rid}/move-in", json={}, headers=svc.auth(**V))
    assert r.status_code == 200, r.text
    case = (await svc.client.get(f"/api/v1/referrals/{rid}", headers=svc.auth(**V))).json()
    return rid, case["citizen_id"]


async def test_each_role_sees_what_it_should(referrals):
    rid, citizen_id = await placed_case(referrals, "0104804321", "adgang-hus")
    get = lambda **auth: referrals.client.get(f"/api/v1/referrals/{rid}", headers=referrals.auth(**auth))

    full = (await get(**V)).json()
    assert full["cpr_masked"] == "010480-xxxx" and "0104804321" not in json.dumps(full)
    assert any(h.get("internal_note") == "Intern: borgeren var påvirket" for h in full["history"])

    coord = await get(role="coordinator", sub="k1", botilbud="adgang-hus")
    assert coord.status_code == 200
    assert "cpr_masked" not in coord.json() and "påvirket" not in coord.text and coord.json()["citizen_name"]
    assert (await get(role="coordinator", sub="k2", botilbud="orion")).status_code == 404

    partner = await get(**PARTNER)
    assert partner.status_code == 200 and "påvirket" not in partner.text and "citizen_name" not in partner.json()
    assert (await get(role="partner", sub="x", org="SOR:2345678")).status_code == 404

    citizen = await get(role="citizen", sub=citizen_id)
    assert citizen.status_code == 200
    body = citizen.json()
    assert body["status"] == "placed" and "Du bor nu" in body["status_text"]
    assert "påvirket" not in citizen.text and "visitation-2" not in citizen.text and "cpr" not in citizen.text
    assert (await get(role="citizen", sub=str(uuid.uuid4()))).status_code == 404
    assert (await get(role="nurse-consultant", sub="n1", botilbud="adgang-hus")).status_code == 403

    mine = await referrals.client.get("/api/v1/me/referrals", headers=referrals.auth("citizen", sub=citizen_id))
    assert [c["referral_id"] for c in mine.json()] == [rid]
    others = await referrals.client.get("/api/v1/me/referrals", headers=referrals.auth("citizen", sub=str(uuid.uuid4())))
    assert others.json() == []

    # coordinators' case list is limited to their botilbud; partners and citizens have no case list
    lst = await referrals.client.get("/api/v1/referrals", headers=referrals.auth("coordinator", sub="k1", botilbud="adgang-hus"))
    assert [c["referral_id"] for c in lst.json()] == [rid]
    lst = await referrals.client.get("/api/v1/referrals?botilbud_id=orion",
                                     headers=referrals.auth("coordinator", sub="k1", botilbud="adgang-hus"))
    assert lst.status_code == 403
    assert (await referrals.client.get("/api/v1/referrals", headers=referrals.auth(**PARTNER))).status_code == 403

    # only visitation changes cases
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/end", json={"destination": "own_home"},
                                    headers=referrals.auth("coordinator", sub="k1", botilbud="adgang-hus"))
    assert r.status_code == 403

    async with referrals.ctx.sessions() as s:
        reads = (await s.execute(select(AuditEntry.actor_role).where(
            AuditEntry.object_id == rid, AuditEntry.action == "referral.read"))).scalars().all()
    assert {"visitation", "coordinator", "partner", "citizen"} <= set(reads)


async def test_cpr_reveal_is_visitation_only_and_audited(referrals):
    rid, citizen_id = await placed_case(referrals, "0204804321", "cpr-hus")
    r = await referrals.client.get(f"/api/v1/referrals/{rid}/cpr", headers=referrals.auth(**V))
    assert r.status_code == 200 and r.json()["cpr"] == "0204804321"
    r = await referrals.client.get(f"/api/v1/referrals/{rid}/cpr",
                                   headers=referrals.auth("coordinator", sub="k", botilbud="cpr-hus"))
    assert r.status_code == 403
    async with referrals.ctx.sessions() as s:
        n = (await s.execute(select(AuditEntry).where(AuditEntry.action == "citizen.cpr.reveal",
                                                      AuditEntry.object_id == rid))).scalars().all()
    assert len(n) == 1 and n[0].actor_sub == "visitation-2"


async def test_due_follow_up_is_signalled_once_and_held_follow_up_rearms(referrals, kafka):
    rid, citizen_id = await placed_case(referrals, "0304804321", "midlertidig-hus", basis="SEL §107", step=6)
    due = today() + timedelta(days=3)
    async with referrals.ctx.sessions() as s:
        await s.execute(update(Referral).where(Referral.id == uuid.UUID(rid)).values(follow_up_date=due))
        await s.commit()
    listed = await referrals.client.get("/api/v1/follow-ups", headers=referrals.auth(**V))
    assert rid in [f["referral_id"] for f in listed.json()]

    first = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth(**V))
    assert first.status_code == 200 and first.json()["signalled"] >= 1
    again = await referrals.client.post("/api/v1/follow-ups/scan", headers=referrals.auth(**V))
    records = await read_topic(kafka, REFERRALS.name, until=lambda rec: rec["headers"]["ce_type"].endswith(
        "follow-up-due.v1") and json_body(rec)["referral_id"] == rid)
    due_events = [json_body(r) for r in records if r["headers"]["ce_type"].endswith("follow-up-due.v1")
                  and json_body(r)["referral_id"] == rid]
    assert len(due_events) == 1
    assert due_events[0]["temporary"] is True and due_events[0]["follow_up_date"] == due.isoformat()
    assert due_events[0]["citizen_id"] == citizen_id
    assert again.json()["signalled"] == 0 or rid not in json.dumps(again.json())

    # held a few days early (a held follow-up is a fact: today, not the due date ahead)
    nxt = today() + timedelta(days=90)
    r = await referrals.client.post(f"/api/v1/referrals/{rid}/follow-ups", headers=referrals.auth(**V),
                                    json={"held_on": today().isoformat(), "next_follow_up_date": nxt.isoformat()})
    assert r.status_code == 200
    too_far = await referrals.client.post(f"/api/v1/referrals/{rid}/follow-ups", headers=referrals.auth(**V),
                                          json={"held_on": today().isoformat(),
                                                "next_follow_up_date": (today() + timedelta(days=300)).isoformat()})
    assert too_far.status_code == 422 and "183 dage" in too_far.json()["detail"]


async def test_flow_report_json_csv_and_period_checks(referrals):
    rid, _ = await placed_case(referrals, "0404804321", "rapport-hus")
    await referrals.client.post(f"/api/v1/referrals/{rid}/end", headers=referrals.auth(**V),
                                json={"destination": "own_home", "to_step": 3})
    y = today().year
    r = await referrals.client.get(f"/api/v1/reports/flow?from={y}-01-01&to={y}-12-31", headers=referrals.auth(**V))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["referrals_received"] >= 1 and rep["decisions_granted"] >= 1 and rep["placements_started"] >= 1
    assert rep["step_downs"] >= 1 and rep["move_outs_to_own_home"] >= 1
    assert rep["waiting_days_median"] is not None and rep["waiting_days_p90"] is not None
    c = await referrals.client.get(f"/api/v1/reports/flow?from={y}-01-01&to={y}-12-31&format=csv",
                                   headers=referrals.auth(**V))
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = dict(list(csv.reader(io.StringIO(c.text)))[1:])
    assert int(rows["referrals_received"]) == rep["referrals_received"]
    empty = (await referrals.client.get("/api/v1/reports/flow?from=1990-01-01&to=1990-12-31",
                                        headers=referrals.auth(**V))).json()
    assert empty["referrals_received"] == 0 and empty["waiting_days_median"] is None
    bad = await referrals.client.get(f"/api/v1/reports/flow?from={y}-12-31&to={y}-01-01", headers=referrals.auth(**V))
    assert bad.status_code == 422 and "ligger før" in bad.json()["detail"]
    assert (await referrals.client.get(f"/api/v1/reports/flow?from={y}-01-01&to={y}-12-31",
                                       headers=referrals.auth(**PARTNER))).status_code == 403


async def test_pages_are_served(referrals):
    # Every page moved to the portal (tests/integration/referrals/test_referrals_old_pages_redirect.py).
    for path in ("/visitation", "/visitation/report", "/min-sag"):
        assert (await referrals.client.get(path, follow_redirects=False)).status_code == 302, path
