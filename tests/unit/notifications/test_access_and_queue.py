from __future__ import annotations

import ast
import pathlib
from datetime import timedelta
from uuid import UUID

import pytest

from services.notifications.domain import tasks as t
from services.notifications.domain.access import (
    claimable_pools,
    in_work_queue,
    may_see_citizen,
    may_see_task,
    work_queue_scope,
)
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.queue import MAX_LIMIT, NO_DUE_SORT_AT, Cursor, QueueFilter, page, parse_filter
from services.notifications.domain.tasks import Actor, Pool, Role, TaskKind

from .builders import BOTILBUD, CITIZEN, COORDINATOR, NOW, NURSE, NURSE_ELSEWHERE, make_task

OTHER_CITIZEN = UUID(int=42)


def test_work_queue_is_own_tasks_plus_claimable_pools():
    mine = make_task(owner_sub=NURSE.sub)
    pooled = make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD))
    elsewhere = make_task(pool=Pool(Role.NURSE_CONSULTANT, "tangkaer"), botilbud_id="tangkaer")
    claimed_by_other = t.claim(make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD)), Actor("nurse-2", Role.NURSE_CONSULTANT, BOTILBUD), NOW)
    done = t.complete(make_task(owner_sub=NURSE.sub), NURSE, NOW)
    assert [in_work_queue(x, NURSE) for x in (mine, pooled, elsewhere, claimed_by_other, done)] == [True, True, False, False, False]
    scope = work_queue_scope(NURSE)
    assert scope.owner_sub == NURSE.sub and scope.pools == (Pool(Role.NURSE_CONSULTANT, BOTILBUD), Pool(Role.NURSE_CONSULTANT, None))


def test_non_staff_have_no_pools():
    assert claimable_pools(Actor("p", Role.PARTNER)) == ()
    assert claimable_pools(Actor("c", Role.CITIZEN)) == ()


def test_visibility_by_owner_pool_coordinator_network_and_role():
    task = make_task(owner_sub="someone-else", kind=TaskKind.ACCOMPANY_ADMISSION)
    assert may_see_task(task, COORDINATOR)  # coordinator of the botilbud keeps the overview
    assert not may_see_task(task, NURSE)
    assert may_see_task(task, NURSE, network_citizens={CITIZEN})
    assert not may_see_task(task, NURSE_ELSEWHERE, network_citizens={OTHER_CITIZEN})
    assert not may_see_task(task, Actor("p", Role.PARTNER, None), network_citizens={CITIZEN})
    assert not may_see_task(task, Actor(str(CITIZEN), Role.CITIZEN))
    assert may_see_task(task, Actor("a", Role.ADMIN))
    assert may_see_task(make_task(pool=Pool(Role.NURSE_CONSULTANT, BOTILBUD)), NURSE)


def test_citizen_visibility_for_the_timeline():
    assert may_see_citizen(NURSE, citizen_id=CITIZEN, citizen_botilbud_id=BOTILBUD)
    assert not may_see_citizen(NURSE_ELSEWHERE, citizen_id=CITIZEN, citizen_botilbud_id=BOTILBUD)
    assert may_see_citizen(NURSE_ELSEWHERE, citizen_id=CITIZEN, citizen_botilbud_id=BOTILBUD, network_citizens=[CITIZEN])
    assert may_see_citizen(Actor("v", Role.VISITATION), citizen_id=CITIZEN, citizen_botilbud_id=None)
    assert may_see_citizen(Actor(str(CITIZEN), Role.CITIZEN), citizen_id=CITIZEN, citizen_botilbud_id=None)
    assert not may_see_citizen(Actor("p", Role.PARTNER), citizen_id=CITIZEN, citizen_botilbud_id=BOTILBUD)


def test_parse_filter_accepts_the_documented_parameters():
    f = parse_filter({"kind": "accompany-admission", "citizen_id": str(CITIZEN), "due_before": "2026-11-30",
                      "due_after": "2026-11-01T00:00:00+00:00", "overdue": "true", "limit": "10"})
    assert f.kind is TaskKind.ACCOMPANY_ADMISSION and f.citizen_id == CITIZEN and f.overdue is True and f.limit == 10
    assert f.due_before.isoformat() == "2026-11-30T22:59:00+00:00"  # end of the Danish day
    assert parse_filter({}) == QueueFilter()


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"kind": "nope"}, "kind 'nope' findes ikke"),
        ({"citizen_id": "123"}, "UUID"),
        ({"due_before": "i morgen"}, "due_before"),
        ({"due_before": "2026-11-01", "due_after": "2026-11-30"}, "efter"),
        ({"overdue": "maybe"}, "true eller false"),
        ({"limit": "0"}, "mellem 1"),
        ({"limit": str(MAX_LIMIT + 1)}, "mellem 1"),
        ({"limit": "ti"}, "heltal"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "eyJ4IjoxfQ"}, "cursor"),
    ],
)
def test_parse_filter_rejects_with_reasons(params, reason):
    with pytest.raises(InvalidInput, match=reason):
        parse_filter(params)


def test_cursor_round_trip():
    cursor = Cursor(NOW, UUID(int=5))
    assert Cursor.decode(cursor.encode()) == cursor


def test_keyset_pages_cover_everything_once_in_order():
    tasks = [make_task(due_at=NOW + timedelta(hours=i % 7)) for i in range(23)] + [make_task() for _ in range(4)]
    seen = []
    f = QueueFilter(limit=5)
    while True:
        rows, cursor = page(tasks, f, NOW)
        seen.extend(rows)
        if cursor is None:
            break
        f = QueueFilter(limit=5, cursor=Cursor.decode(cursor.encode()))
    assert len(seen) == 27 and len({x.task_id for x in seen}) == 27
    keys = [(x.due_at or NO_DUE_SORT_AT, x.task_id) for x in seen]
    assert keys == sorted(keys) and seen[-1].due_at is None


def test_filters_due_and_overdue():
    overdue = make_task(due_at=NOW - timedelta(hours=1))
    soon = make_task(due_at=NOW + timedelta(hours=1))
    undated = make_task()
    rows, _ = page([overdue, soon, undated], QueueFilter(overdue=True), NOW)
    assert rows == [overdue]
    rows, _ = page([overdue, soon, undated], QueueFilter(overdue=False), NOW)
    assert rows == [soon, undated]
    rows, _ = page([overdue, soon, undated], QueueFilter(due_before=NOW), NOW)
    assert rows == [overdue]


# The kit's pure modules, which a domain may use (they are checked for I/O imports themselves).
PURE_KIT_MODULES = ("tovholder.consent", "tovholder.access", "tovholder.clock", "tovholder.reminders",
                    "tovholder.scopes", "tovholder.errors")


def test_domain_has_no_io_imports():
    forbidden = {"sqlalchemy", "fastapi", "starlette", "faststream", "aiokafka", "httpx", "requests", "asyncpg", "tovholder"}
    root = pathlib.Path(__file__).resolve().parents[3]
    domain = root / "services" / "notifications" / "domain"
    pure_kit = [root / (module.replace(".", "/") + ".py") for module in PURE_KIT_MODULES]
    for path in [*domain.glob("*.py"), *pure_kit]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom) and node.module == "tovholder":
                names = [f"tovholder.{a.name}" for a in node.names]
            for name in names:
                if name in PURE_KIT_MODULES:
                    continue
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
