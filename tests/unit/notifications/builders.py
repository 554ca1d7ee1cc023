from __future__ import annotations

import itertools
from datetime import UTC, datetime
from uuid import UUID, uuid4

from services.notifications.domain.rules import Applied, IncomingEvent, apply_actions, evaluate, tasks_concerned
from services.notifications.domain.tasks import Actor, Pool, Priority, Role, Task, TaskKind, TaskSpec, new_task

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CITIZEN = UUID("00000000-0000-0000-0000-0000000000c1")
BOTILBUD = "orion"

def make_task(
    *,
    owner_sub: str | None = None,
    pool: Pool | None = None,
    priority: Priority = Priority.ROUTINE,
    due_at: datetime | None = None,
    kind: TaskKind = TaskKind.OTHER,
    botilbud_id: str | None = BOTILBUD,
    citizen_id: UUID = CITIZEN,
    now: datetime = NOW,
    **spec_fields,
) -> Task:
    if owner_sub is None and pool is None:
        pool = Pool(Role.COORDINATOR, botilbud_id)
    spec = TaskSpec(kind=kind, title="Testopgave", priority=priority, due_at=due_at, owner_sub=owner_sub, pool=pool, **spec_fields)
    return new_task(
        spec,
        task_id=uuid4(),
        citizen_id=citizen_id,
        botilbud_id=botilbud_id,
        source_event_id="evt-1",
        source_event_type="tovholder.test.thing.v1",
        now=now,
    )

def event(event_type: str, data: dict, *, event_id: str | None = None, citizen_id: UUID = CITIZEN) -> IncomingEvent:
    return IncomingEvent(event_id=event_id or str(uuid4()), event_type=event_type, time=NOW, citizen_id=citizen_id, data=data)

COORDINATOR = Actor("coord-1", Role.COORDINATOR, BOTILBUD)
OTHER_COORDINATOR = Actor("coord-2", Role.COORDINATOR, BOTILBUD)
NURSE = Actor("nurse-1", Role.NURSE_CONSULTANT, BOTILBUD)
NURSE_ELSEWHERE = Actor("nurse-9", Role.NURSE_CONSULTANT, "tangkaer")

def sequential_ids():
    counter = itertools.count(1)
    return lambda: UUID(int=next(counter))


def apply_rules(evt: IncomingEvent, existing: list[Task] | None = None) -> Applied:
    """The rules over ``existing`` as the handler applies them: over only the tasks the actions concern
    (what the repository loads), checked here to give the same result as over all of them."""
    actions = evaluate(evt)
    new_ids = [uuid4() for _ in range(len(actions) * 8)]  # the same new ids in both runs
    everything = apply_actions(actions, evt, existing or [], now=NOW, new_task_id=iter(new_ids).__next__)
    concerned = tasks_concerned(actions)
    loaded = apply_actions(actions, evt, [x for x in existing or [] if concerned.covers(x)], now=NOW,
                           new_task_id=iter(new_ids).__next__)
    assert (loaded.created, loaded.changed) == (everything.created, everything.changed), \
        "the actions reach a task that tasks_concerned does not load"
    return loaded
