"""One reminder schedule (tovholder/reminders.py): the same moments in health, notifications and the
documentation, from one setting."""

from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path

import pytest

from services.health.domain.health_check import reminders_before
from services.notifications.domain.scheduling import examination_reminders
from tovholder.clock import COPENHAGEN
from tovholder.reminders import DEFAULT_SCHEDULE, ReminderSchedule
from tovholder.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[3]


def local(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=COPENHAGEN)


def test_the_evening_before_at_19_and_the_morning_of_at_8_or_an_hour_before_an_early_appointment():
    assert DEFAULT_SCHEDULE.moments_before(local(2026, 11, 25, 10)) == (local(2026, 11, 24, 19), local(2026, 11, 25, 8))
    assert DEFAULT_SCHEDULE.moments_before(local(2026, 11, 25, 8, 30)) == (local(2026, 11, 24, 19),
                                                                         local(2026, 11, 25, 7, 30))
    assert DEFAULT_SCHEDULE.moments_before(local(2026, 11, 25, 10), after=local(2026, 11, 24, 20)) == (
        local(2026, 11, 25, 8),)
    with pytest.raises(ValueError):
        DEFAULT_SCHEDULE.moments_before(datetime(2026, 11, 25, 10))


def test_health_and_notifications_compute_the_same_moments():
    """Regression (issue 15): health reminded at 19:00 / 08:00, notifications and its docs said 18:00 / 07:00."""
    for appointment in (local(2026, 11, 25, 10, 30), local(2026, 10, 25, 9), local(2027, 3, 29, 7, 45)):
        health = reminders_before(appointment)
        notifications = tuple(r.at for r in examination_reminders(appointment))
        assert health == notifications == DEFAULT_SCHEDULE.moments_before(appointment)
    other = ReminderSchedule(evening_before=time(18, 30), morning_of=time(7, 15))
    appointment = local(2026, 11, 25, 10)
    assert reminders_before(appointment, other) == tuple(r.at for r in examination_reminders(appointment, schedule=other))


def test_the_schedule_is_one_setting_of_the_kit(monkeypatch):
    monkeypatch.setenv("TOVHOLDER_REMINDER_EVENING_BEFORE", "18:30")
    monkeypatch.setenv("TOVHOLDER_REMINDER_MORNING_OF", "07:15")
    assert (Settings().reminder_evening_before, Settings().reminder_morning_of) == (time(18, 30), time(7, 15))
    get_settings.cache_clear()
    try:
        assert get_settings().reminder_schedule == ReminderSchedule(evening_before=time(18, 30), morning_of=time(7, 15))
    finally:
        monkeypatch.delenv("TOVHOLDER_REMINDER_EVENING_BEFORE")
        monkeypatch.delenv("TOVHOLDER_REMINDER_MORNING_OF")
        get_settings.cache_clear()
    assert get_settings().reminder_schedule == DEFAULT_SCHEDULE


def test_no_service_or_document_names_other_reminder_times():
    """The times are written once (tovholder/reminders.py); code and docs elsewhere name the schedule."""
    stale = re.compile(r"\b(18:00|07:00)\b|EVENING_BEFORE_HOUR|MORNING_OF_HOUR|EVENING_REMINDER|MORNING_REMINDER")
    offenders = []
    for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "services").rglob("*.md"), *(ROOT / "docs").rglob("*.md"),
                 ROOT / "README.md", ROOT / "tovholder" / "README.md"]:
        if "migrations" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if stale.search(line) and "remind" in line.lower() + path.name:
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
