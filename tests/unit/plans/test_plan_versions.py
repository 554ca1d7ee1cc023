from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.cadence import FOURTEEN_DAYS, EIGHT_WEEKS
from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.plan import (
    ActorKind,
    Author,
    AuthorRole,
    ChangeKind,
    EntryKind,
    GoalKind,
    GoalStatus,
    ResponsibleActor,
    SmartFields,
    add_action,
    add_entry,
    add_goal,
    add_sub_goal,
    change_goal,
    complete_action,
    diff_versions,
    first_version,
    new_action,
    new_entry,
    new_goal,
    new_sub_goal,
    open_actions_due,
    set_plan_cadence,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
STAFF = Author("staff-1", AuthorRole.STAFF)
CITIZEN = Author("citizen-1", AuthorRole.CITIZEN)


def opened():
    return first_version(plan_id=uuid4(), citizen_id=uuid4(), created_at=T0, created_by=STAFF)


def with_goal(text="Jeg vil gerne lave mad selv", **kw):
    goal = new_goal(goal_id=uuid4(), text=text, written_with_citizen=True, cadence=FOURTEEN_DAYS, **kw)
    return add_goal(opened(), goal, by=STAFF, at=T0 + timedelta(minutes=5)), goal


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_a_goal_without_text_is_refused(text):
    with pytest.raises(PlanRuleViolation, match="måls tekst"):
        new_goal(goal_id=uuid4(), text=text, written_with_citizen=True)


def test_goal_text_keeps_the_citizens_words_but_not_surrounding_whitespace():
    goal = new_goal(goal_id=uuid4(), text="  Ikke miste det jeg kan  ", written_with_citizen=True)
    assert goal.text == "Ikke miste det jeg kan"


def test_keeping_a_skill_and_harm_reduction_are_valid_goals_without_smart_fields():
    for kind in (GoalKind.MAINTAIN, GoalKind.HARM_REDUCTION):
        goal = new_goal(goal_id=uuid4(), text="Drikke mindre om aftenen", written_with_citizen=True, kind=kind)
        assert goal.kind == kind and goal.sub_goals == ()


def test_the_written_with_citizen_flag_cannot_be_left_out():
    with pytest.raises(PlanRuleViolation, match="sammen med borgeren"):
        new_goal(goal_id=uuid4(), text="x", written_with_citizen=None)
    with pytest.raises(PlanRuleViolation):
        new_sub_goal(sub_goal_id=uuid4(), text="x", written_with_citizen="yes")


def test_every_change_is_a_new_version_and_the_old_one_is_untouched():
    v1 = opened()
    v2, goal = with_goal()
    assert (v1.number, v2.number) == (1, 2)
    assert v1.goals == () and v2.goals == (goal,)
    v3 = change_goal(v2, goal.goal_id, text="Lave aftensmad to gange om ugen", by=CITIZEN, at=T0 + timedelta(hours=1))
    assert v2.goal(goal.goal_id).text == "Jeg vil gerne lave mad selv"
    assert v3.goal(goal.goal_id).text == "Lave aftensmad to gange om ugen"
    assert v3.created_by == CITIZEN and v3.change == "goal-changed"
    with pytest.raises(FrozenInstanceError):
        v3.number = 1  # type: ignore[misc]


def test_a_change_that_changes_nothing_is_refused():
    v2, goal = with_goal()
    with pytest.raises(PlanRuleViolation, match="intet at ændre"):
        change_goal(v2, goal.goal_id, text="  Jeg vil gerne lave mad selv ", by=STAFF, at=T0 + timedelta(hours=1))


def test_a_change_cannot_be_dated_before_the_version_it_changes():
    v2, goal = with_goal()
    with pytest.raises(PlanRuleViolation, match="før den version"):
        change_goal(v2, goal.goal_id, text="ny", by=STAFF, at=T0)


def test_naive_times_are_refused():
    with pytest.raises(PlanRuleViolation, match="tidszone"):
        first_version(plan_id=uuid4(), citizen_id=uuid4(), created_at=datetime(2026, 11, 22), created_by=STAFF)


def test_a_goal_id_cannot_be_added_twice():
    v2, goal = with_goal()
    with pytest.raises(PlanRuleViolation, match="allerede et mål"):
        add_goal(v2, goal, by=STAFF, at=T0 + timedelta(hours=1))


def test_changing_an_unknown_goal_is_refused():
    v2, _ = with_goal()
    with pytest.raises(PlanRuleViolation, match="intet mål"):
        change_goal(v2, uuid4(), text="x", by=STAFF, at=T0 + timedelta(hours=1))


def test_sub_goals_take_smart_fields_optionally_and_empty_smart_is_none():
    v2, goal = with_goal()
    plain = new_sub_goal(sub_goal_id=uuid4(), text="Handle ind med makker", written_with_citizen=True,
                         smart=SmartFields())
    assert plain.smart is None
    smart = new_sub_goal(sub_goal_id=uuid4(), text="Koge pasta", written_with_citizen=False,
                         smart=SmartFields(measurable="én gang om ugen", time_bound=date(2027, 1, 31)))
    v3 = add_sub_goal(v2, goal.goal_id, plain, by=STAFF, at=T0 + timedelta(hours=1))
    v4 = add_sub_goal(v3, goal.goal_id, smart, by=STAFF, at=T0 + timedelta(hours=2))
    assert [s.text for s in v4.goal(goal.goal_id).sub_goals] == ["Handle ind med makker", "Koge pasta"]


def test_nothing_is_added_to_a_closed_goal_until_it_is_reopened():
    v2, goal = with_goal()
    v3 = change_goal(v2, goal.goal_id, status=GoalStatus.ACHIEVED, by=STAFF, at=T0 + timedelta(hours=1))
    sub = new_sub_goal(sub_goal_id=uuid4(), text="x", written_with_citizen=True)
    with pytest.raises(PlanRuleViolation, match="genåbn"):
        add_sub_goal(v3, goal.goal_id, sub, by=STAFF, at=T0 + timedelta(hours=2))
    v4 = change_goal(v3, goal.goal_id, status=GoalStatus.ACTIVE, by=STAFF, at=T0 + timedelta(hours=2))
    assert add_sub_goal(v4, goal.goal_id, sub, by=STAFF, at=T0 + timedelta(hours=3)).number == 5


def test_actions_need_a_responsible_actor_and_a_due_date_not_in_the_past():
    today = T0.date()
    with pytest.raises(PlanRuleViolation, match="hvem"):
        ResponsibleActor(ActorKind.STAFF, "  ")
    with pytest.raises(PlanRuleViolation, match="hvem"):
        ResponsibleActor(ActorKind.EXTERNAL)
    assert ResponsibleActor(ActorKind.CITIZEN).ref == ""  # the citizen is the plan's citizen
    staff = ResponsibleActor(ActorKind.STAFF, "staff-2")
    with pytest.raises(PlanRuleViolation, match="frist"):
        new_action(action_id=uuid4(), text="Ring til lægen", responsible=staff, due_on=None,
                   written_with_citizen=True, today=today)
    with pytest.raises(PlanRuleViolation, match="fortiden"):
        new_action(action_id=uuid4(), text="Ring til lægen", responsible=staff, due_on=today - timedelta(days=1),
                   written_with_citizen=True, today=today)
    assert new_action(action_id=uuid4(), text="Ring til lægen", responsible=staff, due_on=today,
                      written_with_citizen=True, today=today).due_on == today


def test_an_action_is_completed_once_and_not_in_the_future():
    v2, goal = with_goal()
    action = new_action(action_id=uuid4(), text="Køb gryde", responsible=ResponsibleActor(ActorKind.CITIZEN),
                        due_on=T0.date() + timedelta(days=3), written_with_citizen=True, today=T0.date())
    v3 = add_action(v2, goal.goal_id, action, by=STAFF, at=T0 + timedelta(hours=1))
    assert open_actions_due(v3, T0.date() + timedelta(days=3)) == ((v3.goal(goal.goal_id), action),)
    at = T0 + timedelta(days=2)
    with pytest.raises(PlanRuleViolation, match="fremtiden"):
        complete_action(v3, goal.goal_id, action.action_id, done_on=at.date() + timedelta(days=1), by=CITIZEN, at=at)
    v4 = complete_action(v3, goal.goal_id, action.action_id, done_on=at.date(), by=CITIZEN, at=at)
    assert open_actions_due(v4, T0.date() + timedelta(days=3)) == ()
    with pytest.raises(PlanRuleViolation, match="allerede udført"):
        complete_action(v4, goal.goal_id, action.action_id, done_on=at.date(), by=CITIZEN, at=at)


def test_citizen_perspective_and_staff_observation_are_kept_apart():
    v2, goal = with_goal()
    inside = new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_PERSPECTIVE, text="Jeg blev stresset i Netto",
                       author=CITIZEN, written_at=T0 + timedelta(hours=1), written_with_citizen=False)
    outside = new_entry(entry_id=uuid4(), kind=EntryKind.STAFF_OBSERVATION, text="Gik hjem efter 10 minutter",
                        author=STAFF, written_at=T0 + timedelta(hours=2), written_with_citizen=False)
    v3 = add_entry(add_entry(v2, inside, goal_id=goal.goal_id), outside, goal_id=goal.goal_id)
    g = v3.goal(goal.goal_id)
    assert g.citizen_perspectives() == (inside,) and g.staff_observations() == (outside,)
    # What the citizen writes is written with the citizen, whatever the client sent.
    assert inside.written_with_citizen is True


def test_a_citizen_cannot_write_a_staff_observation_and_staff_cannot_comment_as_the_citizen():
    with pytest.raises(PlanRuleViolation, match="ikke en medarbejderobservation"):
        new_entry(entry_id=uuid4(), kind=EntryKind.STAFF_OBSERVATION, text="x", author=CITIZEN,
                  written_at=T0, written_with_citizen=True)
    with pytest.raises(PlanRuleViolation, match="kun borgeren"):
        new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_COMMENT, text="x", author=STAFF,
                  written_at=T0, written_with_citizen=True)


def test_staff_record_the_citizens_perspective_only_together_with_the_citizen():
    with pytest.raises(PlanRuleViolation, match="medarbejderobservation"):
        new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_PERSPECTIVE, text="Hun synes det går godt",
                  author=STAFF, written_at=T0, written_with_citizen=False)
    entry = new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_PERSPECTIVE, text="Det går godt, siger jeg",
                      author=STAFF, written_at=T0, written_with_citizen=True)
    assert entry.written_with_citizen


def test_a_citizen_comment_answers_an_entry_that_exists():
    v2, goal = with_goal()
    obs = new_entry(entry_id=uuid4(), kind=EntryKind.STAFF_OBSERVATION, text="Virkede urolig", author=STAFF,
                    written_at=T0 + timedelta(hours=1), written_with_citizen=False)
    v3 = add_entry(v2, obs, goal_id=goal.goal_id)
    reply = new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_COMMENT, text="Jeg var bare træt", author=CITIZEN,
                      written_at=T0 + timedelta(hours=2), written_with_citizen=True, replies_to=obs.entry_id)
    v4 = add_entry(v3, reply)  # on the plan as a whole, answering a goal's entry
    assert v4.change == "comment-added" and v4.entries == (reply,)
    stray = new_entry(entry_id=uuid4(), kind=EntryKind.CITIZEN_COMMENT, text="?", author=CITIZEN,
                      written_at=T0 + timedelta(hours=3), written_with_citizen=True, replies_to=uuid4())
    with pytest.raises(PlanRuleViolation, match="svares på"):
        add_entry(v4, stray)


def test_the_diff_names_what_changed_between_two_versions():
    v2, goal = with_goal()
    sub = new_sub_goal(sub_goal_id=uuid4(), text="Handle ind", written_with_citizen=True)
    v3 = add_sub_goal(v2, goal.goal_id, sub, by=STAFF, at=T0 + timedelta(hours=1))
    v4 = change_goal(v3, goal.goal_id, cadence=EIGHT_WEEKS, by=STAFF, at=T0 + timedelta(hours=2))
    diff = diff_versions(v2, v4)
    assert (diff.from_version, diff.to_version) == (2, 4)
    by_path = {c.path: c for c in diff.changes}
    assert by_path[f"goals[{goal.goal_id}].sub_goals[{sub.sub_goal_id}]"].kind == ChangeKind.ADDED
    cadence_change = by_path[f"goals[{goal.goal_id}].cadence"]
    assert (cadence_change.before, cadence_change.after) == (FOURTEEN_DAYS, EIGHT_WEEKS)
    assert diff.goals_touched() == (goal.goal_id,)
    # Version metadata is not content.
    assert not any(p.startswith(("number", "created", "change")) for p in diff.paths())


def test_the_diff_is_the_same_whichever_order_the_versions_are_given_in():
    v2, goal = with_goal()
    v3 = change_goal(v2, goal.goal_id, text="ny tekst", by=STAFF, at=T0 + timedelta(hours=1))
    assert diff_versions(v3, v2) == diff_versions(v2, v3)


def test_a_goal_added_shows_as_added_and_identical_versions_have_no_changes():
    v1 = opened()
    v2, goal = with_goal()
    v2 = type(v2)(**{**v2.__dict__, "plan_id": v1.plan_id, "citizen_id": v1.citizen_id})
    diff = diff_versions(v1, v2)
    assert [(c.path, c.kind) for c in diff.changes] == [(f"goals[{goal.goal_id}]", ChangeKind.ADDED)]
    assert diff_versions(v2, v2).changes == ()


def test_versions_of_different_plans_cannot_be_compared():
    with pytest.raises(PlanRuleViolation, match="samme plan"):
        diff_versions(opened(), opened())


def test_plan_cadence_is_versioned_too():
    v1 = opened()
    v2 = set_plan_cadence(v1, EIGHT_WEEKS, by=STAFF, at=T0)
    assert v2.cadence == EIGHT_WEEKS and v1.cadence is None
    with pytest.raises(PlanRuleViolation):
        set_plan_cadence(v2, EIGHT_WEEKS, by=STAFF, at=T0)
    assert [c.path for c in diff_versions(v1, v2).changes] == ["cadence"]
