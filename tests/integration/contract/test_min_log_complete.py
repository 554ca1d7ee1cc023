"""Min log is complete (issue 13): every kind of audited operation about a citizen, in every service,
shows in that citizen's Min log — read as the portal reads it, through each service's
``GET /api/v1/citizens/{id}/access-log`` with the citizen's own token — with a Danish category; and a
log shows only its own citizen's entries.

What "every kind" is comes from the code, not from a hand list: ``tests/audit_scan.py`` reads every audit
call in services/ and the kit and keeps those whose entry names a citizen; their actions' categories
(``tovholder.access_log.CATEGORIES`` keys) are what must show. The operations are driven through the four
real services of a contract world of the test's own (real PostgreSQL, real broker): every API route of the
authorisation table once by an actor it lets through and once by one it refuses, the system's own
work (follow-ups announced, a partner delivery, a parked partner message matched when its citizen
becomes known), and the log reads themselves. A service that starts auditing a new kind of operation
about a citizen fails here until it is driven here and shows in the log.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from services.health.models import UnmatchedHospitalNotice
from services.plans import services as plans_services
from tests.audit_scan import audit_calls
from tests.integration.contract.authorization_table import OK, ROWS
from tests.integration.contract.authorization_world import ANONYMOUS, CPR, World, message, now
from tests.integration.contract.conftest import running_world
from tests.integration.contract.test_authorization_matrix import call
from tests.integration.notifications.receiver import Receiver
from tests.support import eventually
from tovholder.access_log import category_of
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration
SERVICES = ("referrals", "plans", "health", "notifications")
STRAY_CPR = "0101904488"  # a hospital notice visitation matches by hand
NEW_CPR = "0101904477"  # (not one the authorisation table uses) a citizen a partner's message names before anyone knows them

# The order in which an allowed actor is chosen for a route: staff first (most routes are theirs).
PREFERRED = ("coord", "nurse", "visit", "partner", "citizen", "admin")


def expected_keys() -> dict[str, list[str]]:
    """Category key -> where the code audits an operation of that kind about a citizen."""
    keys: dict[str, list[str]] = {}
    for found in audit_calls():
        if found.about_a_citizen:
            keys.setdefault(found.key, []).append(f"{found.action} ({found.where})")
    return keys


async def entries_about(world: World, citizen_id: uuid.UUID) -> dict[str, set[int]]:
    found = {}
    for name in SERVICES:
        async with world.services[name].ctx.sessions() as s:
            found[name] = set(await s.scalars(select(AuditEntry.id).where(AuditEntry.citizen_id == citizen_id)))
    return found


async def read_log(world: World, citizen_id: uuid.UUID) -> dict[str, list[dict]]:
    """The citizen's whole log in each service, page by page, as the portal reads it (the citizen's token)."""
    logs: dict[str, list[dict]] = {}
    for name in SERVICES:
        svc = world.services[name]
        headers = svc.auth("citizen", str(citizen_id))
        entries: list[dict] = []
        cursor = None
        for _ in range(200):
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = await svc.client.get(f"/api/v1/citizens/{citizen_id}/access-log", headers=headers, params=params)
            assert page.status_code == 200, (name, page.text)
            entries += page.json()["entries"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        logs[name] = entries
    return logs


async def drive_every_route(world: World) -> None:
    """Every API route once by an actor it lets through and once by a known actor it refuses."""
    for row in ROWS:
        if row.kind != "api":
            continue
        allowed = [a for a in PREFERRED if row.expected.get(a) == OK]
        refused = [a for a in row.actors if a != ANONYMOUS and row.expected[a] in ("403", "404")]
        if refused:
            await call(world, row, refused[0])
        if allowed:
            _, response = await call(world, row, allowed[0])
            assert response.status_code < 500, f"{row} as {allowed[0]}: {response.status_code} {response.text[:300]}"


async def drive_the_systems_own_work(world: World, receiver: Receiver) -> uuid.UUID:
    """What no route does: follow-ups come due (plans' job), the announcement is delivered to — or
    withheld from — a partner (notifications), and a partner's message about a citizen nobody knew yet
    is matched once the citizen is registered (health). Returns that new citizen's id."""
    referrals, plans, health, notifications = (world.services[n] for n in SERVICES)
    partner = world.headers("notifications", "partner")
    subscribed = await notifications.client.post("/integration/v1/subscriptions", headers=partner, json={
        "message_id": str(uuid.uuid4()), "callback_url": receiver.url,
        "event_types": ["tovholder.plans.follow-up-due.v1", "tovholder.health.hospital-notice-registered.v1"],
        "secret": "m" * 32})
    assert subscribed.status_code in (200, 201, 202), subscribed.text
    base = f"/api/v1/citizens/{world.citizen_id}"
    cadence = await plans.client.put(f"{base}/plan/cadence", headers=world.headers("plans", "coord"), json={
        "cadence": {"preset": "14-days"}, "follow_up_from": str(date.today() - timedelta(days=30))})
    assert cadence.status_code == 200, cadence.text
    async with plans.ctx.uow() as uow:  # plans' scheduler, on a day when the plan's follow-up is due
        await plans_services.announce_due_follow_ups(uow, today=date.today() + timedelta(days=800))
    # Bodies the table's smallest valid body does not make: a behandlingsdom, and a notice visitation
    # matches to the citizen (refused: the CPR differs; then with the reason that overrides it).
    order = await health.client.put(f"{base}/treatment-order", headers=world.headers("health", "nurse"), json={
        "court": "Retten i Glostrup", "judgment_date": str(date.today() - timedelta(days=200)),
        "conditions": ["Tager sin medicin"]})
    assert order.status_code == 200, order.text
    stray = await health.client.post("/integration/v1/hospital-notifications", headers=world.headers("health", "partner"),
                                     json=message(code="STAA", cpr=STRAY_CPR, hospital_episode_id="EPJ-9", department="P2",
                                                  occurred_at=now().isoformat(), replaces_message_id=None))
    assert stray.status_code == 202, stray.text

    async def open_stray():
        async with health.ctx.sessions() as s:
            return await s.scalar(select(UnmatchedHospitalNotice.id).where(
                UnmatchedHospitalNotice.status == "open", UnmatchedHospitalNotice.hospital_episode_id == "EPJ-9"))

    stray_id = await eventually(open_stray, message="the stray notice parked")
    visit = world.headers("health", "visit")
    refused = await health.client.post(f"/api/v1/unmatched-hospital-notices/{stray_id}/match", headers=visit,
                                       json={"citizen_id": str(world.citizen_id)})
    assert refused.status_code == 409, refused.text
    matched = await health.client.post(f"/api/v1/unmatched-hospital-notices/{stray_id}/match", headers=visit,
                                       json={"citizen_id": str(world.citizen_id), "override_reason": "Samme person: ny CPR efter navneskift"})
    assert matched.status_code == 200, matched.text
    # A discharge from the stay the world began: health registers it, notifications offers it to the partner.
    discharged = await health.client.post("/integration/v1/hospital-notifications", headers=world.headers("health", "partner"),
                                          json=message(code="SLHJ", cpr=CPR, hospital_episode_id="EPJ-1", department="P2",
                                                       occurred_at=now().isoformat(), replaces_message_id=None))
    assert discharged.status_code == 202, discharged.text

    parked = await health.client.post("/integration/v1/psychiatrist-notes", headers=world.headers("health", "partner"),
                                      json=message(cpr=NEW_CPR, written_at=(now() - timedelta(hours=1)).isoformat(),
                                                   psychiatrist="Overlæge Berg", notes="Ny borger."))
    assert parked.status_code == 202, parked.text
    referred = await referrals.client.post("/integration/v1/referrals", headers=world.headers("referrals", "partner"),
                                           json=message(cpr=NEW_CPR, citizen_name="Ny Borger", reason="Har brug for et botilbud",
                                                        requested_step=7, requested_offer="SEL §108"))
    assert referred.status_code == 202, referred.text
    case = await referrals.client.get(f"/api/v1/referrals/{referred.json()['referral_id']}",
                                      headers=world.headers("referrals", "visit"))
    new_citizen = uuid.UUID(case.json()["citizen_id"])

    async def audited(svc, citizen_id, prefix):
        async with svc.ctx.sessions() as s:
            return await s.scalar(select(AuditEntry.id).where(AuditEntry.citizen_id == citizen_id,
                                                              AuditEntry.action.startswith(prefix)).limit(1))

    await eventually(lambda: audited(notifications, world.citizen_id, "delivery."), timeout=60,
                     message="the follow-up announcement delivered to or withheld from the partner")
    try:
        await eventually(lambda: audited(health, new_citizen, "unmatched_partner_message."), timeout=90,
                         message="the parked psychiatrist note matched to the new citizen")
    except AssertionError:
        from sqlalchemy import text
        async with health.ctx.sessions() as s:
            parked_rows = (await s.execute(text("select status, kind, matched_citizen_id from unmatched_partner_message"))).all()
            known = (await s.execute(text("select citizen_id from known_citizen"))).all()
        raise AssertionError(f"parked {parked_rows}; known {known}; new {new_citizen}")
    return new_citizen


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(pg, kafka, tmp_path_factory):
    """A world of its own (its own broker, ``kafka`` is per module): this test drives every route and the
    system's jobs, which would change the package's world under the matrix and schemathesis."""
    async with running_world(pg, kafka, tmp_path_factory.mktemp("min-log-state")) as built:
        yield built


@pytest.mark.timeout(600)
async def test_every_kind_of_audited_operation_about_a_citizen_shows_in_their_min_log(world: World):
    with Receiver() as receiver:
        await drive_every_route(world)
        new_citizen = await drive_the_systems_own_work(world, receiver)
    citizens = (world.citizen_id, new_citizen)
    await read_log(world, world.citizen_id)  # a read of the log is itself in the log (the next read shows it)

    seen_keys: set[str] = set()
    uncategorised: set[str] = set()
    for citizen_id in citizens:
        on_record = await entries_about(world, citizen_id)
        logs = await read_log(world, citizen_id)
        after = await entries_about(world, citizen_id)  # with the reads of the log just made
        for name in SERVICES:
            shown = {e["entry_id"] for e in logs[name]}
            # Every entry the service holds about the citizen is in the citizen's log; nothing else is.
            assert on_record[name] <= shown, f"{name}: entries about the citizen missing from their log"
            assert shown <= after[name], f"{name}: the log of {citizen_id} shows entries about someone else"
            uncategorised |= {f"{name}: {e['action']}" for e in logs[name]
                              if e["category"] == "Andet" or category_of(e["action"]) != e["category"]}
            seen_keys |= {e["action"].split(".", 1)[0] for e in logs[name]}

    assert uncategorised == set(), "entries without a Danish category (tovholder.access_log.CATEGORIES):\n" + \
        "\n".join(sorted(uncategorised))
    missing = {key: where for key, where in expected_keys().items() if key not in seen_keys}
    assert missing == {}, "audited about a citizen but never shown in a Min log here (drive it in this test):\n" + \
        "\n".join(f"{key}: {', '.join(where)}" for key, where in sorted(missing.items()))

