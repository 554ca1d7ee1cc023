"""The work queue as FHIR R4 ``Task``: the mapping (pure, through the ``fhir.resources`` model) and the
read and search use cases, on the work queue's own rule (``domain.access.may_see_task``: whose work it
is, the botilbud's coordinators, the citizen's network, admin; citizens and partners never), after the
token's SMART scopes. Every read is audited (``task.read`` / ``task.list``: the citizen's Min log shows it).

- ``status``: open → ``requested`` (nobody has it yet), claimed → ``accepted``, in progress →
  ``in-progress``, done → ``completed``, cancelled → ``cancelled``; ``businessStatus`` is the owner's
  own short status; ``owner`` the staff member who has it; the pool it waits in is ``performerType``
  (the role, and the botilbud in ``text``); ``priority`` routine | urgent | asap; the due time is
  ``restriction.period.end``; ``for`` the citizen, ``focus`` what it concerns (a referral is its
  ``ServiceRequest``; anything else an identifier).
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.task import Task as FhirTask

from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications.domain.access import may_see_task
from services.notifications.services import actor_of
from tovholder.access import authorize
from tovholder.auth import Principal
from tovholder.errors import Forbidden, NotFound
from tovholder.fhir import Search, dump, invalid_search, meta, patient_ref, practitioner_ref, require_scope, validated
from tovholder.uow import UnitOfWork

STATUS = {"open": "requested", "claimed": "accepted", "in_progress": "in-progress", "done": "completed",
          "cancelled": "cancelled"}
STATUSES = tuple(STATUS.values())
KIND_SYSTEM = "urn:tovholder:task-kind"
POOL_SYSTEM = "urn:tovholder:pool-role"
LINK_SYSTEM = "urn:tovholder:"  # + the link's kind, e.g. urn:tovholder:hospital-notice
FOCUS_TYPES = {"referral": "ServiceRequest"}
NO_SUCH_TASK = "No such Task that you may read."


def _focus(link: str) -> dict[str, Any] | None:
    rel, _, ref = link.partition(":")
    if not ref:
        return None
    if rel in FOCUS_TYPES:
        return {"reference": f"{FOCUS_TYPES[rel]}/{ref}"}
    return {"identifier": {"system": f"{LINK_SYSTEM}{rel}", "value": ref}}


def task_resource(row: m.Task) -> Resource:
    links = [f for f in (_focus(x) for x in row.links or () if isinstance(x, str)) if f]
    pool = ({"coding": [{"system": POOL_SYSTEM, "code": row.pool_role}],
             "text": f"{row.pool_role} · {row.pool_botilbud or 'hele kommunen'}"} if row.pool_role else None)
    return validated(FhirTask, {
        "resourceType": "Task", "id": str(row.id), "meta": meta(row.updated_at),
        "status": STATUS.get(row.status, "requested"), "intent": "order", "priority": row.priority,
        "businessStatus": {"text": row.business_status} if row.business_status else None,
        "code": {"coding": [{"system": KIND_SYSTEM, "code": row.kind}], "text": row.title},
        "description": row.description,
        "for": patient_ref(row.citizen_id) if row.citizen_id else None,
        "focus": links[0] if links else None,
        "owner": practitioner_ref(row.owner),
        "performerType": [pool] if pool else None,
        "restriction": {"period": {"end": row.due_at.isoformat()}} if row.due_at else None,
        "authoredOn": row.created_at.isoformat(), "lastModified": row.updated_at.isoformat(),
    })


def _refuse_outside_the_work_queue(user: Principal, citizen_id: Any) -> None:
    require_scope(user, "Task", object_type="task", citizen_id=citizen_id)
    if user.role in ("citizen", "partner"):
        raise Forbidden("Tasks are the staff's work queue; citizens and partners do not read them.",
                        citizen_id=citizen_id, audit_action="task.refused", object_type="task")


async def read_task(uow: UnitOfWork, user: Principal, task_id: str) -> dict[str, Any]:
    try:
        wanted = uuid.UUID(task_id)
    except ValueError:
        raise NotFound(NO_SUCH_TASK) from None
    row = await repo.get_task(uow.session, wanted)
    _refuse_outside_the_work_queue(user, row.citizen_id if row else None)
    if row is None:
        raise NotFound(NO_SUCH_TASK)
    network = await repo.network_citizens(uow.session, user.sub, [row.citizen_id] if row.citizen_id else [])
    # The unknown task's answer (as the REST API); the kit audits the refusal.
    authorize(may_see_task(repo.to_domain(row), actor_of(user), network), NO_SUCH_TASK, hide=True,
              not_found=NO_SUCH_TASK, citizen_id=row.citizen_id, object_type="task", object_id=row.id)
    uow.audit(user, "task.read", citizen_id=row.citizen_id, object_type="task", object_id=row.id, detail={"fhir": "Task"})
    await uow.commit()
    return dump(task_resource(row))


async def search_tasks(uow: UnitOfWork, user: Principal, search: Search) -> tuple[list[Resource], int]:
    """By citizen (``patient``/``subject``, the ``for``) and/or ``owner`` (a staff id, or
    ``Practitioner/<id>``); only the tasks the caller may see, newest change first."""
    owner = search.owner.removeprefix("Practitioner/") if search.owner else None
    if owner is not None and (len(owner) > 200 or any(ord(ch) < 32 for ch in owner)):
        raise invalid_search("owner must be a staff id (the token's sub) or Practitioner/<id>, at most 200 characters.")
    citizen_id = search.citizen_id(user, "Task") if (search.patient or search.subject or not owner) else None
    statuses = search.statuses(STATUSES)
    _refuse_outside_the_work_queue(user, citizen_id)
    rows = await repo.tasks_for_fhir(uow.session, citizen_id=citizen_id, owner=owner)
    actor = actor_of(user)
    network = set(await repo.network_citizens(uow.session, user.sub, list({r.citizen_id for r in rows if r.citizen_id})))
    visible = [r for r in rows if may_see_task(repo.to_domain(r), actor, network)
               and (statuses is None or STATUS.get(r.status) in statuses) and search.updated(r.updated_at)]
    page, total = search.page(visible)
    await uow.audit_many(user, "task.list", [(r.citizen_id, r.id) for r in page], object_type="task")
    await uow.commit()
    return [task_resource(r) for r in page], total
