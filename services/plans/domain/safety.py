"""Safety work (DIGEST W8): the tryghedsplan, LA2 ratings, learning plans and the optional BVC score.

- The tryghedsplan is made around move-in with the citizen: what can trigger an episode, how it can
  be seen, what helps, what staff should do (e.g. offer PN, as-needed medication) ([4]:6392-6400).
- An LA2 rating is green, yellow or red; a colour rating always needs a reason ([4]:5432-5437). Staff
  set a time to assess again, and the citizen is told they were rated, and told again when green
  ([4]:6423-6469).
- A learning plan is written after an episode (also after one that went well), looking back up to 24
  hours; the citizen may choose which staff member writes it with them ([4]:6471-6492).
- BVC (Brøset Violence Checklist): six observed behaviours, each 0 or 1 ([1]:121).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from services.plans.domain.errors import PlanRuleViolation, require_text

LEARNING_PLAN_LOOKBACK = timedelta(hours=24)
LEARNING_PLAN_DUE_WITHIN = timedelta(hours=24)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PlanRuleViolation(f"{name} skal have en tidszone", field=name)
    return moment


def _clean_items(items: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (items or ()) if s and s.strip())


@dataclass(frozen=True)
class Tryghedsplan:
    version: int
    triggers: tuple[str, ...]  # what can set off a critical episode
    early_signs: tuple[str, ...]  # how staff can see it coming
    what_helps: tuple[str, ...]  # in the citizen's words ("small, short visits")
    staff_should_do: tuple[str, ...]
    staff_should_avoid: tuple[str, ...]
    as_needed_medication_note: str | None  # PN: when to offer it, never a prescription
    written_with_citizen: bool
    updated_at: datetime
    updated_by: str


def revise_tryghedsplan(current: Tryghedsplan | None, *, triggers=None, early_signs=None, what_helps=None,
                        staff_should_do=None, staff_should_avoid=None, as_needed_medication_note: str | None = None,
                        written_with_citizen: bool, at: datetime, by: str) -> Tryghedsplan:
    """A new version of the plan; the previous ones stay (they can show the citizen's progress)."""
    _aware(at, "at")
    if not isinstance(written_with_citizen, bool):
        raise PlanRuleViolation("angiv, om det er skrevet sammen med borgeren (true eller false)",
                                field="written_with_citizen")
    plan = Tryghedsplan(
        version=(current.version + 1) if current else 1,
        triggers=_clean_items(triggers),
        early_signs=_clean_items(early_signs),
        what_helps=_clean_items(what_helps),
        staff_should_do=_clean_items(staff_should_do),
        staff_should_avoid=_clean_items(staff_should_avoid),
        as_needed_medication_note=(as_needed_medication_note or "").strip() or None,
        written_with_citizen=written_with_citizen,
        updated_at=at,
        updated_by=by,
    )
    if not (plan.triggers or plan.early_signs or plan.what_helps or plan.staff_should_do):
        raise PlanRuleViolation(
            "en tryghedsplan skal have mindst én udløser, et tidligt tegn, noget der hjælper eller noget personalet skal gøre",
            field="triggers",
        )
    if current is not None and _content(current) == _content(plan):
        raise PlanRuleViolation("intet at ændre: tryghedsplanen står allerede sådan", field="triggers")
    return plan


def _content(plan: Tryghedsplan) -> tuple:
    return (plan.triggers, plan.early_signs, plan.what_helps, plan.staff_should_do, plan.staff_should_avoid,
            plan.as_needed_medication_note, plan.written_with_citizen)


class La2Level(str, enum.Enum):
    GREEN = "green"  # prevention: trivselsplan
    YELLOW = "yellow"  # learning: læringsplan
    RED = "red"  # handling: tryghedsplan

    @property
    def danish(self) -> str:
        """The level in a Danish sentence ("en gul vurdering")."""
        return {"green": "grøn", "yellow": "gul", "red": "rød"}[self.value]


@dataclass(frozen=True)
class SafetyRating:
    rating_id: UUID
    level: La2Level
    reason: str
    rated_at: datetime
    rated_by: str
    reassess_at: datetime | None
    citizen_told_at: datetime | None = None
    citizen_told_by: str | None = None
    # The few cases where the citizen is not told ([4]:6449-6451) must say why.
    not_told_reason: str | None = None

    @property
    def citizen_told(self) -> bool:
        return self.citizen_told_at is not None

    def reassessment_overdue(self, now: datetime) -> bool:
        return self.reassess_at is not None and now > self.reassess_at

    def awaits_telling(self) -> bool:
        """Neither told nor a recorded reason not to tell."""
        return self.citizen_told_at is None and self.not_told_reason is None


def rate(*, rating_id: UUID, level: La2Level | str, reason: str | None, rated_at: datetime, rated_by: str,
         reassess_at: datetime | None = None, previous: SafetyRating | None = None) -> SafetyRating:
    try:
        level = La2Level(level)
    except ValueError:
        raise PlanRuleViolation("et LA2-niveau er grøn, gul eller rød", field="level") from None
    _aware(rated_at, "rated_at")
    reason_text = require_text(reason, f"begrundelsen for vurderingen {level.danish}", field="reason")
    if level != La2Level.GREEN:
        if reassess_at is None:
            raise PlanRuleViolation(f"en {level.danish} vurdering skal have et tidspunkt for ny vurdering", field="reassess_at")
    if reassess_at is not None:
        _aware(reassess_at, "reassess_at")
        if reassess_at <= rated_at:
            raise PlanRuleViolation("tidspunktet for ny vurdering skal ligge efter vurderingen", field="reassess_at")
    if previous is not None and rated_at < previous.rated_at:
        raise PlanRuleViolation("en vurdering kan ikke dateres før den gældende", field="rated_at")
    return SafetyRating(rating_id=rating_id, level=level, reason=reason_text, rated_at=rated_at,
                        rated_by=rated_by, reassess_at=reassess_at)


def record_citizen_told(rating: SafetyRating, *, at: datetime, by: str) -> SafetyRating:
    _aware(at, "at")
    if rating.citizen_told_at is not None:
        raise PlanRuleViolation("borgeren har allerede fået besked om denne vurdering", field="citizen_told_at")
    if at < rating.rated_at:
        raise PlanRuleViolation("borgeren kan ikke have fået besked, før vurderingen blev lavet", field="citizen_told_at")
    return replace(rating, citizen_told_at=at, citizen_told_by=by, not_told_reason=None)


def record_not_told(rating: SafetyRating, *, reason: str | None) -> SafetyRating:
    if rating.citizen_told_at is not None:
        raise PlanRuleViolation("borgeren har allerede fået besked om denne vurdering", field="not_told_reason")
    return replace(rating, not_told_reason=require_text(reason, "begrundelsen for, at borgeren ikke har fået besked",
                                                        field="not_told_reason"))


def is_escalation(previous: SafetyRating | None, current: SafetyRating) -> bool:
    order = [La2Level.GREEN, La2Level.YELLOW, La2Level.RED]
    before = order.index(previous.level) if previous else 0
    return order.index(current.level) > before


class EpisodeOutcome(str, enum.Enum):
    DIFFICULT = "difficult"
    WENT_WELL = "went-well"  # learning plans are written after good episodes too


@dataclass(frozen=True)
class LearningPlan:
    learning_plan_id: UUID
    episode_started_at: datetime
    episode_ended_at: datetime
    looks_back_from: datetime
    due_at: datetime
    outcome: EpisodeOutcome
    # The citizen may choose another staff member than the one present in the episode.
    written_with_staff_id: str | None
    completed_at: datetime | None = None
    what_happened: str | None = None
    what_helped: str | None = None
    citizen_view: str | None = None  # the citizen's own assessment; may be written alone
    staff_view: str | None = None
    citizen_took_part: bool | None = None

    def is_late(self, now: datetime) -> bool:
        return self.completed_at is None and now > self.due_at


def open_learning_plan(*, learning_plan_id: UUID, episode_started_at: datetime, episode_ended_at: datetime,
                       outcome: EpisodeOutcome | str = EpisodeOutcome.DIFFICULT,
                       looks_back_from: datetime | None = None,
                       written_with_staff_id: str | None = None) -> LearningPlan:
    _aware(episode_started_at, "episode_started_at")
    _aware(episode_ended_at, "episode_ended_at")
    if episode_ended_at < episode_started_at:
        raise PlanRuleViolation("en episode kan ikke slutte, før den begynder", field="episode_ended_at")
    earliest = episode_started_at - LEARNING_PLAN_LOOKBACK
    looks_back_from = looks_back_from or earliest
    _aware(looks_back_from, "looks_back_from")
    if looks_back_from < earliest:
        raise PlanRuleViolation("en læringsplan ser højst 24 timer tilbage før episoden",
                                field="looks_back_from")
    if looks_back_from > episode_started_at:
        raise PlanRuleViolation("en læringsplan ser tilbage fra et tidspunkt før episoden begyndte",
                                field="looks_back_from")
    return LearningPlan(
        learning_plan_id=learning_plan_id,
        episode_started_at=episode_started_at,
        episode_ended_at=episode_ended_at,
        looks_back_from=looks_back_from,
        due_at=episode_ended_at + LEARNING_PLAN_DUE_WITHIN,
        outcome=EpisodeOutcome(outcome),
        written_with_staff_id=written_with_staff_id,
    )


def complete_learning_plan(plan: LearningPlan, *, at: datetime, what_happened: str | None,
                           citizen_took_part: bool, what_helped: str | None = None,
                           citizen_view: str | None = None, staff_view: str | None = None) -> LearningPlan:
    _aware(at, "at")
    if plan.completed_at is not None:
        raise PlanRuleViolation("læringsplanen er allerede afsluttet", field="completed_at")
    if at < plan.episode_ended_at:
        raise PlanRuleViolation("en læringsplan skrives efter episoden", field="completed_at")
    return replace(
        plan,
        completed_at=at,
        what_happened=require_text(what_happened, "hvad der skete", field="what_happened"),
        what_helped=(what_helped or "").strip() or None,
        citizen_view=(citizen_view or "").strip() or None,
        staff_view=(staff_view or "").strip() or None,
        citizen_took_part=bool(citizen_took_part),
    )


BVC_ITEMS = ("confused", "irritable", "boisterous", "verbal_threats", "physical_threats", "attacking_objects")


class BvcBand(str, enum.Enum):
    LOW = "low"  # 0
    MODERATE = "moderate"  # 1–2: preventive measures
    HIGH = "high"  # 3–6: act now


@dataclass(frozen=True)
class BvcScore:
    scored_at: datetime
    scored_by: str
    items: tuple[str, ...]  # the behaviours observed; the others were absent

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def band(self) -> BvcBand:
        if self.total == 0:
            return BvcBand.LOW
        return BvcBand.MODERATE if self.total <= 2 else BvcBand.HIGH


def score_bvc(*, observed: dict[str, bool] | list[str], scored_at: datetime, scored_by: str) -> BvcScore:
    _aware(scored_at, "scored_at")
    present = [k for k, v in observed.items() if v] if isinstance(observed, dict) else list(observed)
    named = list(observed) if isinstance(observed, dict) else present
    unknown = sorted(set(named) - set(BVC_ITEMS))
    if unknown:
        raise PlanRuleViolation(f"ukendt(e) BVC-punkt(er): {', '.join(unknown)}; kendte: {', '.join(BVC_ITEMS)}",
                                field="bvc")
    if len(set(present)) != len(present):
        raise PlanRuleViolation("et BVC-punkt kan kun tælles én gang", field="bvc")
    return BvcScore(scored_at=scored_at, scored_by=scored_by,
                    items=tuple(i for i in BVC_ITEMS if i in present))
