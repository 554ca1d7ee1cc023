"""The world the authorisation matrix runs in: the four services on one broker and one PostgreSQL,
and one citizen brought there the way production does — a partner's referral, visitation's grant and
move-in (referrals), the plan and network (plans), the health record, tovholder and a hospital notice
(health), the tasks those events make and a partner's subscription (notifications).

The actors (``ACTORS``) are the role × scope columns of the table in ``authorization_table``:
"own" is the citizen's botilbud (orion), municipality (København), referring organisation or the
citizen themselves; "other" is another botilbud (hygge), municipality (Aarhus), organisation or citizen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.health.models import HealthRecord, UnmatchedHospitalNotice
from services.notifications.main import NotificationsConfig, build_spec as notifications_spec
from services.notifications.models import ConsentRecord as ConsentRow, Task as TaskRow
from services.plans.models import Plan
from services.referrals.models import ConsentRecord as ReferralsConsentRow
from tests.integration.plans.conftest import known_staff
from tests.support import RunningService, eventually

CET = ZoneInfo("Europe/Copenhagen")
MUNICIPALITY, OTHER_MUNICIPALITY = "København", "Aarhus"
BOTILBUD, OTHER_BOTILBUD = "orion", "hygge"
ORG, OTHER_ORG = "SOR:1234567", "SOR:7654321"
CPR, UNKNOWN_CPR = "0101904411", "0101904422"

# name -> token claims (the citizen's sub is filled in once the citizen exists)
ACTORS: dict[str, dict[str, Any]] = {
    "citizen": {"role": "citizen"},
    "citizen:other": {"role": "citizen", "sub": "00000000-0000-4000-8000-000000000001"},
    "coord": {"role": "coordinator", "sub": f"{BOTILBUD}-k1", "botilbud": BOTILBUD},
    "coord:other": {"role": "coordinator", "sub": f"{OTHER_BOTILBUD}-k1", "botilbud": OTHER_BOTILBUD},
    "nurse": {"role": "nurse-consultant", "sub": f"{BOTILBUD}-n1", "botilbud": BOTILBUD},
    "nurse:other": {"role": "nurse-consultant", "sub": f"{OTHER_BOTILBUD}-n1", "botilbud": OTHER_BOTILBUD},
    "visit": {"role": "visitation", "sub": "visitation-kbh", "municipality": MUNICIPALITY},
    "visit:other": {"role": "visitation", "sub": "visitation-aar", "municipality": OTHER_MUNICIPALITY},
    "admin": {"role": "admin", "sub": "admin-1"},
    "partner": {"role": "partner", "sub": "partner-pck", "org": ORG},
    "partner:other": {"role": "partner", "sub": "partner-other", "org": OTHER_ORG},
}
ANONYMOUS = "anon"
ALL_ACTORS = (ANONYMOUS, *ACTORS)
# The municipality's provisioning client (a system token with the scope scim:users): an actor of the SCIM
# rows only (``/scim/v2``, kind "scim"); every actor above is refused there.
SCIM_CLIENT = "scim"
SCIM_CLAIMS = {"role": "partner", "sub": "scim-kbh", "org": "kommune:101", "scope": "scim:users"}
SCIM_USER = "urn:dk:tovholder:params:scim:schemas:extension:tovholder:2.0:User"


def register_user(user_name: str, **extra: Any) -> dict[str, Any]:
    """A SCIM User of the municipality's staff register (staff of the citizen's botilbud)."""
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", SCIM_USER], "userName": user_name,
            "displayName": "Registreret Medarbejder", SCIM_USER: {"role": "coordinator", "botilbudId": BOTILBUD}, **extra}


@dataclass
class World:
    services: dict[str, RunningService]
    citizen_id: uuid.UUID
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> value

    def claims(self, actor: str) -> dict[str, Any]:
        claims = dict(SCIM_CLAIMS if actor == SCIM_CLIENT else ACTORS[actor])
        claims.setdefault("sub", str(self.citizen_id))
        return claims

    def headers(self, service: str, actor: str) -> dict[str, str]:
        if actor == ANONYMOUS:
            return {}
        claims = self.claims(actor)
        return self.services[service].auth(claims.pop("role"), claims.pop("sub"), **claims)


def now() -> datetime:
    return datetime.now(CET)


def sender() -> dict[str, str]:
    return {"org": ORG, "name": "Psykiatrisk Center København"}


def message(**body: Any) -> dict[str, Any]:
    return {"message_id": str(uuid.uuid4()), "sent_at": now().isoformat(), "sender": sender(), **body}


async def _ok(response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201, 202)), f"{response.request.url}: {response.text}"
    return response.json()


async def build_world(services: dict[str, RunningService]) -> World:
    referrals, plans, health, notifications = (services[n] for n in ("referrals", "plans", "health", "notifications"))
    world = World(services, uuid.uuid4())

    def h(service: RunningService, actor: str) -> dict[str, str]:
        return world.headers(service.name, actor)

    # referrals: two offers, a partner's referral of the citizen, visitation grants a place at orion, move-in
    for offer in (BOTILBUD, OTHER_BOTILBUD):
        await _ok(await referrals.client.put(f"/api/v1/offers/{offer}", headers=h(referrals, "admin"), json={
            "offer_id": offer, "name": offer.title(), "botilbud_id": offer, "legal_basis": "SEL §108", "step": 7,
            "approved_places": 10, "occupied_places": 0,
            "target_group": {"description": "Voksne med psykiske lidelser", "min_age": 18, "max_age": 67}}))
    receipt = await _ok(await referrals.client.post("/integration/v1/referrals", headers=h(referrals, "partner"), json=message(
        cpr=CPR, citizen_name="Matrix Borger", reason="Udskrives snart og ønsker et botilbud",
        requested_step=7, requested_offer="SEL §108")))
    rid = receipt["referral_id"]
    case = await _ok(await referrals.client.get(f"/api/v1/referrals/{rid}", headers=h(referrals, "visit")))
    world.citizen_id = uuid.UUID(case["citizen_id"])
    visit = h(referrals, "visit")
    await _ok(await referrals.client.post(f"/api/v1/referrals/{rid}/screening", headers=visit, json={}))
    await _ok(await referrals.client.put(f"/api/v1/referrals/{rid}/assessment", headers=visit, json={
        "scores": {"egenomsorg": 3}, "wishes": "Et roligt sted.", "traits": []}))
    await _ok(await referrals.client.post(f"/api/v1/referrals/{rid}/decision", headers=visit, json={
        "decision": "granted", "legal_basis": "SEL §108", "offer_id": BOTILBUD, "reason": "Behov for døgnstøtte."}))
    await _ok(await referrals.client.post(f"/api/v1/referrals/{rid}/move-in", headers=visit, json={
        "moved_in_on": str(date.today()), "follow_up_date": str(date.today() + timedelta(days=90))}))
    world.params.update(referral_id=rid, offer_id=BOTILBUD, citizen_id=str(world.citizen_id), botilbud_id=BOTILBUD)
    citizen_id = world.citizen_id

    async def exists(svc: RunningService, model, *where):
        async with svc.ctx.sessions() as s:
            return await s.scalar(select(model).where(*where).limit(1))

    # plans: the plan opens from referrals' event; the botilbud's staff form the network
    await eventually(lambda: exists(plans, Plan, Plan.citizen_id == citizen_id), message="plan opened")
    # Plans knows a staff member once they have signed in (services/plans/domain/staff.py).
    await known_staff(plans, citizen_id, "k1", "spare")
    await known_staff(plans, citizen_id, "n1", role="nurse-consultant")
    for actor, role in (("coord", "coordinator"), ("nurse", "nurse-consultant")):
        await _ok(await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=h(plans, "coord"),
                                          json={"staff_id": ACTORS[actor]["sub"], "role": role, "basis": "initial-assignment"}))
    await _ok(await plans.client.post(f"/api/v1/citizens/{citizen_id}/network/members", headers=h(plans, "coord"),
                                      json={"staff_id": f"{BOTILBUD}-spare", "role": "makker"}))
    base = f"/api/v1/citizens/{citizen_id}"
    goal = await _ok(await plans.client.post(f"{base}/plan/goals", headers=h(plans, "citizen"),
                                             json={"text": "Jeg vil lave mad selv", "written_with_citizen": True}))
    world.params["goal_id"] = goal["goal_id"]
    world.params["plan_id"] = str((await exists(plans, Plan, Plan.citizen_id == citizen_id)).id)  # FHIR CarePlan/{plan_id}
    action = await _ok(await plans.client.post(f"{base}/plan/goals/{goal['goal_id']}/actions", headers=h(plans, "coord"),
                                               json={"text": "Købe ind sammen", "responsible": {"kind": "citizen"},
                                                     "due_on": str(date.today() + timedelta(days=7)), "written_with_citizen": True}))
    world.params["action_id"] = action["action_id"]
    world.params["number"] = "1"
    rating = await _ok(await plans.client.post(f"{base}/safety/ratings", headers=h(plans, "coord"), json={"level": "green", "reason": "Rolig dag"}))
    world.params["rating_id"] = rating["rating_id"]
    lp = await _ok(await plans.client.post(f"{base}/safety/learning-plans", headers=h(plans, "coord"),
                                           json={"episode_started_at": (now() - timedelta(hours=2)).isoformat(),
                                                 "episode_ended_at": (now() - timedelta(hours=1)).isoformat()}))
    world.params["learning_plan_id"] = lp["learning_plan_id"]
    consent = await _ok(await plans.client.post(f"{base}/consents", headers=h(plans, "citizen"), json={
        "recipient_kind": "organisation", "recipient_id": ORG, "category": "plan"}))
    world.params["consent_id"] = consent["consent_id"]
    world.params["staff_id"] = f"{BOTILBUD}-spare"
    fit = await _ok(await plans.client.post(f"{base}/fit", headers=h(plans, "coord"), json={
        "held_at": (now() - timedelta(hours=1)).isoformat(), "ors": 20, "srs": 30, "shared_by_citizen": False}))
    world.params["session_id"] = fit["session_id"]
    meeting = await _ok(await plans.client.post(f"{base}/network/meetings", headers=h(plans, "citizen"), json={
        "reason": "Jeg vil tale om min medicin", "wanted": ["Min koordinator"]}))
    world.params["meeting_id"] = meeting["meeting_id"]

    # health: the record opens from referrals' event; the roster, the tovholder, a notice, a check
    await eventually(lambda: exists(health, HealthRecord, HealthRecord.citizen_id == citizen_id), message="health record")
    await _ok(await health.client.put(f"/api/v1/botilbud/{BOTILBUD}/nurse-consultants", headers=h(health, "admin"),
                                      json=[{"sub": ACTORS["nurse"]["sub"]}]))
    await _ok(await health.client.put(f"{base}/tovholder", headers=h(health, "nurse"),
                                      json={"nurse_consultant_sub": ACTORS["nurse"]["sub"]}))
    admitted = now() - timedelta(hours=3)
    for cpr in (CPR, UNKNOWN_CPR):
        await _ok(await health.client.post("/integration/v1/hospital-notifications", headers=h(health, "partner"), json=message(
            code="STAA", cpr=cpr, hospital_episode_id="EPJ-1", department="P2", occurred_at=admitted.isoformat(),
            replaces_message_id=None)))
    await _ok(await health.client.post("/integration/v1/medication-changes", headers=h(health, "partner"), json=message(
        cpr=CPR, fmk_reference="FMK-DM-1", change_kind="dose-changed", changed_at=(admitted + timedelta(hours=1)).isoformat())))
    await _ok(await health.client.post("/integration/v1/psychiatrist-notes", headers=h(health, "partner"), json=message(
        cpr=CPR, written_at=now().isoformat(), psychiatrist="Overlæge Berg", notes="Stabil.")))
    meds = await _ok(await health.client.get(f"{base}/medication-changes", headers=h(health, "nurse")))
    world.params["alert_id"] = meds["alerts"][0]["alert_id"]
    docs = await _ok(await health.client.get(f"{base}/partner-documents", headers=h(health, "nurse")))
    world.params["document_id"] = docs["documents"][0]["document_id"]
    check = await _ok(await health.client.post(f"{base}/health-checks", headers=h(health, "nurse"), json={
        "starts_at": (now() + timedelta(days=40)).replace(hour=10, minute=0).isoformat(), "gp_practice": "Lægehuset"}))
    world.params["health_check_id"] = check["health_check_id"]
    world.params["step"] = "medication-review"
    schedule = await _ok(await health.client.post(f"{base}/depot-schedules", headers=h(health, "nurse"), json={
        "weekday": 1, "at": "10:00:00", "starts_on": str(date.today())}))
    world.params["schedule_id"] = schedule["schedule_id"]
    from tovholder.fhir import hospital_stay_id  # the stay's Encounter id (health's FHIR API)

    world.params["encounter_id"] = hospital_stay_id(citizen_id, ORG, "EPJ-1")
    unmatched = await eventually(lambda: exists(health, UnmatchedHospitalNotice), message="unmatched notice")
    world.params["unmatched_id"] = str(unmatched.id)

    # notifications: the tasks referrals', plans' and health's events made; a partner's subscription
    await eventually(lambda: exists(notifications, TaskRow, TaskRow.citizen_id == citizen_id), message="a task")
    task = await exists(notifications, TaskRow, TaskRow.citizen_id == citizen_id)
    world.params["task_id"] = str(task.id)
    # notifications' copy of a consent of the citizen to the partner that no row revokes (the plans rows revoke
    # the plan consent, and when its event arrives is not the matrix's business): the partner may learn the
    # citizen's reference (POST /integration/v1/citizen-references) whatever the rows before it did.
    async with notifications.ctx.sessions() as s:
        s.add(ConsentRow(consent_id=uuid.uuid4(), citizen_id=citizen_id, recipient_kind="organisation",
                         recipient_id=ORG, category="fit", given_at=now() - timedelta(minutes=1)))
        await s.commit()
    # The same in referrals: the partner may read the citizen's Patient (GET /fhir/r4/Patient/…).
    async with referrals.ctx.sessions() as s:
        s.add(ReferralsConsentRow(consent_id=uuid.uuid4(), citizen_id=citizen_id, recipient_kind="organisation",
                                  recipient_id=ORG, category="fit", given_at=now() - timedelta(minutes=1)))
        await s.commit()
    sub = await _ok(await notifications.client.post("/integration/v1/subscriptions", headers=h(notifications, "partner"), json={
        "message_id": str(uuid.uuid4()), "callback_url": "https://127.0.0.1:9/hook",
        "event_types": ["tovholder.plans.follow-up-due.v1"], "secret": "s" * 32}))
    world.params["subscription_id"] = sub["subscription_id"]
    world.params["proposal_id"] = str(uuid.uuid4())  # none exists
    world.params["name"] = "pages.css"
    world.params["action"] = "claim"
    # plans: the staff register provisions one colleague (the SCIM rows read, change and delete them)
    registered = await _ok(await plans.client.post("/scim/v2/Users", headers=h(plans, SCIM_CLIENT),
                                                   json=register_user(f"{BOTILBUD}-register-1")))
    world.params["user_id"] = registered["id"]
    return world


# A work-queue stream ends after a moment here, so the matrix can read its whole answer.
NOTIFICATIONS_CONFIG = NotificationsConfig(sweep_interval_s=60, queue_stream_interval_s=0.1, queue_stream_max_s=0.3)


def notifications_service_spec():
    return notifications_spec(NOTIFICATIONS_CONFIG)
