"""The annual health check (sundhedstjek) as a cycle per citizen, modelled on Tangkær ([4]:4733-5101).

Once a year per citizen, with a larger (extended) check every fifth year. Before the check:
- the pre-assessment interview (forundersøgelse) on seven themes, in the citizen's own words, ready at
  least 3–4 weeks before;
- the examination with labs, the staff's medication reconciliation (medicinafstemning) and the clinical
  pharmacist's medication review (medicingennemgang), at least 4–5 days before.
The check itself takes 10–15 minutes, 8–10 citizens a day, citizens of one GP practice on the same day.
Decisions in the minutes become plan updates and tasks with reminders the evening before and the
morning of the day. The check is voluntary: declining is recorded, nothing more ([4]:5095-5101).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Iterable, Mapping, Sequence

from services.health.domain.errors import HealthRuleViolation
from services.health.domain.hospital_notices import DANISH_TIME
from tovholder.reminders import DEFAULT_SCHEDULE, ReminderSchedule

# --- what the sources list --------------------------------------------------------------------


class PreAssessmentTheme(StrEnum):
    TEETH = "teeth"  # tandstatus
    DIET = "diet"  # kost
    EXERCISE = "exercise"  # motion og bevægelse
    SLEEP = "sleep"  # søvn
    DEPENDENCE = "dependence"  # afhængighed
    PAIN = "pain"  # smerter
    NADA = "nada"  # NADA ear acupuncture


THE_QUESTION = "What do you want to talk about with the doctor and psychiatrist?"


class BloodTest(StrEnum):
    RED_BLOOD_COUNT = "red-blood-count"  # rødt blodbillede
    WHITE_BLOOD_COUNT = "white-blood-count"  # hvidt blodbillede
    LIVER = "liver"  # levertal
    FLUID = "fluid"  # væsketal
    B12 = "b12"
    VITAMIN_D = "vitamin-d"
    CHOLESTEROL = "cholesterol"
    THYROID = "thyroid"  # stofskifte


class Measurement(StrEnum):
    HEIGHT = "height"
    WEIGHT = "weight"
    WAIST = "waist"
    BLOOD_PRESSURE = "blood-pressure"
    PULSE = "pulse"
    ECG = "ecg"
    SPIROMETRY = "spirometry"


class PreparationStep(StrEnum):
    PRE_ASSESSMENT = "pre-assessment"
    EXAMINATION = "examination"  # labs and measurements, own GP or mobile lab
    MEDICATION_RECONCILIATION = "medication-reconciliation"  # by a staff member of the home
    MEDICATION_REVIEW = "medication-review"  # by the clinical pharmacist


# "senest 3-4 uger før": aim for 4 weeks, late after 3 weeks. "senest 4-5 dage før": aim 5, late after 4.
PRE_ASSESSMENT_TARGET = timedelta(weeks=4)
PRE_ASSESSMENT_DEADLINE = timedelta(weeks=3)
PREPARATION_TARGET = timedelta(days=5)
PREPARATION_DEADLINE = timedelta(days=4)

STEP_WINDOWS: dict[PreparationStep, tuple[timedelta, timedelta]] = {
    PreparationStep.PRE_ASSESSMENT: (PRE_ASSESSMENT_TARGET, PRE_ASSESSMENT_DEADLINE),
    PreparationStep.EXAMINATION: (PREPARATION_TARGET, PREPARATION_DEADLINE),
    PreparationStep.MEDICATION_RECONCILIATION: (PREPARATION_TARGET, PREPARATION_DEADLINE),
    PreparationStep.MEDICATION_REVIEW: (PREPARATION_TARGET, PREPARATION_DEADLINE),
}

# Who does the step (the role whose work queue gets the task).
STEP_ROLE: dict[PreparationStep, str] = {
    PreparationStep.PRE_ASSESSMENT: "staff",  # medication-responsible staff or a contact person
    PreparationStep.EXAMINATION: "gp",  # own GP or mobile lab; the tovholder books it
    PreparationStep.MEDICATION_RECONCILIATION: "staff",
    PreparationStep.MEDICATION_REVIEW: "pharmacist",
}

EXTENDED_EVERY_YEARS = 5
SLOT_MINUTES_RANGE = (10, 15)
MAX_CHECKS_PER_DAY = 10

# The pharmacist's review takes 1.5–3 hours, up to a full day for a new citizen ([4]:4840-4844).
REVIEW_HOURS_USUAL = (1.5, 3.0)
REVIEW_HOURS_NEW_CITIZEN = 7.5


# --- the cycle ---------------------------------------------------------------------------------


def is_extended(check_year: int, previous_extended_years: Iterable[int]) -> bool:
    """The larger check comes every fifth year. INFERRED: the first check a citizen has in Tovholder is
    an extended one (a new citizen's review takes the longest), then every fifth year after the last
    extended one, so skipped or declined years do not shift the rhythm."""
    earlier = [y for y in previous_extended_years if y < check_year]
    return not earlier or check_year - max(earlier) >= EXTENDED_EVERY_YEARS


def next_check_year(last_check_year: int | None, this_year: int) -> int:
    return this_year if last_check_year is None or last_check_year < this_year else last_check_year + 1


@dataclass(frozen=True)
class StepDeadline:
    step: PreparationStep
    target: date  # plan for this
    deadline: date  # later than this is late
    role: str


def preparation_deadlines(check_day: date) -> tuple[StepDeadline, ...]:
    return tuple(
        StepDeadline(step, check_day - target, check_day - deadline, STEP_ROLE[step])
        for step, (target, deadline) in STEP_WINDOWS.items()
    )


class StepStatus(StrEnum):
    DONE = "done"
    ON_TRACK = "on-track"
    DUE = "due"  # past the target, before the deadline
    LATE = "late"  # past the deadline, not done
    NOT_APPLICABLE = "not-applicable"  # the citizen declined the check


def step_status(deadline: StepDeadline, today: date, *, done: bool, declined: bool = False) -> StepStatus:
    if declined:
        return StepStatus.NOT_APPLICABLE
    if done:
        return StepStatus.DONE
    if today > deadline.deadline:
        return StepStatus.LATE
    if today >= deadline.target:
        return StepStatus.DUE
    return StepStatus.ON_TRACK


def check_day_is_reachable(check_day: date, today: date) -> None:
    """A check day must leave room for the pre-assessment: at least 3 weeks from today."""
    if check_day - today < PRE_ASSESSMENT_DEADLINE:
        earliest = today + PRE_ASSESSMENT_DEADLINE
        raise HealthRuleViolation(
            f"the check on {check_day} leaves less than 3 weeks for the pre-assessment; choose {earliest} or later"
        )


# --- pre-assessment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeAnswer:
    theme: PreAssessmentTheme
    citizens_words: str  # what the citizen says about it, as they want it written
    symptom_score: int | None = None  # 0–4 where the symptom schedule is used


@dataclass(frozen=True)
class PreAssessment:
    answers: tuple[ThemeAnswer, ...]
    wants_to_talk_about: str  # the answer to THE_QUESTION, in the citizen's words
    done_on: date
    done_by_sub: str
    setting: str | None = None  # e.g. "on a walk", "over a game of Yatzy" — adapted to the citizen

    @property
    def themes_covered(self) -> frozenset[PreAssessmentTheme]:
        return frozenset(a.theme for a in self.answers)

    @property
    def themes_not_covered(self) -> tuple[PreAssessmentTheme, ...]:
        return tuple(t for t in PreAssessmentTheme if t not in self.themes_covered)


def validate_pre_assessment(pre: PreAssessment) -> PreAssessment:
    """Staff select the themes that matter to the citizen ([4]:4790-4800), so not every theme needs an
    answer; but what is written is the citizen's own words, so an answer is never blank."""
    seen: set[PreAssessmentTheme] = set()
    for answer in pre.answers:
        if answer.theme in seen:
            raise HealthRuleViolation(f"the theme {answer.theme} is answered twice; merge the answers")
        seen.add(answer.theme)
        if not answer.citizens_words.strip():
            raise HealthRuleViolation(f"the answer on {answer.theme} is empty; write what the citizen says, or leave the theme out")
        if answer.symptom_score is not None and not 0 <= answer.symptom_score <= 4:
            raise HealthRuleViolation("a symptom score is between 0 (not present) and 4 (very much)")
    if not pre.answers and not pre.wants_to_talk_about.strip():
        raise HealthRuleViolation("the pre-assessment has no themes and no answer to what the citizen wants to talk about")
    return pre


# --- examination --------------------------------------------------------------------------------

STANDARD_PANEL: tuple[BloodTest, ...] = tuple(BloodTest)
STANDARD_MEASUREMENTS: tuple[Measurement, ...] = tuple(Measurement)


def missing_examination_items(
    blood_tests_done: Iterable[BloodTest], measurements_done: Iterable[Measurement]
) -> tuple[tuple[BloodTest, ...], tuple[Measurement, ...]]:
    done_tests, done_measurements = set(blood_tests_done), set(measurements_done)
    return (
        tuple(t for t in STANDARD_PANEL if t not in done_tests),
        tuple(m for m in STANDARD_MEASUREMENTS if m not in done_measurements),
    )


def review_hours(new_citizen: bool) -> tuple[float, float]:
    return (REVIEW_HOURS_USUAL[0], REVIEW_HOURS_NEW_CITIZEN) if new_citizen else REVIEW_HOURS_USUAL


# --- planning check days --------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenToPlan:
    citizen_id: str
    gp_practice: str
    declined: bool = False


@dataclass(frozen=True)
class Slot:
    citizen_id: str
    gp_practice: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class DayPlan:
    day: date
    slots: tuple[Slot, ...]

    @property
    def gp_practices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.gp_practice for s in self.slots))


@dataclass(frozen=True)
class CheckDayPlan:
    days: tuple[DayPlan, ...]
    not_planned: tuple[str, ...] = ()  # citizens left over when the days ran out
    declined: tuple[str, ...] = ()


def plan_check_days(
    citizens: Sequence[CitizenToPlan],
    days: Sequence[date],
    *,
    slot_minutes: int = 15,
    per_day: int = MAX_CHECKS_PER_DAY,
    first_slot: time = time(9, 0),
    one_practice_per_day: bool = False,
) -> CheckDayPlan:
    """Groups citizens by GP practice so each practice's citizens are seen on the same day, in one
    block (the GP comes once). A practice is split over days only when it alone has more citizens than
    a day holds. With ``one_practice_per_day`` a day never mixes practices.

    Citizens who declined are not planned (and not chased). Practices are placed largest first
    (first-fit decreasing), which keeps the number of days low.
    """
    if not SLOT_MINUTES_RANGE[0] <= slot_minutes <= SLOT_MINUTES_RANGE[1]:
        raise HealthRuleViolation(f"a check takes 10–15 minutes per citizen, not {slot_minutes}")
    if not 1 <= per_day <= MAX_CHECKS_PER_DAY:
        raise HealthRuleViolation(f"plan at most {MAX_CHECKS_PER_DAY} checks per day, not {per_day}")
    if len(set(days)) != len(days):
        raise HealthRuleViolation("the same day is offered twice")
    seen_ids: set[str] = set()
    for c in citizens:
        if c.citizen_id in seen_ids:
            raise HealthRuleViolation(f"citizen {c.citizen_id} is listed twice")
        seen_ids.add(c.citizen_id)

    declined = tuple(c.citizen_id for c in citizens if c.declined)
    by_practice: dict[str, list[str]] = {}
    for c in citizens:
        if not c.declined:
            by_practice.setdefault(c.gp_practice, []).append(c.citizen_id)

    # Split practices larger than a day into day-sized chunks; keep chunk order inside a practice.
    chunks: list[tuple[str, list[str]]] = []
    for practice, ids in sorted(by_practice.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        for i in range(0, len(ids), per_day):
            chunks.append((practice, ids[i : i + per_day]))

    ordered_days = sorted(days)
    loads: list[list[tuple[str, list[str]]]] = [[] for _ in ordered_days]
    not_planned: list[str] = []
    for practice, ids in chunks:
        for day_index, load in enumerate(loads):
            used = sum(len(chunk) for _, chunk in load)
            if one_practice_per_day and load:
                continue
            if used + len(ids) <= per_day and all(p != practice for p, _ in load):
                load.append((practice, ids))
                break
        else:
            not_planned.extend(ids)

    plans = []
    for day, load in zip(ordered_days, loads):
        if not load:
            continue
        start = datetime.combine(day, first_slot, tzinfo=DANISH_TIME)
        slots = []
        for practice, ids in load:
            for citizen_id in ids:
                end = start + timedelta(minutes=slot_minutes)
                slots.append(Slot(citizen_id, practice, start, end))
                start = end
        plans.append(DayPlan(day, tuple(slots)))
    return CheckDayPlan(tuple(plans), tuple(not_planned), declined)


# --- participants -------------------------------------------------------------------------------


class ParticipantRole(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"  # the medication-responsible staff member and/or someone who knows the citizen
    MINUTE_TAKER = "minute-taker"  # the home's coordinator, who takes the minutes
    GP = "gp"
    PSYCHIATRIST = "psychiatrist"
    PHARMACIST = "pharmacist"
    FORENSIC_NURSE = "forensic-nurse"  # optional, when forensic psychiatry is involved


@dataclass(frozen=True)
class Participant:
    role: ParticipantRole
    name: str
    org: str | None = None
    sub: str | None = None


@dataclass(frozen=True)
class ParticipantCheck:
    missing_required: tuple[ParticipantRole, ...]
    missing_expected: tuple[ParticipantRole, ...]

    @property
    def can_hold(self) -> bool:
        return not self.missing_required


def check_participants(participants: Iterable[Participant]) -> ParticipantCheck:
    """Without the citizen there is no check, without a minute-taker no minutes, without a GP or a
    psychiatrist no medical decisions. A staff member and the pharmacist are expected; the forensic
    nurse is optional."""
    roles = {p.role for p in participants}
    required = [ParticipantRole.CITIZEN, ParticipantRole.MINUTE_TAKER]
    missing_required = [r for r in required if r not in roles]
    if ParticipantRole.GP not in roles and ParticipantRole.PSYCHIATRIST not in roles:
        missing_required.append(ParticipantRole.GP)
    expected = [ParticipantRole.STAFF, ParticipantRole.PHARMACIST, ParticipantRole.GP, ParticipantRole.PSYCHIATRIST]
    missing_expected = [r for r in expected if r not in roles and r not in missing_required]
    return ParticipantCheck(tuple(missing_required), tuple(missing_expected))


# --- minutes, decisions, reminders -----------------------------------------------------------


class DecisionKind(StrEnum):
    REDUCE_DOSE = "reduce-dose"
    STOP_DRUG = "stop-drug"
    START_DRUG = "start-drug"
    BOOK_EXAMINATION = "book-examination"  # e.g. ECG, spirometry at the own GP
    WATCH_SYMPTOM = "watch-symptom"  # e.g. diabetes risk after the blood tests
    LIFESTYLE = "lifestyle"  # KRAM: diet, smoking, alcohol, exercise
    OTHER = "other"


MEDICATION_DECISIONS = frozenset({DecisionKind.REDUCE_DOSE, DecisionKind.STOP_DRUG, DecisionKind.START_DRUG})

# The staff member reminds the citizen "the morning and the evening before" ([4]:4885-4897): the one
# schedule every service uses (tovholder/reminders.py, a setting of the kit).


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    title: str  # short, e.g. "Book an ECG at the GP"
    due_at: datetime | None = None  # the date agreed in the meeting, if any
    responsible_sub: str | None = None
    citizen_wants_reminders: bool = True


@dataclass(frozen=True)
class DecisionOutcome:
    decision: Decision
    plan_update: bool  # the minutes are the checklist for updating the intervention plans
    task_due_at: datetime | None
    reminders: tuple[datetime, ...]
    medication_change_expected: bool  # FMK must be updated by the prescriber; staff verify


def reminders_before(appointment: datetime, schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> tuple[datetime, ...]:
    """The evening before and the morning of the day (``tovholder.reminders``: 19:00 and 08:00, or an
    hour before an early appointment); never a reminder after the appointment itself."""
    return schedule.moments_before(appointment)


def outcome_of(decision: Decision, *, held_at: datetime,
               schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> DecisionOutcome:
    if not decision.title.strip():
        raise HealthRuleViolation("a decision needs a short title saying what was agreed")
    if decision.due_at is not None:
        if decision.due_at.tzinfo is None:
            raise HealthRuleViolation("the decision's date needs a time zone")
        if decision.due_at <= held_at:
            raise HealthRuleViolation("the decision's date is before the health check was held")
    reminders = (
        schedule.moments_before(decision.due_at, after=held_at)
        if decision.due_at is not None and decision.citizen_wants_reminders
        else ()
    )
    return DecisionOutcome(
        decision=decision,
        plan_update=True,
        task_due_at=decision.due_at,
        reminders=reminders,
        medication_change_expected=decision.kind in MEDICATION_DECISIONS,
    )


# --- the check's lifecycle ----------------------------------------------------------------------


class CheckStatus(StrEnum):
    PLANNED = "planned"
    DECLINED = "declined"
    HELD = "held"
    CANCELLED = "cancelled"  # e.g. the citizen died; the check will not take place


@dataclass(frozen=True)
class HealthCheck:
    citizen_id: str
    year: int
    check_day: date
    extended: bool
    status: CheckStatus = CheckStatus.PLANNED
    steps_done: frozenset[PreparationStep] = field(default_factory=frozenset)
    decline_reason: str | None = None


def decline(check: HealthCheck, *, reason: str | None = None) -> HealthCheck:
    """Voluntary: the citizen may decline without giving a reason, and nobody is tasked to persuade
    them ("sundhedstvang" must not happen). A held check cannot be declined afterwards."""
    if check.status in (CheckStatus.HELD, CheckStatus.CANCELLED):
        raise HealthRuleViolation(f"the check was already {check.status}; it cannot be declined afterwards")
    return HealthCheck(
        check.citizen_id, check.year, check.check_day, check.extended, CheckStatus.DECLINED, check.steps_done,
        (reason or "").strip() or None,
    )


def accept_again(check: HealthCheck, today: date) -> HealthCheck:
    """A citizen who declined may change their mind while there is still time to prepare."""
    if check.status is not CheckStatus.DECLINED:
        return check
    if check.check_day <= today:
        raise HealthRuleViolation("the check day has passed; plan a new check instead")
    return HealthCheck(check.citizen_id, check.year, check.check_day, check.extended, CheckStatus.PLANNED, check.steps_done)


def complete_step(check: HealthCheck, step: PreparationStep) -> HealthCheck:
    if check.status is not CheckStatus.PLANNED:
        raise HealthRuleViolation(f"the check is {check.status}; its preparation cannot change")
    return HealthCheck(
        check.citizen_id, check.year, check.check_day, check.extended, check.status, check.steps_done | {step}
    )


def readiness(check: HealthCheck, today: date) -> Mapping[PreparationStep, StepStatus]:
    declined = check.status in (CheckStatus.DECLINED, CheckStatus.CANCELLED)
    return {
        d.step: step_status(d, today, done=d.step in check.steps_done, declined=declined)
        for d in preparation_deadlines(check.check_day)
    }


def hold(check: HealthCheck, participants: Iterable[Participant], held_on: date) -> HealthCheck:
    if check.status is CheckStatus.DECLINED:
        raise HealthRuleViolation("the citizen declined this check; record their acceptance first")
    if check.status is CheckStatus.HELD:
        raise HealthRuleViolation("the check was already held")
    if check.status is CheckStatus.CANCELLED:
        raise HealthRuleViolation("the check was cancelled")
    result = check_participants(participants)
    if not result.can_hold:
        raise HealthRuleViolation("the check cannot be held without: " + ", ".join(r.value for r in result.missing_required))
    return HealthCheck(check.citizen_id, check.year, held_on, check.extended, CheckStatus.HELD, check.steps_done)
