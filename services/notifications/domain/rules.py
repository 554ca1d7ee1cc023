"""Which events create, change or withdraw tasks — all in one table (``RULES``, at the bottom).

A rule reads one incoming event and returns *actions* (create a task, revise the tasks linked to a
notice, withdraw them, cancel a citizen's open tasks, reopen what an event cancelled). ``apply_actions``
carries them out over the citizen's existing tasks, purely: the handler loads the citizen's tasks,
applies, and stores the created and changed ones.

Who gets the work:
- the citizen's tovholder (``tovholder_sub``) when the event names one;
- otherwise the nurse-consultant pool of the citizen's botilbud;
- without a botilbud, the municipality's visitation pool;
- network and planning work goes to the botilbud's coordinator pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifications.domain import tasks as t
from services.notifications.domain.clock import (
    as_date,
    as_datetime,
    as_uuid,
    end_of_local_day,
    end_of_local_day_after,
    LOCAL_TZ as _LOCAL,
    local_date,
)
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.tasks import Actor, Link, Pool, Priority, Role, Task, TaskKind, TaskSpec
from tovholder.clock import working_day_deadline

# ---------------------------------------------------------------- event types

VISITATION_DECIDED = "tovholder.referrals.visitation-decided.v1"
HOSPITAL_NOTICE_REGISTERED = "tovholder.health.hospital-notice-registered.v1"
HOSPITAL_NOTICE_CORRECTED = "tovholder.health.hospital-notice-corrected.v1"
HOSPITAL_NOTICE_CANCELLED = "tovholder.health.hospital-notice-cancelled.v1"

FOLLOW_UP_DUE = "tovholder.plans.follow-up-due.v1"
FOLLOW_UP_RECORDED = "tovholder.plans.follow-up-recorded.v1"
LEARNING_PLAN_DUE = "tovholder.plans.learning-plan-due.v1"
LEARNING_PLAN_COMPLETED = "tovholder.plans.learning-plan-completed.v1"
NETWORK_MEETING_REQUESTED = "tovholder.plans.network-meeting-requested.v1"
NETWORK_MEETING_SCHEDULED = "tovholder.plans.network-meeting-scheduled.v1"
NETWORK_MEETING_CLOSED = "tovholder.plans.network-meeting-closed.v1"
SAFETY_RATING_CHANGED = "tovholder.plans.safety-rating-changed.v1"

REFERRAL_WITHDRAWN = "tovholder.referrals.referral-withdrawn.v1"
PLACEMENT_STARTED = "tovholder.referrals.placement-started.v1"
PLACEMENT_ENDED = "tovholder.referrals.placement-ended.v1"
MOVE_OUT_PLANNED = "tovholder.referrals.move-out-planned.v1"
VISITATION_FOLLOW_UP_DUE = "tovholder.referrals.follow-up-due.v1"
VISITATION_FOLLOW_UP_HELD = "tovholder.referrals.follow-up-held.v1"
TEMPORARY_STAY_DRIFTING = "tovholder.referrals.temporary-stay-drifting.v1"
MEDICATION_CHANGED = "tovholder.health.medication-changed.v1"
MEDICATION_ALERT_RAISED = "tovholder.health.medication-alert-raised.v1"
MEDICATION_ALERT_ACKNOWLEDGED = "tovholder.health.medication-alert-acknowledged.v1"
HEALTH_CHECK_SCHEDULED = "tovholder.health.health-check-scheduled.v1"
HEALTH_CHECK_STEP_DUE = "tovholder.health.health-check-step-due.v1"
HEALTH_CHECK_STEP_COMPLETED = "tovholder.health.health-check-step-completed.v1"
HEALTH_CHECK_DECLINED = "tovholder.health.health-check-declined.v1"
HEALTH_CHECK_CANCELLED = "tovholder.health.health-check-cancelled.v1"
HEALTH_CHECK_HELD = "tovholder.health.health-check-held.v1"
HEALTH_CHECK_DECISION_RECORDED = "tovholder.health.health-check-decision-recorded.v1"
PARTNER_DOCUMENT_RECEIVED = "tovholder.health.partner-document-received.v1"
DEPOT_VISIT_MISSED = "tovholder.health.depot-visit-missed.v1"
TOVHOLDER_CHOSEN = "tovholder.health.tovholder-chosen.v1"
HOSPITAL_NOTICE_PARKED = "tovholder.health.hospital-notice-parked.v1"
HOSPITAL_NOTICE_UNPARKED = "tovholder.health.hospital-notice-unparked.v1"

HOSPITAL_NOTICE_LEGAL_BASIS = "retssikkerhedsloven § 12 c"


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """An event as the rules see it: CloudEvent attributes plus the body as a mapping."""

    event_id: str
    event_type: str
    time: datetime
    citizen_id: UUID | None  # None for the rare event about no known citizen (UnattributedEventBody)
    data: Mapping[str, Any]
    # From the service's citizen read model, for events that do not name the botilbud themselves.
    citizen_botilbud_id: str | None = None

    @classmethod
    def from_body(
        cls, *, event_id: str, time: datetime, body: Any, citizen_botilbud_id: str | None = None
    ) -> "IncomingEvent":
        """Build from a contracts ``EventBody`` (anything with ``event_type``, ``citizen_id``, ``model_dump``)."""
        return cls(
            event_id=str(event_id),
            event_type=body.event_type,
            time=time,
            citizen_id=getattr(body, "citizen_id", None),
            data=body.model_dump(),
            citizen_botilbud_id=citizen_botilbud_id,
        )

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def require(self, key: str) -> Any:
        value = self.data.get(key)
        if value is None:
            raise InvalidInput(f"{self.event_type}: feltet '{key}' mangler")
        return value

    @property
    def botilbud_id(self) -> str | None:
        return self.data.get("botilbud_id") or self.citizen_botilbud_id


# ---------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class CreateTask:
    spec: TaskSpec
    # The business key of what asked for the task (e.g. ``hospital-notice:<message_id>``): one task
    # of this kind per key, ever, so the same notice arriving again under a new event id (a replay,
    # a resend upstream) has no second effect. None: every event creates one.
    once_per: Link | None = None


@dataclass(frozen=True, slots=True)
class CreateOrReviseTask:
    """One active task per ``key``: a repeated "due" event revises the open task instead of adding one."""

    spec: TaskSpec
    key: Link
    reason: str = "Opdateret af en ny hændelse"


@dataclass(frozen=True, slots=True)
class CompleteLinkedTasks:
    """The work was recorded in another service: the active tasks linked to ``link`` are done.
    ``closed_by``: the event that closed them, when its withdrawal should reopen them."""

    link: Link
    reason: str
    kinds: frozenset[TaskKind] | None = None
    closed_by: Link | None = None


@dataclass(frozen=True, slots=True)
class ReviseLinkedTasks:
    """A correction: tasks linked to ``link`` become what ``replacement`` says.

    Same kind → revised in place; kind no longer wanted → cancelled; new kind → created."""

    link: Link
    replacement: tuple[TaskSpec, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class WithdrawLinkedTasks:
    """Cancel the active tasks linked to ``link`` (optionally only some kinds)."""

    link: Link
    reason: str
    kinds: frozenset[TaskKind] | None = None


@dataclass(frozen=True, slots=True)
class CancelCitizenTasks:
    """Cancel all the citizen's active tasks, except those linked to ``keep``; remembered as ``cancelled_by``."""

    reason: str
    cancelled_by: Link
    keep: Link | None = None


@dataclass(frozen=True, slots=True)
class HandOverUnclaimedTasks:
    """The citizen changed tovholder: unclaimed tasks named to the previous one go to the new one."""

    from_sub: str
    to_sub: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReopenTasksCancelledBy:
    """Undo what an event closed (``CancelCitizenTasks``, or ``CompleteLinkedTasks`` with ``closed_by``)
    when that event is withdrawn or corrected."""

    cancelled_by: Link
    reason: str


Action = CreateTask | CreateOrReviseTask | CompleteLinkedTasks | HandOverUnclaimedTasks | ReviseLinkedTasks | WithdrawLinkedTasks | CancelCitizenTasks | ReopenTasksCancelledBy


@dataclass(frozen=True, slots=True)
class Rule:
    event_type: str
    description: str
    then: Callable[[IncomingEvent], list[Action]]
    when: Callable[[IncomingEvent], bool] = lambda event: True


# ---------------------------------------------------------------- assignment


def tovholder_or_pool(tovholder_sub: str | None, botilbud_id: str | None) -> dict[str, Any]:
    if tovholder_sub:
        return {"owner_sub": tovholder_sub}
    if botilbud_id:
        return {"pool": Pool(Role.NURSE_CONSULTANT, botilbud_id)}
    return {"pool": Pool(Role.VISITATION, None)}


def coordinator_pool(botilbud_id: str | None) -> dict[str, Any]:
    if botilbud_id:
        return {"pool": Pool(Role.COORDINATOR, botilbud_id)}
    return {"pool": Pool(Role.VISITATION, None)}


# ---------------------------------------------------------------- referrals


def referral_link(event: IncomingEvent) -> Link:
    return Link("referral", str(event.require("referral_id")))


def _first_network_meeting_spec(event: IncomingEvent, base_day: date_type) -> TaskSpec:
    botilbud = event.botilbud_id
    return TaskSpec(
        kind=TaskKind.FIRST_NETWORK_MEETING,
        title="Første netværksmøde" if botilbud else "Første netværksmøde – botilbud er ikke valgt",
        priority=Priority.ROUTINE,
        # The network meets around move-in; two weeks after it leaves room to gather the network.
        due_at=end_of_local_day(base_day + timedelta(days=14)),
        business_status="ikke planlagt",
        description="Indkald borgeren og netværket (pårørende, sagsbehandler, kontaktperson) til første netværksmøde.",
        checklist=(
            "Aftal tid og sted med borgeren",
            "Inviter netværket efter borgerens ønske",
            "Gennemgå tryghedsplan og indsatsmål",
        ),
        links=(referral_link(event),),
        **coordinator_pool(botilbud),
    )


def first_network_meeting(event: IncomingEvent) -> list[Action]:
    start = event.get("start_date")
    base_day = as_date(start, "start_date") if start else local_date(as_datetime(event.require("decided_at"), "decided_at"))
    spec = _first_network_meeting_spec(event, base_day)
    return [CreateOrReviseTask(spec, referral_link(event))]


def placement_started(event: IncomingEvent) -> list[Action]:
    """The actual move-in date sets the meeting's due date (creates it if the grant was waitlisted)."""
    spec = _first_network_meeting_spec(event, as_date(event.require("moved_in_on"), "moved_in_on"))
    return [CreateOrReviseTask(spec, referral_link(event), reason="Borgeren er flyttet ind")]


def referral_withdrawn(event: IncomingEvent) -> list[Action]:
    return [WithdrawLinkedTasks(referral_link(event), reason="Henvisningen er trukket tilbage")]


def placement_ended(event: IncomingEvent) -> list[Action]:
    return [
        WithdrawLinkedTasks(
            referral_link(event),
            reason="Opholdet på botilbuddet er afsluttet",
            kinds=frozenset({TaskKind.FIRST_NETWORK_MEETING, TaskKind.VISITATION_FOLLOW_UP}),
        )
    ]


def move_out_planned(event: IncomingEvent) -> list[Action]:
    planned = as_date(event.require("planned_on"), "planned_on")
    visits = event.get("phase_out_visits_planned") or 0
    spec = TaskSpec(
        kind=TaskKind.MOVE_OUT,
        title=f"Udflytning {planned.strftime('%d.%m.%Y')}: forbered overgangen",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day(planned),
        checklist=(
            "Besøg det nye sted sammen med borgeren",
            "Aftal med borgeren, hvad der må deles (fx tryghedsplan og trivselsplan)",
            f"Planlæg {visits} udslusningsbesøg" if visits else "Planlæg udslusningsbesøg",
            "Evaluer flytningen med borgeren",
        ),
        links=(referral_link(event), Link("move-out", str(event.require("referral_id")))),
        **coordinator_pool(event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, Link("move-out", str(event.require("referral_id"))))]


def visitation_follow_up_link(event: IncomingEvent) -> Link:
    return Link("visitation-follow-up", str(event.require("referral_id")))


def visitation_follow_up_due(event: IncomingEvent) -> list[Action]:
    day = as_date(event.require("follow_up_date"), "follow_up_date")
    temporary = " (§ 107: midlertidigt som udgangspunkt)" if event.get("temporary") else ""
    spec = TaskSpec(
        kind=TaskKind.VISITATION_FOLLOW_UP,
        title=f"Opfølgning på visitationen{temporary}",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day(day),
        description="Følg op på målene og på om indsatsen passer – kan borgeren gå et trin ned ad indsatstrappen?",
        links=(referral_link(event), visitation_follow_up_link(event)),
        pool=Pool(Role.VISITATION, None),
    )
    return [CreateOrReviseTask(spec, visitation_follow_up_link(event))]


def visitation_follow_up_held(event: IncomingEvent) -> list[Action]:
    return [CompleteLinkedTasks(visitation_follow_up_link(event), reason="Opfølgningen er holdt")]


DRIFT_REVIEW_WORKING_DAYS = 10  # visitation reassesses a drifting temporary stay within two working weeks


def temporary_stay_drifting(event: IncomingEvent) -> list[Action]:
    """A § 107 stay drifts: one task for visitation per stay and reason, ever (the business key), so a
    redelivery or a rescan adds nothing; it goes with the placement's other visitation tasks when it ends."""
    referral_id = str(event.require("referral_id"))
    reason = str(event.require("reason"))
    key = Link("stay-drift", f"{referral_id}:{reason}")
    why = (f"over den planlagte periode på {event.get('planned_years')} år" if reason == "past-planned-period"
           else f"{event.get('follow_ups_held')} opfølgninger uden plan for udflytning")
    spec = TaskSpec(
        kind=TaskKind.VISITATION_FOLLOW_UP,
        title=f"Midlertidigt ophold (§ 107) {why}: vurdér retningen",
        priority=Priority.ROUTINE,
        due_at=working_day_deadline(event.time, DRIFT_REVIEW_WORKING_DAYS),
        description="Midlertidigt som udgangspunkt: skal borgeren videre ned ad indsatstrappen, eller er opholdet "
                    "reelt blevet længerevarende (§ 108 eller § 85)? Følg op med borgeren og botilbuddet.",
        links=(referral_link(event), key),
        pool=Pool(Role.VISITATION, None),
    )
    return [CreateTask(spec, once_per=key)]


# ---------------------------------------------------------------- hospital notices


def notice_link(notice_id: Any) -> Link:
    return Link("hospital-notice", str(notice_id))


def _notice_links(event: IncomingEvent) -> tuple[Link, ...]:
    links = [notice_link(event.require("notice_id"))]
    if event.get("hospital_episode_id"):
        links.append(Link("hospital-episode", str(event.get("hospital_episode_id"))))
    return tuple(links)


def _where(event: IncomingEvent) -> str:
    parts = [p for p in (event.get("department"), event.get("sender_org")) if p]
    return ", ".join(parts) if parts else "ukendt afdeling"


def _known_at(event: IncomingEvent) -> datetime:
    """When the notice became known here: a notice arriving after what it reports is due from its arrival."""
    occurred = as_datetime(event.require("occurred_at"), "occurred_at")
    received = event.get("received_at")
    return max(occurred, as_datetime(received, "received_at")) if received else occurred


def hospital_notice_specs(event: IncomingEvent) -> tuple[TaskSpec, ...]:
    """The tasks one hospital notice asks for (used for registration and for corrections).

    Health folds the notice into the episode's true state and says in ``follow_up`` what it asks for:
    ``none`` (the stay is already over, or the notice is historic) creates no task; ``verify`` (a historic
    admission of an episode still open) a routine task to check with the ward. Death always tells the network."""
    kind = event.require("kind")
    occurred = _known_at(event)
    who = tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id)
    links = _notice_links(event)
    where = _where(event)
    follow_up = event.get("follow_up") or "usual"
    if kind != "death" and follow_up == "none":
        return ()
    if kind == "admission" and follow_up == "verify":
        dated = as_datetime(event.require("occurred_at"), "occurred_at").astimezone(_LOCAL)
        return (
            TaskSpec(
                kind=TaskKind.ACCOMPANY_ADMISSION,
                title=f"Gammel indlæggelsesadvis (dateret {dated:%d.%m.%Y}): afklar med afdelingen ({where})",
                priority=Priority.ROUTINE,
                due_at=end_of_local_day_after(occurred, 1),
                business_status="afklares",
                description="Advisen er dateret længe før, den kom. Afklar med afdelingen, om borgeren stadig er "
                            "indlagt, og bed hospitalet rette datoen (RE_), hvis den er forkert.",
                checklist=("Kontakt afdelingen", "Bed om en rettet advis, hvis datoen er forkert"),
                links=links,
                **who,
            ),
        )
    if kind == "admission":
        return (
            TaskSpec(
                kind=TaskKind.ACCOMPANY_ADMISSION,
                title=f"Indlagt: følg og besøg borgeren ({where})",
                priority=Priority.URGENT,
                due_at=end_of_local_day(occurred),
                business_status="indlagt",
                description="Borgeren er indlagt. Følg med eller besøg i dag, og hold øje med FMK under indlæggelsen.",
                checklist=("Kontakt afdelingen", "Besøg borgeren", "Tjek FMK for ændringer"),
                links=links,
                **who,
            ),
        )
    if kind == "discharge":
        return (
            TaskSpec(
                kind=TaskKind.DISCHARGE_FOLLOW_UP,
                title=f"Udskrevet: opfølgning på hjemkomst og medicin ({where})",
                priority=Priority.URGENT,
                due_at=end_of_local_day_after(occurred, 1),
                business_status="udskrevet",
                description="Borgeren er udskrevet. Følg op på hjemkomsten og på medicinændringer.",
                checklist=(
                    "Tal med borgeren om hjemkomsten",
                    "Tjek medicinændringer i FMK og afstem medicinen",
                    "Opdater indsatsplanen ved behov",
                ),
                links=links,
                **who,
            ),
        )
    if kind == "leave-started":
        return (
            TaskSpec(
                kind=TaskKind.HOSPITAL_LEAVE_CONTACT,
                title=f"Orlov fra indlæggelse: aftal kontakt ({where})",
                priority=Priority.ROUTINE,
                due_at=end_of_local_day(occurred),
                business_status="på orlov",
                links=links,
                **who,
            ),
        )
    if kind == "death":
        return (
            TaskSpec(
                kind=TaskKind.INFORM_NETWORK_OF_DEATH,
                title="Dødsfald: underret borgerens netværk",
                priority=Priority.URGENT,
                due_at=end_of_local_day(occurred),
                business_status="død",
                description="Hospitalet har meldt borgeren død. Underret netværket og pårørende efter aftale.",
                links=links,
                **who,
            ),
        )
    if kind == "leave-ended":
        return ()
    raise InvalidInput(f"Ukendt type hospitalsadvis: '{kind}'")


def hospital_notice_registered(event: IncomingEvent) -> list[Action]:
    link = notice_link(event.require("notice_id"))
    actions: list[Action] = []
    kind = event.require("kind")
    if kind == "death":
        actions.append(CancelCitizenTasks(reason="Borgeren er meldt død", cancelled_by=link))
    if kind == "leave-ended" and event.get("hospital_episode_id"):
        actions.append(
            WithdrawLinkedTasks(
                Link("hospital-episode", str(event.get("hospital_episode_id"))),
                reason="Orloven er afsluttet",
                kinds=frozenset({TaskKind.HOSPITAL_LEAVE_CONTACT}),
            )
        )
    actions.extend(_discharge_closes_the_stay(event))
    actions.extend(CreateTask(spec, once_per=link) for spec in hospital_notice_specs(event))
    return actions


def _discharge_closes_the_stay(event: IncomingEvent) -> list[Action]:
    """A discharge ends the stay: the episode's accompany and leave tasks are done — until the hospital
    cancels the discharge (AN_SLHJ): the stay goes on, and they open again."""
    if event.require("kind") != "discharge" or not event.get("hospital_episode_id"):
        return []
    return [CompleteLinkedTasks(
        Link("hospital-episode", str(event.get("hospital_episode_id"))),
        reason="Borgeren er udskrevet",
        kinds=frozenset({TaskKind.ACCOMPANY_ADMISSION, TaskKind.HOSPITAL_LEAVE_CONTACT}),
        closed_by=notice_link(event.require("notice_id")),
    )]


def hospital_notice_corrected(event: IncomingEvent) -> list[Action]:
    old = notice_link(event.require("corrects_notice_id"))
    new = notice_link(event.require("notice_id"))
    actions: list[Action] = [
        ReviseLinkedTasks(old, hospital_notice_specs(event), reason="Hospitalsadvisen er rettet"),
        *_discharge_closes_the_stay(event),
    ]
    if event.require("kind") == "death":
        actions.append(CancelCitizenTasks(reason="Borgeren er meldt død (rettet advis)", cancelled_by=new, keep=new))
    else:
        actions.append(ReopenTasksCancelledBy(old, reason="Dødsmeldingen er rettet"))
    return actions


def hospital_notice_cancelled(event: IncomingEvent) -> list[Action]:
    old = notice_link(event.require("cancels_notice_id"))
    return [
        WithdrawLinkedTasks(old, reason="Hospitalsadvisen er annulleret af afsenderen"),
        # A cancelled death notice reopens what it cancelled; a cancelled discharge what it closed.
        ReopenTasksCancelledBy(old, reason="Hospitalsadvisen er annulleret af afsenderen; opgaven er åben igen"),
    ]


# ---------------------------------------------------------------- plans


def owner_or_coordinators(assignee: str | None, botilbud_id: str | None) -> dict[str, Any]:
    return {"owner_sub": assignee} if assignee else coordinator_pool(botilbud_id)


def follow_up_link(event: IncomingEvent) -> Link:
    return Link("follow-up", f"{event.require('subject')}:{event.require('subject_id')}")


def follow_up_due(event: IncomingEvent) -> list[Action]:
    subject = event.require("subject")
    due_on = as_date(event.require("due_on"), "due_on")
    late_after = as_date(event.get("late_after") or due_on, "late_after")
    what = "Borgerens Plan" if subject == "plan" else "et mål i Borgerens Plan"
    key = follow_up_link(event)
    spec = TaskSpec(
        kind=TaskKind.PLAN_FOLLOW_UP,
        title=f"Opfølgning på {what} (planlagt {due_on.strftime('%d.%m.%Y')})",
        priority=Priority.ROUTINE,
        # Plans calls a follow-up late only after ``late_after``; the task agrees on when it is overdue.
        due_at=end_of_local_day(late_after),
        business_status="forfalden" if event.get("cadence") else None,
        description=f"Følg op sammen med borgeren. Kadence: {event.get('cadence') or 'ikke angivet'}.",
        links=(Link("plan", str(event.require("plan_id"))), key),
        **owner_or_coordinators(event.get("assignee"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


def follow_up_recorded(event: IncomingEvent) -> list[Action]:
    return [
        CompleteLinkedTasks(
            follow_up_link(event),
            reason="Opfølgningen er registreret i Borgerens Plan",
            kinds=frozenset({TaskKind.PLAN_FOLLOW_UP}),
        )
    ]


def learning_plan_link(event: IncomingEvent) -> Link:
    return Link("learning-plan", str(event.require("learning_plan_id")))


def learning_plan_due(event: IncomingEvent) -> list[Action]:
    key = learning_plan_link(event)
    spec = TaskSpec(
        kind=TaskKind.LEARNING_PLAN,
        title="Læringsplan efter episode (inden for 24 timer)",
        priority=Priority.URGENT,
        due_at=as_datetime(event.require("due_at"), "due_at"),
        description="Skriv læringsplanen sammen med borgeren; borgeren kan vælge, hvem der gør det.",
        links=(key,),
        **owner_or_coordinators(event.get("assignee"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


def learning_plan_completed(event: IncomingEvent) -> list[Action]:
    return [CompleteLinkedTasks(learning_plan_link(event), reason="Læringsplanen er skrevet")]


def network_meeting_link(event: IncomingEvent) -> Link:
    return Link("network-meeting", str(event.require("meeting_id")))


def _network_meeting_spec(event: IncomingEvent, *, business_status: str) -> TaskSpec:
    due_on = as_date(event.require("due_on"), "due_on")
    links = (network_meeting_link(event),)
    if event.get("plan_id"):
        links += (Link("plan", str(event.get("plan_id"))),)
    return TaskSpec(
        kind=TaskKind.NETWORK_MEETING,
        title=f"Borgeren har bedt om et netværksmøde – holdes senest {due_on.strftime('%d.%m.%Y')}",
        priority=Priority.ROUTINE,
        # Region Hovedstaden: held within 5 working days (plans counts them, Danish holidays included);
        # a late one escalates (``scheduling.ESCALATE_WHEN_LATE``).
        due_at=end_of_local_day(due_on),
        business_status=business_status,
        description="Borgeren har selv kaldt netværket sammen. Se grunden og hvem borgeren ønsker med under "
                    "Netværk i Borgerens Plan; sæt tidspunktet der, så borgeren kan se det.",
        checklist=("Aftal tid og sted med borgeren", "Inviter dem, borgeren ønsker med", "Luk mødet, når det er holdt"),
        links=links,
        **owner_or_coordinators(event.get("assignee"), event.botilbud_id),
    )


def network_meeting_requested(event: IncomingEvent) -> list[Action]:
    # One task per meeting, ever: the same request arriving again has no second effect.
    spec = _network_meeting_spec(event, business_status="ikke planlagt")
    return [CreateTask(spec, once_per=network_meeting_link(event))]


def network_meeting_scheduled(event: IncomingEvent) -> list[Action]:
    at = as_datetime(event.require("meeting_at"), "meeting_at")
    status = f"planlagt {local_date(at).strftime('%d.%m.%Y')}"
    return [ReviseLinkedTasks(network_meeting_link(event), (_network_meeting_spec(event, business_status=status),),
                              reason="Netværksmødet har fået en tid")]


def network_meeting_closed(event: IncomingEvent) -> list[Action]:
    if event.require("outcome") == "held":
        return [CompleteLinkedTasks(network_meeting_link(event), reason="Netværksmødet er holdt")]
    return [WithdrawLinkedTasks(network_meeting_link(event), reason="Netværksmødet er aflyst")]


_LA2_DA = {"red": "rød", "yellow": "gul", "green": "grøn"}


def safety_rating_changed(event: IncomingEvent) -> list[Action]:
    level = event.require("level")
    key = Link("la2", str(event.citizen_id))
    if level == "green":
        return [CompleteLinkedTasks(key, reason="Borgeren er vurderet grøn", kinds=frozenset({TaskKind.RISK_REASSESSMENT}))]
    reassess_at = event.get("reassess_at")
    if not reassess_at:
        return []
    checklist = ["Genvurder sammen og begrund farven", "Overlever ved vagtskifte"]
    if not event.get("citizen_told"):
        checklist.insert(0, f"Fortæl borgeren, at vedkommende er vurderet {_LA2_DA.get(level, level)}")
    spec = TaskSpec(
        kind=TaskKind.RISK_REASSESSMENT,
        title=f"Genvurder LA2 ({_LA2_DA.get(level, level)})",
        priority=Priority.URGENT if level == "red" else Priority.ROUTINE,
        due_at=as_datetime(reassess_at, "reassess_at"),
        business_status=_LA2_DA.get(level, level),
        checklist=tuple(checklist),
        links=(key, Link("safety-rating", str(event.require("rating_id")))),
        **coordinator_pool(event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key, reason="Ny LA2-vurdering")]


# ---------------------------------------------------------------- health: medication, health check, depot


def _reminders(event: IncomingEvent, field: str, label: str) -> tuple[t.Reminder, ...]:
    return tuple(t.Reminder(as_datetime(at, field), label) for at in event.get(field) or ())


def medication_alert(event: IncomingEvent) -> list[Action]:
    key = Link("medication-alert", str(event.require("alert_id")))
    raised = as_datetime(event.require("raised_at"), "raised_at")
    spec = TaskSpec(
        kind=TaskKind.MEDICATION_CHANGE,
        title="Medicinændring under indlæggelse: tjek FMK",
        priority=Priority.URGENT,
        due_at=end_of_local_day(raised),
        checklist=("Tjek ændringen i FMK", "Afstem medicinen på botilbuddet", "Tal med borgeren om ændringen"),
        links=(key, Link("medication-change", str(event.require("change_id"))))
        + tuple(Link("hospital-episode", str(e)) for e in event.get("hospital_episode_ids") or ()),
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


def medication_alert_acknowledged(event: IncomingEvent) -> list[Action]:
    return [CompleteLinkedTasks(Link("medication-alert", str(event.require("alert_id"))),
                                reason="Medicinadvarslen er kvitteret i sundhedsmodulet")]


def medication_changed(event: IncomingEvent) -> list[Action]:
    # Staff's own changes need no task, and changes during an admission arrive as a medication alert.
    if event.get("source") != "partner" or event.get("during_admission"):
        return []
    key = Link("medication-change", str(event.require("change_id")))
    org = event.get("changed_by_org") or "en samarbejdspartner"
    spec = TaskSpec(
        kind=TaskKind.MEDICATION_CHANGE,
        title=f"Medicinændring fra {org}: afstem medicinen",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day_after(as_datetime(event.require("changed_at"), "changed_at"), 1),
        checklist=("Tjek ændringen i FMK", "Afstem medicinen på botilbuddet"),
        links=(key,),
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


def health_check_link(event: IncomingEvent) -> Link:
    return Link("health-check", str(event.require("health_check_id")))


def health_check_scheduled(event: IncomingEvent) -> list[Action]:
    starts = as_datetime(event.require("starts_at"), "starts_at")
    key = health_check_link(event)
    spec = TaskSpec(
        kind=TaskKind.EXAMINATION_REMINDER,
        title=f"Sundhedstjek {starts.astimezone(_LOCAL).strftime('%d.%m.%Y kl. %H:%M')}: påmind og følg borgeren",
        priority=Priority.ROUTINE,
        due_at=starts,
        description="Påmind borgeren aftenen før og morgenen på dagen; sundhedstjekket er frivilligt.",
        reminders=_reminders(event, "reminders_at", "Påmind borgeren om sundhedstjekket"),
        links=(key,),
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key, reason="Sundhedstjekket er flyttet")]


_STEP_TITLES_DA = {
    "pre-assessment": "Forundersøgelse før sundhedstjek (7 temaer, borgerens egne ord)",
    "examination": "Undersøgelse før sundhedstjek (egen læge eller mobilt laboratorium)",
    "medication-reconciliation": "Medicinafstemning før sundhedstjek",
    "medication-review": "Medicingennemgang ved klinisk farmaceut før sundhedstjek",
}


def health_check_step_link(event: IncomingEvent) -> Link:
    return Link("health-check-step", f"{event.require('health_check_id')}:{event.require('step')}")


def health_check_step_due(event: IncomingEvent) -> list[Action]:
    step = event.require("step")
    role = event.get("assignee_role")
    if role in {r.value for r in (Role.NURSE_CONSULTANT, Role.COORDINATOR, Role.VISITATION)} and event.botilbud_id:
        who: dict[str, Any] = {"pool": Pool(Role(role), event.botilbud_id)}
    else:
        who = tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id)
    target = as_date(event.require("target"), "target")
    key = health_check_step_link(event)
    spec = TaskSpec(
        kind=TaskKind.HEALTH_CHECK_PREPARATION,
        title=_STEP_TITLES_DA.get(step, f"Forberedelse af sundhedstjek: {step}"),
        priority=Priority.ROUTINE,
        due_at=end_of_local_day(as_date(event.require("deadline"), "deadline")),
        description=f"Planlæg til {target.strftime('%d.%m.%Y')}; senest på fristen.",
        business_status=step,
        links=(key, health_check_link(event)),
        **who,
    )
    return [CreateOrReviseTask(spec, key)]


def health_check_step_completed(event: IncomingEvent) -> list[Action]:
    return [CompleteLinkedTasks(health_check_step_link(event), reason="Trinnet er registreret som udført")]


_CHECK_CANCEL_REASONS_DA = {
    "declined": "Borgeren har takket nej (sundhedstjekket er frivilligt)",
    "rescheduled": "Sundhedstjekket er flyttet",
    "deceased": "Borgeren er død",
    "other": "Sundhedstjekket er aflyst",
}


def health_check_cancelled(event: IncomingEvent) -> list[Action]:
    reason = _CHECK_CANCEL_REASONS_DA.get(event.get("reason") or "declined", _CHECK_CANCEL_REASONS_DA["other"])
    return [WithdrawLinkedTasks(health_check_link(event), reason=reason)]


def health_check_held(event: IncomingEvent) -> list[Action]:
    """The check was held: its reminder and any preparation still open are done, and the minutes are
    followed up. (Health sends this before the decisions, whose own tasks link the check too.)"""
    held = as_datetime(event.require("held_at"), "held_at")
    key = Link("health-check-follow-up", str(event.require("health_check_id")))
    spec = TaskSpec(
        kind=TaskKind.HEALTH_CHECK_FOLLOW_UP,
        title="Opfølgning på sundhedstjek",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day_after(held, 7),
        checklist=(
            "Opdater indsatsplanerne ud fra referatet",
            "Tjek at borgeren har forstået aftalerne",
            "Før medicinændringer ind i sundhedsmodulet",
        ),
        links=(key, health_check_link(event)),
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    closed = CompleteLinkedTasks(health_check_link(event), reason="Sundhedstjekket er holdt",
                                 kinds=frozenset({TaskKind.EXAMINATION_REMINDER, TaskKind.HEALTH_CHECK_PREPARATION}))
    return [closed, CreateOrReviseTask(spec, key)]


def health_check_watch(event: IncomingEvent) -> list[Action]:
    """A decision without a date ("hold øje med …") is watched: a routine task on its review date."""
    review_on = as_date(event.require("review_on"), "review_on")
    key = Link("health-check-decision", str(event.require("decision_id")))
    spec = TaskSpec(
        kind=TaskKind.HEALTH_CHECK_FOLLOW_UP,
        title=f"Hold øje: {event.require('title')} (revurderes {review_on.strftime('%d.%m.%Y')})",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day(review_on),
        business_status="hold øje",
        description="Aftalt ved sundhedstjekket uden en dato: se på det igen sammen med borgeren på revurderingsdagen.",
        links=(key, health_check_link(event)),
        **(
            {"owner_sub": event.get("responsible_sub")}
            if event.get("responsible_sub")
            else tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id)
        ),
    )
    return [CreateOrReviseTask(spec, key)]


def health_check_decision(event: IncomingEvent) -> list[Action]:
    if not event.get("due_at"):
        # Without a date: a "watch" task on the review date (older producers sent none: the plan only).
        return health_check_watch(event) if event.get("review_on") else []
    key = Link("health-check-decision", str(event.require("decision_id")))
    kind = TaskKind.EXAMINATION_REMINDER if event.get("kind") == "book-examination" else TaskKind.HEALTH_CHECK_FOLLOW_UP
    spec = TaskSpec(
        kind=kind,
        title=f"Aftale fra sundhedstjek: {event.require('title')}",
        priority=Priority.ROUTINE,
        due_at=as_datetime(event.require("due_at"), "due_at"),
        reminders=_reminders(event, "reminders_at", "Påmindelse: aftale fra sundhedstjekket"),
        links=(key, health_check_link(event)),
        **(
            {"owner_sub": event.get("responsible_sub")}
            if event.get("responsible_sub")
            else tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id)
        ),
    )
    return [CreateOrReviseTask(spec, key)]


_DOCUMENT_KINDS_DA = {
    "pharmacist-review": "medicingennemgang fra farmaceut",
    "lab-results": "blodprøvesvar",
    "psychiatrist-notes": "notat fra psykiater",
}


def partner_document_received(event: IncomingEvent) -> list[Action]:
    key = Link("partner-document", str(event.require("document_id")))
    what = _DOCUMENT_KINDS_DA.get(event.get("kind"), "dokument")
    links = (key,) + ((health_check_link(event),) if event.get("health_check_id") else ())
    spec = TaskSpec(
        kind=TaskKind.OTHER,
        title=f"Nyt {what} fra {event.get('sender_org') or 'samarbejdspartner'}: læs og del med borgeren",
        priority=Priority.ROUTINE,
        due_at=end_of_local_day_after(as_datetime(event.require("received_at"), "received_at"), 1),
        links=links,
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


_DEPOT_REASONS_DA = {"not-recorded": "ikke registreret", "refused": "borgeren sagde nej", "not-met": "borgeren blev ikke truffet"}


def depot_visit_missed(event: IncomingEvent) -> list[Action]:
    scheduled = as_datetime(event.require("scheduled_for"), "scheduled_for")
    key = Link("depot-visit", f"{event.require('schedule_id')}:{scheduled.isoformat()}")
    spec = TaskSpec(
        kind=TaskKind.DEPOT_VISIT_MISSED,
        title=f"Depotmedicin ikke givet ({_DEPOT_REASONS_DA.get(event.get('reason'), event.get('reason'))})",
        priority=Priority.URGENT,
        due_at=end_of_local_day(scheduled),
        checklist=("Kontakt borgeren", "Aftal nyt tidspunkt med retspsykiatrien"),
        links=(key, Link("depot-schedule", str(event.require("schedule_id")))),
        **tovholder_or_pool(event.get("tovholder_sub"), event.botilbud_id),
    )
    return [CreateOrReviseTask(spec, key)]


def tovholder_chosen(event: IncomingEvent) -> list[Action]:
    previous = event.get("previous_nurse_consultant_sub")
    new = event.require("nurse_consultant_sub")
    if not previous or previous == new:
        return []
    return [HandOverUnclaimedTasks(previous, new, reason="Borgeren har valgt en ny tovholder")]


# ---------------------------------------------------------------- unmatched hospital notices (no citizen yet)


_MEDCOM_DA = {"STAA": "akut indlæggelse", "STIN": "planlagt indlæggelse", "STOR": "orlov", "SLOR": "orlov slut",
              "SLHJ": "udskrivelse", "MORS": "dødsfald"}


def unmatched_notice_link(event: IncomingEvent) -> Link:
    return Link("unmatched-notice", str(event.require("unmatched_notice_id")))


def hospital_notice_parked(event: IncomingEvent) -> list[Action]:
    code = str(event.require("code"))
    what = _MEDCOM_DA.get(code.removeprefix("RE_").removeprefix("AN_"), code)
    received = as_datetime(event.get("received_at") or event.require("occurred_at"), "received_at")
    spec = TaskSpec(
        kind=TaskKind.UNMATCHED_HOSPITAL_NOTICE,
        title=f"Hospitalsadvis uden match ({what}, {event.get('sender_org') or 'ukendt afsender'}): find borgeren",
        priority=Priority.URGENT,
        due_at=end_of_local_day(received),
        description="CPR-nummeret matchede ingen kendt borger. Afklar i køen over advis uden match i sundhed.",
        links=(unmatched_notice_link(event),),
        pool=Pool(Role.VISITATION, None),
    )
    return [CreateTask(spec, once_per=unmatched_notice_link(event))]


_UNPARKED_DA = {"matched": "Borgeren er fundet, og advisen er koblet på", "rejected": "Advisen er afvist",
                "dismissed": "Advisen er lukket uden match"}


def hospital_notice_unparked(event: IncomingEvent) -> list[Action]:
    reason = _UNPARKED_DA.get(event.get("resolution"), "Advisen er afklaret")
    return [CompleteLinkedTasks(unmatched_notice_link(event), reason=reason)]


# ---------------------------------------------------------------- the table

RULES: tuple[Rule, ...] = (
    Rule(
        VISITATION_DECIDED,
        "Bevilget visitation → første netværksmøde i botilbuddets koordinatorpulje (venteliste: ved indflytning)",
        when=lambda e: e.get("decision") == "granted" and not e.get("waitlisted"),
        then=first_network_meeting,
    ),
    Rule(PLACEMENT_STARTED, "Indflytning → første netværksmøde regnes fra indflytningsdagen", then=placement_started),
    Rule(REFERRAL_WITHDRAWN, "Henvisning trukket tilbage → dens åbne opgaver trækkes tilbage", then=referral_withdrawn),
    Rule(PLACEMENT_ENDED, "Ophold afsluttet → netværksmøde og visitationsopfølgning trækkes tilbage",
         then=placement_ended),
    Rule(MOVE_OUT_PLANNED, "Udflytning planlagt → koordinatorerne forbereder overgangen og udslusningsbesøg",
         then=move_out_planned),
    Rule(VISITATION_FOLLOW_UP_DUE, "Opfølgning på visitation forfalder → opgave i visitationens pulje",
         then=visitation_follow_up_due),
    Rule(VISITATION_FOLLOW_UP_HELD, "Visitationsopfølgning holdt → opgaven er udført", then=visitation_follow_up_held),
    Rule(TEMPORARY_STAY_DRIFTING, "Midlertidigt ophold i drift → én opgave i visitationens pulje pr. ophold og årsag",
         then=temporary_stay_drifting),
    Rule(
        HOSPITAL_NOTICE_REGISTERED,
        "Indlæggelse → tovholder følger/besøger i dag; udskrivelse → opfølgning inkl. medicin; "
        "orlov → aftal kontakt; død → netværket underrettes og borgerens åbne opgaver lukkes",
        then=hospital_notice_registered,
    ),
    Rule(
        HOSPITAL_NOTICE_CORRECTED,
        "Rettet advis → opgaverne fra den oprindelige advis rettes (historikken bevares)",
        then=hospital_notice_corrected,
    ),
    Rule(
        HOSPITAL_NOTICE_CANCELLED,
        "Annulleret advis → opgaverne fra advisen trækkes tilbage (historikken bevares)",
        then=hospital_notice_cancelled,
    ),
    Rule(
        FOLLOW_UP_DUE,
        "Opfølgning forfalder → opgave til målets ejer (ellers koordinatorpuljen); én åben pr. plan/mål",
        then=follow_up_due,
    ),
    Rule(FOLLOW_UP_RECORDED, "Opfølgning registreret → opfølgningsopgaven er udført", then=follow_up_recorded),
    Rule(
        LEARNING_PLAN_DUE,
        "Episode → læringsplan inden for 24 timer (haster) til den valgte medarbejder",
        then=learning_plan_due,
    ),
    Rule(LEARNING_PLAN_COMPLETED, "Læringsplan skrevet → opgaven er udført", then=learning_plan_completed),
    Rule(NETWORK_MEETING_REQUESTED, "Borgeren kalder til netværksmøde → opgave til netværkskoordinatoren (ellers "
         "koordinatorpuljen), holdes inden for 5 arbejdsdage; et forsinket møde eskaleres",
         then=network_meeting_requested),
    Rule(NETWORK_MEETING_SCHEDULED, "Netværksmødet får en tid → opgavens status viser datoen",
         then=network_meeting_scheduled),
    Rule(NETWORK_MEETING_CLOSED, "Netværksmødet holdt → opgaven er udført; aflyst → opgaven trækkes tilbage",
         then=network_meeting_closed),
    Rule(MEDICATION_ALERT_RAISED, "Medicinændring under indlæggelse → tovholder tjekker FMK i dag (haster)",
         then=medication_alert),
    Rule(MEDICATION_ALERT_ACKNOWLEDGED, "Medicinadvarsel kvitteret → opgaven om at tjekke FMK er udført",
         then=medication_alert_acknowledged),
    Rule(MEDICATION_CHANGED, "Medicinændring fra en samarbejdspartner → tovholder afstemmer medicinen",
         then=medication_changed),
    Rule(HEALTH_CHECK_SCHEDULED, "Sundhedstjek planlagt → påmindelser aftenen før og morgenen på dagen",
         then=health_check_scheduled),
    Rule(HEALTH_CHECK_STEP_DUE, "Forberedelsestrin forfalder → opgave med fristen (forundersøgelse, medicinafstemning …)",
         then=health_check_step_due),
    Rule(HEALTH_CHECK_STEP_COMPLETED, "Trin udført → forberedelsesopgaven er udført", then=health_check_step_completed),
    Rule(HEALTH_CHECK_CANCELLED, "Sundhedstjek aflyst/afslået → dets åbne opgaver trækkes tilbage",
         then=health_check_cancelled),
    Rule(HEALTH_CHECK_DECLINED, "Borgeren takker nej → dets åbne opgaver trækkes tilbage (frivilligt)",
         then=lambda e: [WithdrawLinkedTasks(health_check_link(e), reason=_CHECK_CANCEL_REASONS_DA["declined"])]),
    Rule(HEALTH_CHECK_HELD, "Sundhedstjek holdt → påmindelse og forberedelse lukkes; opfølgning på referat, "
         "forståelse og medicin", then=health_check_held),
    Rule(HEALTH_CHECK_DECISION_RECORDED, "Beslutning med dato → opgave med påmindelser til den ansvarlige; "
         "uden dato → hold øje-opgave på revurderingsdagen",
         then=health_check_decision),
    Rule(PARTNER_DOCUMENT_RECEIVED, "Dokument fra samarbejdspartner → tovholder læser og deler med borgeren",
         then=partner_document_received),
    Rule(DEPOT_VISIT_MISSED, "Udeblevet depotbesøg → tovholder kontakter borgeren og retspsykiatrien i dag (haster)",
         then=depot_visit_missed),
    Rule(HOSPITAL_NOTICE_PARKED, "Hospitalsadvis uden kendt borger → visitationen finder borgeren i dag (haster)",
         then=hospital_notice_parked),
    Rule(HOSPITAL_NOTICE_UNPARKED, "Advis uden match afklaret (koblet, afvist, lukket) → opgaven er udført",
         then=hospital_notice_unparked),
    Rule(TOVHOLDER_CHOSEN, "Ny tovholder → ikke-tagne opgaver hos den tidligere tovholder flyttes",
         then=tovholder_chosen),
    Rule(
        SAFETY_RATING_CHANGED,
        "LA2 gul/rød med genvurderingstid → genvurdering i koordinatorpuljen; grøn → genvurderingen er udført",
        then=safety_rating_changed,
    ),
)


def rules_for(event_type: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.event_type == event_type)


def handled_event_types() -> frozenset[str]:
    return frozenset(rule.event_type for rule in RULES)


def evaluate(event: IncomingEvent) -> list[Action]:
    actions: list[Action] = []
    for rule in rules_for(event.event_type):
        if rule.when(event):
            actions.extend(rule.then(event))
    return actions


# ---------------------------------------------------------------- carrying the actions out


@dataclass(slots=True)
class Applied:
    created: list[Task] = field(default_factory=list)
    changed: list[Task] = field(default_factory=list)

    @property
    def touched(self) -> list[Task]:
        return self.created + self.changed


@dataclass(frozen=True, slots=True)
class TasksConcerned:
    """Which of a citizen's tasks a list of actions can see or change: those carrying one of ``links``,
    those cancelled by one of ``cancelled_by``, and, when ``active``, every task not yet done or
    cancelled. Over the years of a stay a citizen's tasks pile up (a burst of 6,000 notices left 70 per
    citizen, and loading them was a quarter of an event's cost); ``apply_actions`` over these gives the
    same result as over all of them, because every action picks its tasks by one of these three."""

    links: frozenset[str] = frozenset()
    cancelled_by: frozenset[str] = frozenset()
    active: bool = False

    @property
    def none(self) -> bool:
        return not (self.links or self.cancelled_by or self.active)

    def covers(self, task: Task) -> bool:
        return ((self.active and not task.status.is_final) or task.cancelled_by in self.cancelled_by
                or any(str(link) in self.links for link in task.links))


def tasks_concerned(actions: Sequence[Action]) -> TasksConcerned:
    links: set[str] = set()
    cancelled_by: set[str] = set()
    active = False
    for action in actions:
        if isinstance(action, CreateTask):
            if action.once_per is not None:
                links.add(str(action.once_per))
        elif isinstance(action, CreateOrReviseTask):
            links.add(str(action.key))
        elif isinstance(action, (CompleteLinkedTasks, WithdrawLinkedTasks, ReviseLinkedTasks)):
            links.add(str(action.link))
        elif isinstance(action, ReopenTasksCancelledBy):
            cancelled_by.add(str(action.cancelled_by))
        elif isinstance(action, (CancelCitizenTasks, HandOverUnclaimedTasks)):
            active = True
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {action!r}")
    return TasksConcerned(frozenset(links), frozenset(cancelled_by), active)


def apply_actions(
    actions: Sequence[Action],
    event: IncomingEvent,
    citizen_tasks: Iterable[Task],
    *,
    now: datetime,
    new_task_id: Callable[[], UUID],
) -> Applied:
    """Carry out ``actions`` over the citizen's existing tasks; returns what to insert and what to update."""
    originals: dict[UUID, Task] = {task.task_id: task for task in citizen_tasks}
    by_id: dict[UUID, Task] = dict(originals)
    created_ids: list[UUID] = []
    system = Actor.system()
    botilbud = event.botilbud_id
    source = f"{event.event_type} {event.event_id}"

    def create(spec: TaskSpec) -> None:
        task = t.new_task(
            spec,
            task_id=new_task_id(),
            citizen_id=as_uuid(event.citizen_id, "citizen_id") if event.citizen_id is not None else None,
            botilbud_id=botilbud,
            source_event_id=event.event_id,
            source_event_type=event.event_type,
            now=now,
        )
        if task.task_id in by_id:
            raise ValueError(f"task id {task.task_id} is already in use")
        by_id[task.task_id] = task
        created_ids.append(task.task_id)

    for action in actions:
        if isinstance(action, CreateTask):
            key = action.once_per
            if key is None or not any(x.kind == action.spec.kind and x.has_link(key) for x in by_id.values()):
                create(action.spec)
        elif isinstance(action, CreateOrReviseTask):
            active = [
                x for x in by_id.values()
                if x.kind == action.spec.kind and x.has_link(action.key) and not x.status.is_final
            ]
            if not active:
                create(action.spec)
            for task in active:
                spec = action.spec
                by_id[task.task_id] = t.revise(
                    task, system, now, action.reason,
                    title=spec.title, due_at=spec.due_at, priority=spec.priority, description=spec.description,
                    checklist=spec.checklist, business_status=spec.business_status,
                    links=task.links + tuple(link for link in spec.links if link not in task.links),
                )
        elif isinstance(action, CompleteLinkedTasks):
            for task in [x for x in by_id.values() if x.has_link(action.link) and not x.status.is_final]:
                if action.kinds is None or task.kind in action.kinds:
                    closed_by = str(action.closed_by) if action.closed_by is not None else None
                    by_id[task.task_id] = t.close_as_done(task, system, now, action.reason, closed_by=closed_by)
        elif isinstance(action, WithdrawLinkedTasks):
            for task in [x for x in by_id.values() if x.has_link(action.link)]:
                if action.kinds is not None and task.kind not in action.kinds:
                    continue
                if task.status.is_final:
                    by_id[task.task_id] = t.note(task, system, now, f"{action.reason} ({source})")
                else:
                    by_id[task.task_id] = t.cancel(task, system, now, action.reason, cancelled_by=str(action.link))
        elif isinstance(action, CancelCitizenTasks):
            for task in list(by_id.values()):
                if task.status.is_final or (action.keep is not None and task.has_link(action.keep)):
                    continue
                by_id[task.task_id] = t.cancel(
                    task, system, now, action.reason, cancelled_by=str(action.cancelled_by)
                )
        elif isinstance(action, HandOverUnclaimedTasks):
            for task in list(by_id.values()):
                if task.owner_sub == action.from_sub and task.status is t.TaskStatus.OPEN:
                    by_id[task.task_id] = t.reassign(
                        task, system, now, owner_sub=action.to_sub, pool=task.pool, note=action.reason
                    )
        elif isinstance(action, ReopenTasksCancelledBy):
            for task in [x for x in by_id.values() if x.cancelled_by == str(action.cancelled_by)]:
                closed = task.status in (t.TaskStatus.CANCELLED, t.TaskStatus.DONE)
                if closed and not task.has_link(action.cancelled_by):
                    by_id[task.task_id] = t.reopen(task, system, now, action.reason)
        elif isinstance(action, ReviseLinkedTasks):
            linked = [x for x in by_id.values() if x.has_link(action.link)]
            wanted = {spec.kind: spec for spec in action.replacement}
            for task in linked:
                spec = wanted.get(task.kind)
                if spec is None:
                    if task.status.is_final:
                        by_id[task.task_id] = t.note(task, system, now, f"{action.reason} ({source})")
                    else:
                        by_id[task.task_id] = t.cancel(task, system, now, action.reason, cancelled_by=str(action.link))
                    continue
                merged_links = task.links + tuple(link for link in spec.links if link not in task.links)
                revised = t.revise(
                    task,
                    system,
                    now,
                    action.reason,
                    title=spec.title,
                    due_at=spec.due_at,
                    priority=spec.priority,
                    description=spec.description,
                    checklist=spec.checklist,
                    business_status=spec.business_status,
                    links=merged_links,
                )
                by_id[task.task_id] = revised
            existing_kinds = {task.kind for task in linked}
            for kind, spec in wanted.items():
                if kind not in existing_kinds:
                    create(spec)
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {action!r}")

    applied = Applied()
    for task_id, task in by_id.items():
        if task_id in created_ids:
            applied.created.append(task)
        elif originals[task_id] is not task:
            applied.changed.append(task)
    return applied
