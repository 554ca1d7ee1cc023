"""The visitation's portal pages on real parts (the portal's own database; the services closed): only
visitation (and admin) may open them, every form needs its CSRF token, an unknown action is a Danish 404,
and a case page whose service is down says so in Danish instead of failing."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.portal.conftest import portal_settings, run_portal

pytestmark = [pytest.mark.integration]

CASE = f"/visitation/sager/{uuid.uuid4()}"
PAGES = ("/visitation/ny", CASE, "/visitation/kapacitet", "/visitation/flow", "/visitation/flow.csv",
         "/visitation/hospitalsbeskeder")


async def test_the_visitation_pages_are_for_visitation(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        for path in PAGES:
            anonymous = await portal.client.get(path, follow_redirects=False)
            assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/logind"), path
        await portal.sign_in("orion-koordinator-1")
        for path in PAGES:
            refused = await portal.client.get(path)
            assert refused.status_code == 403 and "for visitationen" in refused.text, path
        csrf = await portal.csrf()
        posted = await portal.client.post(f"{CASE}/bevil", data={"csrf": csrf})
        assert posted.status_code == 403
        posted = await portal.client.post("/visitation/kapacitet/orion/ret", data={"csrf": csrf, "name": "X"})
        assert posted.status_code == 403


async def test_forms_need_their_csrf_token_and_unknown_actions_are_refused(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in("visitation-1")
        forged = await portal.client.post(f"{CASE}/bevil", data={"csrf": "forged", "offer_id": "orion"},
                                          follow_redirects=False)
        assert forged.status_code == 303 and forged.headers["location"] == f"{CASE}?besked=forkert-formular"
        forged = await portal.client.post("/visitation/ny", data={"csrf": "forged"}, follow_redirects=False)
        assert forged.status_code == 303 and "forkert-formular" in forged.headers["location"]
        forged = await portal.client.post("/visitation/kapacitet/orion/ret", data={"csrf": "forged", "name": "X"},
                                          follow_redirects=False)
        assert forged.status_code == 303 and forged.headers["location"] == "/visitation/kapacitet?besked=forkert-formular"
        csrf = await portal.csrf()
        unknown = await portal.client.post(f"{CASE}/slet-alt", data={"csrf": csrf})
        assert unknown.status_code == 404 and "Den handling findes ikke" in unknown.text


async def test_a_form_the_person_left_half_filled_is_answered_in_danish_before_any_service_is_asked(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in("visitation-1")
        csrf = await portal.csrf()
        answer = await portal.client.post(f"{CASE}/opfoelgning", data={"csrf": csrf, "held_on": "31.02.2026"})
        # Referrals is down: the case part says so; the form's own problem (a date that is no date) is shown.
        assert answer.status_code == 422 and "Datoen er ikke gyldig" in answer.text
        created = await portal.client.post("/visitation/ny", data={"csrf": csrf, "cpr": "0101901234"})
        assert created.status_code == 422 and "Skriv borgerens navn." in created.text
        assert "0101901234" not in created.text  # the CPR is never echoed back


async def test_a_case_page_whose_service_is_down_says_so_in_danish(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in("visitation-1")
        page = await portal.client.get(CASE)
        assert page.status_code == 200 and "Visitation og sager kan ikke nås lige nu" in page.text
        picture = await portal.client.get("/visitation/flow/maaned.svg")
        assert picture.status_code == 503
        assert (await portal.client.get("/visitation/flow/andet.svg")).status_code == 404
        sheet = await portal.client.get("/visitation/flow.csv")
        assert sheet.status_code == 503 and "Flowrapporten kan ikke hentes som regneark" in sheet.text
