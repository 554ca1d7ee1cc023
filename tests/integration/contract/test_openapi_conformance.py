"""schemathesis over the four OpenAPI documents, against the real services (real PostgreSQL, real broker).

For every operation of every service, schemathesis (Hypothesis) generates requests from the
operation's own OpenAPI description; each is sent, with a token of a role that may call the route
family (partners on /integration/, the provisioning client on /scim/, the staff roles in turn on /api/), to the service in this process —
the services of the authorisation matrix's world (``conftest.py``), every other case with its real ids.
Every answer must be no 5xx, carry a status code the operation documents, and have a body (error
bodies included) that matches the schema the operation documents for that status.

Bounded: ``EXAMPLES_PER_OPERATION`` generated requests per operation (about 130 operations), so the
module stays within a couple of minutes on two cores. ``TOVHOLDER_SCHEMATHESIS_EXAMPLES`` raises it
for a deeper local run.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.contract.authorization_world import SCIM_CLIENT, World

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = int(os.environ.get("TOVHOLDER_SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The world's actors a staff/citizen route is tried with, in turn; partner routes with the referring partner.
STAFF_ACTORS = ("visit", "coord", "nurse", "citizen", "admin")
PARTNER_ACTOR = "partner"


def generated_cases(operation, n: int) -> list[Any]:
    """``n`` cases Hypothesis generates for the operation (no shrinking: each is sent once, below)."""
    cases: list[Any] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=n, database=None, deadline=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def collect(case) -> None:
        cases.append(case)

    collect()
    return cases


def request_of(case, headers: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://service", headers=headers)
    request: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"], "headers": kwargs.get("headers"),
                               "params": kwargs.get("params"), "cookies": kwargs.get("cookies")}
    for key in ("json", "data", "files"):
        if kwargs.get(key) is not None:
            request["content" if key == "data" and isinstance(kwargs[key], (bytes, str)) else key] = kwargs[key]
    return request


EVENT_STREAMS = {"/api/v1/work-queue/events"}


async def test_every_operation_answers_as_its_openapi_document_says(world: World):
    started = time.monotonic()
    findings: dict[tuple[str, str], str] = {}
    sent = operations = 0
    for name, svc in world.services.items():
        schema = schemathesis.openapi.from_dict(svc.app.openapi())
        staff = itertools.cycle(STAFF_ACTORS)
        for result in schema.get_all_operations():
            operation = result.ok()
            if "operations" in (operation.tags or []):
                continue  # /healthz, /readyz, /metrics, /asyncapi: a 503 from /readyz is its answer, not a fault
            if operation.path in EVENT_STREAMS:
                continue  # a server-sent event stream never ends; tests/integration/notifications/test_work_queue_events.py
            operations += 1
            for n, case in enumerate(generated_cases(operation, EXAMPLES_PER_OPERATION)):
                if n % 2 == 0:  # every other case with the world's real ids: answers beyond 404 get checked too
                    known = {k: world.params[k] for k in (case.path_parameters or {}) if k in world.params}
                    case.path_parameters = {**case.path_parameters, **known} if known else case.path_parameters
                actor = (PARTNER_ACTOR if operation.path.startswith("/integration/")
                         else SCIM_CLIENT if operation.path.startswith("/scim/") else next(staff))
                headers = world.headers(name, actor)
                request = request_of(case, headers)
                response = await svc.client.request(**request)
                sent += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except BaseExceptionGroup as failure:  # schemathesis' FailureGroup: every check that failed
                    problems = "; ".join(sorted({f"{type(e).__name__}: {str(e).splitlines()[0]}" for e in failure.exceptions}))
                    findings.setdefault((name, operation.label),
                                        f"{response.status_code} {problems} — {response.text[:240]}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {operations} operations, {sent} requests, {len(findings)} findings, {elapsed:.0f} s")
    assert not findings, "\n\n".join(f"{svc} {label}: {text}" for (svc, label), text in sorted(findings.items()))
