"""The flow report: what came in, what was decided, how long people waited, who moved in and out
and where to, per period (the centres' annual report counts flow, [0]:38)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from services.referrals.domain.model import CaseStatus, Channel, Destination, EndCause, VisitationCase
from services.referrals.domain.offers import percentile


@dataclass(frozen=True)
class CaseFlowFacts:
    """The few facts of one case the report needs (cheap to load for many cases)."""

    received_at: datetime
    channel: Channel
    decision: str | None = None  # "granted" | "refused"
    decided_at: datetime | None = None
    moved_in_on: date | None = None
    ended_on: date | None = None
    end_cause: EndCause | None = None
    destination: Destination | None = None


def facts_of(case: VisitationCase) -> CaseFlowFacts:
    decision, decided_at = None, None
    if case.grant is not None:
        decision, decided_at = "granted", case.grant.decided_at
    elif case.refusal is not None and case.status is CaseStatus.REFUSED:
        decision, decided_at = "refused", case.refusal.decided_at
    return CaseFlowFacts(
        received_at=case.received_at,
        channel=case.referrer.channel,
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

    def as_dict(self) -> dict:
        d = asdict(self)
        d["period_from"] = self.period_from.isoformat()
        d["period_to"] = self.period_to.isoformat()
        return d


def _in(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def flow_report(facts: list[CaseFlowFacts] | tuple[CaseFlowFacts, ...], period_from: date, period_to: date) -> FlowReport:
    if period_to < period_from:
        raise ValueError("period_to is before period_from")
    received = [f for f in facts if _in(f.received_at.date(), period_from, period_to)]
    decided = [f for f in facts if f.decided_at is not None and _in(f.decided_at.date(), period_from, period_to)]
    moved_in = [f for f in facts if _in(f.moved_in_on, period_from, period_to)]
    ended = [f for f in facts if _in(f.ended_on, period_from, period_to)]
    waits = [max(0, (f.moved_in_on - f.received_at.date()).days) for f in moved_in]
    causes: dict[str, int] = {c.value: 0 for c in EndCause}
    for f in ended:
        if f.end_cause is not None:
            causes[f.end_cause.value] += 1
    return FlowReport(
        period_from=period_from,
        period_to=period_to,
        referrals_received=len(received),
        referrals_from_partners=sum(1 for f in received if f.channel is Channel.PARTNER),
        referrals_from_staff=sum(1 for f in received if f.channel is Channel.STAFF),
        decisions_granted=sum(1 for f in decided if f.decision == "granted"),
        decisions_refused=sum(1 for f in decided if f.decision == "refused"),
        placements_started=len(moved_in),
        waiting_days_median=percentile(waits, 50),
        waiting_days_p90=percentile(waits, 90),
        move_outs=len(ended),
        move_outs_to_own_home=sum(1 for f in ended if f.destination is Destination.OWN_HOME),
        move_outs_to_other_offer=sum(1 for f in ended if f.destination is Destination.OFFER),
        move_outs_elsewhere=sum(1 for f in ended if f.destination is Destination.OTHER),
        step_downs=causes[EndCause.STEPPED_DOWN.value],
        ended_by_cause=causes,
    )


def report_csv(report: FlowReport) -> str:
    """One ``metric,value`` row per number (spreadsheet-friendly; empty value = no data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    for key, value in report.as_dict().items():
        if key == "ended_by_cause":
            for cause, count in value.items():
                writer.writerow([f"ended_by_cause.{cause}", count])
        else:
            writer.writerow([key, "" if value is None else value])
    return out.getvalue()
