"""Referrals' old pages (/visitation, /visitation/report, /min-sag) send the browser to the portal:
to one fixed address from the settings, whatever the request asks for (no open redirect)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from services.referrals.main import ReferralsSettings
from services.referrals.pages import old_staff_pages

pytestmark = pytest.mark.integration


async def test_the_old_pages_redirect_to_the_portal(referrals):
    for old, new in (("/visitation", "/visitation"), ("/visitation/report", "/visitation/flow"), ("/min-sag", "/min-sag")):
        response = await referrals.client.get(old, follow_redirects=False)
        assert response.status_code == 302, old
        assert response.headers["location"] == f"http://127.0.0.1:8100{new}", old


@pytest.mark.parametrize("asked", ["/visitation?naeste=https://ondt.example", "/visitation//ondt.example",
                                   "/visitation/report?to=//ondt.example", "/min-sag?naeste=https://ondt.example"])
async def test_a_request_cannot_choose_where_it_is_sent(referrals, asked):
    response = await referrals.client.get(asked, follow_redirects=False, headers={"host": "ondt.example"})
    if response.status_code == 302:
        assert response.headers["location"].startswith(("http://127.0.0.1:8100/visitation", "http://127.0.0.1:8100/min-sag")), asked
        assert "ondt" not in response.headers["location"]
    else:
        assert response.status_code == 404, asked


async def test_the_portal_address_comes_from_the_settings_without_path_or_query(monkeypatch):
    monkeypatch.setenv("TOVHOLDER_REFERRALS_PORTAL_URL", "https://portal.kommune.dk/noget?x=//ondt.example#y")
    settings = ReferralsSettings()
    assert settings.portal_base == "https://portal.kommune.dk"
    app = FastAPI()
    app.include_router(old_staff_pages(settings.portal_base))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referrals") as client:
        response = await client.get("/visitation/report?fra=2026-01-01")
    assert response.status_code == 302 and response.headers["location"] == "https://portal.kommune.dk/visitation/flow"
    monkeypatch.setenv("TOVHOLDER_REFERRALS_PORTAL_URL", "javascript:alert(1)")
    with pytest.raises(ValueError):
        ReferralsSettings()
