"""The authorisation matrix: every route of every service × every actor (role × scope), run against
the four real services (real PostgreSQL, real broker) in the world of ``authorization_world``, with
the expected answer from the one table in ``authorization_table``.

It fails when
- a route of a service is not in the table (or the table names a route no service has);
- an actor gets another answer than the table says (``ok`` = let through: 2xx, or a 409/422 rule
  answer about the data, never an access refusal);
- a refusal of a known caller (403, or a 404 that hides the citizen) leaves no audit entry;
- a list shows the citizen to an actor whom the single read of the citizen's record refuses, or hides
  them from one it lets through (lists are scoped like single reads).

``AUTHZ_PROBE=1`` prints the answers observed, in the table's own format, instead of asserting.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from typing import Any

import pytest

from sqlalchemy import select

from tests.integration.contract.authorization_table import OK, PENDING, ROWS, Row, body_for, classify
from tests.integration.contract.authorization_world import ALL_ACTORS, ANONYMOUS, World
from tovholder.db import AuditEntry

pytestmark = pytest.mark.integration
PROBE = os.environ.get("AUTHZ_PROBE") == "1"


def service_routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app answers (FastAPI's included routers walked)."""
    found: set[tuple[str, str]] = set()

    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
                continue
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    found.add((method, route.path))

    walk(app.router.routes)
    return found


def test_every_route_of_every_service_is_in_the_table(world: World):
    table = {(r.service, r.method, r.path) for r in ROWS}
    assert len(table) == len(ROWS), "a route is in the table twice"
    served = {(name, m, p) for name, svc in world.services.items() for m, p in service_routes(svc.app)}
    pending = set(PENDING)
    assert sorted(pending - served) == [], "PENDING names routes no service has"
    assert sorted(served - table - pending) == [], "routes without a row in tests/integration/contract/authorization_table.py"
    assert sorted(table - served) == [], "rows for routes no service has"
    for row in ROWS:
        assert set(row.expected) == set(row.actors), f"{row}: every actor needs an expected answer"


async def audited_refusals(world: World) -> set[tuple[str, str, str]]:
    """(service, actor sub, path) of every refusal in the services' audit logs."""
    found = set()
    for name, svc in world.services.items():
        async with svc.ctx.sessions() as s:
            rows = await s.execute(select(AuditEntry.actor_sub, AuditEntry.detail["path"].astext)
                                   .where(AuditEntry.detail["path"].astext.is_not(None)))
            found |= {(name, sub, path) for sub, path in rows}
    return found


async def call(world: World, row: Row, actor: str):
    svc = world.services[row.service]
    path = row.path.format(**world.params)
    body = body_for(row, svc.app, world)
    query = {k: v.format(**world.params) if isinstance(v, str) else v for k, v in row.query.items()}
    kwargs: dict[str, Any] = {"headers": world.headers(row.service, actor), "params": query}
    if body is not None:
        kwargs["json"] = body
    return path, await svc.client.request(row.method, path, **kwargs)


# Some 1,700 requests in one test: on a shared 2-core machine it outlasts the suite's 300 s per-test limit.
@pytest.mark.timeout(1200)
async def test_every_actor_gets_the_answer_the_table_gives(world: World):
    observed: dict[tuple[str, str, str], dict[str, str]] = {}
    wrong: list[str] = []
    refused: list[tuple[Row, str, str, str]] = []
    answers: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(dict)
    rows = list(ROWS)
    if PROBE:  # the routes the table lacks, to see what they answer
        tabled = {(r.service, r.method, r.path) for r in ROWS}
        for name, svc in world.services.items():
            for method, path in sorted(service_routes(svc.app)):
                if (name, method, path) not in tabled:
                    api = path.startswith(("/api/", "/integration/"))
                    rows.append(Row(name, method, path, {a: "?" for a in ALL_ACTORS}, kind="api" if api else "page"))
    for row in rows:
        key = (row.service, row.method, row.path)
        observed[key] = {}
        # The refusals first, side by side (they change nothing but the audit log); then, one by one,
        # the actors let through (a write let through must not change what the refusals see).
        refusing = [a for a in row.actors if row.expected[a] != OK]
        results = list(await asyncio.gather(*(call(world, row, a) for a in refusing)))
        for actor in [a for a in row.actors if row.expected[a] == OK]:
            results.append(await call(world, row, actor))
        for actor, (path, response) in zip([*refusing, *[a for a in row.actors if row.expected[a] == OK]], results):
            got = classify(response)
            if row.kind == "public" and got not in ("401", "403"):
                got = OK  # reachable without a token (whatever /readyz says of the broker right now)
            observed[key][actor] = got
            answers[key][actor] = response
            if got.startswith("5"):
                wrong.append(f"{row.service} {row.method} {row.path} as {actor}: {response.status_code} {response.text[:300]}")
                continue
            expected = row.expected[actor]
            if got != expected:
                wrong.append(f"{row.service} {row.method} {row.path} as {actor}: expected {expected}, got "
                             f"{response.status_code} {response.text[:200]}")
            elif got in ("403", "404") and actor != ANONYMOUS and row.kind in ("api", "scim") and not (row.absent and got == "404"):
                refused.append((row, actor, path, got))
    if PROBE:
        print_table(observed)
        return
    assert wrong == [], "\n".join(wrong)
    audited = await audited_refusals(world)
    unaudited = [f"{row} as {actor} ({got})" for row, actor, path, got in refused
                 if (row.service, world.claims(actor)["sub"], path) not in audited]
    assert unaudited == [], "refusals without an audit entry:\n" + "\n".join(unaudited)
    # Lists are scoped like single reads: the citizen is in a list exactly for whom the single read is let through.
    leaks = []
    for row in ROWS:
        if row.scoped_like:
            single = next(r for r in ROWS if (r.service, r.method, r.path) == (row.service, "GET", row.scoped_like))
            may_see = {actor for actor, answer in single.expected.items() if answer == OK}
        elif row.visible_to is not None:
            may_see = set(row.visible_to.split())
        else:
            continue
        marker = world.params[row.shows]
        shown_to = {actor for actor, response in answers[(row.service, row.method, row.path)].items()
                    if classify(response) == OK and marker in response.text}
        if shown_to - may_see:
            leaks.append(f"{row}: shows {row.shows} to {sorted(shown_to - may_see)}, who may not see it")
        if row.visible_to and not shown_to:
            leaks.append(f"{row}: shows {row.shows} to nobody (the check could not fail)")
    assert leaks == [], "\n".join(leaks)


def print_table(observed: dict[tuple[str, str, str], dict[str, str]]) -> None:
    for (service, method, path), answers in observed.items():
        by: dict[str, list[str]] = defaultdict(list)
        for actor in ALL_ACTORS:
            if actor in answers:
                by[answers[actor]].append(actor)
        parts = ", ".join(f"{k}={' '.join(v)!r}" for k, v in sorted(by.items()))
        print(f"    R({service!r}, {f'{method} {path}'!r}, {parts}),")
