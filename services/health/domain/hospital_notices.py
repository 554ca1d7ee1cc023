"""Hospital notices (MedCom hospital notification) and what they mean for the citizen.

Codes: ``STAA``/``STIN`` admission started (acute/planned), ``STOR`` leave started, ``SLOR`` leave ended,
``SLHJ`` discharged, ``MORS`` death. ``RE_<code>`` corrects and ``AN_<code>`` cancels the earlier notice
named in ``replaces_message_id`` (required for those, forbidden otherwise). See the external contract
``/work/shared/spec/INTEGRATION.md`` section 1.

Ordering rule: notices may arrive out of order, so a citizen's admission state is a fold over the
*effective* notices (not cancelled, corrections in place of what they correct) sorted by
``occurred_at``, not by arrival. A missing predecessor is tolerated (a discharge for an admission we
never heard of, e.g. from before the citizen was known); a *contradiction* between dates is rejected
(a leave after the discharge, a discharge before the admission, anything after the death).

What a notice asks of the tovholder follows from the episode's *true* state after the fold, not from
the notice alone (``notice_outcome``): an admission whose stay is already over (its discharge arrived
first) asks for nothing; a notice dated long before it arrived (``HISTORIC_AFTER``, e.g. 1970) is
recorded with a note but asks for no urgent work and does not by itself keep the citizen shown as
admitted; an episode whose admission the hospital cancelled is not open on its leave notices alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Iterable, Sequence
from uuid import UUID

from services.health.domain.errors import NoticeConflict, NoticeInvalid
from tovholder import clock

# Hospital notices need no consent: the municipality may receive them under this provision.
LEGAL_BASIS = "retssikkerhedsloven § 12 c"

DANISH_TIME = clock.COPENHAGEN

# Clocks at hospitals and here differ a little; a notice "from the future" by less than this is fine.
CLOCK_SKEW = timedelta(minutes=5)

MAX_TEXT_LENGTH = 200

# INFERRED: MedCom hospital notifications are sent within minutes of the event. A notice that arrives
# more than this after what it reports is historic (a backlog, a resend, a default date such as 1970):
# it is recorded and shown, but one cannot accompany an admission that long ago.
HISTORIC_AFTER = timedelta(days=30)


class BaseCode(StrEnum):
    STAA = "STAA"  # admission started, acute
    STIN = "STIN"  # admission started, planned
    STOR = "STOR"  # leave started
    SLOR = "SLOR"  # leave ended
    SLHJ = "SLHJ"  # discharged
    MORS = "MORS"  # death


class NoticeKind(StrEnum):
    ADMISSION = "admission"
    LEAVE_STARTED = "leave-started"
    LEAVE_ENDED = "leave-ended"
    DISCHARGE = "discharge"
    DEATH = "death"


KIND_OF_CODE: dict[BaseCode, NoticeKind] = {
    BaseCode.STAA: NoticeKind.ADMISSION,
    BaseCode.STIN: NoticeKind.ADMISSION,
    BaseCode.STOR: NoticeKind.LEAVE_STARTED,
    BaseCode.SLOR: NoticeKind.LEAVE_ENDED,
    BaseCode.SLHJ: NoticeKind.DISCHARGE,
    BaseCode.MORS: NoticeKind.DEATH,
}

# Tie-break for notices with the same occurred_at: the natural order inside one hospital stay.
_KIND_RANK = {
    NoticeKind.ADMISSION: 0,
    NoticeKind.LEAVE_STARTED: 1,
    NoticeKind.LEAVE_ENDED: 2,
    NoticeKind.DISCHARGE: 3,
    NoticeKind.DEATH: 4,
}


class NoticeAction(StrEnum):
    NEW = "new"
    CORRECT = "correct"  # RE_<code>
    CANCEL = "cancel"  # AN_<code>


_PREFIX_ACTION = {"RE_": NoticeAction.CORRECT, "AN_": NoticeAction.CANCEL}


@dataclass(frozen=True)
class NoticeCode:
    action: NoticeAction
    base: BaseCode

    @property
    def kind(self) -> NoticeKind:
        return KIND_OF_CODE[self.base]

    @property
    def acute(self) -> bool:
        return self.base is BaseCode.STAA

    def __str__(self) -> str:
        prefix = {NoticeAction.NEW: "", NoticeAction.CORRECT: "RE_", NoticeAction.CANCEL: "AN_"}[self.action]
        return f"{prefix}{self.base.value}"


def parse_code(raw: str) -> NoticeCode:
    """``"RE_STIN"`` → correct a STIN. Codes are case-sensitive as in MedCom."""
    if not isinstance(raw, str) or not raw:
        raise NoticeInvalid("code is missing; expected one of STAA, STIN, STOR, SLOR, SLHJ, MORS, optionally prefixed RE_ or AN_")
    action, base = NoticeAction.NEW, raw
    for prefix, prefixed_action in _PREFIX_ACTION.items():
        if raw.startswith(prefix):
            action, base = prefixed_action, raw[len(prefix):]
            break
    try:
        return NoticeCode(action, BaseCode(base))
    except ValueError:
        raise NoticeInvalid(
            f"unknown code {raw!r}; expected one of STAA, STIN, STOR, SLOR, SLHJ, MORS, "
            "or RE_<code> to correct / AN_<code> to cancel an earlier notice"
        ) from None


@dataclass(frozen=True)
class IncomingNotice:
    """A hospital notification that passed the checks that need no history."""

    message_id: UUID
    sent_at: datetime
    sender_org: str
    code: NoticeCode
    hospital_episode_id: str
    department: str
    occurred_at: datetime
    replaces_message_id: UUID | None

    @property
    def kind(self) -> NoticeKind:
        return self.code.kind


def _required_text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise NoticeInvalid(f"{field} is missing")
    if len(text) > MAX_TEXT_LENGTH:
        raise NoticeInvalid(f"{field} is longer than {MAX_TEXT_LENGTH} characters")
    return text


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NoticeInvalid(f"{field} has no time zone offset; send e.g. 2026-11-22T09:41:00+01:00")
    return value


def validate_incoming(
    *,
    message_id: UUID,
    sent_at: datetime,
    sender_org: str,
    code: str,
    hospital_episode_id: str,
    department: str,
    occurred_at: datetime,
    replaces_message_id: UUID | None,
    received_at: datetime,
) -> IncomingNotice:
    """Checks one message on its own: code, replaces_message_id, text fields and date order.

    Raises ``NoticeInvalid`` (422) with a reason the sender's developer can act on.
    """
    parsed = parse_code(code)
    if parsed.action is NoticeAction.NEW and replaces_message_id is not None:
        raise NoticeInvalid(
            f"replaces_message_id must be null for {parsed}; use RE_{parsed.base} to correct "
            f"or AN_{parsed.base} to cancel the earlier notice"
        )
    if parsed.action is not NoticeAction.NEW and replaces_message_id is None:
        raise NoticeInvalid(f"{parsed} needs replaces_message_id: the message_id of the notice it {parsed.action.value}s")
    if replaces_message_id is not None and replaces_message_id == message_id:
        raise NoticeInvalid("replaces_message_id names this message itself")
    sent_at = _aware(sent_at, "sent_at")
    occurred_at = _aware(occurred_at, "occurred_at")
    if occurred_at > sent_at + CLOCK_SKEW:
        raise NoticeInvalid(
            f"dates are in the wrong order: occurred_at {occurred_at.isoformat()} is after "
            f"sent_at {sent_at.isoformat()}"
        )
    if sent_at > received_at + CLOCK_SKEW:
        raise NoticeInvalid(
            f"sent_at {sent_at.isoformat()} is in the future (received {received_at.isoformat()}); check the sender's clock"
        )
    return IncomingNotice(
        message_id=message_id,
        sent_at=sent_at,
        sender_org=_required_text(sender_org, "sender.org"),
        code=parsed,
        hospital_episode_id=_required_text(hospital_episode_id, "hospital_episode_id"),
        department=_required_text(department, "department"),
        occurred_at=occurred_at,
        replaces_message_id=replaces_message_id,
    )


class NoticeStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"  # a later RE_ notice took its place
    CANCELLED = "cancelled"  # withdrawn by an AN_ notice (kept for history)


@dataclass(frozen=True)
class NoticeRecord:
    """A notice already on the citizen's timeline (new notices and corrections; cancellations only
    change the status of what they cancel)."""

    notice_id: UUID
    message_id: UUID
    code: BaseCode
    hospital_episode_id: str
    occurred_at: datetime
    status: NoticeStatus = NoticeStatus.ACTIVE
    replaced_by_message_id: UUID | None = None
    received_at: datetime | None = None  # None: not known (counted as timely)

    @property
    def kind(self) -> NoticeKind:
        return KIND_OF_CODE[self.code]

    @property
    def effective(self) -> bool:
        return self.status is NoticeStatus.ACTIVE

    @property
    def historic(self) -> bool:
        return self.received_at is not None and is_historic(self.occurred_at, self.received_at)


def is_historic(occurred_at: datetime, received_at: datetime) -> bool:
    """The notice reports something long before it arrived (see ``HISTORIC_AFTER``)."""
    return occurred_at < received_at - HISTORIC_AFTER


# --- the fold -----------------------------------------------------------------------------------


class EpisodeState(StrEnum):
    ADMITTED = "admitted"
    ON_LEAVE = "on-leave"
    DISCHARGED = "discharged"
    DECEASED = "deceased"


class AdmissionState(StrEnum):
    """The citizen's state across all hospital episodes."""

    NOT_ADMITTED = "not-admitted"
    ADMITTED = "admitted"
    ON_LEAVE = "on-leave"  # admitted, but home on leave in every open episode
    DECEASED = "deceased"


@dataclass(frozen=True)
class CitizenAdmission:
    state: AdmissionState
    open_episodes: tuple[str, ...] = ()
    since: datetime | None = None

    @property
    def in_hospital_care(self) -> bool:
        """Admitted or on leave: the hospital is responsible for the medication."""
        return self.state in (AdmissionState.ADMITTED, AdmissionState.ON_LEAVE)


@dataclass(frozen=True)
class _Step:
    code: BaseCode
    episode: str
    occurred_at: datetime
    is_candidate: bool = False

    @property
    def kind(self) -> NoticeKind:
        return KIND_OF_CODE[self.code]


def _sorted(steps: Iterable[_Step]) -> list[_Step]:
    return sorted(steps, key=lambda s: (s.occurred_at, _KIND_RANK[s.kind]))


def _describe(step: _Step) -> str:
    return f"{step.code} at {step.occurred_at.isoformat()} in episode {step.episode}"


def _fold(steps: Sequence[_Step]) -> tuple[dict[str, tuple[EpisodeState, datetime]], tuple[_Step, ...] | None]:
    """Folds sorted steps into episode states. Returns the states and, when two notices contradict
    each other, the pair ``(earlier, later)`` that does."""
    episodes: dict[str, tuple[EpisodeState, datetime]] = {}
    last_in_episode: dict[str, _Step] = {}
    death: _Step | None = None
    for step in steps:
        if death is not None:
            return episodes, (death, step)
        current = episodes.get(step.episode)
        state = current[0] if current else None
        earlier = last_in_episode.get(step.episode)
        kind = step.kind
        if kind is NoticeKind.DEATH:
            death = step
            new_state = EpisodeState.DECEASED
        elif state is EpisodeState.DISCHARGED:
            return episodes, (earlier, step)  # nothing happens in an episode after its discharge
        elif kind is NoticeKind.ADMISSION:
            if state is not None:
                return episodes, (earlier, step)  # a second admission in the same episode
            new_state = EpisodeState.ADMITTED
        elif kind is NoticeKind.LEAVE_STARTED:
            if state is EpisodeState.ON_LEAVE:
                return episodes, (earlier, step)
            new_state = EpisodeState.ON_LEAVE
        elif kind is NoticeKind.LEAVE_ENDED:
            # Tolerated without a known leave start (it may have been lost or not yet arrived).
            new_state = EpisodeState.ADMITTED
        else:  # discharge, also straight from a leave
            new_state = EpisodeState.DISCHARGED
        # ``since``: when the episode began (its first notice), or the time of death.
        since = step.occurred_at if current is None or kind is NoticeKind.DEATH else current[1]
        episodes[step.episode] = (new_state, since)
        last_in_episode[step.episode] = step
    return episodes, None


def _steps_from(records: Iterable[NoticeRecord]) -> list[_Step]:
    return [_Step(r.code, r.hospital_episode_id, r.occurred_at) for r in records if r.effective]


def _conflict_reason(pair: tuple[_Step, ...]) -> str:
    earlier, later = pair
    if earlier.kind is NoticeKind.DEATH:
        return f"dates are in the wrong order: {_describe(later)} is after the recorded death ({_describe(earlier)})"
    if earlier.kind is later.kind:
        what = {
            NoticeKind.ADMISSION: "the episode already has an admission",
            NoticeKind.LEAVE_STARTED: "a leave is already in progress",
            NoticeKind.DISCHARGE: "the episode is already discharged",
        }.get(later.kind, "the same notice is already registered")
        return f"{what} ({_describe(earlier)}); send RE_{later.code} with replaces_message_id to correct it"
    return f"dates are in the wrong order: {_describe(later)} comes after {_describe(earlier)}"


def check_sequence(existing: Sequence[NoticeRecord], candidate: _Step | None = None, *, without: UUID | None = None) -> None:
    steps = _steps_from(r for r in existing if r.message_id != without)
    if candidate is not None:
        steps.append(candidate)
    _, contradiction = _fold(_sorted(steps))
    if contradiction is None:
        return
    if candidate is not None and not any(s.is_candidate for s in contradiction):
        # Earlier history already contradicts itself (e.g. before this rule existed): do not block new notices on it.
        return
    first, second = contradiction
    if first.is_candidate and not second.is_candidate:
        # The candidate sorts before a registered notice; word the reason from the candidate's side.
        if first.kind is second.kind:
            raise NoticeConflict(_conflict_reason((second, first)))
        raise NoticeConflict(
            f"dates are in the wrong order: {_describe(first)} comes before {_describe(second)}, which is already registered"
        )
    raise NoticeConflict(_conflict_reason(contradiction))


def _open_episodes(records: Sequence[NoticeRecord], at: datetime | None) -> dict[str, tuple[EpisodeState, datetime]]:
    """The episodes the notices (up to ``at``) show as open, admitted or on leave. An episode is not open
    on the word of historic notices alone, nor on leave notices once its admission was cancelled."""
    known = [r for r in records if at is None or r.occurred_at <= at]
    episodes, _ = _fold(_sorted(_steps_from(known)))
    effective = [r for r in known if r.effective]
    timely = {r.hospital_episode_id for r in effective if not r.historic}
    admitted = {r.hospital_episode_id for r in effective if r.kind is NoticeKind.ADMISSION}
    admission_cancelled = {r.hospital_episode_id for r in known
                           if r.status is NoticeStatus.CANCELLED and r.kind is NoticeKind.ADMISSION} - admitted
    return {e: v for e, v in episodes.items()
            if v[0] in (EpisodeState.ADMITTED, EpisodeState.ON_LEAVE) and e in timely and e not in admission_cancelled}


def admission_state(records: Sequence[NoticeRecord], at: datetime | None = None) -> CitizenAdmission:
    """The citizen's admission state at ``at`` (default: after every effective notice)."""
    steps = [s for s in _steps_from(records) if at is None or s.occurred_at <= at]
    episodes, _ = _fold(_sorted(steps))
    if any(state is EpisodeState.DECEASED for state, _ in episodes.values()):
        since = max(t for state, t in episodes.values() if state is EpisodeState.DECEASED)
        return CitizenAdmission(AdmissionState.DECEASED, since=since)
    open_episodes = _open_episodes(records, at)
    if not open_episodes:
        return CitizenAdmission(AdmissionState.NOT_ADMITTED)
    state = (
        AdmissionState.ON_LEAVE
        if all(s is EpisodeState.ON_LEAVE for s, _ in open_episodes.values())
        else AdmissionState.ADMITTED
    )
    return CitizenAdmission(state, tuple(sorted(open_episodes)), since=min(t for _, t in open_episodes.values()))


def episode_state(records: Sequence[NoticeRecord], episode: str) -> EpisodeState | None:
    """One episode's state after every effective notice (None: no effective notice in it)."""
    episodes, _ = _fold(_sorted(_steps_from(records)))
    state = episodes.get(episode)
    return state[0] if state else None


def _deceased(records: Sequence[NoticeRecord]) -> bool:
    episodes, _ = _fold(_sorted(_steps_from(records)))
    return any(s is EpisodeState.DECEASED for s, _ in episodes.values())


# --- deciding what a new message does -------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDecision:
    action: NoticeAction
    kind: NoticeKind
    replaces: NoticeRecord | None  # the notice corrected or cancelled


def decide(incoming: IncomingNotice, history: Sequence[NoticeRecord]) -> NoticeDecision:
    """What ``incoming`` does given the citizen's notice ``history`` (all statuses).

    Raises ``NoticeConflict`` (409) for a correction/cancellation of an unknown, already replaced or
    cancelled notice, a correction that changes the kind of notice, and dates that contradict the
    citizen's other notices.
    """
    candidate = _Step(incoming.code.base, incoming.hospital_episode_id, incoming.occurred_at, is_candidate=True)
    if incoming.code.action is NoticeAction.NEW:
        check_sequence(history, candidate)
        return NoticeDecision(NoticeAction.NEW, incoming.kind, None)

    target = next((r for r in history if r.message_id == incoming.replaces_message_id), None)
    verb = "correct" if incoming.code.action is NoticeAction.CORRECT else "cancel"
    if target is None:
        raise NoticeConflict(
            f"{incoming.code} names replaces_message_id {incoming.replaces_message_id}, which is not a notice "
            "Tovholder has received for this person; nothing to " + verb
        )
    if target.status is NoticeStatus.CANCELLED:
        raise NoticeConflict(f"the notice {target.message_id} was already cancelled; it cannot be {verb}ed")
    if target.status is NoticeStatus.SUPERSEDED:
        raise NoticeConflict(
            f"the notice {target.message_id} was already corrected by message {target.replaced_by_message_id}; "
            f"send replaces_message_id={target.replaced_by_message_id} instead"
        )
    if target.kind is not incoming.kind:
        raise NoticeConflict(
            f"{incoming.code} cannot {verb} a {target.code} notice (a different kind of event); "
            f"cancel it with AN_{target.code} and send a new notice"
        )
    if incoming.code.action is NoticeAction.CORRECT:
        check_sequence(history, candidate, without=target.message_id)
    return NoticeDecision(incoming.code.action, incoming.kind, target)


def apply(decision: NoticeDecision, incoming: IncomingNotice, notice_id: UUID, history: Sequence[NoticeRecord], *,
          received_at: datetime | None = None) -> list[NoticeRecord]:
    """The citizen's notice history after ``decision`` (nothing is deleted: replaced notices keep a status)."""
    updated = []
    for record in history:
        if decision.replaces is not None and record.message_id == decision.replaces.message_id:
            status = NoticeStatus.SUPERSEDED if decision.action is NoticeAction.CORRECT else NoticeStatus.CANCELLED
            record = replace(record, status=status, replaced_by_message_id=incoming.message_id)
        updated.append(record)
    if decision.action is not NoticeAction.CANCEL:
        updated.append(
            NoticeRecord(notice_id, incoming.message_id, incoming.code.base, incoming.hospital_episode_id, incoming.occurred_at,
                         received_at=received_at)
        )
    return updated


# --- matching a parked notice to a citizen by hand -----------------------------------------------

MIN_OVERRIDE_REASON = 10


@dataclass(frozen=True)
class MatchDecision:
    override: bool  # the CPRs differ and staff attach the notice anyway, with ``reason``
    reason: str | None = None


def may_match(*, notice_cpr_hash: str, citizen_cpr_hash: str, override_reason: str | None) -> MatchDecision:
    """A parked notice belongs to the citizen whose CPR it names. Attaching it to a citizen with another
    CPR (the hospital mistyped it) needs an explicit override with a reason, which is audited."""
    reason = (override_reason or "").strip()
    if notice_cpr_hash == citizen_cpr_hash:
        return MatchDecision(override=False)
    if len(reason) < MIN_OVERRIDE_REASON:
        raise NoticeConflict(
            "CPR-nummeret på advisen er ikke borgerens. Vælg den rigtige borger, eller knyt advisen til borgeren alligevel "
            f"med en begrundelse (mindst {MIN_OVERRIDE_REASON} tegn, fx hvordan det er afklaret med hospitalet); "
            "begrundelsen logges."
        )
    return MatchDecision(override=True, reason=reason[:500])


# --- follow-up implied by a notice ---------------------------------------------------------------


class FollowUpKind(StrEnum):
    ACCOMPANY_ADMISSION = "accompany-admission"
    FOLLOW_UP_DISCHARGE = "follow-up-discharge"
    NOTIFY_NETWORK_OF_DEATH = "notify-network-of-death"
    VERIFY_HISTORIC_ADMISSION = "verify-historic-admission"


@dataclass(frozen=True)
class FollowUp:
    kind: FollowUpKind
    title: str  # Danish: staff read it
    due_at: datetime
    escalate_if_unclaimed_after: timedelta | None = None
    check_medication_changes: bool = False
    close_open_tasks: bool = False


# INFERRED: the nurse consultant works weekdays 8–16 and is reachable at weekends about admissions
# ([4]:7403-7407): an admission is due the same day and escalates soon; a discharge the next working day.
ADMISSION_ESCALATION = timedelta(hours=1)
WORKDAY_END = time(16, 0)


def _end_of_local_day(moment: datetime) -> datetime:
    return clock.local(clock.end_of_local_day(moment))


def _next_working_day_end(moment: datetime) -> datetime:
    """16:00 on the next working day (weekends, helligdage and the offices' closing days skipped)."""
    return clock.local(clock.working_day_deadline(moment, 1, at=WORKDAY_END))


def follow_ups_for(kind: NoticeKind, *, occurred_at: datetime, received_at: datetime, acute: bool = False) -> tuple[FollowUp, ...]:
    """The work a notice usually implies for the tovholder (the notifications service turns it into tasks).
    ``notice_outcome`` decides whether the episode's true state still asks for it."""
    known_at = max(occurred_at, received_at)
    if kind is NoticeKind.ADMISSION:
        title = "Akut indlæggelse: følg eller besøg borgeren" if acute else "Indlæggelse: følg eller besøg borgeren"
        return (
            FollowUp(
                FollowUpKind.ACCOMPANY_ADMISSION,
                title + "; hold øje med medicinændringer i FMK",
                due_at=_end_of_local_day(known_at),
                escalate_if_unclaimed_after=ADMISSION_ESCALATION,
            ),
        )
    if kind is NoticeKind.DISCHARGE:
        return (
            FollowUp(
                FollowUpKind.FOLLOW_UP_DISCHARGE,
                "Udskrevet: følg op på hjemkomsten og på medicinændringer i FMK",
                due_at=_next_working_day_end(known_at),
                check_medication_changes=True,
            ),
        )
    if kind is NoticeKind.DEATH:
        return (
            FollowUp(
                FollowUpKind.NOTIFY_NETWORK_OF_DEATH,
                "Borgeren er død: underret netværket",
                due_at=_end_of_local_day(known_at),
                close_open_tasks=True,
            ),
        )
    return ()  # leaves only appear on the timeline


class FollowUpWanted(StrEnum):
    """What the notice asks of the tovholder, given the episode's true state (carried in the event)."""

    USUAL = "usual"  # the notice's own follow-up (``follow_ups_for``)
    NONE = "none"  # the stay is already over, or the notice is historic: recorded, no task
    VERIFY = "verify"  # historic admission of an episode still open: check with the ward (routine)


@dataclass(frozen=True)
class NoticeOutcome:
    episode_state: EpisodeState | None  # the episode's state after every effective notice
    historic: bool
    follow_up: FollowUpWanted
    follow_ups: tuple[FollowUp, ...]
    note: str | None = None  # Danish, for the timeline: why the notice asks for less than usual


_OPEN = (EpisodeState.ADMITTED, EpisodeState.ON_LEAVE)


def notice_outcome(kind: NoticeKind, episode: str, history_after: Sequence[NoticeRecord], *, occurred_at: datetime,
                   received_at: datetime, acute: bool = False) -> NoticeOutcome:
    """What a new or corrected notice asks of the tovholder once it is applied to ``history_after``.

    - a death always tells the network;
    - a historic notice (``HISTORIC_AFTER``) asks for no urgent work; an admission whose episode is still
      open asks the tovholder to check with the ward by the next working day;
    - an admission or a leave whose stay is already over (a later discharge, a death) asks for nothing;
      a leave that has already ended neither;
    - otherwise the notice's usual follow-up.
    """
    state = episode_state(history_after, episode)
    historic = is_historic(occurred_at, received_at)
    usual = follow_ups_for(kind, occurred_at=occurred_at, received_at=received_at, acute=acute)
    when = f"{clock.local(occurred_at):%d.%m.%Y}"
    if kind is NoticeKind.DEATH:
        return NoticeOutcome(state, historic, FollowUpWanted.USUAL, usual)
    if historic:
        if kind is NoticeKind.ADMISSION and state in _OPEN and not _deceased(history_after):
            verify = FollowUp(FollowUpKind.VERIFY_HISTORIC_ADMISSION,
                              f"Gammel indlæggelsesadvis (dateret {when}): afklar med afdelingen, om borgeren er indlagt",
                              due_at=_next_working_day_end(received_at))
            return NoticeOutcome(state, True, FollowUpWanted.VERIFY, (verify,),
                                 note=f"historisk advis, dateret {when}: ingen akut opgave – afklar med afdelingen")
        return NoticeOutcome(state, True, FollowUpWanted.NONE, (),
                             note=f"historisk advis, dateret {when}: registreret uden opgave")
    over = state in (EpisodeState.DISCHARGED, EpisodeState.DECEASED) or _deceased(history_after)
    if kind is NoticeKind.ADMISSION and over:
        return NoticeOutcome(state, False, FollowUpWanted.NONE, (),
                             note="opholdet er allerede afsluttet: ingen opgave om at følge indlæggelsen")
    if kind is NoticeKind.LEAVE_STARTED and (over or state is not EpisodeState.ON_LEAVE):
        return NoticeOutcome(state, False, FollowUpWanted.NONE, (), note="orloven er allerede afsluttet")
    return NoticeOutcome(state, False, FollowUpWanted.USUAL, usual)


# ---------------------------------------------------------------------------- the health timeline

KIND_WORDS = {
    NoticeKind.ADMISSION: "Indlagt",
    NoticeKind.LEAVE_STARTED: "På orlov fra hospitalet",
    NoticeKind.LEAVE_ENDED: "Tilbage fra orlov",
    NoticeKind.DISCHARGE: "Udskrevet",
    NoticeKind.DEATH: "Død",
}

# The receipt's reason when a correction or cancellation names another person's notice.
OTHER_PERSON = (
    "replaces_message_id {} is a notice about another person; a correction cannot move a notice to another "
    "CPR: cancel it (AN_) and send a new notice for the right person"
)


def timeline_text(action: NoticeAction, incoming: IncomingNotice, *, received_at: datetime,
                  replaced_occurred_at: datetime | None = None, outcome: NoticeOutcome | None = None) -> str:
    """The notice's line on the citizen's health timeline (Danish, at most 500 characters): what happened
    and, unless it is a cancellation, what it asks of the tovholder (notifications makes the task)."""
    if action is NoticeAction.CANCEL:
        return f"Annulleret af hospitalet ({incoming.code}): advisen fra {clock.local(replaced_occurred_at):%d.%m.%Y %H:%M}"[:500]
    if action is NoticeAction.NEW:
        what = f"{KIND_WORDS[incoming.kind]} ({incoming.code}), {incoming.department}"
    else:
        what = f"Rettelse ({incoming.code}): {KIND_WORDS[incoming.kind].lower()}, {incoming.department}"
    if outcome is None:
        follow_ups = follow_ups_for(incoming.kind, occurred_at=incoming.occurred_at, received_at=received_at,
                                    acute=incoming.code.acute)
    else:
        follow_ups = outcome.follow_ups
        if outcome.note:
            what += f" — {outcome.note}"
    if follow_ups and not (outcome and outcome.note and outcome.follow_up is FollowUpWanted.VERIFY):
        what += f" — {follow_ups[0].title}"
    return what[:500]
