"""Notifications' FHIR R4 read API: the work queue as ``Task`` (``tasks``: the mapping and the use
cases, on the work queue's access rules; ``api``: the routes)."""
