"""The citizen's own case as referrals answers it, against a live referrals server: visitation takes a
case to move-in (through the API) and the citizen's view says it in plain Danish, with the decision, its
reason and the law, and without internal notes or staff names. The page itself is the portal's Min sag
(tests/browser/test_portal_citizen_browser.py); referrals' old /min-sag redirects there."""

from __future__ import annotations


import httpx
import pytest

from tests.integration.referrals.conftest import offer_body

from tests.browser_support import live_server

pytestmark = [pytest.mark.integration]

@pytest.fixture
def live_referrals(pg, kafka, state_dir):
    """The referrals service as a real HTTP server on loopback (uvicorn in its own thread)."""
    from services.referrals.main import spec
    from tests.support import fresh_database, service_settings

    settings = service_settings("referrals", database_url=fresh_database(pg, "referrals"), kafka=kafka,
                                state_dir=state_dir)
    with live_server(spec, settings) as (base_url, _app):
        yield base_url, settings


def test_the_citizen_follows_the_case_visitation_took_to_move_in(live_referrals):
    """Visitation's work happens in the portal now (tests/browser/test_portal_visitation_browser.py); here it
    goes through the API, and the citizen reads the case in plain Danish."""
    from tovholder.auth import issue_dev_token

    base_url, settings = live_referrals
    admin = {"Authorization": "Bearer " + issue_dev_token(settings, role="admin", sub="admin-1")}
    r = httpx.put(f"{base_url}/api/v1/offers/lyset", headers=admin, json=offer_body("lyset", name="Lyset", approved_places=3))
    assert r.status_code == 200, r.text
    visitation = {"Authorization": "Bearer " + issue_dev_token(settings, role="visitation", sub="visitation-browser",
                                                               name="Lars Nielsen")}
    created = httpx.post(f"{base_url}/api/v1/referrals", headers=visitation, json={
        "cpr": "1506784321", "citizen_name": "Ida Madsen", "reason": "Udskrives fra psykiatrisk afdeling uden bolig.",
        "citizen_wishes": "Jeg vil have ro og mit eget værelse.", "requested_step": 7, "requested_offer": "SEL §108"})
    assert created.status_code == 201, created.text
    case, citizen_id = created.json()["referral_id"], created.json()["citizen_id"]
    for method, path, body in (
            ("POST", "screening", None),
            ("PUT", "assessment", {"scores": {"egenomsorg": 3}, "wishes": "Ro og eget værelse"}),
            ("POST", "decision", {"decision": "granted", "legal_basis": r.json()["legal_basis"], "offer_id": "lyset",
                                  "reason": "Du har brug for støtte døgnet rundt."}),
            ("POST", "move-in", {})):
        answer = httpx.request(method, f"{base_url}/api/v1/referrals/{case}/{path}", headers=visitation, json=body)
        assert answer.status_code == 200, (path, answer.text)

    citizen = {"Authorization": "Bearer " + issue_dev_token(settings, role="citizen", sub=citizen_id)}
    [mine] = httpx.get(f"{base_url}/api/v1/me/referrals", headers=citizen).json()
    assert mine["status_text"].startswith("Du bor nu i dit tilbud")
    assert (mine["decision"], mine["legal_basis"]) == ("granted", r.json()["legal_basis"])
    assert mine["decision_reason"] == "Du har brug for støtte døgnet rundt."
    assert any(h["title"] == "Tilbud bevilget" for h in mine["history"])
    assert "visitation-browser" not in str(mine) and "Lars Nielsen" not in str(mine)
    moved = httpx.get(f"{base_url}/min-sag", follow_redirects=False)
    assert moved.status_code == 302 and moved.headers["location"].endswith("/min-sag")
