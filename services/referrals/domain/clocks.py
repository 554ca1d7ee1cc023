"""Drift of temporary stays and the statutory clocks of a case (pure rules).

Drift: a § 107 stay is "temporary as a starting point, with systematic goal follow-up" ([2]:491-499),
and the sources tell visitation to "watch for drift from § 107 to § 85" ([4]:1221-1239). A stay drifts
when it has passed its planned period (``temporary_stay_years``, default 2: Cirklen's stays run 2–3
years, [4]:3352-3366) or when ``follow_ups_without_movement`` follow-ups were held with no move-out
plan. Each reason is signalled once per stay (a warning on the case, a task for visitation, a line
in the flow report).

Clocks: deadlines that the law or the municipality sets, counted the Danish way with the kit's
clock (working days skip weekends, public holidays and the offices' closing days), each shown with
the working days left:
- the decision on a referral within the municipality's processing time limit (sagsbehandlingsfrist,
  retssikkerhedsloven § 3, stk. 2: the municipality sets it; ``decision_working_days``);
- the complaint deadline after a refusal, 4 weeks (retssikkerhedsloven § 67), moved to the next
  working day when it falls on a day the offices are closed;
- the placement's next follow-up, and the end of a temporary stay's planned period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.referrals.domain.model import CaseStatus, LegalBasis, VisitationCase
from tovholder import clock


@dataclass(frozen=True)
class VisitationRules:
    """The municipality's settings for these rules (``TOVHOLDER_REFERRALS_*``, see ``main.py``)."""

    temporary_stay_years: int = 2
    follow_ups_without_movement: int = 3
    decision_working_days: int = 20  # INFERRED default: each municipality publishes its own limits
    complaint_weeks: int = 4

    def __post_init__(self) -> None:
        if self.temporary_stay_years < 1 or self.follow_ups_without_movement < 1 or self.decision_working_days < 1:
            raise ValueError("the planned period, the follow-ups without movement and the decision deadline must be ≥ 1")


# ---------------------------------------------------------------------------------------------
# Drift of temporary stays


class DriftReason(StrEnum):
    PAST_PLANNED_PERIOD = "past-planned-period"
    NO_MOVEMENT = "no-movement"


@dataclass(frozen=True)
class Drift:
    reason: DriftReason
    since: date
    message: str  # Danish, for visitation


def planned_end(moved_in_on: date, years: int) -> date:
    try:
        return moved_in_on.replace(year=moved_in_on.year + years)
    except ValueError:  # 29 February
        return moved_in_on.replace(year=moved_in_on.year + years, day=28)


def drift_on(day: date, *, moved_in_on: date, follow_ups_held: tuple[date, ...], move_out_planned: bool,
             rules: VisitationRules) -> list[Drift]:
    """Why a temporary stay placed since ``moved_in_on`` drifts on ``day`` (empty: it does not)."""
    drifts: list[Drift] = []
    end = planned_end(moved_in_on, rules.temporary_stay_years)
    if day >= end:
        drifts.append(Drift(
            DriftReason.PAST_PLANNED_PERIOD, end,
            f"Midlertidigt ophold (§ 107) siden {moved_in_on.isoformat()}: den planlagte periode på "
            f"{rules.temporary_stay_years} år sluttede {end.isoformat()}. Vurdér, om borgeren skal videre ned ad "
            "indsatstrappen, eller om opholdet reelt er blevet længerevarende (§ 108 eller § 85).",
        ))
    held = sorted(d for d in follow_ups_held if d <= day)
    n = rules.follow_ups_without_movement
    if not move_out_planned and len(held) >= n:
        drifts.append(Drift(
            DriftReason.NO_MOVEMENT, held[n - 1],
            f"Midlertidigt ophold (§ 107): {len(held)} opfølgninger siden {moved_in_on.isoformat()} uden en plan for "
            "udflytning. Vurdér, om borgeren kan komme videre, før opholdet glider over i et længerevarende.",
        ))
    return drifts


def drift_of(case: VisitationCase, today: date, rules: VisitationRules) -> list[Drift]:
    """The drift of a placed § 107 stay (empty for anything else)."""
    p = case.placement
    if case.status is not CaseStatus.PLACED or p is None or p.legal_basis is not LegalBasis.SEL_107:
        return []
    return drift_on(today, moved_in_on=p.moved_in_on, follow_ups_held=p.follow_ups_held,
                    move_out_planned=case.move_out_plan is not None, rules=rules)


def drift_to_signal(case: VisitationCase, today: date, rules: VisitationRules) -> list[Drift]:
    """The drift not yet signalled for this stay (each reason once)."""
    return [d for d in drift_of(case, today, rules) if d.reason.value not in case.drift_signalled]


def mark_drift_signalled(case: VisitationCase, drifts: list[Drift]) -> None:
    case.drift_signalled = case.drift_signalled | {d.reason.value for d in drifts}


# ---------------------------------------------------------------------------------------------
# Statutory clocks


@dataclass(frozen=True)
class Deadline:
    kind: str
    title: str  # Danish
    due_on: date
    working_days_left: int  # negative: working days overdue
    time_left: str  # Danish: "3 arbejdsdage tilbage", "i dag", "overskredet med 2 arbejdsdage"
    overdue: bool  # the day has passed (even when only closed days lie between)


def working_days_left(today: date, due: date) -> int:
    """Working days after today up to ``due`` (0: due today, or only closed days between; negative: overdue)."""
    if due >= today:
        return clock.working_days_between(today, due)
    return -clock.working_days_between(due, today)


def _time_left(today: date, due: date, left: int) -> str:
    if due == today:
        return "i dag"
    if due < today:
        return f"overskredet med {-left} arbejdsdag{'e' if -left != 1 else ''}" if left else "overskredet"
    return f"{left} arbejdsdag{'e' if left != 1 else ''} tilbage"


def _deadline(kind: str, title: str, due: date, today: date) -> Deadline:
    left = working_days_left(today, due)
    return Deadline(kind, title, due, left, _time_left(today, due, left), due < today)


def complaint_deadline(decided_on: date, weeks: int = 4) -> date:
    """4 weeks after the decision; a deadline that falls on a closed day moves to the next working day."""
    due = decided_on + timedelta(weeks=weeks)
    return due if clock.is_working_day(due) else clock.next_working_day(due)


def deadlines_of(case: VisitationCase, today: date, rules: VisitationRules) -> list[Deadline]:
    """The case's running deadlines, soonest first."""
    out: list[Deadline] = []
    if case.status in (CaseStatus.RECEIVED, CaseStatus.SCREENING):
        due = clock.local_date(clock.working_day_deadline(case.received_at, rules.decision_working_days))
        out.append(_deadline("decision", f"Afgørelse senest (sagsbehandlingsfrist, {rules.decision_working_days} "
                                         "arbejdsdage fra modtagelsen)", due, today))
    if case.status is CaseStatus.REFUSED and case.refusal is not None:
        due = complaint_deadline(clock.local_date(case.refusal.decided_at), rules.complaint_weeks)
        out.append(_deadline("complaint", f"Klagefrist ({rules.complaint_weeks} uger fra afgørelsen)", due, today))
    p = case.placement
    if case.status is CaseStatus.PLACED and p is not None:
        out.append(_deadline("follow-up", "Næste opfølgning senest", p.follow_up_date, today))
        if p.legal_basis is LegalBasis.SEL_107:
            end = planned_end(p.moved_in_on, rules.temporary_stay_years)
            out.append(_deadline("temporary-stay-end", f"Den planlagte periode for det midlertidige ophold "
                                                       f"({rules.temporary_stay_years} år) slutter", end, today))
    return sorted(out, key=lambda d: d.due_on)
