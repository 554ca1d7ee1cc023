"""THE authorisation table: for every route of every service, what each actor gets.

One row per route: ``R(service, "METHOD /path", ok=..., hidden=..., forbidden=..., rest=...)``; each
keyword names the actors (``authorization_world.ACTORS``, space-separated) that get that answer:

- ``ok``: let through (2xx; a 409 or 422 about the data counts: the rule, not the access, said no);
- ``forbidden``: 403 (the caller may know the citizen or object exists; the reason is given);
- ``hidden``: 404, the very answer for an unknown id (a 403 would tell the caller the citizen exists);
- ``unauth``: 401 (no token); every API row gives it to ``anon`` unless it says otherwise;
- ``rest``: the answer for every actor the row does not name.

Actors: ``citizen`` (the citizen), ``citizen:other``; ``coord``/``nurse`` (orion, the citizen's botilbud,
in the citizen's network; the nurse is the citizen's tovholder) and ``coord:other``/``nurse:other``
(hygge); ``visit`` (København, the citizen's municipality) and ``visit:other`` (Aarhus); ``admin``;
``partner`` (the organisation that referred the citizen and sent the hospital notices; the citizen
consented to share the plan with it) and ``partner:other``.

``scoped_like``/``shows`` mark a list: it must show the citizen (``shows``, a world parameter found in
the answer) to exactly the actors whom the single read ``scoped_like`` lets through.
Request bodies are the smallest valid body the route's OpenAPI schema allows, unless ``body`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from tests.integration.contract.authorization_world import (ACTORS, ALL_ACTORS, ANONYMOUS, BOTILBUD, CPR, ORG, SCIM_CLIENT,
                                                            register_user)

OK = "ok"
STATUS_OF = {"unauth": "401", "forbidden": "403", "hidden": "404", "ok": OK, "redirect": "redirect",
             "not_allowed": "405"}


@dataclass
class Row:
    service: str
    method: str
    path: str
    expected: dict[str, str]
    kind: str = "api"  # api | scim (api + the provisioning client) | public (operations, docs) | page (anonymous answer only; pages: tests/integration/*/test_*pages*)
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    scoped_like: str | None = None
    shows: str = "citizen_id"
    visible_to: str | None = None  # instead of scoped_like: the actors the list may show the citizen to
    absent: bool = False  # the world has no such object: who is let through meets the unknown object's 404

    @property
    def actors(self) -> tuple[str, ...]:
        if self.kind == "scim":
            return (*ALL_ACTORS, SCIM_CLIENT)
        return ALL_ACTORS if self.kind == "api" else (ANONYMOUS,)

    def order(self) -> list[str]:
        return sorted(self.actors, key=lambda a: self.expected[a] == OK)

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def R(service: str, op: str, *, body: Any = None, query: dict[str, Any] | None = None, scoped_like: str | None = None,
      shows: str = "citizen_id", visible_to: str | None = None, rest: str | None = None, absent: bool = False,
      **answers: str) -> Row:
    method, path = op.split(" ", 1)
    expected: dict[str, str] = {ANONYMOUS: "401"}
    if rest is not None:
        expected.update({a: STATUS_OF[rest] for a in ACTORS})
    for answer, actors in answers.items():
        for actor in actors.split():
            assert actor in ALL_ACTORS, f"{op}: unknown actor {actor}"
            expected[actor] = STATUS_OF[answer]
    return Row(service, method, path, expected, body=body, query=query or {}, scoped_like=scoped_like, shows=shows,
               visible_to=visible_to, absent=absent)


def public(service: str, *paths: str) -> list[Row]:
    return [Row(service, "GET", p, {ANONYMOUS: OK}, kind="public") for p in paths]


def page(service: str, op: str, answer: str) -> Row:
    method, path = op.split(" ", 1)
    return Row(service, method, path, {ANONYMOUS: STATUS_OF[answer]}, kind="page")


def classify(response) -> str:
    """The answer in the table's terms."""
    status = response.status_code
    if status >= 500:
        return str(status)
    if 300 <= status < 400:
        return "redirect"
    if status < 300 or status == 409:
        return OK
    if status == 422:
        try:
            body = response.json()
        except ValueError:
            return "422"
        if body.get("code") in ("invalid-request", "control-character"):
            return "422-invalid-body"  # the table's body is wrong, not the access
        return OK  # a rule about the data (or a partner's receipt naming a field) said no
    return str(status)


# ---------------------------------------------------------------------------------------------- bodies


def _soon(days: int = 7) -> str:
    return str(date.today() + timedelta(days=days))


def minimal(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest instance a JSON Schema (from an OpenAPI document) accepts."""
    if "$ref" in schema:
        return minimal(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return minimal(options[0], components) if options else None
    if "allOf" in schema:
        return minimal(schema["allOf"][0], components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: minimal(schema["properties"][k], components) for k in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {}), components) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if "example" in schema:
            return schema["example"]
        fmt = schema.get("format")
        if fmt == "date":
            return _soon()
        if fmt == "date-time":
            return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        if fmt == "time":
            return "10:00:00"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-00000000abcd"
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "integer" or kind == "number":
        return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    return None


def body_for(row: Row, app, world) -> Any:
    if callable(row.body):
        return row.body(world)
    if row.body is not None:
        return row.body
    document = app.openapi()
    operation = document["paths"].get(row.path, {}).get(row.method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return None
    return minimal(content["schema"], document.get("components", {}).get("schemas", {}))


def message(**body: Any) -> Callable[[Any], dict[str, Any]]:
    """A partner message from the referring organisation (a fresh message id per call)."""
    import uuid

    def make(world) -> dict[str, Any]:
        return {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                "sender": {"org": ORG, "name": "Psykiatrisk Center København"}, **body}

    return make


# ---------------------------------------------------------------------------------------------- the table

OPS = ("/healthz", "/readyz", "/metrics", "/asyncapi", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
CITIZEN_STAFF = "citizen coord nurse"  # the citizen, and the staff of the citizen's botilbud and network
OUTSIDERS = "citizen:other coord:other nurse:other visit visit:other admin partner:other"
NOT_PARTNERS = "citizen citizen:other coord coord:other nurse nurse:other visit visit:other admin"


def _referrals() -> list[Row]:
    case = "/api/v1/referrals/{referral_id}"
    # Only visitation of the case's municipality changes a case; who may read it is told why not (403),
    # anyone else gets the unknown case's 404; roles that never change cases are refused by role (403).
    change = dict(ok="visit", hidden="visit:other", rest="forbidden")
    return [
        R("referrals", "POST /integration/v1/referrals", ok="partner partner:other", forbidden=NOT_PARTNERS,
          body=message(cpr="0101904433", citizen_name="Ny Borger", reason="Brug for et botilbud", requested_step=7,
                       requested_offer="SEL §108")),
        R("referrals", "GET /integration/v1/referrals/{referral_id}", ok="partner", hidden="partner:other", forbidden=NOT_PARTNERS),
        R("referrals", f"GET {case}", ok="citizen coord visit partner", hidden="citizen:other coord:other visit:other partner:other",
          forbidden="nurse nurse:other admin"),
        R("referrals", f"GET {case}/cpr", ok="visit", hidden="visit:other", rest="forbidden"),
        R("referrals", "GET /api/v1/referrals", ok="coord coord:other visit visit:other", rest="forbidden",
          scoped_like=f"{case}", shows="referral_id"),
        R("referrals", "GET /api/v1/me/referrals", ok="citizen citizen:other", rest="forbidden",
          scoped_like=f"{case}", shows="referral_id"),
        R("referrals", f"GET {case}/matches", **change),
        R("referrals", "GET /api/v1/offers", rest="ok"),
        R("referrals", "GET /api/v1/offers/{offer_id}/waitlist", ok="coord visit visit:other", rest="forbidden",
          scoped_like=f"{case}", shows="referral_id"),
        R("referrals", "GET /api/v1/follow-ups", ok="visit visit:other", rest="forbidden", query={"within_days": 120},
          scoped_like=f"{case}", shows="referral_id"),
        # The installation's own: offers, the follow-up scan, the flow report (not visitation of another municipality).
        R("referrals", "GET /api/v1/reports/flow", ok="visit admin", rest="forbidden",
          query={"from": str(date.today() - timedelta(days=30)), "to": str(date.today())}),
        R("referrals", "POST /api/v1/follow-ups/scan", ok="visit admin", rest="forbidden"),
        R("referrals", "PUT /api/v1/offers/{offer_id}", ok="visit admin", rest="forbidden", body={
            "offer_id": BOTILBUD, "name": "Orion", "botilbud_id": BOTILBUD, "legal_basis": "SEL §108", "step": 7,
            "approved_places": 10, "occupied_places": 1, "target_group": {"description": "Voksne", "min_age": 18}}),
        R("referrals", "POST /api/v1/referrals", ok="visit visit:other", rest="forbidden",
          body={"cpr": "0101904444", "citizen_name": "Staff Borger", "reason": "Brug for botilbud"}),
        R("referrals", f"POST {case}/screening", **change),
        R("referrals", f"PUT {case}/assessment", **change),
        R("referrals", f"POST {case}/decision", **change),
        R("referrals", f"POST {case}/reopen", **change),
        R("referrals", f"POST {case}/release-place", **change),
        R("referrals", f"POST {case}/reserve-place", **change),
        R("referrals", f"POST {case}/move-in", **change),
        R("referrals", f"POST {case}/follow-ups", **change),
        R("referrals", f"PUT {case}/move-out-plan", **change),
        R("referrals", f"POST {case}/phase-out-visits", **change),
        R("referrals", f"POST {case}/end", **change),
        R("referrals", f"POST {case}/withdraw", **change),
        page("referrals", "GET /visitation", "redirect"),  # moved to the portal (a fixed address from the settings)
        page("referrals", "GET /visitation/report", "redirect"),
        page("referrals", "GET /min-sag", "redirect"),  # the portal's Min sag (issue 13)
    ]


def _plans() -> list[Row]:
    c = "/api/v1/citizens/{citizen_id}"
    # Outsiders (and a partner beyond what the citizen consented to) get the answer for a citizen
    # without a plan (404); the citizen and the botilbud's staff are told why not (403).
    staff_writes = dict(ok="coord nurse", forbidden="citizen", hidden=f"{OUTSIDERS} partner")
    citizen_and_staff = dict(ok=CITIZEN_STAFF, hidden=f"{OUTSIDERS} partner")
    consented = dict(ok=f"{CITIZEN_STAFF} partner", hidden=OUTSIDERS)  # the citizen consented: plan → the partner
    return [
        R("plans", f"GET {c}/plan", **consented),
        R("plans", f"GET {c}/plan/versions", **consented),
        R("plans", f"GET {c}/plan/versions/{{number}}", **consented),
        R("plans", f"GET {c}/plan/diff", **consented, query={"from": 1}),
        R("plans", f"GET {c}/plan/follow-ups", **consented),
        R("plans", f"POST {c}/plan/goals", **citizen_and_staff),
        R("plans", f"PATCH {c}/plan/goals/{{goal_id}}", **citizen_and_staff),
        R("plans", f"POST {c}/plan/goals/{{goal_id}}/sub-goals", **citizen_and_staff),
        R("plans", f"POST {c}/plan/goals/{{goal_id}}/actions", **citizen_and_staff),
        R("plans", f"POST {c}/plan/goals/{{goal_id}}/actions/{{action_id}}/done", **citizen_and_staff),
        R("plans", f"POST {c}/plan/entries", **citizen_and_staff),
        R("plans", f"PUT {c}/plan/cadence", **staff_writes),
        R("plans", f"POST {c}/plan/follow-ups", **staff_writes),
        R("plans", f"GET {c}/network", **citizen_and_staff),
        R("plans", f"GET {c}/network/candidates", **citizen_and_staff),
        R("plans", f"GET {c}/plan/proposals", **citizen_and_staff),
        # The world holds no proposal (they come from a held health check): who is let through gets its 404.
        R("plans", f"POST {c}/plan/proposals/{{proposal_id}}/answer", hidden=f"{CITIZEN_STAFF} {OUTSIDERS} partner",
          absent=True),
        R("plans", f"POST {c}/network/members", **citizen_and_staff, body={"staff_id": f"{BOTILBUD}-k9", "role": "other"}),
        R("plans", f"PUT {c}/network/members/{{staff_id}}/role", **citizen_and_staff, body={"role": "other"}),
        R("plans", f"DELETE {c}/network/members/{{staff_id}}", **citizen_and_staff),
        # The network meeting: the citizen calls it (a second open one is a 422 about the data); the
        # network's staff set its time and close it; the citizen is told that is staff's (403).
        R("plans", f"GET {c}/network/meetings", **citizen_and_staff),
        R("plans", f"POST {c}/network/meetings", ok="citizen", forbidden="coord nurse", hidden=f"{OUTSIDERS} partner",
          body={"reason": "Jeg vil gerne samle mit netværk"}),
        R("plans", f"POST {c}/network/meetings/{{meeting_id}}/schedule", **staff_writes,
          body={"meeting_at": (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()}),
        R("plans", f"POST {c}/network/meetings/{{meeting_id}}/close", **staff_writes, body={"outcome": "held"}),
        R("plans", f"GET {c}/safety", **citizen_and_staff),
        R("plans", f"GET {c}/safety/tryghedsplan/versions", **citizen_and_staff),
        R("plans", f"GET {c}/safety/ratings", **citizen_and_staff),
        R("plans", f"PUT {c}/safety/tryghedsplan", **citizen_and_staff),
        R("plans", f"POST {c}/safety/ratings", **staff_writes),
        R("plans", f"POST {c}/safety/ratings/{{rating_id}}/citizen-told", **staff_writes),
        R("plans", f"POST {c}/safety/learning-plans", **staff_writes),
        R("plans", f"POST {c}/safety/learning-plans/{{learning_plan_id}}/complete", **staff_writes),
        R("plans", f"POST {c}/safety/bvc", **staff_writes),
        R("plans", f"GET {c}/fit", **citizen_and_staff),
        R("plans", f"POST {c}/fit", **staff_writes),
        # Sharing a session's scores is the citizen's own choice; staff are told so (403).
        R("plans", f"PUT {c}/fit/{{session_id}}/sharing", ok="citizen", forbidden="coord nurse",
          hidden=f"{OUTSIDERS} partner", body={"shared_by_citizen": True}),
        R("plans", f"GET {c}/consents", **citizen_and_staff),
        R("plans", f"GET {c}/consents/decision", **citizen_and_staff,
          query={"recipient_kind": "organisation", "recipient_id": ORG, "category": "plan"}),
        R("plans", f"POST {c}/consents", **citizen_and_staff,
          body={"recipient_kind": "organisation", "recipient_id": "SOR:1111111", "category": "fit"}),
        R("plans", f"POST {c}/consents/{{consent_id}}/revoke", **citizen_and_staff),
    ]


def _health() -> list[Row]:
    c = "/api/v1/citizens/{citizen_id}"
    # Roles that never read health data (visitation, admin, partners) get one 403 for every citizen;
    # the others get the unknown citizen's 404 unless they may do something else with the record.
    never = "visit visit:other admin partner partner:other"
    elsewhere = "citizen:other coord:other nurse:other"
    read = dict(ok=CITIZEN_STAFF, hidden=elsewhere, forbidden=never)
    nurse_writes = dict(ok="nurse", hidden=elsewhere, forbidden=f"citizen coord {never}")
    minutes = dict(ok="coord nurse", hidden=elsewhere, forbidden=f"citizen {never}")
    declines = dict(ok="citizen nurse", hidden=elsewhere, forbidden=f"coord {never}")
    check = "/api/v1/health-checks/{health_check_id}"
    unmatched = "/api/v1/unmatched-hospital-notices"
    # The queue of unmatched notices belongs to visitation of the installation's municipality.
    queue = dict(ok="visit", rest="forbidden")
    notice = dict(code="STAA", cpr="0101904455", hospital_episode_id="EPJ-2", department="P2",
                  occurred_at=(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(), replaces_message_id=None)
    partners = dict(ok="partner partner:other", forbidden=NOT_PARTNERS)
    return [
        R("health", "POST /integration/v1/hospital-notifications", **partners, body=message(**notice)),
        R("health", "POST /integration/v1/medication-changes", **partners, body=message(
            cpr="0101904455", fmk_reference="FMK-DM-2", change_kind="stopped", changed_at=datetime.now(timezone.utc).isoformat())),
        R("health", "POST /integration/v1/lab-results", **partners),
        R("health", "POST /integration/v1/pharmacist-reviews", **partners),
        R("health", "POST /integration/v1/psychiatrist-notes", **partners),
        R("health", "GET /integration/v1/shared-documents", **partners, visible_to="", shows="document_id"),
        R("health", f"GET {c}/health-record", **read),
        R("health", f"GET {c}/health-timeline", **read),
        R("health", f"GET {c}/hospital-notices", **read),
        R("health", f"GET {c}/medication-changes", **read),
        R("health", f"GET {c}/partner-documents", **read),
        R("health", f"GET {c}/forensic", **read),
        R("health", f"GET {c}/health-checks", **read),
        R("health", f"GET {check}", **read),
        R("health", "GET /api/v1/botilbud/{botilbud_id}/health-checks", ok="coord nurse", rest="forbidden",
          scoped_like=f"{c}/health-record", shows="health_check_id"),
        R("health", "GET /api/v1/botilbud/{botilbud_id}/nurse-consultants", ok="citizen coord nurse admin", rest="forbidden"),
        R("health", "PUT /api/v1/botilbud/{botilbud_id}/nurse-consultants", ok="admin", rest="forbidden",
          body=[{"sub": f"{BOTILBUD}-n1"}]),
        R("health", "POST /api/v1/botilbud/{botilbud_id}/health-check-days", ok="coord nurse", rest="forbidden"),
        R("health", "GET /api/v1/botilbud/{botilbud_id}/admitted-now", ok="nurse", rest="forbidden"),  # the portal's Indlagte nu
        R("health", "GET /api/v1/botilbud/{botilbud_id}/health-check-cadence", ok="coord nurse admin", rest="forbidden"),
        R("health", "PUT /api/v1/botilbud/{botilbud_id}/health-check-cadence", ok="nurse admin", rest="forbidden"),
        R("health", f"PUT {c}/tovholder", ok=CITIZEN_STAFF, hidden=elsewhere, forbidden=never),
        R("health", f"POST {c}/medication-changes", **nurse_writes),
        R("health", "POST /api/v1/medication-alerts/{alert_id}/acknowledge", **nurse_writes),
        R("health", f"POST {c}/external-contacts", **nurse_writes),
        R("health", f"PUT {c}/gp-practice", **nurse_writes),
        R("health", f"PUT {c}/treatment-order", **nurse_writes),
        R("health", f"POST {c}/depot-schedules", **nurse_writes),
        R("health", f"POST {c}/depot-visits", **nurse_writes, body=lambda w: {
            "schedule_id": w.params["schedule_id"], "visited_at": datetime.now(timezone.utc).isoformat(), "outcome": "given"}),
        R("health", f"POST {c}/coercion-log", **nurse_writes),
        R("health", f"POST {c}/health-checks", **minutes),
        R("health", f"POST {check}/pre-assessment", **nurse_writes),
        R("health", f"POST {check}/examination", **nurse_writes),
        R("health", f"POST {check}/steps/{{step}}/complete", **nurse_writes),
        R("health", f"POST {check}/accept", **declines),
        R("health", f"POST {check}/decline", **declines),
        R("health", f"POST {check}/held", **minutes),
        # Passing a document on needs the citizen's consent for health to the organisation: the tovholder is
        # told there is none (403); the others are refused as for any write.
        R("health", "POST /api/v1/partner-documents/{document_id}/share", hidden=elsewhere,
          forbidden=f"citizen coord nurse {never}", body={"recipient_org": ORG}),
        R("health", f"GET {unmatched}", **queue, visible_to="visit", shows="unmatched_id"),
        R("health", f"GET {unmatched}/{{unmatched_id}}", **queue),
        R("health", f"POST {unmatched}/{{unmatched_id}}/dismiss", **queue),
        R("health", f"POST {unmatched}/{{unmatched_id}}/match", **queue, body=lambda w: {"citizen_id": w.params["citizen_id"]}),
    ]


def _notifications() -> list[Row]:
    task = "/api/v1/tasks/{task_id}"
    # Tasks: whose work it is (the pool or the owner), the botilbud's coordinators, the network, admin;
    # other staff get the unknown task's 404; citizens and partners never see the work queue.
    tasks = dict(ok="coord nurse admin", hidden="coord:other nurse:other visit visit:other",
                 forbidden="citizen citizen:other partner partner:other")
    subscription = "/integration/v1/subscriptions/{subscription_id}"
    own_subscription = dict(ok="partner", hidden="partner:other", forbidden=NOT_PARTNERS)
    return [
        R("notifications", "GET /api/v1/work-queue", ok="coord coord:other nurse nurse:other visit visit:other admin",
          forbidden="citizen citizen:other partner partner:other", scoped_like=task, shows="task_id"),
        # The stream of the same queue (the world's streams end after a moment: NOTIFICATIONS_CONFIG).
        R("notifications", "GET /api/v1/work-queue/events", ok="coord coord:other nurse nurse:other visit visit:other admin",
          forbidden="citizen citizen:other partner partner:other"),
        R("notifications", "GET /api/v1/task-kinds", ok="coord coord:other nurse nurse:other visit visit:other admin",
          forbidden="citizen citizen:other partner partner:other"),
        # The portal's citizen list: staff only, each sees the citizens whose timeline they may read.
        R("notifications", "GET /api/v1/citizens", ok="coord coord:other nurse nurse:other visit visit:other admin",
          forbidden="citizen citizen:other partner partner:other", scoped_like="/api/v1/citizens/{citizen_id}/timeline"),
        R("notifications", f"GET {task}", **tasks),
        R("notifications", "GET /api/v1/notices", ok="coord coord:other nurse nurse:other visit visit:other admin",
          forbidden="citizen citizen:other partner partner:other"),
        # The timeline: the botilbud's staff, the network, visitation of the citizen's municipality, admin.
        R("notifications", "GET /api/v1/citizens/{citizen_id}/timeline", ok="coord nurse visit admin", rest="forbidden"),
        R("notifications", "GET /api/v1/visitation-board", ok="coord coord:other visit visit:other admin", rest="forbidden",
          visible_to="coord visit admin"),
        R("notifications", f"POST {task}/claim", **tasks),
        R("notifications", f"POST {task}/start", **tasks),
        R("notifications", f"POST {task}/business-status", **tasks),
        R("notifications", f"POST {task}/release", **tasks),
        R("notifications", f"POST {task}/complete", **tasks),
        R("notifications", "GET /integration/v1/event-types", ok="partner partner:other", forbidden=NOT_PARTNERS),
        # A citizen reference for a CPR the partner holds: only with the citizen's consent (or a legal basis);
        # another organisation gets the unknown CPR's 404.
        R("notifications", "POST /integration/v1/citizen-references", ok="partner", hidden="partner:other",
          forbidden=NOT_PARTNERS, body={"cpr": CPR}),
        R("notifications", "GET /integration/v1/subscriptions", ok="partner partner:other", forbidden=NOT_PARTNERS,
          scoped_like=f"{subscription}/deliveries", shows="subscription_id"),
        R("notifications", f"GET {subscription}/deliveries", **own_subscription),
        R("notifications", f"POST {subscription}/resend", **own_subscription),
        R("notifications", "POST /integration/v1/subscriptions", ok="partner partner:other", forbidden=NOT_PARTNERS,
          body=lambda w: {"message_id": str(__import__("uuid").uuid4()), "callback_url": "https://127.0.0.1:9/other",
                          "event_types": ["tovholder.plans.follow-up-due.v1"], "secret": "s" * 32}),
        R("notifications", f"DELETE {subscription}", **own_subscription),
        page("notifications", "GET /static/{name}", "ok"),
        page("notifications", "GET /login", "ok"),
        page("notifications", "POST /login", "forbidden"),  # no CSRF token
        page("notifications", "POST /login/demo", "forbidden"),  # development only, and CSRF
        page("notifications", "POST /logout", "redirect"),
        page("notifications", "GET /", "redirect"),  # to the login page
        page("notifications", "GET /fragmenter/arbejdsko", "unauth"),
        page("notifications", "POST /opgaver/{task_id}/{action}", "redirect"),
        page("notifications", "GET /borgere/{citizen_id}", "redirect"),
        page("notifications", "GET /visitation", "redirect"),
    ]


def _access_logs() -> list[Row]:
    # Min log: the citizen and administrators only; one 403 for everyone else, whichever the citizen.
    return [R(service, "GET /api/v1/citizens/{citizen_id}/access-log", ok="citizen admin", rest="forbidden")
            for service in ("referrals", "plans", "health", "notifications")]


# Routes without a row yet (none now): the matrix test fails when a route is neither in ROWS nor here, and
# when a route here is gone; every entry must move into ROWS.
PENDING: dict[tuple[str, str, str], str] = {}


def _fhir() -> list[Row]:
    """The FHIR R4 read API of each service (``/fhir/r4``), on the REST API's rules. A read of one
    object answers the REST twin's refusals; a search by ``patient`` is a list where the owner's REST
    list is one (it shows the citizen exactly to whom the read lets through) and refuses where the
    REST read refuses."""
    c = {"patient": "{citizen_id}"}
    consented = dict(ok=f"{CITIZEN_STAFF} partner", hidden=OUTSIDERS)  # the citizen consented: plan → the partner
    citizen_and_staff = dict(ok=CITIZEN_STAFF, hidden=f"{OUTSIDERS} partner")
    never = "visit visit:other admin partner partner:other"
    health = dict(ok=CITIZEN_STAFF, hidden="citizen:other coord:other nurse:other", forbidden=never)
    case = dict(ok="citizen coord visit partner", rest="hidden")  # the case's views; anyone else: the unknown case
    patient = dict(ok="citizen coord visit partner", forbidden="partner:other", rest="hidden")
    tasks = dict(ok="coord nurse admin", hidden="coord:other nurse:other visit visit:other",
                 forbidden="citizen citizen:other partner partner:other")
    work_queue = dict(ok="coord coord:other nurse nurse:other visit visit:other admin",
                      forbidden="citizen citizen:other partner partner:other")
    f = "/fhir/r4"
    return [
        *[R(service, f"GET {f}/metadata", rest="ok") for service in ("referrals", "plans", "health", "notifications")],
        R("referrals", f"GET {f}/ServiceRequest/{{referral_id}}", **case),
        # (the self link names the patient searched: the referral or task id is what shows the object)
        R("referrals", f"GET {f}/ServiceRequest", rest="ok", query=c, scoped_like=f"{f}/ServiceRequest/{{referral_id}}",
          shows="referral_id"),
        R("referrals", f"GET {f}/EpisodeOfCare/{{referral_id}}", **case),
        R("referrals", f"GET {f}/EpisodeOfCare", rest="ok", query=c, scoped_like=f"{f}/EpisodeOfCare/{{referral_id}}",
          shows="referral_id"),
        # The citizen: the citizen and staff on the cases' rule (the unknown Patient's 404 for others); a partner
        # only under a consent to its organisation (any category) — one 403 for every Patient it may not read.
        R("referrals", f"GET {f}/Patient/{{citizen_id}}", **patient),
        R("referrals", f"GET {f}/Patient", **patient, query={"_id": "{citizen_id}"}),
        R("plans", f"GET {f}/CarePlan/{{plan_id}}", **consented),
        R("plans", f"GET {f}/CarePlan", **consented, query=c),
        R("plans", f"GET {f}/Goal/{{goal_id}}", **consented),
        R("plans", f"GET {f}/Goal", **consented, query=c),
        R("plans", f"GET {f}/CareTeam/{{citizen_id}}", **citizen_and_staff),
        R("plans", f"GET {f}/CareTeam", **citizen_and_staff, query=c),
        R("plans", f"GET {f}/Consent/{{consent_id}}", **citizen_and_staff),
        R("plans", f"GET {f}/Consent", **citizen_and_staff, query=c),
        R("health", f"GET {f}/Encounter/{{encounter_id}}", **health),
        R("health", f"GET {f}/Encounter", **health, query=c),
        # A MedCom message from any partner organisation is answered with an acknowledgement (a Bundle that is
        # not a HospitalNotification: fatal-error); everyone else is refused by role.
        R("health", f"POST {f}/$process-message", ok="partner partner:other", forbidden=NOT_PARTNERS,
          body={"resourceType": "Bundle", "type": "message"}),
        R("notifications", f"GET {f}/Task/{{task_id}}", **tasks),
        R("notifications", f"GET {f}/Task", **work_queue, query=c, scoped_like=f"{f}/Task/{{task_id}}", shows="task_id"),
    ]


def _scim() -> list[Row]:
    """The staff register over SCIM 2.0 (plans, ``/scim/v2``): the municipality's provisioning client
    only; every other actor, partners without the scope ``scim:users`` too, is refused (403, audited).
    The world provisioned one colleague; the rows read, replace, patch and finally delete them."""
    u = "/scim/v2/Users"

    def scim(op: str, body: Any = None, **kw: Any) -> Row:
        row = R("plans", op, rest="forbidden", body=body, **kw)
        row.kind, row.expected[SCIM_CLIENT] = "scim", OK
        return row

    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    return [
        scim(f"POST {u}", body=lambda world: register_user(f"{BOTILBUD}-register-{id(world)}-{datetime.now().timestamp()}")),
        scim(f"GET {u}", query={"filter": f'userName eq "{BOTILBUD}-register-1"'}),
        scim(f"GET {u}/{{user_id}}"),
        scim(f"PUT {u}/{{user_id}}", body=register_user(f"{BOTILBUD}-register-1")),
        scim(f"PATCH {u}/{{user_id}}", body=patch),
        scim(f"DELETE {u}/{{user_id}}"),
        *[scim(f"GET /scim/v2/{p}") for p in ("ServiceProviderConfig", "ResourceTypes", "Schemas")],
    ]


ROWS: list[Row] = [
    *[row for service in ("referrals", "plans", "health", "notifications") for row in public(service, *OPS)],
    # The FHIR reads first: they change nothing, and later rows do (a row revokes the plan consent).
    *_fhir(), *_referrals(), *_plans(), *_health(), *_notifications(), *_access_logs(), *_scim(),
]
