"""The nurse consultant's pages in-process with health down (a closed port): each page still renders and
says so in Danish; other roles get a Danish refusal; every form needs its CSRF token; a day typed
wrongly is explained beside the form before anything is sent. (The journey on the real services is
tests/browser/test_portal_nurse_browser.py.)"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.portal.conftest import portal_settings, run_portal

pytestmark = [pytest.mark.integration]

NURSE = "orion-sygeplejekonsulent-1"
COORDINATOR = "orion-koordinator-1"
CITIZEN = str(uuid.uuid4())


async def test_the_nurse_pages_render_in_danish_when_health_is_down_and_refuse_other_roles(pg, state_dir):
    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in(NURSE)
        for path in ("/helbred/indlagte", "/helbred/helbredstjek", f"/borgere/{CITIZEN}/helbred",
                     f"/borgere/{CITIZEN}/medicin", f"/borgere/{CITIZEN}/retspsykiatri"):
            page = await portal.client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert "Sundhed kan ikke nås lige nu" in page.text, path
            assert 'href="/helbred/dagsplan"' in page.text  # the nurse's navigation
        page = await portal.client.get("/helbred/dagsplan")
        assert page.status_code == 200 and "Vis forslag" in page.text

        csrf = await portal.csrf("/helbred/dagsplan")
        page = await portal.client.post("/helbred/dagsplan", data={"csrf": csrf, "dage": "31.02.2027", "handling": "forslag"})
        assert page.status_code == 422 and "»31.02.2027« er ikke en dato" in page.text
        assert 'value="31.02.2027"' in page.text  # what was typed is kept

        for path in ("/helbred/dagsplan", f"/helbred/tjek/{uuid.uuid4()}/holdt", f"/borgere/{CITIZEN}/retspsykiatri/tvang",
                     f"/borgere/{CITIZEN}/medicin/advarsler/{uuid.uuid4()}/kvitter",
                     f"/borgere/{CITIZEN}/retspsykiatri/behandlingsdom", f"/borgere/{CITIZEN}/retspsykiatri/depotplan",
                     f"/borgere/{CITIZEN}/retspsykiatri/depotbesoeg", f"/borgere/{CITIZEN}/medicin/aendring",
                     f"/helbred/tjek/{uuid.uuid4()}/undersoegelse", "/helbred/helbredstjek/kadence"):
            answer = await portal.client.post(path, data={"csrf": "forkert"}, follow_redirects=False)
            assert answer.status_code == 303 and "besked=forkert-formular" in answer.headers["location"], path

    async with run_portal(portal_settings(pg, state_dir)) as portal:
        await portal.sign_in(COORDINATOR)
        for path in ("/helbred/indlagte", "/helbred/dagsplan"):
            page = await portal.client.get(path)
            assert page.status_code == 403 and "Siden er for botilbuddets sygeplejekonsulenter." in page.text
        page = await portal.client.get("/")
        assert 'href="/helbred/indlagte"' not in page.text
