import json
from datetime import date, datetime, timezone
from uuid import uuid4

from services.plans.repository import from_json, to_json
from services.plans.domain.cadence import FOURTEEN_DAYS, TWO_TO_THREE_MONTHS
from services.plans.domain.plan import (
    ActorKind, Author, AuthorRole, EntryKind, PlanVersion, ResponsibleActor, SmartFields, add_action, add_entry,
    add_goal, add_sub_goal, first_version, new_action, new_entry, new_goal, new_sub_goal,
)
from services.plans.domain.safety import Tryghedsplan, revise_tryghedsplan

T0 = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
S = Author("s", AuthorRole.STAFF)


def test_a_full_plan_version_survives_json_unchanged():
    v = first_version(plan_id=uuid4(), citizen_id=uuid4(), created_at=T0, created_by=S, cadence=TWO_TO_THREE_MONTHS)
    g = new_goal(goal_id=uuid4(), text="Lave mad", written_with_citizen=True, cadence=FOURTEEN_DAYS)
    v = add_goal(v, g, by=S, at=T0)
    v = add_sub_goal(v, g.goal_id, new_sub_goal(sub_goal_id=uuid4(), text="Handle", written_with_citizen=False,
                                                smart=SmartFields(time_bound=date(2027, 1, 1))), by=S, at=T0)
    v = add_action(v, g.goal_id, new_action(action_id=uuid4(), text="Køb gryde",
                                            responsible=ResponsibleActor(ActorKind.EXTERNAL, "Bostøtten"),
                                            due_on=date(2027, 1, 1), written_with_citizen=True, today=T0.date()),
                   by=S, at=T0)
    v = add_entry(v, new_entry(entry_id=uuid4(), kind=EntryKind.STAFF_OBSERVATION, text="Øh", author=S,
                               written_at=T0, written_with_citizen=False), goal_id=g.goal_id)
    assert from_json(PlanVersion, json.loads(json.dumps(to_json(v)))) == v


def test_a_tryghedsplan_survives_json_unchanged():
    t = revise_tryghedsplan(None, triggers=["Nye mennesker"], staff_should_do=["Tilbyde PN"],
                            as_needed_medication_note="PN efter aftale", written_with_citizen=True, at=T0, by="s")
    assert from_json(Tryghedsplan, json.loads(json.dumps(to_json(t)))) == t
