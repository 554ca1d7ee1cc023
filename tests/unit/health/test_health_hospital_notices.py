from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.health.domain.errors import NoticeConflict, NoticeInvalid
from services.health.domain.hospital_notices import (
    LEGAL_BASIS,
    AdmissionState,
    BaseCode,
    FollowUpKind,
    NoticeAction,
    NoticeKind,
    NoticeRecord,
    NoticeStatus,
    admission_state,
    apply,
    decide,
    EpisodeState,
    FollowUpWanted,
    follow_ups_for,
    notice_outcome,
    parse_code,
    timeline_text,
    validate_incoming,
)

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 22, 9, 41, tzinfo=CET)


def incoming(code="STIN", *, occurred_at=T0, sent_at=None, replaces=None, episode="EPJ-1", message_id=None, received_at=None):
    sent_at = sent_at or occurred_at + timedelta(minutes=10)
    return validate_incoming(
        message_id=message_id or uuid4(),
        sent_at=sent_at,
        sender_org="SOR:1234567",
        code=code,
        hospital_episode_id=episode,
        department="Afsnit P2",
        occurred_at=occurred_at,
        replaces_message_id=replaces,
        received_at=received_at or sent_at + timedelta(seconds=2),
    )


def register(history, message, received_at=None):
    decision = decide(message, history)
    return apply(decision, message, uuid4(), history, received_at=received_at), decision


def history_of(*codes_and_hours, episode="EPJ-1"):
    history = []
    for code, hours in codes_and_hours:
        history, _ = register(history, incoming(code, occurred_at=T0 + timedelta(hours=hours), episode=episode))
    return history


class TestParseCode:
    @pytest.mark.parametrize(
        "raw,action,base,kind",
        [
            ("STAA", NoticeAction.NEW, BaseCode.STAA, NoticeKind.ADMISSION),
            ("STIN", NoticeAction.NEW, BaseCode.STIN, NoticeKind.ADMISSION),
            ("STOR", NoticeAction.NEW, BaseCode.STOR, NoticeKind.LEAVE_STARTED),
            ("SLOR", NoticeAction.NEW, BaseCode.SLOR, NoticeKind.LEAVE_ENDED),
            ("SLHJ", NoticeAction.NEW, BaseCode.SLHJ, NoticeKind.DISCHARGE),
            ("MORS", NoticeAction.NEW, BaseCode.MORS, NoticeKind.DEATH),
            ("RE_STIN", NoticeAction.CORRECT, BaseCode.STIN, NoticeKind.ADMISSION),
            ("AN_SLHJ", NoticeAction.CANCEL, BaseCode.SLHJ, NoticeKind.DISCHARGE),
        ],
    )
    def test_known_codes(self, raw, action, base, kind):
        code = parse_code(raw)
        assert (code.action, code.base, code.kind) == (action, base, kind)
        assert str(code) == raw

    def test_only_staa_is_acute(self):
        assert parse_code("STAA").acute and not parse_code("STIN").acute

    @pytest.mark.parametrize("raw", ["", "XXXX", "stin", "RE_", "AN_XXXX", "RE_RE_STIN", "STIN ", "XX_STIN"])
    def test_unknown_codes_are_invalid_with_the_valid_ones_named(self, raw):
        with pytest.raises(NoticeInvalid, match="STAA, STIN, STOR, SLOR, SLHJ, MORS"):
            parse_code(raw)


class TestValidateIncoming:
    def test_valid_new_notice(self):
        notice = incoming("STIN")
        assert notice.kind is NoticeKind.ADMISSION and notice.replaces_message_id is None
        assert notice.department == "Afsnit P2"

    def test_new_notice_must_not_name_a_replaced_message(self):
        with pytest.raises(NoticeInvalid, match="replaces_message_id must be null for STIN"):
            incoming("STIN", replaces=uuid4())

    @pytest.mark.parametrize("code", ["RE_STIN", "AN_STIN", "RE_MORS"])
    def test_correction_and_cancellation_need_a_replaced_message(self, code):
        with pytest.raises(NoticeInvalid, match="needs replaces_message_id"):
            incoming(code)

    def test_a_message_cannot_replace_itself(self):
        own = uuid4()
        with pytest.raises(NoticeInvalid, match="names this message itself"):
            incoming("RE_STIN", message_id=own, replaces=own)

    def test_occurred_after_sent_is_wrong_order(self):
        with pytest.raises(NoticeInvalid, match="wrong order"):
            incoming(occurred_at=T0, sent_at=T0 - timedelta(hours=1))

    def test_small_clock_skew_is_tolerated(self):
        incoming(occurred_at=T0, sent_at=T0 - timedelta(minutes=4))

    def test_sent_in_the_future_is_rejected(self):
        with pytest.raises(NoticeInvalid, match="in the future"):
            incoming(sent_at=T0 + timedelta(hours=2), received_at=T0 + timedelta(hours=1))

    def test_naive_datetimes_are_rejected(self):
        with pytest.raises(NoticeInvalid, match="time zone"):
            incoming(occurred_at=datetime(2026, 11, 22, 9, 0), sent_at=datetime(2026, 11, 22, 9, 5))

    @pytest.mark.parametrize("field", ["hospital_episode_id", "department", "sender_org"])
    def test_blank_text_fields_are_rejected(self, field):
        args = dict(
            message_id=uuid4(), sent_at=T0, sender_org="SOR:1", code="STIN", hospital_episode_id="E",
            department="D", occurred_at=T0, replaces_message_id=None, received_at=T0,
        )
        args[field] = "   "
        with pytest.raises(NoticeInvalid, match="missing"):
            validate_incoming(**args)

    def test_text_is_trimmed(self):
        notice = validate_incoming(
            message_id=uuid4(), sent_at=T0, sender_org=" SOR:1 ", code="STIN", hospital_episode_id=" E-1 ",
            department="P2", occurred_at=T0, replaces_message_id=None, received_at=T0,
        )
        assert (notice.sender_org, notice.hospital_episode_id) == ("SOR:1", "E-1")


class TestAdmissionState:
    def test_no_notices_means_not_admitted(self):
        assert admission_state([]).state is AdmissionState.NOT_ADMITTED

    def test_admission_then_leave_then_back_then_discharge(self):
        history = history_of(("STIN", 0))
        assert admission_state(history).state is AdmissionState.ADMITTED
        history, _ = register(history, incoming("STOR", occurred_at=T0 + timedelta(days=2)))
        assert admission_state(history).state is AdmissionState.ON_LEAVE
        history, _ = register(history, incoming("SLOR", occurred_at=T0 + timedelta(days=3)))
        assert admission_state(history).state is AdmissionState.ADMITTED
        history, _ = register(history, incoming("SLHJ", occurred_at=T0 + timedelta(days=5)))
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED

    def test_state_at_a_moment_in_the_past(self):
        history = history_of(("STAA", 0), ("SLHJ", 48))
        assert admission_state(history, at=T0 + timedelta(hours=1)).state is AdmissionState.ADMITTED
        assert admission_state(history, at=T0 - timedelta(hours=1)).state is AdmissionState.NOT_ADMITTED
        assert admission_state(history, at=T0 + timedelta(hours=49)).state is AdmissionState.NOT_ADMITTED

    def test_discharge_straight_from_leave(self):
        history = history_of(("STIN", 0), ("STOR", 1), ("SLHJ", 2))
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED

    def test_two_episodes_one_on_leave_means_admitted(self):
        history = history_of(("STIN", 0), ("STOR", 5), episode="PSYK")
        history, _ = register(history, incoming("STAA", occurred_at=T0 + timedelta(hours=6), episode="SOMATIK"))
        state = admission_state(history)
        assert state.state is AdmissionState.ADMITTED
        assert state.open_episodes == ("PSYK", "SOMATIK")
        assert state.since == T0
        assert state.in_hospital_care

    def test_only_leave_everywhere_means_on_leave(self):
        assert admission_state(history_of(("STIN", 0), ("STOR", 5))).state is AdmissionState.ON_LEAVE

    def test_death_is_final(self):
        history = history_of(("STAA", 0), ("MORS", 3))
        state = admission_state(history)
        assert state.state is AdmissionState.DECEASED and state.since == T0 + timedelta(hours=3)

    def test_out_of_order_arrival_folds_by_occurred_at(self):
        # The discharge arrives before the admission it ends.
        history = history_of(("SLHJ", 48))
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED
        history, _ = register(history, incoming("STIN", occurred_at=T0))
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED
        assert admission_state(history, at=T0 + timedelta(hours=1)).state is AdmissionState.ADMITTED

    def test_leave_ended_without_known_start_is_tolerated(self):
        history = history_of(("STIN", 0), ("SLOR", 5))
        assert admission_state(history).state is AdmissionState.ADMITTED

    def test_cancelled_notices_do_not_count(self):
        history = history_of(("STIN", 0))
        cancel = incoming("AN_STIN", replaces=history[0].message_id, occurred_at=T0 + timedelta(hours=1))
        history, _ = register(history, cancel)
        assert history[0].status is NoticeStatus.CANCELLED
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED


class TestSequenceContradictions:
    def test_discharge_before_the_admission_is_wrong_order(self):
        history = history_of(("STIN", 10))
        with pytest.raises(NoticeConflict, match="wrong order: SLHJ .* comes before STIN"):
            decide(incoming("SLHJ", occurred_at=T0 + timedelta(hours=2)), history)

    def test_leave_after_discharge_is_wrong_order(self):
        history = history_of(("STIN", 0), ("SLHJ", 10))
        with pytest.raises(NoticeConflict, match="wrong order: STOR .* comes after SLHJ"):
            decide(incoming("STOR", occurred_at=T0 + timedelta(hours=12)), history)

    def test_anything_after_death_is_wrong_order(self):
        history = history_of(("STIN", 0), ("MORS", 10))
        with pytest.raises(NoticeConflict, match="after the recorded death"):
            decide(incoming("STAA", occurred_at=T0 + timedelta(hours=12), episode="OTHER"), history)

    def test_death_before_a_registered_notice_is_wrong_order(self):
        history = history_of(("STIN", 10))
        with pytest.raises(NoticeConflict, match="MORS .* comes before STIN"):
            decide(incoming("MORS", occurred_at=T0, episode="OTHER"), history)

    def test_second_admission_in_the_same_episode_asks_for_a_correction(self):
        history = history_of(("STAA", 0))
        with pytest.raises(NoticeConflict, match="already has an admission.*RE_STIN"):
            decide(incoming("STIN", occurred_at=T0 + timedelta(hours=1)), history)

    def test_second_admission_earlier_in_the_same_episode_also_conflicts(self):
        history = history_of(("STAA", 5))
        with pytest.raises(NoticeConflict, match="already has an admission"):
            decide(incoming("STIN", occurred_at=T0), history)

    def test_leave_while_on_leave_conflicts(self):
        history = history_of(("STIN", 0), ("STOR", 1))
        with pytest.raises(NoticeConflict, match="leave is already in progress"):
            decide(incoming("STOR", occurred_at=T0 + timedelta(hours=2)), history)

    def test_second_discharge_conflicts(self):
        history = history_of(("STIN", 0), ("SLHJ", 1))
        with pytest.raises(NoticeConflict, match="already discharged"):
            decide(incoming("SLHJ", occurred_at=T0 + timedelta(hours=2)), history)

    def test_same_moment_orders_naturally(self):
        history = history_of(("STIN", 0), ("STOR", 1), ("SLOR", 1), ("SLHJ", 1))
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED

    def test_new_admission_in_a_new_episode_after_discharge_is_fine(self):
        history = history_of(("STIN", 0), ("SLHJ", 10))
        history, _ = register(history, incoming("STAA", occurred_at=T0 + timedelta(days=3), episode="EPJ-2"))
        assert admission_state(history).open_episodes == ("EPJ-2",)

    def test_contradictions_in_old_history_do_not_block_unrelated_notices(self):
        broken = [
            NoticeRecord(uuid4(), uuid4(), BaseCode.SLHJ, "OLD", T0),
            NoticeRecord(uuid4(), uuid4(), BaseCode.STOR, "OLD", T0 + timedelta(hours=1)),
        ]
        decide(incoming("STIN", occurred_at=T0 + timedelta(days=1), episode="NEW"), broken)


class TestCorrectionsAndCancellations:
    def test_correction_supersedes_and_keeps_history(self):
        history = history_of(("STIN", 0))
        original = history[0]
        fix = incoming("RE_STIN", replaces=original.message_id, occurred_at=T0 - timedelta(hours=1))
        history, decision = register(history, fix)
        assert decision.action is NoticeAction.CORRECT and decision.replaces == original
        assert [r.status for r in history] == [NoticeStatus.SUPERSEDED, NoticeStatus.ACTIVE]
        assert history[0].replaced_by_message_id == fix.message_id
        assert admission_state(history).since == T0 - timedelta(hours=1)

    def test_correction_may_change_acute_to_planned(self):
        history = history_of(("STAA", 0))
        history, _ = register(history, incoming("RE_STIN", replaces=history[0].message_id))
        assert history[-1].code is BaseCode.STIN

    def test_correction_of_unknown_message_conflicts(self):
        with pytest.raises(NoticeConflict, match="not a notice Tovholder has received"):
            decide(incoming("RE_STIN", replaces=uuid4()), history_of(("STIN", 0)))

    def test_cancellation_of_unknown_message_conflicts(self):
        with pytest.raises(NoticeConflict, match="nothing to cancel"):
            decide(incoming("AN_STIN", replaces=uuid4()), [])

    def test_correcting_a_superseded_notice_points_to_the_newer_one(self):
        history = history_of(("STIN", 0))
        first = history[0]
        fix = incoming("RE_STIN", replaces=first.message_id)
        history, _ = register(history, fix)
        with pytest.raises(NoticeConflict, match=f"replaces_message_id={fix.message_id}"):
            decide(incoming("RE_STIN", replaces=first.message_id), history)

    def test_a_correction_can_itself_be_corrected(self):
        history = history_of(("STIN", 0))
        fix = incoming("RE_STIN", replaces=history[0].message_id, occurred_at=T0 + timedelta(minutes=5))
        history, _ = register(history, fix)
        history, _ = register(history, incoming("RE_STIN", replaces=fix.message_id, occurred_at=T0 + timedelta(minutes=7)))
        assert [r.status for r in history] == [NoticeStatus.SUPERSEDED, NoticeStatus.SUPERSEDED, NoticeStatus.ACTIVE]

    def test_nothing_can_follow_a_cancellation(self):
        history = history_of(("STIN", 0))
        target = history[0].message_id
        history, _ = register(history, incoming("AN_STIN", replaces=target))
        with pytest.raises(NoticeConflict, match="already cancelled"):
            decide(incoming("RE_STIN", replaces=target), history)
        with pytest.raises(NoticeConflict, match="already cancelled"):
            decide(incoming("AN_STIN", replaces=target), history)

    def test_correction_cannot_change_the_kind(self):
        history = history_of(("STIN", 0))
        with pytest.raises(NoticeConflict, match="cannot correct a STIN notice.*AN_STIN"):
            decide(incoming("RE_SLHJ", replaces=history[0].message_id), history)

    def test_cancellation_must_match_the_kind(self):
        history = history_of(("STIN", 0))
        with pytest.raises(NoticeConflict, match="cannot cancel a STIN"):
            decide(incoming("AN_MORS", replaces=history[0].message_id), history)

    def test_correction_is_checked_against_the_other_notices(self):
        history = history_of(("STIN", 0), ("SLHJ", 10))
        with pytest.raises(NoticeConflict, match="wrong order"):
            decide(incoming("RE_SLHJ", replaces=history[1].message_id, occurred_at=T0 - timedelta(hours=1)), history)

    def test_correcting_the_admission_does_not_conflict_with_itself(self):
        history = history_of(("STIN", 0), ("SLHJ", 10))
        decide(incoming("RE_STIN", replaces=history[0].message_id, occurred_at=T0 + timedelta(hours=1)), history)

    def test_cancelling_the_discharge_reopens_the_admission(self):
        history = history_of(("STIN", 0), ("SLHJ", 10))
        history, _ = register(history, incoming("AN_SLHJ", replaces=history[1].message_id, occurred_at=T0 + timedelta(hours=11)))
        assert admission_state(history).state is AdmissionState.ADMITTED

    def test_cancellation_adds_no_record(self):
        history = history_of(("STIN", 0))
        after, _ = register(history, incoming("AN_STIN", replaces=history[0].message_id))
        assert len(after) == 1


class TestFollowUps:
    def test_admission_is_due_the_same_day_and_escalates(self):
        (follow_up,) = follow_ups_for(NoticeKind.ADMISSION, occurred_at=T0, received_at=T0 + timedelta(minutes=1), acute=True)
        assert follow_up.kind is FollowUpKind.ACCOMPANY_ADMISSION
        assert follow_up.title.startswith("Akut indlæggelse")
        assert follow_up.due_at.date() == T0.date() and follow_up.due_at.hour == 23
        assert follow_up.escalate_if_unclaimed_after == timedelta(hours=1)

    def test_late_admission_notice_is_due_the_day_it_arrives(self):
        received = T0 + timedelta(days=1)
        (follow_up,) = follow_ups_for(NoticeKind.ADMISSION, occurred_at=T0, received_at=received)
        assert follow_up.due_at.date() == received.date()

    def test_discharge_is_followed_up_next_working_day_with_medication_check(self):
        friday = datetime(2026, 11, 27, 14, 0, tzinfo=CET)
        (follow_up,) = follow_ups_for(NoticeKind.DISCHARGE, occurred_at=friday, received_at=friday)
        assert follow_up.kind is FollowUpKind.FOLLOW_UP_DISCHARGE
        assert follow_up.check_medication_changes
        assert follow_up.due_at.weekday() == 0 and follow_up.due_at.hour == 16  # Monday

    def test_death_tells_the_network_and_closes_tasks(self):
        (follow_up,) = follow_ups_for(NoticeKind.DEATH, occurred_at=T0, received_at=T0)
        assert follow_up.kind is FollowUpKind.NOTIFY_NETWORK_OF_DEATH and follow_up.close_open_tasks

    @pytest.mark.parametrize("kind", [NoticeKind.LEAVE_STARTED, NoticeKind.LEAVE_ENDED])
    def test_leaves_imply_no_task(self, kind):
        assert follow_ups_for(kind, occurred_at=T0, received_at=T0) == ()


def test_legal_basis_is_retssikkerhedsloven_12c():
    assert LEGAL_BASIS == "retssikkerhedsloven § 12 c"


class TestHospitalStaysInOrder:
    """Issue 15, "Hospital stays": a notice is applied to the episode's true state."""

    def outcome(self, message, history, received_at=None):
        received_at = received_at or message.sent_at
        after, _ = register(history, message, received_at=received_at)
        return notice_outcome(message.kind, message.hospital_episode_id, after, occurred_at=message.occurred_at,
                              received_at=received_at, acute=message.code.acute), after

    def test_discharge_before_its_admission_leaves_no_accompany_work(self):
        # SLHJ arrives first, then the STIN of the same stay: the stay is over.
        discharged = history_of(("SLHJ", 48))
        outcome, after = self.outcome(incoming("STIN", occurred_at=T0), discharged)
        assert outcome.follow_up is FollowUpWanted.NONE and outcome.follow_ups == ()
        assert outcome.episode_state is EpisodeState.DISCHARGED
        assert "allerede afsluttet" in outcome.note
        assert admission_state(after).state is AdmissionState.NOT_ADMITTED

    def test_a_timely_admission_asks_for_the_usual_accompany_task(self):
        outcome, _ = self.outcome(incoming("STAA"), [])
        assert outcome.follow_up is FollowUpWanted.USUAL and outcome.episode_state is EpisodeState.ADMITTED
        assert outcome.follow_ups[0].kind is FollowUpKind.ACCOMPANY_ADMISSION

    def test_a_leave_that_already_ended_asks_for_nothing(self):
        history = history_of(("STIN", 0), ("SLOR", 30))
        outcome, _ = self.outcome(incoming("STOR", occurred_at=T0 + timedelta(hours=20)), history)
        assert outcome.follow_up is FollowUpWanted.NONE

    def test_after_an_cancelled_admission_leave_notices_do_not_show_the_citizen_admitted(self):
        history = history_of(("STIN", 0), ("STOR", 24), ("SLOR", 30))
        assert admission_state(history).state is AdmissionState.ADMITTED
        history, _ = register(history, incoming("AN_STIN", replaces=history[0].message_id, occurred_at=T0 + timedelta(hours=31)))
        state = admission_state(history)
        assert state.state is AdmissionState.NOT_ADMITTED and not state.in_hospital_care

    def test_a_new_admission_after_a_cancelled_one_opens_the_episode_again(self):
        history = history_of(("STIN", 0))
        history, _ = register(history, incoming("AN_STIN", replaces=history[0].message_id))
        history, _ = register(history, incoming("STIN", occurred_at=T0 + timedelta(hours=2)))
        assert admission_state(history).state is AdmissionState.ADMITTED

    def test_an_admission_dated_1970_is_recorded_without_urgent_work_and_does_not_hold_the_episode(self):
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        message = incoming("STAA", occurred_at=epoch, sent_at=T0)
        outcome, after = self.outcome(message, [], received_at=T0)
        assert outcome.historic and outcome.follow_up is FollowUpWanted.VERIFY
        (verify,) = outcome.follow_ups
        assert verify.kind is FollowUpKind.VERIFY_HISTORIC_ADMISSION and verify.escalate_if_unclaimed_after is None
        assert verify.due_at > T0  # the next working day, not overdue since 1970
        assert "01.01.1970" in verify.title and "afklar med afdelingen" in verify.title
        # The citizen is not shown admitted since 1970 on that notice alone (no medication alerts, depot
        # visits are still watched) ...
        assert admission_state(after).state is AdmissionState.NOT_ADMITTED
        # ... and the hospital can correct the date, which opens the stay.
        correction = incoming("RE_STAA", replaces=message.message_id, occurred_at=T0 - timedelta(hours=1), sent_at=T0)
        after, _ = register(after, correction, received_at=T0)
        assert admission_state(after).state is AdmissionState.ADMITTED

    def test_a_timely_leave_confirms_an_old_admission_is_current(self):
        old = datetime(2026, 9, 1, tzinfo=CET)
        history, _ = register([], incoming("STIN", occurred_at=old, sent_at=T0), received_at=T0)
        assert admission_state(history).state is AdmissionState.NOT_ADMITTED
        history, _ = register(history, incoming("STOR", occurred_at=T0 + timedelta(hours=1)),
                              received_at=T0 + timedelta(hours=1, minutes=10))
        assert admission_state(history).state is AdmissionState.ON_LEAVE

    def test_a_historic_discharge_asks_for_nothing(self):
        outcome, _ = self.outcome(incoming("SLHJ", occurred_at=datetime(1970, 1, 1, tzinfo=timezone.utc), sent_at=T0), [],
                                  received_at=T0)
        assert outcome.follow_up is FollowUpWanted.NONE and "historisk" in outcome.note

    def test_death_always_tells_the_network(self):
        outcome, _ = self.outcome(incoming("MORS", occurred_at=T0 - timedelta(days=60), sent_at=T0), [], received_at=T0)
        assert outcome.follow_up is FollowUpWanted.USUAL

    def test_the_timeline_says_why_no_task_was_made_in_danish(self):
        discharged = history_of(("SLHJ", 48))
        message = incoming("STIN", occurred_at=T0)
        outcome, _ = self.outcome(message, discharged)
        text = timeline_text(NoticeAction.NEW, message, received_at=message.sent_at, outcome=outcome)
        assert text.startswith("Indlagt (STIN), Afsnit P2") and "opholdet er allerede afsluttet" in text
        assert "accompany" not in text.lower()


class TestDanishTexts:
    @pytest.mark.parametrize("kind", [NoticeKind.ADMISSION, NoticeKind.DISCHARGE, NoticeKind.DEATH])
    def test_follow_up_titles_are_danish(self, kind):
        (follow_up,) = follow_ups_for(kind, occurred_at=T0, received_at=T0)
        for english in ("admission", "discharged", "follow up", "the citizen", "network"):
            assert english not in follow_up.title.lower()

    def test_cancellation_line_is_danish(self):
        history = history_of(("STIN", 0))
        message = incoming("AN_STIN", replaces=history[0].message_id)
        text = timeline_text(NoticeAction.CANCEL, message, received_at=T0, replaced_occurred_at=T0)
        assert text.startswith("Annulleret af hospitalet (AN_STIN)")
