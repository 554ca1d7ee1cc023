"""Follow-up cadences for a plan and its goals, and the calendar arithmetic behind due dates.

The sources name these rhythms: sub-goals reviewed every 14 days (Cirklen), targets for the next
8 weeks and team meetings every 2–3 months (Tuesten Huse); the brief adds SEL § 103 follow-up twice a
year and § 104 once a year. A cadence is "every N days" or "every N months", optionally with a later
bound ("2–3 months": due after 2, late after 3).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.plans.domain.errors import PlanRuleViolation

# Longer than a year is no longer a follow-up cadence (§ 104 yearly is the slowest the sources know).
MAX_CADENCE_DAYS = 366
MAX_CADENCE_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """Same day of month ``months`` later; clamps to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


@dataclass(frozen=True)
class Cadence:
    days: int = 0
    months: int = 0
    # For a window such as "2–3 months": the follow-up is due after ``months`` and late after this.
    latest_months: int | None = None
    # How people say it ("SEL § 104: once a year"); two cadences with the same rhythm are equal.
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.days < 0 or self.months < 0:
            raise PlanRuleViolation("en kadence kan ikke være negativ", field="cadence")
        if self.days and self.months:
            raise PlanRuleViolation("en kadence tælles i dage eller i måneder, ikke begge", field="cadence")
        if self.days == 0 and self.months == 0:
            raise PlanRuleViolation("en kadence skal være mindst én dag (en kadence på nul bliver aldrig aktuel)", field="cadence")
        if self.days > MAX_CADENCE_DAYS or self.months > MAX_CADENCE_MONTHS:
            raise PlanRuleViolation("en kadence kan højst være et år", field="cadence")
        if self.latest_months is not None:
            if self.months == 0:
                raise PlanRuleViolation("et interval ('2–3 måneder') kræver en kadence i måneder", field="cadence")
            if not self.months < self.latest_months <= MAX_CADENCE_MONTHS:
                raise PlanRuleViolation("slutningen af et kadenceinterval skal ligge efter starten og inden for et år", field="cadence")
        if not self.label:
            object.__setattr__(self, "label", self._default_label())

    def _default_label(self) -> str:
        if self.days:
            if self.days % 7 == 0 and self.days >= 28:
                return f"{self.days // 7} weeks"
            return f"{self.days} days" if self.days != 1 else "1 day"
        if self.latest_months is not None:
            return f"{self.months}–{self.latest_months} months"
        return f"{self.months} months" if self.months != 1 else "1 month"

    def due_on(self, anchor: date) -> date:
        """When the next follow-up is due, counted from the start or the last follow-up."""
        if self.days:
            return anchor + timedelta(days=self.days)
        return add_months(anchor, self.months)

    def late_after(self, anchor: date) -> date:
        """The last day a follow-up is still on time (the end of a window, else the due day)."""
        if self.latest_months is not None:
            return add_months(anchor, self.latest_months)
        return self.due_on(anchor)

    @classmethod
    def from_parts(cls, *, days: int | None = None, weeks: int | None = None, months: int | None = None,
                   latest_months: int | None = None, label: str = "") -> "Cadence":
        """Build from what a person typed: exactly one of days, weeks or months."""
        given = [v for v in (days, weeks, months) if v is not None]
        if len(given) != 1:
            raise PlanRuleViolation("angiv en kadence som præcis én af dage, uger eller måneder", field="cadence")
        if weeks is not None:
            if weeks <= 0:
                raise PlanRuleViolation("en kadence skal være mindst én dag (en kadence på nul bliver aldrig aktuel)", field="cadence")
            return cls(days=weeks * 7, label=label)
        return cls(days=days or 0, months=months or 0, latest_months=latest_months, label=label)


FOURTEEN_DAYS = Cadence(days=14, label="14 days")
EIGHT_WEEKS = Cadence(days=56, label="8 weeks")
TWO_TO_THREE_MONTHS = Cadence(months=2, latest_months=3, label="2–3 months")
SEL_103_HALF_YEARLY = Cadence(months=6, label="SEL § 103: twice a year")
SEL_104_YEARLY = Cadence(months=12, label="SEL § 104: once a year")

PRESETS: dict[str, Cadence] = {
    "14-days": FOURTEEN_DAYS,
    "8-weeks": EIGHT_WEEKS,
    "2-3-months": TWO_TO_THREE_MONTHS,
    "sel-103": SEL_103_HALF_YEARLY,
    "sel-104": SEL_104_YEARLY,
}


def preset(name: str) -> Cadence:
    try:
        return PRESETS[name]
    except KeyError:
        raise PlanRuleViolation(
            f"ukendt kadence {name!r}; kendte: {', '.join(sorted(PRESETS))}", field="cadence"
        ) from None
