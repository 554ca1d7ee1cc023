"""Who may see which tasks and citizens. Pure: the caller passes the viewer's network memberships.

A staff member sees a task when
- it is theirs (``owner_sub``), or
- it sits in a pool they may claim from (role + botilbud), or
- they are a coordinator at the task's botilbud (coordinators keep the overview), or
- they are in the citizen's network (from the plans service's network events).
Partners and citizens never see the work queue; ``admin`` sees everything (support), audited like any read.

Health details copied here from the health service's events (timeline lines, the tasks they create)
follow the health service's own rule, ``tovholder.access.may_read_health_details``: whoever may open
the citizen's timeline here does not thereby see what health would refuse them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

from services.notifications.domain.tasks import WORK_QUEUE_ROLES, Actor, Pool, Role, Task, TaskStatus
from tovholder.access import CitizenCircle, Viewer, may_read_health_details

HEALTH_EVENT_PREFIX = "tovholder.health."
HEALTH_SERVICE = "health"


@dataclass(frozen=True, slots=True)
class QueueScope:
    """The work queue in query terms: tasks owned by ``owner_sub`` that are active, plus unowned open
    tasks in one of ``pools``."""

    owner_sub: str
    pools: tuple[Pool, ...]


def is_staff(actor: Actor) -> bool:
    return actor.role in WORK_QUEUE_ROLES


def claimable_pools(actor: Actor) -> tuple[Pool, ...]:
    if not is_staff(actor):
        return ()
    assert actor.role is not None
    pools = [Pool(actor.role, None)]
    if actor.botilbud_id:
        pools.insert(0, Pool(actor.role, actor.botilbud_id))
    return tuple(pools)


def work_queue_scope(actor: Actor) -> QueueScope:
    return QueueScope(owner_sub=actor.sub, pools=claimable_pools(actor))


def in_work_queue(task: Task, actor: Actor) -> bool:
    """The spec's definition of "the caller's open tasks"."""
    if task.status.is_final:
        return False
    if task.owner_sub == actor.sub:
        return True
    return task.owner_sub is None and task.status is TaskStatus.OPEN and any(p == task.pool for p in claimable_pools(actor))


def may_see_task(task: Task, actor: Actor, network_citizens: Collection[UUID] = ()) -> bool:
    if actor.role is Role.ADMIN:
        return True
    if not is_staff(actor):
        return False
    if task.owner_sub == actor.sub:
        return True
    if task.pool is not None and task.pool.admits(actor):
        return True
    if actor.role is Role.COORDINATOR and actor.botilbud_id and task.botilbud_id == actor.botilbud_id:
        return True
    return task.citizen_id in network_citizens


def may_see_citizen(
    actor: Actor, *, citizen_id: UUID, citizen_botilbud_id: str | None, network_citizens: Collection[UUID] = (),
    citizen_municipality: str | None = None,
) -> bool:
    """For the citizen's timeline: staff at the citizen's botilbud, the network, visitation (of the
    citizen's municipality: ``tovholder.scopes``, as in referrals), admin."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is Role.VISITATION:
        return actor.scope.sees_municipality(citizen_municipality)
    if actor.role is Role.CITIZEN:
        return str(citizen_id) == actor.sub
    if not is_staff(actor):
        return False
    if citizen_botilbud_id is not None and actor.botilbud_id == citizen_botilbud_id:
        return True
    return citizen_id in network_citizens


def carries_health_details(source_event_type: str | None) -> bool:
    """Everything the health service publishes is health data (notices with department, orders, coercion…)."""
    return bool(source_event_type) and source_event_type.startswith(HEALTH_EVENT_PREFIX)


def may_see_health_copy(actor: Actor, circle: CitizenCircle) -> bool:
    return may_read_health_details(Viewer(actor.role.value if actor.role else "", actor.sub, actor.botilbud_id), circle)


def is_own_work(task: Task, actor: Actor) -> bool:
    """The task is the person's to do (theirs, or in a pool they take work from)."""
    return task.owner_sub == actor.sub or (task.pool is not None and task.pool.admits(actor))


def may_see_task_on_timeline(task: Task, actor: Actor, *, sees_health: bool) -> bool:
    """A task made from a health event names the hospital department and the like: shown with the
    citizen's timeline to those who may read health details, and to whoever has to do it."""
    return sees_health or not carries_health_details(task.source_event_type) or is_own_work(task, actor)
