"""The flow report: what came in, what was decided, how long people waited, who moved in and out
and where to, per period (the centres' annual report counts flow, [0]:38).

Decisions and citizens are counted apart: a citizen refused, reassessed and refused again is two
refusals and one citizen. The period is also split by offer and by calendar month."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from uuid import UUID

from services.referrals.domain.clocks import VisitationRules, drift_on
from services.referrals.domain.model import CaseStatus, Channel, Destination, EndCause, VisitationCase
from services.referrals.domain.offers import percentile
from tovholder import clock


@dataclass(frozen=True)
class CaseFlowFacts:
    """The few facts of one case the report needs (cheap to load for many cases)."""

    received_at: datetime
    channel: Channel
    citizen_id: UUID | None = None
    offer_id: str | None = None  # the offer granted / moved into / moved out of
    decision: str | None = None  # "granted" | "refused"
    decided_at: datetime | None = None
    moved_in_on: date | None = None
    ended_on: date | None = None
    end_cause: EndCause | None = None
    destination: Destination | None = None


@dataclass(frozen=True)
class StayFacts:
    """A temporary (§ 107) stay that was running at some point of the period (for the drift line)."""

    moved_in_on: date
    ended_on: date | None
    follow_ups_held: tuple[date, ...] = ()
    move_out_planned: bool = False


def facts_of(case: VisitationCase) -> CaseFlowFacts:
    decision, decided_at = None, None
    if case.grant is not None:
        decision, decided_at = "granted", case.grant.decided_at
    elif case.refusal is not None and case.status is CaseStatus.REFUSED:
        decision, decided_at = "refused", case.refusal.decided_at
    return CaseFlowFacts(
        received_at=case.received_at,
        channel=case.referrer.channel,
        citizen_id=case.citizen_id,
        offer_id=case.offer_id,
        decision=decision,
        decided_at=decided_at,
        moved_in_on=case.placement.moved_in_on if case.placement else None,
        ended_on=case.ending.ended_on if case.ending else None,
        end_cause=case.ending.cause if case.ending else None,
        destination=case.ending.destination if case.ending else None,
    )


@dataclass(frozen=True)
class FlowReport:
    period_from: date
    period_to: date  # inclusive
    referrals_received: int
    referrals_from_partners: int
    referrals_from_staff: int
    decisions_granted: int
    decisions_refused: int
    placements_started: int
    waiting_days_median: float | None  # referral received → moved in, for the period's move-ins
    waiting_days_p90: float | None
    move_outs: int
    move_outs_to_own_home: int
    move_outs_to_other_offer: int
    move_outs_elsewhere: int
    step_downs: int
    ended_by_cause: dict[str, int] = field(default_factory=dict)
    citizens_referred: int = 0
    citizens_decided: int = 0
    citizens_granted: int = 0
    citizens_refused: int = 0
    by_offer: dict[str, dict[str, int]] = field(default_factory=dict)
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)
    # § 107 stays running at the end of the period that drift then (past the planned period, or
    # follow-ups without movement; domain.clocks)
    temporary_stays_drifting: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["period_from"] = self.period_from.isoformat()
        d["period_to"] = self.period_to.isoformat()
        return d


def _in(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _citizens(facts: list[CaseFlowFacts]) -> int:
    return len({f.citizen_id for f in facts if f.citizen_id is not None})


OFFER_METRICS = ("decisions_granted", "placements_started", "move_outs", "step_downs")
MONTH_METRICS = ("referrals_received", "decisions_granted", "decisions_refused", "placements_started", "move_outs")


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class FlowCounts:
    """What the report is made of, counted: from facts in memory (``counts_of``) or by PostgreSQL
    (``repository.flow_counts``, for 100,000 cases); ``assemble`` makes the one report of either.
    Months are ``YYYY-MM`` of the Copenhagen day; ``offer_id`` None where the fact names no offer."""

    received: tuple[tuple[str, Channel, int], ...] = ()  # month, channel, referrals
    decisions: tuple[tuple[str, str, str | None, int], ...] = ()  # month, "granted"/"refused", offer granted, n
    moved_in: tuple[tuple[str, str | None, int], ...] = ()  # month, offer, placements started
    ended: tuple[tuple[str, str | None, EndCause | None, Destination | None, int], ...] = ()
    waiting_days_median: float | None = None  # received (Copenhagen day) → moved in, for the period's move-ins
    waiting_days_p90: float | None = None
    citizens_referred: int = 0
    citizens_decided: int = 0
    citizens_granted: int = 0
    citizens_refused: int = 0


def _tally(items) -> tuple:
    counted: dict[tuple, int] = {}
    for key in items:
        counted[key] = counted.get(key, 0) + 1
    return tuple((*key, n) for key, n in counted.items())


def counts_of(facts: list[CaseFlowFacts] | tuple[CaseFlowFacts, ...], period_from: date, period_to: date) -> FlowCounts:
    received = [f for f in facts if _in(clock.local_date(f.received_at), period_from, period_to)]
    decided = [f for f in facts if f.decided_at is not None and _in(clock.local_date(f.decided_at), period_from, period_to)]
    moved_in = [f for f in facts if _in(f.moved_in_on, period_from, period_to)]
    ended = [f for f in facts if _in(f.ended_on, period_from, period_to)]
    waits = [max(0, (f.moved_in_on - clock.local_date(f.received_at)).days) for f in moved_in]
    return FlowCounts(
        received=_tally((_month(clock.local_date(f.received_at)), f.channel) for f in received),
        decisions=_tally((_month(clock.local_date(f.decided_at)), f.decision,
                          f.offer_id if f.decision == "granted" else None) for f in decided),
        moved_in=_tally((_month(f.moved_in_on), f.offer_id) for f in moved_in),
        ended=_tally((_month(f.ended_on), f.offer_id, f.end_cause, f.destination) for f in ended),
        waiting_days_median=percentile(waits, 50),
        waiting_days_p90=percentile(waits, 90),
        citizens_referred=_citizens(received),
        citizens_decided=_citizens(decided),
        citizens_granted=_citizens([f for f in decided if f.decision == "granted"]),
        citizens_refused=_citizens([f for f in decided if f.decision == "refused"]),
    )


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def assemble(counts: FlowCounts, period_from: date, period_to: date, *, temporary_stays_drifting: int = 0) -> FlowReport:
    by_offer: dict[str, dict[str, int]] = {}
    by_month = {m: dict.fromkeys(MONTH_METRICS, 0) for m in _months(period_from, period_to)}

    def offer(offer_id: str | None, metric: str, n: int) -> None:
        if offer_id:
            by_offer.setdefault(offer_id, dict.fromkeys(OFFER_METRICS, 0))[metric] += n

    partners = staff = granted = refused = placements = 0
    for month, channel, n in counts.received:
        by_month[month]["referrals_received"] += n
        partners += n if channel is Channel.PARTNER else 0
        staff += n if channel is Channel.STAFF else 0
    for month, decision, offer_id, n in counts.decisions:
        metric = "decisions_granted" if decision == "granted" else "decisions_refused"
        by_month[month][metric] += n
        if decision == "granted":
            granted += n
            offer(offer_id, metric, n)
        else:
            refused += n
    for month, offer_id, n in counts.moved_in:
        by_month[month]["placements_started"] += n
        placements += n
        offer(offer_id, "placements_started", n)
    causes: dict[str, int] = {c.value: 0 for c in EndCause}
    destinations: dict[Destination | None, int] = {}
    move_outs = 0
    for month, offer_id, cause, destination, n in counts.ended:
        by_month[month]["move_outs"] += n
        move_outs += n
        offer(offer_id, "move_outs", n)
        if cause is not None:
            causes[cause.value] += n
        if cause is EndCause.STEPPED_DOWN:
            offer(offer_id, "step_downs", n)
        destinations[destination] = destinations.get(destination, 0) + n
    return FlowReport(
        period_from=period_from,
        period_to=period_to,
        referrals_received=sum(n for _, _, n in counts.received),
        referrals_from_partners=partners,
        referrals_from_staff=staff,
        decisions_granted=granted,
        decisions_refused=refused,
        placements_started=placements,
        # Two decimals: a day's hundredth is precision enough, and PostgreSQL's and Python's interpolation
        # differ in the last bits of a float.
        waiting_days_median=_days(counts.waiting_days_median),
        waiting_days_p90=_days(counts.waiting_days_p90),
        move_outs=move_outs,
        move_outs_to_own_home=destinations.get(Destination.OWN_HOME, 0),
        move_outs_to_other_offer=destinations.get(Destination.OFFER, 0),
        move_outs_elsewhere=destinations.get(Destination.OTHER, 0),
        step_downs=causes[EndCause.STEPPED_DOWN.value],
        ended_by_cause=causes,
        citizens_referred=counts.citizens_referred,
        citizens_decided=counts.citizens_decided,
        citizens_granted=counts.citizens_granted,
        citizens_refused=counts.citizens_refused,
        by_offer=dict(sorted(by_offer.items())),
        by_month=by_month,
        temporary_stays_drifting=temporary_stays_drifting,
    )


def drifting_at(stays: list[StayFacts] | tuple[StayFacts, ...], day: date, rules: VisitationRules) -> int:
    running = [s for s in stays if s.moved_in_on <= day and (s.ended_on is None or s.ended_on > day)]
    return sum(1 for s in running if drift_on(day, moved_in_on=s.moved_in_on, follow_ups_held=s.follow_ups_held,
                                              move_out_planned=s.move_out_planned, rules=rules))


def flow_report(facts: list[CaseFlowFacts] | tuple[CaseFlowFacts, ...], period_from: date, period_to: date, *,
                stays: list[StayFacts] | tuple[StayFacts, ...] = (), rules: VisitationRules | None = None) -> FlowReport:
    if period_to < period_from:
        raise ValueError("period_to is before period_from")
    return assemble(counts_of(facts, period_from, period_to), period_from, period_to,
                    temporary_stays_drifting=drifting_at(stays, period_to, rules or VisitationRules()))


def report_csv(report: FlowReport) -> str:
    """One ``metric,value`` row per number (spreadsheet-friendly; empty value = no data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    for key, value in report.as_dict().items():
        if key == "ended_by_cause":
            for cause, count in value.items():
                writer.writerow([f"ended_by_cause.{cause}", count])
        elif key in ("by_offer", "by_month"):
            for part, counts in value.items():
                for metric, count in counts.items():
                    writer.writerow([f"{key}.{part}.{metric}", count])
        else:
            writer.writerow([key, "" if value is None else value])
    return out.getvalue()
