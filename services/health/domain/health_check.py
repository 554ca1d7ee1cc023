"""The health check (sundhedstjek) as a cycle per citizen, modelled on Tangkær ([4]:4733-5101).

How often is a setting per botilbud (``Cadence``): the GP agreement (DSAM) sets a health check for
botilbud residents every second year (yearly only where decided); Tangkær runs it once a year with a
larger (extended) check every fifth year. Before the check:
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
from tovholder import clock
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


THE_QUESTION = "Hvad vil du gerne tale med lægen og psykiateren om?"


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

EXTENDED_EVERY_YEARS = 5  # Tangkær
SLOT_MINUTES_RANGE = (10, 15)
USUAL_CHECKS_PER_DAY = (8, 10)  # "8-10 borgere pr. dag" ([4]:4849); outside it, a warning to confirm
MAX_CHECKS_PER_DAY = 10
HARD_MAX_CHECKS_PER_DAY = 24  # beyond this no day holds them, confirmed or not
# INFERRED: the GP, the psychiatrist and the pharmacist come in the daytime; outside these hours a plan
# needs an explicit confirmation, and no plan runs past midnight.
WORKING_HOURS = (time(8, 0), time(16, 0))

# The pharmacist's review takes 1.5–3 hours, up to a full day for a new citizen ([4]:4840-4844).
REVIEW_HOURS_USUAL = (1.5, 3.0)
REVIEW_HOURS_NEW_CITIZEN = 7.5


# --- the cycle ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    """How often a botilbud's citizens have the health check: every ``every_years`` year(s), and where
    ``extended_every_years`` is set, a larger check every that many years."""

    every_years: int = 1
    extended_every_years: int | None = None

    def __post_init__(self) -> None:
        if self.every_years not in (1, 2):
            raise HealthRuleViolation("sundhedstjekket holdes hvert år eller hvert andet år")
        if self.extended_every_years is not None and not 2 <= self.extended_every_years <= 10:
            raise HealthRuleViolation("det udvidede sundhedstjek holdes hvert 2.–10. år (eller slet ikke)")
        if self.extended_every_years is not None and self.extended_every_years % self.every_years:
            raise HealthRuleViolation("det udvidede tjek skal falde i et år med sundhedstjek "
                                      f"(et multiplum af {self.every_years} år)")

    @property
    def words(self) -> str:
        base = "hvert år" if self.every_years == 1 else "hvert andet år"
        return base + (f", udvidet hvert {self.extended_every_years}. år" if self.extended_every_years else "")


DSAM = Cadence(every_years=2)  # the GP agreement for botilbud residents: every second year
TANGKAER = Cadence(every_years=1, extended_every_years=EXTENDED_EVERY_YEARS)
YEARLY = Cadence(every_years=1)
DEFAULT_CADENCE = DSAM


def is_extended(check_year: int, previous_extended_years: Iterable[int], cadence: Cadence = TANGKAER) -> bool:
    """The larger check comes every ``cadence.extended_every_years`` (Tangkær: fifth) year. INFERRED: the
    first check a citizen has in Tovholder is an extended one (a new citizen's review takes the longest),
    then every N years after the last extended one, so skipped or declined years do not shift the rhythm.
    A cadence without extended checks never has one."""
    if cadence.extended_every_years is None:
        return False
    earlier = [y for y in previous_extended_years if y < check_year]
    return not earlier or check_year - max(earlier) >= cadence.extended_every_years


def next_check_year(last_check_year: int | None, this_year: int, cadence: Cadence = YEARLY) -> int:
    """The year the next check is due: this year for a citizen never checked (or overdue), otherwise
    ``every_years`` after the last one."""
    if last_check_year is None:
        return this_year
    return max(this_year, last_check_year + cadence.every_years)


def is_due(year: int, last_check_year: int | None, cadence: Cadence) -> bool:
    """Whether a citizen whose last check (held or planned) was in ``last_check_year`` is due in ``year``."""
    return last_check_year is None or year - last_check_year >= cadence.every_years


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
            f"sundhedstjekket den {check_day:%d.%m.%Y} giver under 3 uger til forundersøgelsen; "
            f"vælg {earliest:%d.%m.%Y} eller senere"
        )


# --- pre-assessment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeAnswer:
    theme: PreAssessmentTheme
    citizens_words: str  # what the citizen says about it, as they want it written
    symptom_score: int | None = None  # 0–4 where the symptom schedule is used


THEME_WORDS = {
    PreAssessmentTheme.TEETH: "tandstatus",
    PreAssessmentTheme.DIET: "kost",
    PreAssessmentTheme.EXERCISE: "motion og bevægelse",
    PreAssessmentTheme.SLEEP: "søvn",
    PreAssessmentTheme.DEPENDENCE: "afhængighed",
    PreAssessmentTheme.PAIN: "smerter",
    PreAssessmentTheme.NADA: "NADA",
}


@dataclass(frozen=True)
class ThemeSkipped:
    theme: PreAssessmentTheme
    reason: str  # why the theme was not talked about, e.g. "borgeren ønskede ikke at tale om det"


@dataclass(frozen=True)
class PreAssessment:
    answers: tuple[ThemeAnswer, ...]
    wants_to_talk_about: str  # the answer to THE_QUESTION, in the citizen's words
    done_on: date
    done_by_sub: str
    setting: str | None = None  # e.g. "on a walk", "over a game of Yatzy" — adapted to the citizen
    skipped: tuple[ThemeSkipped, ...] = ()

    @property
    def themes_covered(self) -> frozenset[PreAssessmentTheme]:
        return frozenset(a.theme for a in self.answers) | frozenset(s.theme for s in self.skipped)

    @property
    def themes_not_covered(self) -> tuple[PreAssessmentTheme, ...]:
        return tuple(t for t in PreAssessmentTheme if t not in self.themes_covered)

    @property
    def complete(self) -> bool:
        """The step is done only when every theme is answered or skipped with a reason."""
        return not self.themes_not_covered


def validate_pre_assessment(pre: PreAssessment) -> PreAssessment:
    """Staff adapt the interview to the citizen ([4]:4790-4800), so a theme may be skipped — with a reason;
    what is written is the citizen's own words, so an answer is never blank. A pre-assessment with themes
    left may be saved; it is done only when ``complete``."""
    seen: set[PreAssessmentTheme] = set()
    for answer in pre.answers:
        if answer.theme in seen:
            raise HealthRuleViolation(f"temaet {THEME_WORDS[answer.theme]} er besvaret to gange; saml svarene")
        seen.add(answer.theme)
        if not answer.citizens_words.strip():
            raise HealthRuleViolation(f"svaret om {THEME_WORDS[answer.theme]} er tomt; skriv, hvad borgeren siger, "
                                      "eller spring temaet over med en begrundelse")
        if answer.symptom_score is not None and not 0 <= answer.symptom_score <= 4:
            raise HealthRuleViolation("en symptomscore ligger mellem 0 (ikke til stede) og 4 (meget)")
    for skip in pre.skipped:
        if skip.theme in seen:
            raise HealthRuleViolation(f"temaet {THEME_WORDS[skip.theme]} er både besvaret og sprunget over")
        seen.add(skip.theme)
        if not skip.reason.strip():
            raise HealthRuleViolation(f"skriv, hvorfor temaet {THEME_WORDS[skip.theme]} er sprunget over")
    if not pre.answers and not pre.wants_to_talk_about.strip():
        raise HealthRuleViolation("forundersøgelsen har ingen temaer og intet svar på, hvad borgeren vil tale om")
    return pre


def missing_themes_text(pre: PreAssessment) -> str:
    return ", ".join(THEME_WORDS[t] for t in pre.themes_not_covered)


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
    warnings: tuple[str, ...] = ()  # Danish; scheduling such a plan must be confirmed explicitly


def planning_warnings(days: Sequence[date], *, slot_minutes: int, per_day: int, first_slot: time) -> tuple[str, ...]:
    """What in a plan lies outside the usual day (8–10 checks, working hours, working days).

    Refuses (``HealthRuleViolation``) what no confirmation makes sensible: a day whose checks would run
    past midnight, or more checks than a day holds."""
    if not 1 <= per_day <= HARD_MAX_CHECKS_PER_DAY:
        raise HealthRuleViolation(f"planlæg 1–{HARD_MAX_CHECKS_PER_DAY} sundhedstjek pr. dag, ikke {per_day}")
    start = datetime.combine(date(2000, 1, 3), first_slot)
    end = start + timedelta(minutes=slot_minutes * per_day)
    if end.date() != start.date() and end.time() != time(0, 0):
        raise HealthRuleViolation(
            f"{per_day} tjek à {slot_minutes} minutter fra kl. {first_slot:%H:%M} løber over midnat; "
            "vælg et tidligere første tidspunkt eller færre tjek pr. dag")
    warnings = []
    low, high = USUAL_CHECKS_PER_DAY
    if not low <= per_day <= high:
        warnings.append(f"{per_day} tjek pr. dag ligger uden for de sædvanlige {low}–{high}")
    day_start, day_end = WORKING_HOURS
    if first_slot < day_start or end > datetime.combine(start.date(), day_end):
        warnings.append(f"tjekkene ligger kl. {first_slot:%H:%M}–{end:%H:%M}, uden for arbejdstiden "
                        f"kl. {day_start:%H:%M}–{day_end:%H:%M}")
    for day in sorted(days):
        if not clock.is_working_day(day):
            name = clock.holiday_name(day)
            warnings.append(f"{day:%d.%m.%Y} er ikke en arbejdsdag" + (f" ({name})" if name else " (weekend)"))
    return tuple(warnings)


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
    (first-fit decreasing), which keeps the number of days low. What lies outside the usual day comes
    back as ``warnings`` (``planning_warnings``) for the planner to confirm.
    """
    if not SLOT_MINUTES_RANGE[0] <= slot_minutes <= SLOT_MINUTES_RANGE[1]:
        raise HealthRuleViolation(f"et sundhedstjek tager 10–15 minutter pr. borger, ikke {slot_minutes}")
    warnings = planning_warnings(days, slot_minutes=slot_minutes, per_day=per_day, first_slot=first_slot)
    if len(set(days)) != len(days):
        raise HealthRuleViolation("den samme dag er foreslået to gange")
    seen_ids: set[str] = set()
    for c in citizens:
        if c.citizen_id in seen_ids:
            raise HealthRuleViolation(f"borgeren {c.citizen_id} står på listen to gange")
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
    return CheckDayPlan(tuple(plans), tuple(not_planned), declined, warnings)


# --- participants -------------------------------------------------------------------------------


class ParticipantRole(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"  # the medication-responsible staff member and/or someone who knows the citizen
    MINUTE_TAKER = "minute-taker"  # the home's coordinator, who takes the minutes
    GP = "gp"
    PSYCHIATRIST = "psychiatrist"
    PHARMACIST = "pharmacist"
    FORENSIC_NURSE = "forensic-nurse"  # optional, when forensic psychiatry is involved


PARTICIPANT_WORDS = {
    ParticipantRole.CITIZEN: "borgeren",
    ParticipantRole.STAFF: "en medarbejder, der kender borgeren",
    ParticipantRole.MINUTE_TAKER: "en referent",
    ParticipantRole.GP: "en praktiserende læge eller psykiater",
    ParticipantRole.PSYCHIATRIST: "en psykiater",
    ParticipantRole.PHARMACIST: "farmaceuten",
    ParticipantRole.FORENSIC_NURSE: "en retspsykiatrisk sygeplejerske",
}


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


# INFERRED: a decision without a date ("watch this symptom") is looked at again after about three
# months, on a working day, unless the meeting set its own review date.
WATCH_REVIEW_AFTER = timedelta(days=91)


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    title: str  # short, e.g. "Book an ECG at the GP"
    due_at: datetime | None = None  # the date agreed in the meeting, if any
    responsible_sub: str | None = None
    citizen_wants_reminders: bool = True
    review_on: date | None = None  # without a date: when to look at it again (default WATCH_REVIEW_AFTER)


@dataclass(frozen=True)
class DecisionOutcome:
    decision: Decision
    plan_update: bool  # the minutes are the checklist for updating the intervention plans
    task_due_at: datetime | None
    reminders: tuple[datetime, ...]
    medication_change_expected: bool  # FMK must be updated by the prescriber; staff verify
    review_on: date | None = None  # a decision without a date becomes a "watch" task reviewed on this day


def reminders_before(appointment: datetime, schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> tuple[datetime, ...]:
    """The evening before and the morning of the day (``tovholder.reminders``: 19:00 and 08:00, or an
    hour before an early appointment); never a reminder after the appointment itself."""
    return schedule.moments_before(appointment)


def watch_review_day(held_at: datetime, review_on: date | None = None) -> date:
    """When a decision without a date is looked at again: the day given, or about three months after the
    check; a weekend or holiday moves to the next working day."""
    day = review_on or clock.local_date(held_at) + WATCH_REVIEW_AFTER
    return day if clock.is_working_day(day) else clock.next_working_day(day)


def outcome_of(decision: Decision, *, held_at: datetime,
               schedule: ReminderSchedule = DEFAULT_SCHEDULE) -> DecisionOutcome:
    if not decision.title.strip():
        raise HealthRuleViolation("en beslutning skal have en kort titel, der siger, hvad der blev aftalt")
    if decision.due_at is not None:
        if decision.due_at.tzinfo is None:
            raise HealthRuleViolation("beslutningens dato skal have en tidszone")
        if decision.due_at <= held_at:
            raise HealthRuleViolation("beslutningens dato ligger før sundhedstjekket blev holdt")
        if decision.review_on is not None:
            raise HealthRuleViolation("en beslutning med dato har ingen revurderingsdato; angiv den ene eller den anden")
    elif decision.review_on is not None and decision.review_on <= clock.local_date(held_at):
        raise HealthRuleViolation("revurderingsdatoen skal ligge efter sundhedstjekket")
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
        review_on=None if decision.due_at is not None else watch_review_day(held_at, decision.review_on),
    )


# --- the check's lifecycle ----------------------------------------------------------------------


class CheckStatus(StrEnum):
    PLANNED = "planned"
    DECLINED = "declined"
    HELD = "held"
    CANCELLED = "cancelled"  # e.g. the citizen died; the check will not take place


CHECK_STATUS_DA = {"planned": "planlagt", "declined": "afslået", "held": "holdt", "cancelled": "aflyst"}


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
        raise HealthRuleViolation(f"sundhedstjekket er allerede {CHECK_STATUS_DA[check.status]}; det kan ikke afslås bagefter")
    return HealthCheck(
        check.citizen_id, check.year, check.check_day, check.extended, CheckStatus.DECLINED, check.steps_done,
        (reason or "").strip() or None,
    )


def accept_again(check: HealthCheck, today: date) -> HealthCheck:
    """A citizen who declined may change their mind while there is still time to prepare."""
    if check.status is not CheckStatus.DECLINED:
        return check
    if check.check_day <= today:
        raise HealthRuleViolation("dagen for sundhedstjekket er passeret; planlæg et nyt i stedet")
    return HealthCheck(check.citizen_id, check.year, check.check_day, check.extended, CheckStatus.PLANNED, check.steps_done)


def complete_step(check: HealthCheck, step: PreparationStep, *, pre_assessment: PreAssessment | None = None) -> HealthCheck:
    """Mark a preparation step done. The pre-assessment is done only with every theme answered or skipped
    with a reason (``pre_assessment`` is the one recorded)."""
    if step is PreparationStep.PRE_ASSESSMENT and (pre_assessment is None or not pre_assessment.complete):
        missing = missing_themes_text(pre_assessment) if pre_assessment else "alle temaer"
        raise HealthRuleViolation(f"forundersøgelsen er ikke færdig: {missing} mangler svar eller en begrundelse "
                                  "for at springe temaet over")
    if check.status is not CheckStatus.PLANNED:
        raise HealthRuleViolation(f"sundhedstjekket er {CHECK_STATUS_DA[check.status]}; forberedelsen kan ikke ændres")
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
        raise HealthRuleViolation("borgeren har takket nej til dette tjek; registrér først, at borgeren siger ja igen")
    if check.status is CheckStatus.HELD:
        raise HealthRuleViolation("sundhedstjekket er allerede holdt")
    if check.status is CheckStatus.CANCELLED:
        raise HealthRuleViolation("sundhedstjekket er aflyst")
    result = check_participants(participants)
    if not result.can_hold:
        raise HealthRuleViolation("sundhedstjekket kan ikke holdes uden: "
                                  + ", ".join(PARTICIPANT_WORDS[r] for r in result.missing_required))
    return HealthCheck(check.citizen_id, check.year, held_on, check.extended, CheckStatus.HELD, check.steps_done)
