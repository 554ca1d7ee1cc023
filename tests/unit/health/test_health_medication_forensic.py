from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4

import pytest

from services.health.domain.errors import HealthRuleViolation
from services.health.domain.forensic import (
    CoercionConsidered,
    CoercionDecision,
    CoercionMeasure,
    DepotSchedule,
    DepotVisit,
    MissReason,
    TreatmentOrder,
    VisitOutcome,
    expected_visits,
    missed_visits,
    order_in_force,
    validate_coercion_entry,
    validate_treatment_order,
)
from services.health.domain.hospital_notices import DANISH_TIME, BaseCode, NoticeRecord, NoticeStatus
from services.health.domain.medication import (
    ChangeKind,
    ChangeSource,
    FmkReference,
    MedicationChange,
    alert_for,
    validate_change,
)

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=CET)


def notice(code, hours, episode="EPJ-1", status=NoticeStatus.ACTIVE):
    return NoticeRecord(uuid4(), uuid4(), code, episode, T0 + timedelta(hours=hours), status)


def change(hours=0, source=ChangeSource.STAFF, org=None, note=None, kind=ChangeKind.DOSE_CHANGED):
    return MedicationChange(FmkReference("FMK-DM-778812"), kind, T0 + timedelta(hours=hours), source, org, note)


class TestFmkReference:
    @pytest.mark.parametrize("value", ["FMK-DM-1", "urn:fmk:ord.123", "1234567890"])
    def test_identifiers_are_accepted(self, value):
        assert FmkReference(value).value == value

    @pytest.mark.parametrize("value", ["", "ab", "Quetiapin 100 mg x 2 dagligt", "x" * 101, "-leading"])
    def test_copies_and_junk_are_refused(self, value):
        with pytest.raises(HealthRuleViolation, match="gemmer ikke medicinlister"):
            FmkReference(value)


class TestMedicationChange:
    def test_valid_staff_change(self):
        assert validate_change(change(), recorded_at=T0 + timedelta(minutes=1)).kind is ChangeKind.DOSE_CHANGED

    def test_future_change_is_refused(self):
        with pytest.raises(HealthRuleViolation, match="fremtiden"):
            validate_change(change(hours=2), recorded_at=T0)

    def test_partner_change_names_the_organisation(self):
        with pytest.raises(HealthRuleViolation, match="organisationen"):
            validate_change(change(source=ChangeSource.PARTNER), recorded_at=T0 + timedelta(hours=1))
        validate_change(change(source=ChangeSource.PARTNER, org="SOR:1"), recorded_at=T0 + timedelta(hours=1))

    def test_long_note_is_refused(self):
        with pytest.raises(HealthRuleViolation, match="FMK"):
            validate_change(change(note="x" * 501), recorded_at=T0 + timedelta(hours=1))

    def test_naive_time_is_refused(self):
        naive = MedicationChange(FmkReference("FMK-1"), ChangeKind.STOPPED, datetime(2026, 11, 22, 9), ChangeSource.STAFF)
        with pytest.raises(HealthRuleViolation, match="tidszone"):
            validate_change(naive, recorded_at=T0)


class TestAlertDuringAdmission:
    def test_no_alert_when_not_admitted(self):
        assert alert_for(change(), []) is None

    def test_alert_during_admission(self):
        alert = alert_for(change(hours=5), [notice(BaseCode.STAA, 0)])
        assert alert is not None and alert.hospital_episodes == ("EPJ-1",) and alert.admission_state == "admitted"

    def test_alert_during_leave(self):
        alert = alert_for(change(hours=5), [notice(BaseCode.STIN, 0), notice(BaseCode.STOR, 4)])
        assert alert is not None and alert.admission_state == "on-leave"

    def test_no_alert_after_discharge(self):
        assert alert_for(change(hours=5), [notice(BaseCode.STIN, 0), notice(BaseCode.SLHJ, 3)]) is None

    def test_change_registered_late_is_judged_by_when_it_happened(self):
        # Admitted 0–10h; the change happened at 5h (during), reported after discharge.
        assert alert_for(change(hours=5), [notice(BaseCode.STIN, 0), notice(BaseCode.SLHJ, 10)]) is not None

    def test_cancelled_admission_raises_no_alert(self):
        assert alert_for(change(hours=5), [notice(BaseCode.STIN, 0, status=NoticeStatus.CANCELLED)]) is None


class TestTreatmentOrder:
    def order(self, **kw):
        base = dict(court="Retten i Aarhus", judgment_date=date(2025, 6, 1), conditions=("depot medication weekly", "lives at the botilbud"))
        base.update(kw)
        return TreatmentOrder(**base)

    def test_valid(self):
        assert validate_treatment_order(self.order()).conditions[0] == "depot medication weekly"

    @pytest.mark.parametrize("conditions", [(), ("ok", " ")])
    def test_conditions_required_and_not_blank(self, conditions):
        with pytest.raises(HealthRuleViolation, match="vilkår"):
            validate_treatment_order(self.order(conditions=conditions))

    def test_duplicate_condition(self):
        with pytest.raises(HealthRuleViolation, match="to gange"):
            validate_treatment_order(self.order(conditions=("A", "a ")))

    def test_court_required(self):
        with pytest.raises(HealthRuleViolation, match="ret, der afsagde"):
            validate_treatment_order(self.order(court=" "))

    def test_dates_in_order(self):
        with pytest.raises(HealthRuleViolation, match="før domsdatoen"):
            validate_treatment_order(self.order(valid_until=date(2025, 5, 1)))

    def test_in_force(self):
        order = self.order(valid_until=date(2027, 6, 1))
        assert order_in_force(order, date(2026, 1, 1))
        assert not order_in_force(order, date(2025, 1, 1)) and not order_in_force(order, date(2027, 6, 2))
        assert order_in_force(self.order(), date(2040, 1, 1))


WEDNESDAY = date(2026, 11, 4)


def slot(day: date, hh=10):
    return datetime.combine(day, time(hh), tzinfo=DANISH_TIME)


class TestDepotSchedule:
    schedule = DepotSchedule(weekday=2, at=time(10), starts_on=date(2026, 11, 2))

    def test_weekly_slots(self):
        slots = expected_visits(self.schedule, date(2026, 11, 1), date(2026, 11, 30))
        assert [s.day for s in slots] == [4, 11, 18, 25]
        assert all(s.weekday() == 2 and s.hour == 10 for s in slots)

    def test_schedule_end_and_interval(self):
        fortnightly = DepotSchedule(weekday=2, at=time(10), starts_on=WEDNESDAY, ends_on=date(2026, 12, 10), interval_weeks=2)
        assert [s.day for s in expected_visits(fortnightly, WEDNESDAY, date(2027, 1, 31))] == [4, 18, 2]

    @pytest.mark.parametrize(
        "kw",
        [dict(weekday=7), dict(interval_weeks=0), dict(ends_on=date(2026, 1, 1)), dict(grace=timedelta(0))],
    )
    def test_invalid_schedules(self, kw):
        args = dict(weekday=2, at=time(10), starts_on=WEDNESDAY)
        args.update(kw)
        with pytest.raises(HealthRuleViolation):
            DepotSchedule(**args)

    def test_given_visits_are_not_missed(self):
        visits = [DepotVisit(slot(WEDNESDAY, 11), VisitOutcome.GIVEN)]
        assert missed_visits(self.schedule, visits, now=slot(WEDNESDAY, 20), since=WEDNESDAY) == []

    def test_nothing_recorded_after_grace_is_missed(self):
        (missed,) = missed_visits(self.schedule, [], now=slot(WEDNESDAY, 15), since=WEDNESDAY)
        assert missed.reason is MissReason.NOT_RECORDED and missed.scheduled_for == slot(WEDNESDAY)

    def test_within_grace_is_not_yet_missed(self):
        assert missed_visits(self.schedule, [], now=slot(WEDNESDAY, 13), since=WEDNESDAY) == []

    def test_refused_dose_is_missed_with_reason(self):
        visits = [DepotVisit(slot(WEDNESDAY), VisitOutcome.REFUSED)]
        (missed,) = missed_visits(self.schedule, visits, now=slot(WEDNESDAY, 20), since=WEDNESDAY)
        assert missed.reason is MissReason.REFUSED

    def test_not_met_then_given_later_the_same_day_is_fine(self):
        visits = [DepotVisit(slot(WEDNESDAY), VisitOutcome.NOT_MET), DepotVisit(slot(WEDNESDAY, 13), VisitOutcome.GIVEN)]
        assert missed_visits(self.schedule, visits, now=slot(WEDNESDAY, 20), since=WEDNESDAY) == []

    def test_a_day_early_counts(self):
        visits = [DepotVisit(slot(WEDNESDAY - timedelta(days=1), 14), VisitOutcome.GIVEN)]
        assert missed_visits(self.schedule, visits, now=slot(WEDNESDAY, 20), since=WEDNESDAY) == []

    def test_one_visit_covers_one_slot_only(self):
        visits = [DepotVisit(slot(WEDNESDAY), VisitOutcome.GIVEN)]
        now = slot(WEDNESDAY + timedelta(days=7), 20)
        (missed,) = missed_visits(self.schedule, visits, now=now, since=WEDNESDAY)
        assert missed.scheduled_for.date() == WEDNESDAY + timedelta(days=7)

    def test_several_weeks_missed(self):
        now = slot(WEDNESDAY + timedelta(days=21), 20)
        assert len(missed_visits(self.schedule, [], now=now, since=WEDNESDAY)) == 4

    def test_slot_during_admission_is_not_missed(self):
        admitted = [
            NoticeRecord(uuid4(), uuid4(), BaseCode.STAA, "E", slot(WEDNESDAY - timedelta(days=1))),
            NoticeRecord(uuid4(), uuid4(), BaseCode.SLHJ, "E", slot(WEDNESDAY + timedelta(days=2))),
        ]
        assert missed_visits(self.schedule, [], now=slot(WEDNESDAY, 20), since=WEDNESDAY, notices=admitted) == []


class TestCoercionLog:
    def entry(self, **kw):
        base = dict(
            considered_at=T0, measure=CoercionMeasure.COMPULSORY_ADMISSION, situation="Has not slept for four nights, refuses food",
            least_intrusive_alternative="Offered a walk and PN medication; called the forensic team together with him",
            decision=CoercionDecision.NOT_USED, decided_by_sub="nurse-1", decided_by_role="nurse-consultant",
        )
        base.update(kw)
        return CoercionConsidered(**base)

    def test_valid_entry(self):
        validate_coercion_entry(self.entry(), recorded_at=T0 + timedelta(hours=1), has_treatment_order=False)

    def test_least_intrusive_alternative_is_required(self):
        with pytest.raises(HealthRuleViolation, match="mindstemiddelsprincippet"):
            validate_coercion_entry(self.entry(least_intrusive_alternative=" "), recorded_at=T0, has_treatment_order=False)

    def test_who_decided_is_required(self):
        with pytest.raises(HealthRuleViolation, match="hvem der besluttede"):
            validate_coercion_entry(self.entry(decided_by_sub=""), recorded_at=T0, has_treatment_order=False)

    def test_situation_is_required(self):
        with pytest.raises(HealthRuleViolation, match="situationen"):
            validate_coercion_entry(self.entry(situation=""), recorded_at=T0, has_treatment_order=False)

    def test_activation_needs_a_treatment_order(self):
        entry = self.entry(measure=CoercionMeasure.ACTIVATE_TREATMENT_ORDER, decision=CoercionDecision.REFERRED)
        with pytest.raises(HealthRuleViolation, match="ingen registreret behandlingsdom"):
            validate_coercion_entry(entry, recorded_at=T0, has_treatment_order=False)
        validate_coercion_entry(entry, recorded_at=T0, has_treatment_order=True)

    def test_future_entry_is_refused(self):
        with pytest.raises(HealthRuleViolation, match="fremtiden"):
            validate_coercion_entry(self.entry(), recorded_at=T0 - timedelta(hours=1), has_treatment_order=False)


def test_a_partner_gets_the_reason_in_english_and_staff_in_danish():
    with pytest.raises(HealthRuleViolation) as caught:
        validate_change(change(hours=2), recorded_at=T0)
    assert "fremtiden" in str(caught.value) and caught.value.en.startswith("changed_at is in the future")


def test_the_medication_alert_reads_danish():
    from services.health.domain.hospital_notices import BaseCode, NoticeRecord
    from services.health.domain.medication import alert_for
    from uuid import uuid4
    admitted = NoticeRecord(uuid4(), uuid4(), BaseCode.STIN, "EPJ-1", T0 - timedelta(hours=5))
    alert = alert_for(change(), [admitted])
    assert alert is not None and alert.reason.startswith("Medicinændring (dosis ændret) under indlæggelse")
