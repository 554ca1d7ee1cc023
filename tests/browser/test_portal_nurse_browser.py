"""The nurse consultant's day in real headless Chromium, on health and notifications over real HTTP and a
real broker, with the demo data loaded: a hospital admission posted by a partner
(``POST /integration/v1/hospital-notifications``) reaches the tovholder's open queue without a reload
(health's outbox → the broker → notifications → the portal's relayed stream) and is claimed; the
citizen is in "Indlagte nu" with the stay, and the nurse's visit goes in the health timeline; a medication change during the admission raises an alert
that is acknowledged, and the nurse records a change from FMK herself; a refused coercion entry is
explained in Danish beside its form; the treatment order is recorded (after an end before the judgment
is refused beside its form), a depot schedule added and a visit recorded against it; a health-check
day is planned by GP practice (slot times) after a day too soon is refused; the botilbud's cadence is
changed (after an extended check in no check year is refused); and one check gets its examination and
its minutes with a decision (after the form without a minute-taker is refused). Every screen gets the
portal checks (axe, 390 px, no English words, screenshots)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from tests.browser.portal_support import check_page, demo_sign_in, portal_page
from tests.browser_support import live_app, live_server, require_browser
from tovholder import clock
from tovholder.demo import demo_data, staff_member

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PARTNER_ORG = "SOR:1234567"


@pytest.fixture
def stack(pg, kafka, state_dir):
    require_browser()
    from services.health.main import spec as health_spec
    from services.notifications.main import NotificationsConfig, build_spec
    from services.portal.main import PortalConfig, create_portal
    from tests.browser.test_work_queue_browser import _wait_for_consumer
    from tests.support import CPR_ENCRYPTION_KEY, CPR_HASH_KEY, fresh_database, service_settings
    from tovholder.infra import free_port
    from tovholder.launcher import seed_demo
    from tovholder.settings import Settings

    urls = {name: fresh_database(pg, name) for name in ("health", "notifications")}
    # The demo CPR numbers hashed with the keys health runs with (a partner's notice must find its citizen).
    asyncio.run(seed_demo(urls, Settings(state_dir=state_dir, cpr_hash_key=CPR_HASH_KEY, cpr_encryption_key=CPR_ENCRYPTION_KEY)))
    # The installation serves København (the demo's municipality): its unmatched notices are visitation's there.
    settings = {name: service_settings(name, database_url=url, kafka=kafka, state_dir=state_dir, municipality="København")
                for name, url in urls.items()}
    portal_settings = Settings(service="portal", environment="development", database_url=fresh_database(pg, "portal"),
                               state_dir=state_dir, log_format="text")
    closed = {f"{name}_url": f"http://127.0.0.1:{free_port()}" for name in ("referrals", "plans")}
    fast = NotificationsConfig(queue_stream_interval_s=0.3)
    with live_server(build_spec(fast), settings["notifications"], wait_for_kafka=True) as (notifications_url, app), \
            live_server(health_spec, settings["health"], wait_for_kafka=True) as (health_url, _):
        _wait_for_consumer(app)
        config = PortalConfig(notifications_url=notifications_url, health_url=health_url, queue_poll_interval_s=600,
                              **closed)
        with live_app(lambda: create_portal(config, portal_settings), name="portal") as (portal_url, _):
            yield portal_url, health_url, settings["health"]


def partner_post(health_url: str, health_settings, path: str, body: dict) -> None:
    from tovholder.auth import issue_dev_token

    token = issue_dev_token(health_settings, role="partner", sub="partner-browser", org=PARTNER_ORG)
    reply = httpx.post(f"{health_url}/integration/v1/{path}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 202 and reply.json()["status"] == "ok", reply.text


def first_working_day(after: date) -> date:
    day = after
    while day.weekday() >= 5 or (day.month, day.day) in ((12, 24), (12, 25), (12, 26), (12, 31), (1, 1)):
        day += timedelta(days=1)
    return day


def test_a_nurse_consultant_follows_an_admission_and_plans_the_health_check_day(stack, tmp_path):
    from playwright.sync_api import expect

    portal_url, health_url, health_settings = stack
    citizen = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")
    nurse = staff_member(citizen["tovholder_sub"])
    cid = citizen["citizen_id"]
    with portal_page() as page:
        demo_sign_in(page, portal_url, nurse, "Sygeplejekonsulent", then="/arbejdsko")
        expect(page.get_by_role("heading", name="Arbejdskø")).to_be_visible()
        for label in ("Indlagte nu", "Sundhedstjek", "Dagsplan"):
            expect(page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name=label)).to_be_visible()

        # A partner posts an admission; it reaches the open queue without a reload.
        page.evaluate("window.__same_page = true")
        now = datetime.now(timezone.utc)
        partner_post(health_url, health_settings, "hospital-notifications", {
            "message_id": str(uuid.uuid4()), "sent_at": (now - timedelta(minutes=9)).isoformat(),
            "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": "STAA",
            "cpr": citizen["cpr"], "hospital_episode_id": "EPJ-NURSE-1", "department": "Afsnit P2",
            "occurred_at": (now - timedelta(minutes=10)).isoformat(), "replaces_message_id": None})
        task = page.locator("li.task", has_text="Indlagt: følg og besøg borgeren")
        expect(task).to_be_visible(timeout=30_000)
        assert page.evaluate("window.__same_page") is True
        task.get_by_role("button", name="Tag opgaven").click()
        expect(page.get_by_text("Du har taget opgaven.")).to_be_visible()
        expect(page.locator("li.task", has_text="Indlagt: følg og besøg borgeren")).to_contain_text("Din opgave")

        # Indlagte nu: the citizen by name, then the stay and the timeline.
        page.get_by_role("link", name="Indlagte nu").click()
        row = page.locator("li.admitted-citizen", has_text=citizen["name"])
        expect(row).to_contain_text("Indlagt nu")
        expect(row).to_contain_text("Afsnit P2")
        check_page(page, "portal-sygeplejerske-indlagte", tmp_path)
        row.get_by_role("link", name=citizen["name"]).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(citizen["name"])
        expect(page.locator("li.stay")).to_contain_text("Afsnit P2")
        expect(page.locator("li.stay")).to_contain_text("Indlagt nu")
        assert cid not in page.inner_text("main")  # names, not ids
        # The nurse writes her visit in the health timeline.
        page.get_by_text("Skriv en kontakt i tidslinjen").click()
        page.get_by_label("Hvordan").select_option(label="Møde")
        page.get_by_label("Med hvem").select_option(label="Psykiatrisk afsnit")
        page.get_by_label("Organisation").fill("Psykiatrisk Center København")
        page.get_by_label("Hvad", exact=True).fill("Besøgt borgeren på Afsnit P2")
        page.get_by_role("button", name="Skriv i tidslinjen").click()
        expect(page.get_by_text("Kontakten er skrevet i helbredstidslinjen.")).to_be_visible()
        expect(page.get_by_role("row", name="Besøgt borgeren på Afsnit P2")).to_contain_text("Psykiatrisk afsnit · Psykiatrisk Center København")
        check_page(page, "portal-sygeplejerske-helbred", tmp_path)

        # A medication change during the stay raises an alert; the nurse acknowledges it.
        partner_post(health_url, health_settings, "medication-changes", {
            "message_id": str(uuid.uuid4()), "sent_at": now.isoformat(), "sender": {"org": PARTNER_ORG},
            "cpr": citizen["cpr"], "fmk_reference": "FMK-4711", "change_kind": "dose-changed",
            "changed_at": (now - timedelta(minutes=5)).isoformat()})
        page.get_by_role("link", name="Medicin").click()
        expect(page.get_by_role("row", name="FMK-4711")).to_contain_text("Dosis ændret")
        check_page(page, "portal-sygeplejerske-medicin", tmp_path)
        page.get_by_role("button", name="Kvittér: jeg har set ændringen i FMK").first.click()
        expect(page.get_by_text("Advarslen er kvitteret")).to_be_visible()
        expect(page.get_by_role("button", name="Kvittér: jeg har set ændringen i FMK")).to_have_count(0)
        # The nurse records a change made in FMK herself (a reference); during the stay it raises an alert too.
        page.get_by_text("Registrér en ændring fra FMK").click()
        change = page.locator("form", has=page.get_by_role("button", name="Registrér ændringen"))
        change.get_by_label("FMK-reference").fill("FMK-5150")
        change.get_by_label("Ændring", exact=True).select_option(label="Stoppet")
        change.get_by_label("Note, kort").fill("Stoppet efter samtale med overlægen")
        check_page(page, "portal-sygeplejerske-medicin-aendring", tmp_path)
        change.get_by_role("button", name="Registrér ændringen").click()
        expect(page.get_by_text("Medicinændringen er registreret.")).to_be_visible()
        expect(page.get_by_role("row", name="FMK-5150")).to_contain_text("Stoppet")
        expect(page.get_by_role("row", name="FMK-5150")).to_contain_text("Registreret her")
        expect(page.get_by_role("button", name="Kvittér: jeg har set ændringen i FMK")).to_have_count(1)

        # Forensic psychiatry: a refusal from health is a Danish sentence beside the form.
        page.get_by_role("link", name="Retspsykiatri").click()
        expect(page.get_by_role("heading", name="Behandlingsdom")).to_be_visible()
        page.get_by_label("Foranstaltning").select_option(label="Aktivering af behandlingsdom")
        page.get_by_label("Situationen").fill("Uro og afvisning af medicin.")
        page.get_by_label("Det mindst indgribende alternativ").fill("Samtale med kontaktpersonen.")
        page.get_by_role("button", name="Skriv i loggen").click()
        form = page.locator("form", has=page.get_by_role("button", name="Skriv i loggen"))
        expect(form.get_by_role("alert")).to_have_text("Borgeren har ingen registreret behandlingsdom, så ingen kan aktiveres.")
        expect(page.get_by_label("Situationen")).to_have_value("Uro og afvisning af medicin.")  # kept
        expect(page.get_by_role("alert")).to_have_count(1)  # beside that form only
        page.get_by_text("Tilføj en plan for depotmedicin").click()
        check_page(page, "portal-sygeplejerske-retspsykiatri", tmp_path)
        # The treatment order: health refuses an end before the judgment, beside its form; then it is recorded.
        order = page.locator("form", has=page.get_by_role("button", name="Gem behandlingsdommen"))
        order.get_by_label("Retten, der afsagde dommen").fill("Retten i Glostrup")
        order.get_by_label("Domsdato").fill("2025-03-14")
        order.get_by_label("Gyldig til").fill("2024-03-14")
        order.get_by_label("Vilkår, ét pr. linje").fill("Depotmedicin hver anden uge\nBor på botilbuddet")
        order.get_by_role("button", name="Gem behandlingsdommen").click()
        order = page.locator("form", has=page.get_by_role("button", name="Gem behandlingsdommen"))
        expect(order.get_by_role("alert")).to_have_text("Gyldig til-datoen ligger før domsdatoen.")
        expect(page.get_by_role("alert")).to_have_count(1)
        expect(order.get_by_label("Retten, der afsagde dommen")).to_have_value("Retten i Glostrup")  # kept
        order.get_by_label("Gyldig til").fill("")
        order.get_by_role("button", name="Gem behandlingsdommen").click()
        expect(page.get_by_text("Behandlingsdommen er registreret")).to_be_visible()
        dom = page.locator("section", has=page.get_by_role("heading", name="Behandlingsdom"))
        expect(dom).to_contain_text("Retten i Glostrup, dom 14.03.2025")
        expect(dom).to_contain_text("Gældende")
        expect(dom.get_by_role("listitem").filter(has_text="Bor på botilbuddet").last).to_be_visible()
        # A depot schedule every second week, then the forensic nurse's visit is recorded against it.
        page.get_by_text("Tilføj en plan for depotmedicin").click()
        plan = page.locator("form", has=page.get_by_role("button", name="Gem planen"))
        weekday = ("Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag")[(clock.today().weekday() + 1) % 7]
        plan.get_by_label("Ugedag").select_option(label=weekday)
        plan.get_by_label("Klokkeslæt").fill("10:30")
        plan.get_by_label("Hvor ofte").select_option(label="Hver 2. uge")
        plan.get_by_role("button", name="Gem planen").click()
        expect(page.get_by_text("Planen for depotmedicin er gemt.")).to_be_visible()
        expect(page.locator("section", has=page.get_by_role("heading", name="Depotmedicin"))).to_contain_text(
            f"Hver 2. {weekday.lower()} kl. 10:30")
        visit = page.locator("form", has=page.get_by_role("button", name="Gem besøget"))
        visit.get_by_label("Udfald").select_option(label="Givet")
        visit.get_by_role("button", name="Gem besøget").click()
        expect(page.get_by_text("Depotbesøget er registreret.")).to_be_visible()
        expect(page.locator("section", has=page.get_by_role("heading", name="Depotbesøg", exact=True))).to_contain_text("Givet")

        # Day planning: a day too soon is refused in Danish; a proposal by GP practice; then scheduled.
        page.get_by_role("link", name="Dagsplan").click()
        soon = first_working_day(clock.today() + timedelta(days=2))
        page.get_by_label("Dage (dd.mm.åååå, adskilt med komma)").fill(soon.strftime("%d.%m.%Y"))
        page.get_by_role("button", name="Vis forslag").click()
        expect(page.get_by_role("alert")).to_contain_text("giver under 3 uger til forundersøgelsen")
        day = first_working_day(clock.today() + timedelta(weeks=4))
        page.get_by_label("Dage (dd.mm.åååå, adskilt med komma)").fill(day.strftime("%d.%m.%Y"))
        page.get_by_role("button", name="Vis forslag").click()
        slots = page.locator("li.slot")
        expect(slots).to_have_count(10)
        expect(slots.first).to_contain_text("kl. 09:00–09:15")
        check_page(page, "portal-sygeplejerske-dagsplan", tmp_path)
        page.get_by_label("Jeg har læst eventuelle advarsler").check()
        page.get_by_role("button", name="Planlæg tjekkene").click()
        expect(page.get_by_text("Sundhedstjekkene er planlagt.")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Sundhedstjek {day.year}")
        expect(page.locator("figure.chart svg[role=img]")).to_be_visible()
        checks = page.locator("tr.check")
        expect(checks).to_have_count(10)
        expect(page.locator("p.cadence")).to_contain_text("hvert andet år (lægeaftalens standard")
        page.get_by_text("Skift kadence").click()
        check_page(page, "portal-sygeplejerske-aarshjul", tmp_path)
        # The botilbud's cadence: an extended check that falls in no check year is refused; then every year, extended every 5th.
        cadence = page.locator("form", has=page.get_by_role("button", name="Gem kadencen"))
        cadence.get_by_label("Hvert andet år (lægeaftalen)").check()
        cadence.get_by_label("Udvidet sundhedstjek").select_option(label="Hvert 3. år")
        cadence.get_by_role("button", name="Gem kadencen").click()
        cadence = page.locator("form", has=page.get_by_role("button", name="Gem kadencen"))
        expect(cadence.get_by_role("alert")).to_have_text(
            "Det udvidede tjek skal falde i et år med sundhedstjek (et multiplum af 2 år).")
        expect(cadence.get_by_label("Udvidet sundhedstjek")).to_have_value("3")  # kept
        cadence.get_by_label("Hvert år", exact=True).check()
        cadence.get_by_label("Udvidet sundhedstjek").select_option(label="Hvert 5. år")
        cadence.get_by_role("button", name="Gem kadencen").click()
        expect(page.get_by_text("Botilbuddets kadence for sundhedstjek er gemt.")).to_be_visible()
        expect(page.locator("p.cadence")).to_have_text("Botilbuddet holder sundhedstjek hvert år, udvidet hvert 5. år.")

        # One check: minutes with a decision (without a minute-taker, health says what is missing).
        planned = checks.first.get_by_role("link").inner_text()
        checks.first.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(planned)
        # The pre-assessment in the citizen's own words; begun, not done (five themes neither answered nor skipped).
        page.get_by_label("Søvn: borgerens ord").fill("Jeg sover dårligt, når jeg har haft besøg.")
        page.get_by_label("Søvn: symptomscore 0–4 (valgfri)").select_option("2")
        page.get_by_label("Tænder: ikke talt om, fordi").fill("Borgeren ville ikke i dag.")
        page.get_by_role("button", name="Gem forundersøgelsen").click()
        expect(page.get_by_text("Forundersøgelsen er gemt.")).to_be_visible()
        themes = page.locator("ul.themes")
        expect(themes).to_contain_text("Søvn: »Jeg sover dårligt, når jeg har haft besøg.« · symptomscore 2")
        expect(themes).to_contain_text("Tænder: sprunget over (Borgeren ville ikke i dag.)")
        expect(page.locator("section", has=page.get_by_role("heading", name="Forundersøgelse"))).to_contain_text("Ikke færdig")
        # The examination on the mobile lab, without spirometry: recorded, the step done, what is missing named.
        exam = page.locator("form", has=page.get_by_role("button", name="Gem undersøgelsen"))
        exam.get_by_label("Hvor", exact=True).select_option(label="Mobilt laboratorium på botilbuddet")
        exam.get_by_label("Lungefunktion (spirometri)").uncheck()
        check_page(page, "portal-sygeplejerske-tjek-forberedelse", tmp_path)
        exam.get_by_role("button", name="Gem undersøgelsen").click()
        expect(page.get_by_text("Undersøgelsen og blodprøverne er registreret.")).to_be_visible()
        examined = page.locator("section", has=page.get_by_role("heading", name="Undersøgelse og blodprøver"))
        expect(examined.locator("p.examination")).to_contain_text("Mobilt laboratorium på botilbuddet")
        expect(examined).to_contain_text("Mangler lungefunktion (spirometri)")
        expect(page.locator("li.step", has_text="Undersøgelse og blodprøver")).to_contain_text("Gjort")
        page.get_by_label("Praktiserende læge").fill("Læge Jens Holm")
        page.get_by_label("Referat", exact=True).fill("Gennemgang af medicin og søvn.")
        page.get_by_label("Beslutning 1: type").select_option(label="Book en undersøgelse")
        page.get_by_label("Beslutning 1: hvad").fill("Book EKG hos egen læge")
        page.get_by_label("Beslutning 1: frist (valgfri)").fill((day + timedelta(days=14)).isoformat())
        page.get_by_role("button", name="Gem referat og beslutninger").click()
        expect(page.get_by_role("alert")).to_have_text("Sundhedstjekket kan ikke holdes uden: en referent.")
        page.get_by_label("Referent").fill(nurse["name"])
        page.get_by_role("button", name="Gem referat og beslutninger").click()
        expect(page.get_by_text("Referatet og beslutningerne er gemt.")).to_be_visible()
        decision = page.locator("li.decision")
        expect(decision).to_contain_text("Book EKG hos egen læge")
        expect(decision).to_contain_text(f"frist {(day + timedelta(days=14)).strftime('%d.%m.%Y')}")
        expect(page.locator("p.minutes")).to_have_text("Gennemgang af medicin og søvn.")
        check_page(page, "portal-sygeplejerske-tjek", tmp_path)

        # Another citizen says no thanks (voluntary), then changes their mind.
        page.get_by_role("link", name="Årshjulet").click()
        checks.nth(1).get_by_role("link").click()
        page.get_by_label("Borgeren siger nej tak").fill("Vil hellere til egen læge")
        page.get_by_role("button", name="Registrér nej tak").click()
        expect(page.get_by_text("Registreret: borgeren siger nej tak")).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Borgeren har sagt nej tak")).to_contain_text("Vil hellere til egen læge")
        page.get_by_role("button", name="Borgeren vil gerne alligevel").click()
        expect(page.get_by_text("Registreret: borgeren vil gerne have sundhedstjekket alligevel.")).to_be_visible()
        expect(page.locator("main p.meta").first).to_contain_text("Planlagt")


def test_visitation_matches_a_parked_hospital_notice_to_its_citizen_with_health_running(stack, tmp_path):
    """A partner's notice whose CPR the municipality does not know is parked (the partner still gets
    ``ok``); visitation finds it under Hospitalsbeskeder by what it says, finds the citizen by name, is
    refused in Danish while the CPR differs and gives no reason, then attaches it with a reason (audited);
    the notice leaves the queue and becomes the tovholder's task."""
    from playwright.sync_api import expect

    portal_url, health_url, health_settings = stack
    citizen = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")
    mistyped = citizen["cpr"][:-1] + ("1" if citizen["cpr"][-1] != "1" else "2")  # the hospital's typo
    now = datetime.now(timezone.utc)
    partner_post(health_url, health_settings, "hospital-notifications", {
        "message_id": str(uuid.uuid4()), "sent_at": (now - timedelta(minutes=4)).isoformat(),
        "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": "STIN",
        "cpr": mistyped, "hospital_episode_id": "EPJ-PARKED-1", "department": "Afsnit P7",
        "occurred_at": (now - timedelta(minutes=5)).isoformat(), "replaces_message_id": None})

    with portal_page() as page:
        demo_sign_in(page, portal_url, staff_member("visitation-1"), "Visitation", then="/visitation/hospitalsbeskeder")
        parked = page.locator("li.card", has_text="Afsnit P7")
        expect(parked).to_contain_text("Indlagt · Afsnit P7")
        expect(parked).to_contain_text("Fra Psykiatrisk Center København")
        expect(parked).to_contain_text(f"CPR i beskeden: {mistyped[:6]}-xxxx")
        assert mistyped not in page.inner_text("body")  # never the whole CPR on the list
        page.get_by_label("Find borger (navn)").fill(citizen["name"])
        page.get_by_role("button", name="Søg").click()
        parked = page.locator("li.card", has_text="Afsnit P7")
        parked.get_by_label("Borger", exact=True).select_option(label=citizen["name"])
        parked.get_by_role("button", name="Knyt til borgeren").click()
        parked = page.locator("li.card", has_text="Afsnit P7")
        expect(parked.locator(".err")).to_contain_text("CPR-nummeret på advisen er ikke borgerens")
        check_page(page, "portal-visitation-hospitalsbeskeder", tmp_path)
        parked.get_by_label("Borger", exact=True).select_option(label=citizen["name"])
        parked.get_by_label("Hvorfor beskeden er borgerens, selvom CPR-nummeret ikke passer").fill(
            "Afdelingen bekræftede i telefonen, at sidste ciffer var tastet forkert.")
        parked.get_by_role("button", name="Knyt til borgeren").click()
        expect(page.get_by_text("Hospitalsbeskeden er knyttet til borgeren.")).to_be_visible()
        expect(page.locator("li.card", has_text="Afsnit P7")).to_have_count(0)
        expect(page.get_by_text("Ingen hospitalsbeskeder venter på at blive knyttet til en borger.")).to_be_visible()

    from tovholder.auth import issue_dev_token
    nurse = {"Authorization": "Bearer " + issue_dev_token(health_settings, role="nurse-consultant",
                                                          sub=citizen["tovholder_sub"], botilbud="orion")}
    timeline = httpx.get(f"{health_url}/api/v1/citizens/{citizen['citizen_id']}/health-timeline", headers=nurse, timeout=30)
    assert timeline.status_code == 200, timeline.text
    assert "Afsnit P7" in timeline.text
