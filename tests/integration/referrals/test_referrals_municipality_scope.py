"""The municipality boundary on real PostgreSQL: visitation staff see, in lists and one by one, only
their own municipality's cases; a partner's referral belongs to the municipality the installation
serves (TOVHOLDER_MUNICIPALITY); a case outside one's reach answers exactly as a case that does not
exist."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import update

from services.referrals.models import Referral
from services.referrals.services import today
from tests.integration.referrals.conftest import ASSESSMENT, offer_body, partner_message
from tests.support import run_service

pytestmark = pytest.mark.integration

SERVED = "København"
KBH = dict(role="visitation", sub="visitation-kbh", municipality=SERVED)
AARHUS = dict(role="visitation", sub="visitation-aarhus", municipality="Aarhus")
PARTNER = dict(role="partner", sub="pck", org="SOR:1234567")
OFFER = "graense-hus"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def referrals(pg, kafka, tmp_path_factory):
    async with run_service("referrals", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("scope"),
                           municipality=SERVED) as svc:
        r = await svc.client.put(f"/api/v1/offers/{OFFER}", headers=svc.auth("admin"),
                                 json=offer_body(OFFER, approved_places=20))
        assert r.status_code == 200, r.text
        yield svc


async def placed(svc, rid: str, auth: dict) -> None:
    h = svc.auth(**auth)
    assert (await svc.client.put(f"/api/v1/referrals/{rid}/assessment", json=ASSESSMENT, headers=h)).status_code == 200
    r = await svc.client.post(f"/api/v1/referrals/{rid}/decision", headers=h, json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": OFFER, "reason": "Behov for døgnstøtte."})
    assert r.status_code == 200, r.text


async def cases(referrals) -> dict[str, str]:
    """A partner's referral, one whose row names no municipality (from before partner referrals got
    one), and a case of Aarhus (registered by Aarhus' visitation)."""
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr="0105804321"),
                                    headers=referrals.auth(**PARTNER))
    partner_case = r.json()["referral_id"]
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr="0205804321"),
                                    headers=referrals.auth(**PARTNER))
    legacy_case = r.json()["referral_id"]
    async with referrals.ctx.sessions() as s:
        await s.execute(update(Referral).where(Referral.id == uuid.UUID(legacy_case)).values(municipality=None))
        await s.commit()
    r = await referrals.client.post("/api/v1/referrals", headers=referrals.auth(**AARHUS), json={
        "cpr": "0305804321", "citizen_name": "Aarhus Borger", "reason": "Brug for botilbud"})
    assert r.status_code == 201, r.text
    aarhus_case = r.json()["referral_id"]
    for rid, auth in ((partner_case, KBH), (legacy_case, KBH), (aarhus_case, AARHUS)):
        await placed(referrals, rid, auth)
    return {"partner": partner_case, "legacy": legacy_case, "aarhus": aarhus_case}


async def test_lists_and_single_reads_keep_to_the_callers_municipality(referrals):
    ids = await cases(referrals)
    mine = {ids["partner"], ids["legacy"]}

    async def listed(auth, path="/api/v1/referrals?limit=500") -> set[str]:
        r = await referrals.client.get(path, headers=referrals.auth(**auth))
        assert r.status_code == 200, r.text
        return {c["referral_id"] for c in r.json()}

    # The case list: a partner's referral is the receiving municipality's; Aarhus sees only its own.
    assert mine <= await listed(KBH) and ids["aarhus"] not in await listed(KBH)
    assert await listed(AARHUS) == {ids["aarhus"]}
    names = (await referrals.client.get("/api/v1/referrals", headers=referrals.auth(**AARHUS))).text
    assert "Anne Jensen" not in names  # the partner's citizens' names stay in København

    # The waitlist of one offer: each municipality sees its own waiting citizens.
    async def waiting(auth) -> set[str]:
        r = await referrals.client.get(f"/api/v1/offers/{OFFER}/waitlist", headers=referrals.auth(**auth))
        assert r.status_code == 200, r.text
        return {e["referral_id"] for e in r.json()["entries"]}

    assert await waiting(KBH) == mine and await waiting(AARHUS) == {ids["aarhus"]}

    # Due follow-ups: move everyone in with a follow-up next week.
    for rid, auth in ((ids["partner"], KBH), (ids["legacy"], KBH), (ids["aarhus"], AARHUS)):
        r = await referrals.client.post(f"/api/v1/referrals/{rid}/move-in", headers=referrals.auth(**auth),
                                        json={"follow_up_date": (today() + timedelta(days=7)).isoformat()})
        assert r.status_code == 200, r.text
    assert await listed(KBH, "/api/v1/follow-ups") == mine
    assert await listed(AARHUS, "/api/v1/follow-ups") == {ids["aarhus"]}

    # One by one: another municipality's case answers exactly like a case that does not exist.
    unknown = f"/api/v1/referrals/{uuid.uuid4()}"
    for auth, rid in ((AARHUS, ids["partner"]), (AARHUS, ids["legacy"]), (KBH, ids["aarhus"])):
        h = referrals.auth(**auth)
        for suffix, method in (("", "GET"), ("/cpr", "GET"), ("/matches", "GET"), ("/screening", "POST")):
            hidden = await referrals.client.request(method, f"/api/v1/referrals/{rid}{suffix}", headers=h)
            missing = await referrals.client.request(method, f"{unknown}{suffix}", headers=h)
            assert hidden.status_code == missing.status_code == 404, (suffix, hidden.text)
            assert hidden.json() == missing.json()
    cpr = await referrals.client.get(f"/api/v1/referrals/{ids['partner']}/cpr", headers=referrals.auth(**KBH))
    assert cpr.status_code == 200 and cpr.json()["cpr"] == "0105804321"


async def test_visitation_registers_cases_for_their_own_municipality_only(referrals):
    r = await referrals.client.post("/api/v1/referrals", headers=referrals.auth(**AARHUS), json={
        "cpr": "0405804321", "citizen_name": "X", "reason": "Y", "municipality": SERVED})
    assert r.status_code == 403 and "Aarhus" in r.json()["detail"]


async def test_the_partner_sees_the_contracts_status_and_history_and_nothing_of_the_case_work(referrals):
    r = await referrals.client.post("/integration/v1/referrals", json=partner_message(cpr="0505804321"),
                                    headers=referrals.auth(**PARTNER))
    rid = r.json()["referral_id"]
    await placed(referrals, rid, KBH)
    for path in (f"/integration/v1/referrals/{rid}", f"/api/v1/referrals/{rid}"):
        r = await referrals.client.get(path, headers=referrals.auth(**PARTNER))
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"referral_id", "status", "history"}, path
        assert body["status"] == "granted"
        assert [h["status"] for h in body["history"]] == ["received", "screening", "granted"]
        assert all(set(h) == {"status", "at"} for h in body["history"])
        assert OFFER not in r.text and "døgnstøtte" not in r.text
