from datetime import date, datetime, time, timedelta

import pytest

from services.health.domain.errors import HealthRuleViolation
from services.health.domain.health_check import (
    THE_QUESTION,
    BloodTest,
    CheckStatus,
    CitizenToPlan,
    Decision,
    DecisionKind,
    HealthCheck,
    Measurement,
    Participant,
    ParticipantRole,
    PreAssessment,
    PreAssessmentTheme,
    PreparationStep,
    StepStatus,
    ThemeAnswer,
    accept_again,
    check_day_is_reachable,
    check_participants,
    complete_step,
    decline,
    hold,
    is_extended,
    missing_examination_items,
    next_check_year,
    outcome_of,
    plan_check_days,
    preparation_deadlines,
    readiness,
    reminders_before,
    review_hours,
    validate_pre_assessment,
)
from services.health.domain.hospital_notices import DANISH_TIME

CHECK_DAY = date(2027, 3, 10)  # a Wednesday


def local(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=DANISH_TIME)


class TestSourcesLists:
    def test_the_seven_themes(self):
        assert [t.value for t in PreAssessmentTheme] == ["teeth", "diet", "exercise", "sleep", "dependence", "pain", "nada"]

    def test_the_question(self):
        assert "lægen og psykiateren" in THE_QUESTION

    def test_blood_panel_and_measurements(self):
        assert len(BloodTest) == 8 and {BloodTest.B12, BloodTest.VITAMIN_D, BloodTest.THYROID} <= set(BloodTest)
        assert {m.value for m in Measurement} == {"height", "weight", "waist", "blood-pressure", "pulse", "ecg", "spirometry"}


class TestExtendedEveryFifthYear:
    def test_first_check_is_extended(self):
        assert is_extended(2026, [])

    def test_the_four_years_after_are_ordinary_and_the_fifth_extended(self):
        assert [is_extended(y, [2026]) for y in range(2027, 2032)] == [False, False, False, False, True]

    def test_skipped_years_do_not_shift_the_rhythm(self):
        # Declined 2028–2029: 2031 is still the fifth year after 2026.
        assert is_extended(2031, [2026])
        assert not is_extended(2030, [2026])

    def test_later_extended_checks_in_history_are_ignored(self):
        assert is_extended(2026, [2031])

    def test_next_check_year(self):
        assert next_check_year(None, 2026) == 2026
        assert next_check_year(2025, 2026) == 2026
        assert next_check_year(2026, 2026) == 2027


class TestDeadlines:
    def test_pre_assessment_three_to_four_weeks_and_preparation_four_to_five_days_before(self):
        deadlines = {d.step: d for d in preparation_deadlines(CHECK_DAY)}
        pre = deadlines[PreparationStep.PRE_ASSESSMENT]
        assert (CHECK_DAY - pre.target).days == 28 and (CHECK_DAY - pre.deadline).days == 21
        for step in (PreparationStep.EXAMINATION, PreparationStep.MEDICATION_RECONCILIATION, PreparationStep.MEDICATION_REVIEW):
            assert (CHECK_DAY - deadlines[step].target).days == 5 and (CHECK_DAY - deadlines[step].deadline).days == 4
        assert deadlines[PreparationStep.MEDICATION_REVIEW].role == "pharmacist"

    @pytest.mark.parametrize(
        "days_before,expected",
        [(40, StepStatus.ON_TRACK), (28, StepStatus.DUE), (21, StepStatus.DUE), (20, StepStatus.LATE), (0, StepStatus.LATE)],
    )
    def test_pre_assessment_status_over_time(self, days_before, expected):
        check = HealthCheck("c1", 2027, CHECK_DAY, extended=False)
        assert readiness(check, CHECK_DAY - timedelta(days=days_before))[PreparationStep.PRE_ASSESSMENT] is expected

    def test_done_steps_are_done_even_when_late(self):
        check = complete_step(HealthCheck("c1", 2027, CHECK_DAY, extended=False), PreparationStep.MEDICATION_REVIEW)
        assert readiness(check, CHECK_DAY)[PreparationStep.MEDICATION_REVIEW] is StepStatus.DONE
        assert readiness(check, CHECK_DAY)[PreparationStep.EXAMINATION] is StepStatus.LATE

    def test_declined_check_has_nothing_due(self):
        check = decline(HealthCheck("c1", 2027, CHECK_DAY, extended=False))
        assert set(readiness(check, CHECK_DAY).values()) == {StepStatus.NOT_APPLICABLE}

    def test_check_day_must_leave_three_weeks(self):
        today = date(2027, 2, 20)
        with pytest.raises(HealthRuleViolation, match="vælg 13.03.2027 eller senere"):
            check_day_is_reachable(date(2027, 3, 12), today)
        check_day_is_reachable(date(2027, 3, 13), today)


class TestPreAssessment:
    def pre(self, *answers, talk="my sleep"):
        return PreAssessment(tuple(answers), talk, date(2027, 2, 1), "staff-1", setting="on a walk")

    def test_selected_themes_are_enough(self):
        pre = validate_pre_assessment(self.pre(ThemeAnswer(PreAssessmentTheme.SLEEP, "I sleep badly after coffee")))
        assert PreAssessmentTheme.TEETH in pre.themes_not_covered and len(pre.themes_not_covered) == 6

    def test_blank_words_are_rejected(self):
        with pytest.raises(HealthRuleViolation, match="hvad borgeren siger"):
            validate_pre_assessment(self.pre(ThemeAnswer(PreAssessmentTheme.TEETH, "  ")))

    def test_theme_twice_is_rejected(self):
        with pytest.raises(HealthRuleViolation, match="to gange"):
            validate_pre_assessment(self.pre(ThemeAnswer(PreAssessmentTheme.PAIN, "a"), ThemeAnswer(PreAssessmentTheme.PAIN, "b")))

    @pytest.mark.parametrize("score", [-1, 5])
    def test_symptom_score_range(self, score):
        with pytest.raises(HealthRuleViolation, match="mellem 0"):
            validate_pre_assessment(self.pre(ThemeAnswer(PreAssessmentTheme.PAIN, "knee", symptom_score=score)))

    def test_empty_pre_assessment_is_rejected(self):
        with pytest.raises(HealthRuleViolation, match="ingen temaer"):
            validate_pre_assessment(self.pre(talk=""))

    def test_only_the_question_answered_is_fine(self):
        validate_pre_assessment(self.pre(talk="whether I can stop the yellow pills"))


class TestExamination:
    def test_missing_items(self):
        tests, measurements = missing_examination_items(set(BloodTest) - {BloodTest.B12}, [Measurement.ECG])
        assert tests == (BloodTest.B12,)
        assert Measurement.SPIROMETRY in measurements and Measurement.ECG not in measurements

    def test_review_takes_longer_for_a_new_citizen(self):
        assert review_hours(False) == (1.5, 3.0)
        assert review_hours(True)[1] > 3.0


class TestDayPlanning:
    def test_same_practice_same_day_in_one_block(self):
        citizens = [CitizenToPlan(f"a{i}", "Lægehuset A") for i in range(4)] + [
            CitizenToPlan(f"b{i}", "Lægehuset B") for i in range(5)
        ]
        plan = plan_check_days(citizens, [CHECK_DAY, CHECK_DAY + timedelta(days=1)], per_day=10)
        assert len(plan.days) == 1
        (day,) = plan.days
        assert day.gp_practices == ("Lægehuset B", "Lægehuset A")  # largest first, each contiguous
        assert len(day.slots) == 9

    def test_slots_are_back_to_back(self):
        plan = plan_check_days([CitizenToPlan("a", "A"), CitizenToPlan("b", "A")], [CHECK_DAY], slot_minutes=12)
        first, second = plan.days[0].slots
        assert first.starts_at == local(CHECK_DAY, 9) and first.ends_at == local(CHECK_DAY, 9, 12)
        assert second.starts_at == first.ends_at

    def test_practice_not_split_when_it_fits_on_another_day(self):
        citizens = [CitizenToPlan(f"a{i}", "A") for i in range(6)] + [CitizenToPlan(f"b{i}", "B") for i in range(6)]
        plan = plan_check_days(citizens, [CHECK_DAY, CHECK_DAY + timedelta(days=1)], per_day=10)
        assert [d.gp_practices for d in plan.days] == [("A",), ("B",)]

    def test_large_practice_is_split_over_days(self):
        citizens = [CitizenToPlan(f"a{i}", "A") for i in range(23)]
        plan = plan_check_days(citizens, [CHECK_DAY + timedelta(days=i) for i in range(3)], per_day=10)
        assert [len(d.slots) for d in plan.days] == [10, 10, 3]
        assert all(s.citizen_id for d in plan.days for s in d.slots)

    def test_citizens_left_when_days_run_out(self):
        citizens = [CitizenToPlan(f"a{i}", "A") for i in range(12)]
        plan = plan_check_days(citizens, [CHECK_DAY], per_day=10)
        assert len(plan.not_planned) == 2

    def test_declined_citizens_are_not_planned(self):
        plan = plan_check_days([CitizenToPlan("a", "A"), CitizenToPlan("b", "A", declined=True)], [CHECK_DAY])
        assert [s.citizen_id for s in plan.days[0].slots] == ["a"]
        assert plan.declined == ("b",)

    def test_one_practice_per_day(self):
        citizens = [CitizenToPlan("a", "A"), CitizenToPlan("b", "B")]
        plan = plan_check_days(citizens, [CHECK_DAY, CHECK_DAY + timedelta(days=1)], one_practice_per_day=True)
        assert [d.gp_practices for d in plan.days] == [("A",), ("B",)]

    def test_days_are_used_in_date_order(self):
        later, earlier = CHECK_DAY + timedelta(days=7), CHECK_DAY
        plan = plan_check_days([CitizenToPlan("a", "A")], [later, earlier])
        assert plan.days[0].day == earlier

    @pytest.mark.parametrize("minutes", [5, 9, 16, 30])
    def test_slot_length_from_the_sources(self, minutes):
        with pytest.raises(HealthRuleViolation, match="10–15 minutter"):
            plan_check_days([], [CHECK_DAY], slot_minutes=minutes)

    def test_more_than_ten_a_day_is_a_warning_and_past_a_days_room_refused(self):
        assert plan_check_days([], [CHECK_DAY], per_day=11).warnings
        with pytest.raises(HealthRuleViolation, match="1–24"):
            plan_check_days([], [CHECK_DAY], per_day=25)

    def test_duplicates_are_rejected(self):
        with pytest.raises(HealthRuleViolation, match="to gange"):
            plan_check_days([CitizenToPlan("a", "A"), CitizenToPlan("a", "B")], [CHECK_DAY])
        with pytest.raises(HealthRuleViolation, match="to gange"):
            plan_check_days([], [CHECK_DAY, CHECK_DAY])

    def test_no_days_means_nobody_planned(self):
        plan = plan_check_days([CitizenToPlan("a", "A")], [])
        assert plan.days == () and plan.not_planned == ("a",)


class TestParticipants:
    def test_full_table(self):
        roles = [ParticipantRole.CITIZEN, ParticipantRole.STAFF, ParticipantRole.MINUTE_TAKER, ParticipantRole.GP,
                 ParticipantRole.PSYCHIATRIST, ParticipantRole.PHARMACIST]
        result = check_participants(Participant(r, r.value) for r in roles)
        assert result.can_hold and result.missing_expected == ()

    def test_forensic_nurse_is_optional(self):
        result = check_participants(Participant(r, r.value) for r in [ParticipantRole.CITIZEN, ParticipantRole.MINUTE_TAKER, ParticipantRole.PSYCHIATRIST])
        assert result.can_hold
        assert ParticipantRole.FORENSIC_NURSE not in result.missing_expected
        assert set(result.missing_expected) == {ParticipantRole.STAFF, ParticipantRole.PHARMACIST, ParticipantRole.GP}

    def test_no_doctor_no_check(self):
        result = check_participants([Participant(ParticipantRole.CITIZEN, "c"), Participant(ParticipantRole.MINUTE_TAKER, "m")])
        assert not result.can_hold and result.missing_required == (ParticipantRole.GP,)

    def test_no_citizen_no_check(self):
        result = check_participants([Participant(ParticipantRole.GP, "g"), Participant(ParticipantRole.MINUTE_TAKER, "m")])
        assert result.missing_required == (ParticipantRole.CITIZEN,)


class TestDecisionsAndReminders:
    HELD = local(CHECK_DAY, 10)

    def test_reminders_the_evening_before_and_the_morning_of(self):
        ecg = local(CHECK_DAY + timedelta(days=14), 11)
        evening, morning = reminders_before(ecg)
        assert evening == local(CHECK_DAY + timedelta(days=13), 19)
        assert morning == local(CHECK_DAY + timedelta(days=14), 8)

    def test_early_appointment_gets_the_morning_reminder_an_hour_before(self):
        early = local(CHECK_DAY + timedelta(days=3), 8, 15)
        assert reminders_before(early)[1] == local(CHECK_DAY + timedelta(days=3), 7, 15)

    def test_reminders_across_daylight_saving_change(self):
        # Summer time starts 28 March 2027: the evening before is still 19:00 local.
        appointment = local(date(2027, 3, 29), 10)
        evening, morning = reminders_before(appointment)
        assert evening.astimezone(DANISH_TIME).hour == 19 and morning.astimezone(DANISH_TIME).hour == 8

    def test_decision_with_date_becomes_task_plan_update_and_reminders(self):
        decision = Decision(DecisionKind.BOOK_EXAMINATION, "ECG at the GP", due_at=local(CHECK_DAY + timedelta(days=20), 11))
        outcome = outcome_of(decision, held_at=self.HELD)
        assert outcome.plan_update and outcome.task_due_at == decision.due_at
        assert len(outcome.reminders) == 2 and not outcome.medication_change_expected

    def test_dose_reduction_expects_a_medication_change(self):
        outcome = outcome_of(Decision(DecisionKind.REDUCE_DOSE, "Halve the laxative"), held_at=self.HELD)
        assert outcome.medication_change_expected and outcome.reminders == () and outcome.task_due_at is None

    def test_no_reminders_when_the_citizen_does_not_want_them(self):
        decision = Decision(DecisionKind.BOOK_EXAMINATION, "Spirometry", due_at=local(CHECK_DAY + timedelta(days=9), 11), citizen_wants_reminders=False)
        assert outcome_of(decision, held_at=self.HELD).reminders == ()

    def test_next_day_appointment_drops_reminders_already_passed(self):
        tomorrow = local(CHECK_DAY + timedelta(days=1), 9)
        outcome = outcome_of(Decision(DecisionKind.BOOK_EXAMINATION, "ECG", due_at=tomorrow), held_at=local(CHECK_DAY, 20))
        assert outcome.reminders == (local(CHECK_DAY + timedelta(days=1), 8),)

    def test_date_before_the_check_is_rejected(self):
        with pytest.raises(HealthRuleViolation, match="før sundhedstjekket"):
            outcome_of(Decision(DecisionKind.BOOK_EXAMINATION, "ECG", due_at=self.HELD - timedelta(days=1)), held_at=self.HELD)

    def test_blank_title_is_rejected(self):
        with pytest.raises(HealthRuleViolation, match="titel"):
            outcome_of(Decision(DecisionKind.OTHER, " "), held_at=self.HELD)

    def test_naive_date_is_rejected(self):
        with pytest.raises(HealthRuleViolation, match="tidszone"):
            outcome_of(Decision(DecisionKind.OTHER, "x", due_at=datetime(2027, 4, 1, 10)), held_at=self.HELD)


class TestVoluntary:
    def check(self):
        return HealthCheck("c1", 2027, CHECK_DAY, extended=True)

    def test_decline_without_reason(self):
        declined = decline(self.check())
        assert declined.status is CheckStatus.DECLINED and declined.decline_reason is None

    def test_decline_keeps_an_offered_reason(self):
        assert decline(self.check(), reason=" too much at once ").decline_reason == "too much at once"

    def test_change_of_mind_before_the_day(self):
        again = accept_again(decline(self.check()), today=CHECK_DAY - timedelta(days=1))
        assert again.status is CheckStatus.PLANNED

    def test_no_change_of_mind_after_the_day(self):
        with pytest.raises(HealthRuleViolation, match="passeret"):
            accept_again(decline(self.check()), today=CHECK_DAY)

    def test_held_check_cannot_be_declined(self):
        held = hold(self.check(), [Participant(ParticipantRole.CITIZEN, "c"), Participant(ParticipantRole.MINUTE_TAKER, "m"),
                                   Participant(ParticipantRole.GP, "g")], CHECK_DAY)
        assert held.status is CheckStatus.HELD
        with pytest.raises(HealthRuleViolation, match="allerede holdt"):
            decline(held)

    def test_declined_check_cannot_be_held_or_prepared(self):
        declined = decline(self.check())
        with pytest.raises(HealthRuleViolation, match="takket nej|afslået"):
            hold(declined, [], CHECK_DAY)
        with pytest.raises(HealthRuleViolation, match="takket nej|afslået"):
            complete_step(declined, PreparationStep.EXAMINATION)

    def test_cannot_hold_without_required_participants(self):
        with pytest.raises(HealthRuleViolation, match="borgeren"):
            hold(self.check(), [Participant(ParticipantRole.GP, "g"), Participant(ParticipantRole.MINUTE_TAKER, "m")], CHECK_DAY)


def test_cancelled_check_is_closed_for_everything():
    cancelled = HealthCheck("c1", 2027, CHECK_DAY, extended=False, status=CheckStatus.CANCELLED)
    assert set(readiness(cancelled, CHECK_DAY).values()) == {StepStatus.NOT_APPLICABLE}
    with pytest.raises(HealthRuleViolation, match="aflyst"):
        hold(cancelled, [Participant(ParticipantRole.CITIZEN, "c"), Participant(ParticipantRole.MINUTE_TAKER, "m"),
                         Participant(ParticipantRole.GP, "g")], CHECK_DAY)
    with pytest.raises(HealthRuleViolation, match="aflyst"):
        decline(cancelled)
    with pytest.raises(HealthRuleViolation, match="aflyst"):
        complete_step(cancelled, PreparationStep.EXAMINATION)


# --- issue 15: the health check's rules ------------------------------------------------------------

from services.health.domain.health_check import (  # noqa: E402
    DSAM,
    TANGKAER,
    YEARLY,
    Cadence,
    ThemeSkipped,
    is_due,
    planning_warnings,
)


class TestCadencePerBotilbud:
    def test_dsam_every_second_year_without_extended_checks(self):
        assert [is_due(y, 2026, DSAM) for y in (2027, 2028)] == [False, True]
        assert not is_extended(2026, [], DSAM)
        assert next_check_year(2026, 2027, DSAM) == 2028

    def test_tangkaer_yearly_with_an_extended_check_every_fifth_year(self):
        assert is_due(2027, 2026, TANGKAER)
        assert [is_extended(y, [2026], TANGKAER) for y in range(2027, 2032)] == [False, False, False, False, True]

    def test_yearly_with_extended_every_third_year(self):
        assert is_extended(2029, [2026], Cadence(1, 3)) and not is_extended(2028, [2026], Cadence(1, 3))
        assert not is_extended(2026, [], YEARLY)

    @pytest.mark.parametrize("every, extended", [(3, None), (0, None), (2, 5), (1, 1)])
    def test_impossible_cadences_are_refused_in_danish(self, every, extended):
        with pytest.raises(HealthRuleViolation, match="år"):
            Cadence(every, extended)

    def test_the_cadence_reads_danish(self):
        assert TANGKAER.words == "hvert år, udvidet hvert 5. år" and DSAM.words == "hvert andet år"


class TestPreAssessmentDone:
    def pre(self, answered, skipped=()):
        return PreAssessment(tuple(ThemeAnswer(t, "borgerens ord") for t in answered), "pillerne", CHECK_DAY, "staff-1",
                             skipped=tuple(ThemeSkipped(t, r) for t, r in skipped))

    def test_five_of_seven_themes_is_not_done(self):
        themes = list(PreAssessmentTheme)
        pre = validate_pre_assessment(self.pre(themes[:5]))
        assert not pre.complete
        with pytest.raises(HealthRuleViolation, match="forundersøgelsen er ikke færdig: afhængighed.*smerter|ikke færdig"):
            complete_step(HealthCheck("c1", 2027, CHECK_DAY, extended=False), PreparationStep.PRE_ASSESSMENT, pre_assessment=pre)

    def test_every_theme_answered_or_skipped_with_a_reason_is_done(self):
        themes = list(PreAssessmentTheme)
        pre = validate_pre_assessment(self.pre(themes[:5], [(themes[5], "ønskede ikke"), (themes[6], "bruger ikke NADA")]))
        assert pre.complete
        check = complete_step(HealthCheck("c1", 2027, CHECK_DAY, extended=False), PreparationStep.PRE_ASSESSMENT,
                              pre_assessment=pre)
        assert PreparationStep.PRE_ASSESSMENT in check.steps_done

    def test_a_skip_needs_a_reason_and_a_theme_cannot_be_both(self):
        with pytest.raises(HealthRuleViolation, match="hvorfor"):
            validate_pre_assessment(self.pre([], [(PreAssessmentTheme.PAIN, " ")]))
        with pytest.raises(HealthRuleViolation, match="både besvaret og sprunget over"):
            validate_pre_assessment(self.pre([PreAssessmentTheme.PAIN], [(PreAssessmentTheme.PAIN, "nej")]))

    def test_the_step_cannot_be_ticked_off_without_a_pre_assessment(self):
        with pytest.raises(HealthRuleViolation, match="ikke færdig"):
            complete_step(HealthCheck("c1", 2027, CHECK_DAY, extended=False), PreparationStep.PRE_ASSESSMENT)


class TestDayWithinWorkingHours:
    def test_eight_to_ten_in_working_hours_on_a_working_day_has_no_warning(self):
        assert planning_warnings([CHECK_DAY], slot_minutes=15, per_day=10, first_slot=time(9, 0)) == ()

    def test_seven_a_day_is_a_warning(self):
        (warning,) = planning_warnings([CHECK_DAY], slot_minutes=15, per_day=7, first_slot=time(9, 0))
        assert "7 tjek pr. dag" in warning and "8–10" in warning

    def test_a_first_slot_at_2350_never_runs_through_the_night(self):
        with pytest.raises(HealthRuleViolation, match="over midnat"):
            plan_check_days([CitizenToPlan("a", "A"), CitizenToPlan("b", "A")], [CHECK_DAY], first_slot=time(23, 50))

    def test_an_evening_plan_is_a_warning(self):
        (warning,) = planning_warnings([CHECK_DAY], slot_minutes=15, per_day=8, first_slot=time(17, 0))
        assert "uden for arbejdstiden" in warning

    def test_a_holiday_is_a_warning(self):
        easter_monday = date(2027, 3, 29)
        (warning,) = planning_warnings([easter_monday], slot_minutes=15, per_day=8, first_slot=time(9, 0))
        assert "ikke en arbejdsdag" in warning and "anden påskedag" in warning.lower()

    def test_the_plan_carries_its_warnings(self):
        plan = plan_check_days([CitizenToPlan("a", "A")], [CHECK_DAY], per_day=7)
        assert plan.warnings and plan.days[0].slots[0].starts_at.hour == 9


class TestWatchDecisions:
    HELD = datetime(2027, 3, 10, 10, 0, tzinfo=DANISH_TIME)

    def test_a_decision_without_a_date_is_watched_with_a_review_date(self):
        outcome = outcome_of(Decision(DecisionKind.WATCH_SYMPTOM, "Hold øje med blodsukkeret"), held_at=self.HELD)
        assert outcome.task_due_at is None and outcome.review_on is not None
        assert outcome.review_on > self.HELD.date() and outcome.review_on.weekday() < 5

    def test_the_meeting_may_set_the_review_date(self):
        outcome = outcome_of(Decision(DecisionKind.WATCH_SYMPTOM, "Vægt", review_on=date(2027, 5, 3)), held_at=self.HELD)
        assert outcome.review_on == date(2027, 5, 3)

    def test_a_dated_decision_has_no_review_date(self):
        outcome = outcome_of(Decision(DecisionKind.BOOK_EXAMINATION, "EKG", due_at=self.HELD + timedelta(days=7)),
                             held_at=self.HELD)
        assert outcome.review_on is None and outcome.task_due_at is not None
