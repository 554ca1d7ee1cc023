"""Issue 10, items 8–11, against the four real services (real PostgreSQL, real broker):
bad input is a clear 4xx, never a 500 (a NUL in text, integer overflow, year 0001); JSON APIs take
bearer tokens only; tokens without sub/exp/iat are 401; bodies are capped and read only after
authentication. Every error body carries a stable ``code`` and a ``detail``."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import func, select

from services.notifications import repository as notifications_repo
from services.notifications.main import NotificationsConfig
from services.notifications.domain import tasks as d
from services.referrals.models import Referral
from tests.integration.health.helpers import known_citizen
from tests.integration.plans.conftest import form_network, open_plan, outbox_drained, staff
from tests.support import CPR_ENCRYPTION_KEY, CPR_HASH_KEY, run_service
from tovholder.auth import DEV_ISSUER, dev_signing_key
from tovholder.cpr import CprVault
from tovholder.settings import Settings

pytestmark = pytest.mark.integration
INT32_OVERFLOW = 2**31


@pytest.fixture(scope="module")
async def referrals(pg, kafka, tmp_path_factory):
    async with run_service("referrals", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("referrals")) as svc:
        yield svc


@pytest.fixture(scope="module")
async def plans(pg, kafka, tmp_path_factory):
    async with run_service("plans", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("plans")) as svc:
        yield svc
        await outbox_drained(svc)


@pytest.fixture(scope="module")
async def health(pg, kafka, tmp_path_factory):
    async with run_service("health", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("health")) as svc:
        yield svc


@pytest.fixture(scope="module")
async def notifications(pg, kafka, tmp_path_factory):
    from services.notifications.main import build_spec

    async with run_service(build_spec(NotificationsConfig(sweep_interval_s=60)), pg=pg, kafka=kafka,
                           state_dir=tmp_path_factory.mktemp("notifications")) as svc:
        yield svc


@pytest.fixture(scope="module")
def vault(tmp_path_factory) -> CprVault:
    return CprVault(Settings(service="health", environment="test", state_dir=tmp_path_factory.mktemp("vault"),
                             cpr_hash_key=CPR_HASH_KEY, cpr_encryption_key=CPR_ENCRYPTION_KEY))


def assert_nul_refused(response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "control-character" and "NUL" in body["detail"]


async def claimed_task(notifications, sub: str) -> uuid.UUID:
    now = datetime.now(timezone.utc)
    task = d.new_task(
        d.TaskSpec(kind=d.TaskKind.FIRST_NETWORK_MEETING, title="Første netværksmøde", due_at=now + timedelta(days=3),
                   pool=d.Pool(d.Role.COORDINATOR, "orion")),
        task_id=uuid.uuid4(), citizen_id=uuid.uuid4(), botilbud_id="orion", source_event_id=str(uuid.uuid4()),
        source_event_type="test", now=now)
    async with notifications.ctx.uow() as uow:
        notifications_repo.save(uow, task, NotificationsConfig().escalation)
        await uow.commit()
    headers = notifications.auth("coordinator", sub, botilbud="orion")
    assert (await notifications.client.post(f"/api/v1/tasks/{task.task_id}/claim", headers=headers)).status_code == 200
    return task.task_id


# ------------------------------------------------------------------ item 10: bad input


async def test_a_nul_in_a_text_field_is_a_422_in_every_service(referrals, plans, health, notifications, kafka, vault):
    # Before: PostgreSQL refused the NUL ("invalid byte sequence" / "unsupported Unicode escape") → 500.
    visitation = referrals.auth("visitation", "visitation-nul")
    async with referrals.ctx.sessions() as session:
        cases_before = await session.scalar(select(func.count()).select_from(Referral))
    assert_nul_refused(await referrals.client.post("/api/v1/referrals", headers=visitation, json={
        "cpr": "0101901234", "citizen_name": "Anne\u0000Jensen", "reason": "Har brug for et trygt sted at bo."}))
    async with referrals.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == cases_before

    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    assert_nul_refused(await plans.client.post(f"/api/v1/citizens/{citizen_id}/plan/goals", headers=staff(plans, "k1"),
                                               json={"text": "Gå\u0000tur", "written_with_citizen": True}))

    health_citizen, _ = await known_citizen(health, kafka, vault, tovholder="nurse-nul")
    assert_nul_refused(await health.client.put(f"/api/v1/citizens/{health_citizen}/gp-practice",
                                               headers=health.auth("nurse-consultant", "nurse-nul", botilbud="orion"),
                                               json={"gp_practice": "Lægehuset\u0000Nørrebro"}))

    task_id = await claimed_task(notifications, "koord-nul")
    assert_nul_refused(await notifications.client.post(
        f"/api/v1/tasks/{task_id}/business-status", json={"business_status": "venter\u0000"},
        headers=notifications.auth("coordinator", "koord-nul", botilbud="orion")))
    assert_nul_refused(await notifications.client.get(
        "/api/v1/work-queue?kind=%00", headers=notifications.auth("coordinator", "koord-nul", botilbud="orion")))


async def test_integer_overflow_and_year_0001_are_4xx_with_a_reason(plans, health, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    k1 = staff(plans, "k1")
    base = f"/api/v1/citizens/{citizen_id}"
    for path, field in ((f"{base}/plan/versions/{INT32_OVERFLOW}", "path.number"),
                        (f"{base}/plan/versions/0", "path.number"),
                        (f"{base}/plan/diff?from={INT32_OVERFLOW}", "query.from"),
                        (f"{base}/plan/diff?from=1&to={INT32_OVERFLOW}", "query.to")):
        response = await plans.client.get(path, headers=k1)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid-request" and response.json()["errors"][0].startswith(f"{field}:")
        assert response.json()["errors"][0] in (f"{field}: må højst være 2147483647", f"{field}: skal være mindst 1")
    assert (await plans.client.get(f"{base}/plan/versions/1", headers=k1)).status_code == 200

    episode = await plans.client.post(f"{base}/safety/learning-plans", headers=k1, json={
        "episode_started_at": "0001-01-01T00:00:00+01:00", "episode_ended_at": "0001-01-01T01:00:00+01:00"})
    assert episode.status_code == 422 and "1900" in episode.json()["detail"], episode.text

    nurse = health.auth("nurse-consultant", "nurse-year", botilbud="orion")
    year = await health.client.get(f"/api/v1/botilbud/orion/health-checks?year={INT32_OVERFLOW}", headers=nurse)
    assert year.status_code == 422 and "year" in year.json()["detail"], year.text
    assert (await health.client.get("/api/v1/botilbud/orion/health-checks?year=2026", headers=nurse)).status_code == 200


# ------------------------------------------------------------------ item 8: bearer tokens only on JSON APIs


async def test_json_apis_ignore_cookies_even_a_valid_login(notifications, referrals):
    token = notifications.token("coordinator", "koord-cookie", botilbud="orion")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await notifications.client.get("/api/v1/work-queue", headers=bearer)).status_code == 200

    # Before: the login page's cookie ("tovholder_token") was a bearer token every service's API accepted,
    # with no CSRF check — a form on any site could claim or complete tasks in the person's name.
    for name in ("tovholder_token", "tovholder_session_notifications", "tovholder_session_referrals"):
        for svc, path in ((notifications, "/api/v1/work-queue"), (referrals, "/api/v1/referrals")):
            svc.client.cookies.clear()
            svc.client.cookies.set(name, token)
            response = await svc.client.get(path)
            assert response.status_code == 401, (name, path)
            assert response.json()["code"] == "token-missing"
            svc.client.cookies.clear()

    # A real page session: it opens the pages, never the JSON API.
    login_page = await notifications.client.get("/login")
    csrf = login_page.text.split('name="csrf" value="')[1].split('"')[0]
    assert (await notifications.client.post("/login", data={"token": token, "csrf": csrf})).status_code == 303
    assert "tovholder_session_notifications" in notifications.client.cookies
    assert (await notifications.client.get("/")).status_code == 200
    task = await notifications.client.post(f"/api/v1/tasks/{uuid.uuid4()}/claim")
    assert task.status_code == 401 and task.json()["code"] == "token-missing"
    session_cookie = notifications.client.cookies["tovholder_session_notifications"]
    notifications.client.cookies.clear()
    # ... and another service does not honour it, under any name.
    for name in ("tovholder_session_notifications", "tovholder_session_referrals", "tovholder_token"):
        referrals.client.cookies.set(name, session_cookie)
        assert (await referrals.client.get("/api/v1/referrals")).status_code == 401
        referrals.client.cookies.clear()


# ------------------------------------------------------------------ item 9: incomplete tokens


def token_without(svc, claim: str) -> str:
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": "tovholder", "sub": "koord-x", "role": "coordinator", "botilbud": "orion",
              "iat": now, "exp": now + 600}
    del claims[claim]
    return jwt.encode(claims, dev_signing_key(svc.settings), algorithm="HS256")


@pytest.mark.parametrize("claim", ["sub", "exp", "iat"])
async def test_a_token_without_sub_exp_or_iat_is_401_with_a_code(notifications, referrals, claim):
    # Before: no `sub` → KeyError → 500; no `exp` → accepted, for ever.
    headers = {"Authorization": f"Bearer {token_without(notifications, claim)}"}
    queue = await notifications.client.get("/api/v1/work-queue", headers=headers)
    assert queue.status_code == 401 and queue.headers["www-authenticate"] == "Bearer"
    assert queue.json()["code"] == "token-incomplete" and "mangler" in queue.json()["detail"]
    headers = {"Authorization": f"Bearer {token_without(referrals, claim)}"}
    partner = await referrals.client.post("/integration/v1/referrals", headers=headers, json={"message_id": "x"})
    assert partner.status_code == 401 and partner.json()["code"] == "token-incomplete"
    assert "lacks the claim" in partner.json()["detail"]  # partners read English


# ------------------------------------------------------------------ item 11: body cap, authentication first


async def test_bodies_over_the_cap_are_413_and_anonymous_bodies_are_401_unread(health, referrals):
    big = {"gp_practice": "x" * (1024 * 1024 + 1)}
    nurse = health.auth("nurse-consultant", "nurse-big", botilbud="orion")
    too_large = await health.client.put(f"/api/v1/citizens/{uuid.uuid4()}/gp-practice", headers=nurse, json=big)
    assert too_large.status_code == 413
    assert too_large.json() == {"code": "body-too-large", "detail": "Forespørgslen er større end 1 MB; intet er læst eller gemt."}

    pulled = 0

    async def flood():
        nonlocal pulled
        for _ in range(50 * 16):  # 50 MB in 64 kB chunks, streamed (no Content-Length)
            pulled += 1
            yield b" " * 65536

    anonymous = await health.client.put(f"/api/v1/citizens/{uuid.uuid4()}/gp-practice", content=flood(),
                                        headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "token-missing" and pulled == 0
    streamed = await health.client.put(f"/api/v1/citizens/{uuid.uuid4()}/gp-practice", content=flood(), headers=nurse)
    assert streamed.status_code == 413 and pulled <= 17

    partner = referrals.auth("partner", "p", org="SOR:1234567")
    receipt_path = await referrals.client.post("/integration/v1/referrals", headers=partner,
                                               json={"reason": "x" * (1024 * 1024 + 1)})
    assert receipt_path.status_code == 413 and receipt_path.json()["detail"].startswith("The request body is larger")
