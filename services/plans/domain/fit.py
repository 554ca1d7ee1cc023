"""FIT (Feedback Informed Treatment, DIGEST W9): ORS and SRS about every 14 days, shown as a trend.

ORS: the citizen rates how they are doing; SRS: the citizen rates the collaboration. Both on 1–10
(smileys map onto the same scale) ([4]:6744-6785). Answers are confidential unless the citizen agrees
to share ([4]:6749-6753): a session records that choice and the scores leave the session only when
it is yes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Sequence
from uuid import UUID

from services.plans.domain.errors import PlanRuleViolation

SCORE_MIN = 1.0
SCORE_MAX = 10.0
FIT_CADENCE = timedelta(days=14)
# A slope smaller than this (score points per 14 days) is "stable": ORS varies from day to day.
STABLE_SLOPE_PER_SESSION = 0.5


@dataclass(frozen=True)
class FitSession:
    session_id: UUID
    held_at: datetime
    recorded_by: str
    ors: float | None
    srs: float | None
    shared_by_citizen: bool

    def visible_scores(self) -> tuple[float | None, float | None]:
        """What may leave the session: the scores only where the citizen chose to share."""
        return (self.ors, self.srs) if self.shared_by_citizen else (None, None)


def record_session(*, session_id: UUID, held_at: datetime, recorded_by: str, ors: float | None,
                   srs: float | None, shared_by_citizen: bool, now: datetime) -> FitSession:
    if held_at.tzinfo is None or held_at.utcoffset() is None:
        raise PlanRuleViolation("held_at must carry a time zone", field="held_at")
    if held_at > now:
        raise PlanRuleViolation("a FIT session cannot be recorded before it is held", field="held_at")
    if ors is None and srs is None:
        raise PlanRuleViolation("a FIT session needs an ORS or an SRS score", field="ors")
    for name, value in (("ors", ors), ("srs", srs)):
        if value is not None and not (SCORE_MIN <= float(value) <= SCORE_MAX):
            raise PlanRuleViolation(f"{name.upper()} is scored from 1 to 10", field=name)
    if not isinstance(shared_by_citizen, bool):
        raise PlanRuleViolation("say whether the citizen chose to share the scores (true or false)",
                                field="shared_by_citizen")
    return FitSession(session_id=session_id, held_at=held_at, recorded_by=recorded_by,
                      ors=None if ors is None else float(ors), srs=None if srs is None else float(srs),
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


def trend(sessions: Sequence[FitSession], *, scale: str = "ors") -> Trend:
    """Least-squares slope of the chosen scale over time, per 14 days."""
    if scale not in ("ors", "srs"):
        raise PlanRuleViolation("a FIT trend is of ORS or SRS", field="scale")
    points = tuple(sorted(((s.held_at, getattr(s, scale)) for s in sessions if getattr(s, scale) is not None),
                          key=lambda p: p[0]))
    if len(points) < 2 or points[0][0] == points[-1][0]:
        return Trend(Direction.NOT_ENOUGH_DATA, None, points)
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
    return Trend(direction, round(slope, 3), points)


def next_session_due(sessions: Sequence[FitSession], *, start: date) -> date:
    """About every 14 days from the last session, or from the start when there is none."""
    if not sessions:
        return start + FIT_CADENCE
    return max(s.held_at for s in sessions).date() + FIT_CADENCE
