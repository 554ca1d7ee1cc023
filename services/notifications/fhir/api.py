"""Notifications' FHIR R4 routes (``/fhir/r4``): the work queue as Task — read and search."""

from __future__ import annotations

from services.notifications.fhir import tasks
from tovholder.fhir import COUNT_PARAM, LAST_UPDATED_PARAM, PATIENT_PARAM, SUBJECT_PARAM, SearchParam, status_param
from tovholder.fhir_api import Served, resource_router

OWNER_PARAM = SearchParam("owner", "reference", "Whose task it is: a staff id (the token's sub) or Practitioner/<id>")

router = resource_router("notifications", "Tovholder notifications: the work queue", [
    Served("Task", tasks.read_task, tasks.search_tasks,
           "A task of the work queue (status, businessStatus, owner, the pool as performerType, priority, due as "
           "restriction.period.end, for/focus)",
           (PATIENT_PARAM, SUBJECT_PARAM, OWNER_PARAM, status_param(tasks.STATUSES), LAST_UPDATED_PARAM, COUNT_PARAM), id_param="task_id"),
])
