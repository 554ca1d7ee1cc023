"""The coordinator's screens as routes (plans is down here; its part of each screen says so): every
screen and picture asks who is signed in first, every change needs the session's CSRF token, and a
screen whose service is down still renders, in Danish."""

from __future__ import annotations

import uuid

import pytest

from services.portal.pages.coordinator import router
from tests.integration.portal.conftest import portal_settings, run_portal

pytestmark = [pytest.mark.integration]

COORDINATOR = "orion-koordinator-1"
CITIZEN = str(uuid.uuid4())


def _paths(method: str) -> list[str]:
    ids = {"citizen_id": CITIZEN, "goal_id": uuid.uuid4(), "action_id": uuid.uuid4(), "staff_id": "orion-k2",
           "rating_id": uuid.uuid4(), "learning_plan_id": uuid.uuid4(), "consent_id": uuid.uuid4(),
           "meeting_id": uuid.uuid4()}
    return [route.path.format(**ids) for route in router.routes if method in route.methods]


async def test_every_screen_asks_for_sign_in_and_every_change_for_its_csrf_token(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        for path in _paths("GET"):
            answer = await portal.client.get(path, follow_redirects=False)
            expected = 401 if path.endswith(".svg") else 303
            assert answer.status_code == expected, path
            if expected == 303:
                assert answer.headers["location"].startswith("/logind?besked=log-ind"), path
        await portal.sign_in(COORDINATOR)
        posts = _paths("POST")
        assert len(posts) >= 17
        for path in posts:
            answer = await portal.client.post(path, data={"csrf": "forged", "tekst": "x"}, follow_redirects=False)
            assert answer.status_code == 303 and "besked=forkert-formular" in answer.headers["location"], path


async def test_a_screen_says_in_danish_that_plans_is_down_and_a_change_is_not_lost(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in(COORDINATOR)
        for screen in ("plan", "plan/versioner", "netvaerk", "tryghedsplan", "la2", "laeringsplaner", "fit", "samtykker"):
            page = await portal.client.get(f"/borgere/{CITIZEN}/{screen}")
            assert page.status_code == 200, screen
            assert "Borgerens Plan kan ikke nås lige nu" in page.text, screen
        csrf = await portal.csrf(f"/borgere/{CITIZEN}/plan")
        typed = await portal.client.post(f"/borgere/{CITIZEN}/plan/maal", data={
            "csrf": csrf, "tekst": "Jeg vil gå en tur hver dag", "slags": "develop", "hyppighed": "14-days"})
        assert typed.status_code == 502
        assert "Borgerens Plan kan ikke nås lige nu" in typed.text and "Jeg vil gå en tur hver dag" in typed.text
        for screen, form, kept in (("la2", {"niveau": "green", "begrundelse": "Rolig og glad i dag"}, "Rolig og glad i dag"),
                                   ("tryghedsplan", {"what_helps": "En gåtur"}, "En gåtur")):
            answer = await portal.client.post(f"/borgere/{CITIZEN}/{screen}", data={"csrf": csrf, **form})
            assert answer.status_code == 502 and kept in answer.text, screen
        wrong = await portal.client.post(f"/borgere/{CITIZEN}/fit", data={"csrf": csrf, "holdt": "i går", "ors": "20"})
        assert wrong.status_code == 422 and "Hvornår samtalen blev holdt er ikke et gyldigt tidspunkt." in wrong.text
