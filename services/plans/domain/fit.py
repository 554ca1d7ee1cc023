"""FIT (Feedback Informed Treatment, DIGEST W9): ORS and SRS about every 14 days, shown as a trend.

ORS (Outcome Rating Scale): the citizen rates how they are doing; SRS (Session Rating Scale): the
citizen rates the collaboration ([4]:6744-6785). Each instrument is four visual-analogue items, a
mark on a 10 cm line read to the millimetre: 0–10 with one decimal per item, a total of 0–40.

- ORS items: individuelt (personal well-being), interpersonelt (family, close relationships),
  socialt (work, school, friendships), generelt (overall).
- SRS items: relation (heard, understood, respected), mål og emner (we talked about what I wanted),
  tilgang eller metode (the approach fits me), generelt (overall, this session was right for me).
- Clinical cut-offs (adults): an ORS total below 25 is in the clinical range; an SRS total below 36
  says the collaboration needs talking about. Both are returned with the trend.

Three ways to answer, one scale:
- the four item marks (the total is their sum);
- only the total, as read off a paper form (0–40, one decimal);
- smileys, for citizens who prefer faces to a line ([4]:6749: "krydser tal eller smileys af"): one of
  five faces per item, from the saddest (1) to the happiest (5), placed at even steps on the same
  10 cm line — face k is the mark (k − 1) × 2.5: 1 → 0, 2 → 2.5, 3 → 5, 4 → 7.5, 5 → 10.

Sessions recorded before the real scales (a single 1–10 score per instrument) keep their values as
recorded, marked ``Scale.LEGACY_1_10``; they are shown, never mixed into the 0–40 trend or cut-offs
(there is no faithful conversion from one global 1–10 score to four 0–10 items).

Answers are confidential unless the citizen agrees to share ([4]:6749-6753): a session records that
choice and the scores leave the session only when it is yes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence
from uuid import UUID

from services.plans.domain.errors import PlanRuleViolation
from tovholder import clock

ITEM_MIN = 0.0
ITEM_MAX = 10.0
ITEMS_PER_SCALE = 4
TOTAL_MAX = ITEM_MAX * ITEMS_PER_SCALE  # 40

ORS_ITEMS: tuple[tuple[str, str], ...] = (
    ("individual", "Individuelt (personligt velbefindende)"),
    ("interpersonal", "Interpersonelt (familie, nære relationer)"),
    ("social", "Socialt (arbejde, skole, venskaber)"),
    ("overall", "Generelt (overordnet velbefindende)"),
)
SRS_ITEMS: tuple[tuple[str, str], ...] = (
    ("relationship", "Relation (jeg følte mig hørt, forstået og respekteret)"),
    ("goals_and_topics", "Mål og emner (vi talte om det, jeg ville tale om)"),
    ("approach_or_method", "Tilgang eller metode (måden at arbejde på passer til mig)"),
    ("overall", "Generelt (samtalen var rigtig for mig)"),
)
ITEMS = {"ors": ORS_ITEMS, "srs": SRS_ITEMS}
CUTOFFS = {"ors": 25.0, "srs": 36.0}
CUTOFF_MEANING_DA = {
    "ors": "Under 25: i det kliniske område",
    "srs": "Under 36: samarbejdet bør tages op med borgeren",
}

SMILEY_FACES = 5
SMILEY_STEP = ITEM_MAX / (SMILEY_FACES - 1)  # 2.5 cm between faces


def smiley_to_mark(face: int) -> float:
    """Face 1 (saddest) … 5 (happiest) → the mark on the 0–10 line: (face − 1) × 2.5."""
    if isinstance(face, bool) or not isinstance(face, int) or not 1 <= face <= SMILEY_FACES:
        raise PlanRuleViolation(f"en smiley er et tal fra 1 (mest trist) til {SMILEY_FACES} (gladest)",
                                field="smileys")
    return (face - 1) * SMILEY_STEP


FIT_CADENCE = timedelta(days=14)
# A slope smaller than this (total points per 14 days, on 0–40) is "stable": ORS varies from day to day.
STABLE_SLOPE_PER_SESSION = 2.0


class Scale(str, enum.Enum):
    ITEMS_0_40 = "0-40"  # four items 0–10, total 0–40
    LEGACY_1_10 = "1-10"  # one score 1–10, recorded before the real scales


class AnsweredWith(str, enum.Enum):
    ITEMS = "items"
    SMILEYS = "smileys"
    TOTAL = "total"


@dataclass(frozen=True)
class ScaleScore:
    total: float
    items: tuple[float, ...] | None  # in the order of ORS_ITEMS / SRS_ITEMS; None when only the total is known
    answered_with: AnsweredWith


@dataclass(frozen=True)
class ScaleAnswer:
    """What was typed for one instrument: exactly one of the item marks, the smileys or the total
    (the total may come with the items, then it must be their sum)."""

    items: Mapping[str, float] | None = None
    smileys: Mapping[str, int] | None = None
    total: float | None = None


def _one_decimal(value: float) -> bool:
    return abs(round(value, 1) - value) < 1e-9


def _number(value: object, *, what: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        raise PlanRuleViolation(f"{what} skal være et tal", field=field)
    return float(value)


def score_scale(name: str, answer: ScaleAnswer) -> ScaleScore:
    """One instrument's answer → its score on 0–40 (rule: each item 0–10 with one decimal)."""
    if name not in ITEMS:
        raise PlanRuleViolation("FIT har to skemaer: ORS og SRS", field="scale")
    label = name.upper()
    keys = [k for k, _ in ITEMS[name]]
    given = [f for f in ("items", "smileys") if getattr(answer, f) is not None]
    if len(given) > 1:
        raise PlanRuleViolation(f"{label}: angiv enten de fire markeringer eller smileys, ikke begge", field=name)
    if not given and answer.total is None:
        raise PlanRuleViolation(f"{label}: angiv de fire markeringer, smileys eller totalen", field=name)
    if given:
        raw = dict(getattr(answer, given[0]))
        unknown = sorted(set(raw) - set(keys))
        missing = [k for k in keys if k not in raw]
        if unknown or missing:
            raise PlanRuleViolation(
                f"{label} har fire punkter ({', '.join(keys)})"
                + (f"; ukendt: {', '.join(unknown)}" if unknown else "")
                + (f"; mangler: {', '.join(missing)}" if missing else ""), field=name)
        if given[0] == "smileys":
            if answer.total is not None:
                raise PlanRuleViolation(f"{label}: med smileys udregnes totalen; udelad den", field=name)
            marks = tuple(smiley_to_mark(raw[k]) for k in keys)
            return ScaleScore(total=round(sum(marks), 1), items=marks, answered_with=AnsweredWith.SMILEYS)
        marks = tuple(_number(raw[k], what=f"{label} {k}", field=name) for k in keys)
        for key, mark in zip(keys, marks):
            if not (ITEM_MIN <= mark <= ITEM_MAX) or not _one_decimal(mark):
                raise PlanRuleViolation(
                    f"{label} {key}: hvert punkt scores fra 0 til 10 med én decimal (fik {mark:g})", field=name)
        total = round(sum(marks), 1)
        if answer.total is not None and abs(_number(answer.total, what=f"{label} total", field=name) - total) > 0.05:
            raise PlanRuleViolation(f"{label}: totalen {answer.total:g} er ikke summen af punkterne ({total:g})",
                                    field=name)
        return ScaleScore(total=total, items=marks, answered_with=AnsweredWith.ITEMS)
    total = _number(answer.total, what=f"{label} total", field=name)
    if not (0.0 <= total <= TOTAL_MAX) or not _one_decimal(total):
        raise PlanRuleViolation(f"{label} scores fra 0 til 40 (fire punkter à 0–10) med én decimal (fik {total:g})",
                                field=name)
    return ScaleScore(total=total, items=None, answered_with=AnsweredWith.TOTAL)


@dataclass(frozen=True)
class FitSession:
    session_id: UUID
    held_at: datetime
    recorded_by: str
    ors: ScaleScore | None
    srs: ScaleScore | None
    shared_by_citizen: bool
    scale: Scale = Scale.ITEMS_0_40

    def total(self, name: str) -> float | None:
        score = getattr(self, name)
        return None if score is None else score.total

    def visible_scores(self) -> tuple[float | None, float | None]:
        """What may leave the session: the totals only where the citizen chose to share."""
        return (self.total("ors"), self.total("srs")) if self.shared_by_citizen else (None, None)

    def below_cutoff(self, name: str) -> bool | None:
        """Below the instrument's clinical cut-off; None when unknown or on the legacy scale."""
        total = self.total(name)
        if total is None or self.scale != Scale.ITEMS_0_40:
            return None
        return total < CUTOFFS[name]

    def hidden(self) -> "FitSession":
        """The same session without its scores (for whom the citizen did not share them with)."""
        return FitSession(self.session_id, self.held_at, self.recorded_by, None, None, self.shared_by_citizen,
                          self.scale)


def record_session(*, session_id: UUID, held_at: datetime, recorded_by: str, ors: ScaleAnswer | None,
                   srs: ScaleAnswer | None, shared_by_citizen: bool, now: datetime) -> FitSession:
    if held_at.tzinfo is None or held_at.utcoffset() is None:
        raise PlanRuleViolation("tidspunktet for samtalen skal have en tidszone", field="held_at")
    if held_at > now:
        raise PlanRuleViolation("en FIT-samtale registreres, når den er holdt – ikke før", field="held_at")
    if ors is None and srs is None:
        raise PlanRuleViolation("en FIT-samtale skal have en ORS- eller en SRS-score", field="ors")
    if not isinstance(shared_by_citizen, bool):
        raise PlanRuleViolation("angiv, om borgeren har valgt at dele scorerne (true eller false)",
                                field="shared_by_citizen")
    return FitSession(session_id=session_id, held_at=held_at, recorded_by=recorded_by,
                      ors=None if ors is None else score_scale("ors", ors),
                      srs=None if srs is None else score_scale("srs", srs),
                      shared_by_citizen=shared_by_citizen)


class Direction(str, enum.Enum):
    IMPROVING = "improving"
    STABLE = "stable"
    WORSENING = "worsening"
    NOT_ENOUGH_DATA = "not-enough-data"


@dataclass(frozen=True)
class Trend:
    direction: Direction
    slope_per_14_days: float | None
    points: tuple[tuple[datetime, float], ...]
    cutoff: float
    latest: float | None
    latest_below_cutoff: bool | None


def trend(sessions: Sequence[FitSession], *, scale: str = "ors") -> Trend:
    """Least-squares slope of the chosen instrument's total over time, per 14 days, on 0–40 only,
    with the clinical cut-off and where the latest total lies."""
    if scale not in ITEMS:
        raise PlanRuleViolation("en FIT-tendens er for ORS eller SRS", field="scale")
    points = tuple(sorted(((s.held_at, s.total(scale)) for s in sessions
                           if s.scale == Scale.ITEMS_0_40 and s.total(scale) is not None), key=lambda p: p[0]))
    cutoff = CUTOFFS[scale]
    latest = points[-1][1] if points else None
    below = None if latest is None else latest < cutoff
    if len(points) < 2 or points[0][0] == points[-1][0]:
        return Trend(Direction.NOT_ENOUGH_DATA, None, points, cutoff, latest, below)
    origin = points[0][0]
    xs = [(t - origin) / FIT_CADENCE for t, _ in points]
    ys = [v for _, v in points]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / var_x
    if slope >= STABLE_SLOPE_PER_SESSION:
        direction = Direction.IMPROVING
    elif slope <= -STABLE_SLOPE_PER_SESSION:
        direction = Direction.WORSENING
    else:
        direction = Direction.STABLE
    return Trend(direction, round(slope, 3), points, cutoff, latest, below)


def next_session_due(sessions: Sequence[FitSession], *, start: date) -> date:
    """About every 14 days from the last session, or from the start when there is none."""
    if not sessions:
        return start + FIT_CADENCE
    return clock.local_date(max(s.held_at for s in sessions)) + FIT_CADENCE  # the Copenhagen day it was held
