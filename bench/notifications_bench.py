"""Notifications benchmark: task creation from events, and the work-queue query at a million tasks.

    python bench/notifications_bench.py [--events 3000] [--tasks 1000000] [--queries 400]

On a private embedded PostgreSQL (started and removed by the script):
1. task creation from events: hospital notices (admissions, each for its own citizen) through the
   service's real event handler in the kit's unit of work — read models, the rules table, the task,
   its history, the outbox event and the audit row in one transaction per event, as the consumer does
   (Kafka itself is measured by bench/pipeline.py) → tasks/s and per-event latency;
2. the work queue at N tasks (default 1,000,000: ~20 % open or in progress across 6 botilbud, pools
   and ~300 staff, the rest done): p50/p95/p99 of the query behind ``GET /api/v1/work-queue`` for
   first pages, deep keyset pages and filtered pages, and of the whole HTTP request in-process.

Prints a table and writes bench/results/notifications_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from contracts.health import HospitalNoticeRegisteredV1  # noqa: E402
from services.notifications import repository as repo  # noqa: E402
from services.notifications.domain.access import work_queue_scope  # noqa: E402
from services.notifications.domain.queue import Cursor, parse_filter  # noqa: E402
from services.notifications.domain.tasks import Actor, Role  # noqa: E402
from services.notifications.handlers import on_event  # noqa: E402
from services.notifications.main import NotificationsConfig  # noqa: E402
from tovholder.db import create_engine, session_factory  # noqa: E402
from tovholder.infra import EmbeddedPostgres  # noqa: E402
from tovholder.messaging import EventMeta  # noqa: E402
from tovholder.migrations import upgrade  # noqa: E402
from tovholder.settings import Settings  # noqa: E402
from tovholder.uow import UnitOfWork  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BOTILBUD = ["orion", "tangkaer", "vista-hus", "cirklen", "tuesten-huse", "mette-marie"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 3), "p95_ms": round(percentile(ms, 95), 3),
            "p99_ms": round(percentile(ms, 99), 3), "max_ms": round(max(ms), 3)}


# ---------------------------------------------------------------- 1. tasks from events


async def bench_task_creation(sessions, events: int, concurrency: int) -> dict:
    now = datetime.now(timezone.utc)
    bodies = [
        HospitalNoticeRegisteredV1(
            citizen_id=uuid.uuid4(), notice_id=uuid.uuid4(), message_id=uuid.uuid4(), code="STIN", kind="admission",
            hospital_episode_id=f"EPJ-{i}", department="Afsnit P2", sender_org="SOR:1234567", occurred_at=now,
            legal_basis="retssikkerhedsloven § 12 c", tovholder_sub=f"nurse-{i % 12}", botilbud_id=BOTILBUD[i % 6],
        )
        for i in range(events)
    ]
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            meta = EventMeta(event_id=str(uuid.uuid4()), event_type=body.event_type, source="/bench", subject=str(body.citizen_id),
                             time=now, topic=body.topic.name, partition=0, offset=0)
            started = time.perf_counter()
            async with UnitOfWork(sessions, service="notifications") as uow:
                await uow.claim_inbox("tovholder-notifications", meta.event_id, meta.event_type)
                await on_event(body, meta, uow, config=NotificationsConfig())
                await uow.commit()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        created = (await session.execute(text("SELECT count(*) FROM task WHERE kind = 'accompany-admission'"))).scalar_one()
    assert created >= events, f"expected {events} tasks, found {created}"
    return {"events": events, "concurrency": concurrency, "seconds": round(elapsed, 2),
            "tasks_per_s": round(events / elapsed, 1), "latency": summary(latencies)}


# ---------------------------------------------------------------- 2. the work queue at N tasks


LOAD_SQL = """
INSERT INTO task (id, citizen_id, botilbud_id, kind, title, status, priority, due_at, sort_at, owner, pool_role,
                  pool_botilbud, source_event_id, source_event_type, links, created_at, updated_at)
SELECT gen_random_uuid(),
       md5('citizen' || (g % 20000))::uuid,
       b.botilbud,
       (ARRAY['accompany-admission','discharge-follow-up','plan-follow-up','learning-plan','health-check-preparation',
              'first-network-meeting','medication-change','depot-visit-missed'])[1 + g % 8],
       'Opgave ' || g,
       s.status,
       (ARRAY['routine','routine','routine','urgent','asap'])[1 + g % 5],
       d.due,
       COALESCE(d.due, '9999-12-31 00:00:00+00'),
       CASE WHEN s.status IN ('claimed','in_progress') OR (s.status = 'done') OR (g % 10 < 4)
            THEN (ARRAY['nurse-','koord-','visit-'])[1 + g % 3] || (g % 300) ELSE NULL END,
       (ARRAY['nurse-consultant','coordinator','visitation'])[1 + g % 3],
       CASE WHEN g % 3 = 2 THEN NULL ELSE b.botilbud END,
       'bench-' || g, 'bench', '[]'::jsonb,
       now() - (g % 1000) * interval '1 hour', now()
FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS g
CROSS JOIN LATERAL (SELECT (ARRAY['orion','tangkaer','vista-hus','cirklen','tuesten-huse','mette-marie'])[1 + (g / 7) % 6] AS botilbud) b
CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 < 80 THEN 'done' WHEN g % 100 < 84 THEN 'cancelled'
                                WHEN g % 100 < 94 THEN 'open' WHEN g % 100 < 97 THEN 'claimed' ELSE 'in_progress' END AS status) s
CROSS JOIN LATERAL (SELECT CASE WHEN g % 11 = 0 THEN NULL
                                ELSE now() + ((g * 7919) % 2000 - 400) * interval '1 hour' END AS due) d
"""


async def load_tasks(engine, total: int) -> float:
    started = time.perf_counter()
    batch = 100_000
    for start in range(1, total + 1, batch):
        async with engine.begin() as conn:
            await conn.execute(text(LOAD_SQL), {"start": start, "stop": min(start + batch - 1, total)})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE task"))
    return time.perf_counter() - started


async def bench_queue(sessions, queries: int) -> dict:
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    # Owners in the data are nurse-0,3,6…, koord-1,4,7…, visit-2,5,8… (g % 3 picks the prefix).
    users = [Actor(f"{prefix}{n}", role, BOTILBUD[n % 6])
             for offset, (prefix, role) in enumerate((("nurse-", Role.NURSE_CONSULTANT), ("koord-", Role.COORDINATOR),
                                                      ("visit-", Role.VISITATION)))
             for n in range(offset, 300, 3)]
    cases: dict[str, list[float]] = {"first_page": [], "deep_page": [], "filtered_kind": [], "overdue": [], "due_before": []}
    sizes: list[int] = []
    # A session a query, as a request has: one session kept across thousands of queries would hold every
    # task it loaded in its identity map, and the garbage collector's passes over it are not the queue's cost.
    for i in range(queries):
        actor = rng.choice(users)
        scope = work_queue_scope(actor)
        for case in cases:
            params: dict[str, str | None] = {"limit": "50"}
            if case == "filtered_kind":
                params["kind"] = rng.choice(["plan-follow-up", "accompany-admission", "learning-plan"])
            elif case == "overdue":
                params["overdue"] = "true"
            elif case == "due_before":
                params["due_before"] = (now + timedelta(days=7)).isoformat()
            elif case == "deep_page":
                # Resume far into the queue (a cursor a long way down), as page N of a long queue would.
                deep = now + timedelta(hours=rng.randint(200, 1500))
                params["cursor"] = Cursor(deep, uuid.UUID(int=0)).encode()
            queue_filter = parse_filter(params)
            async with sessions() as session:
                started = time.perf_counter()
                rows, _ = await repo.work_queue(session, scope, queue_filter, now)
                cases[case].append((time.perf_counter() - started) * 1000)
            if case == "first_page":
                sizes.append(len(rows))
    # One user a role: each role's pools differ (visitation's is the municipality's, of no botilbud).
    plans = {}
    for actor in (next(u for u in users if u.role == role) for role in (Role.NURSE_CONSULTANT, Role.COORDINATOR, Role.VISITATION)):
        async with sessions() as session:
            plans[actor.role.value] = await explain_first_page(session, work_queue_scope(actor), now)
    plan = {"uses_queue_indexes": all(p["uses_queue_indexes"] for p in plans.values()),
            "seq_scan": any(p["seq_scan"] for p in plans.values()),
            "sorts_a_pool": any(p["sorts_a_pool"] for p in plans.values()),
            "text": {role: p["text"] for role, p in plans.items()}}
    return {name: summary(ms) for name, ms in cases.items()} | {
        "mean_rows_first_page": round(statistics.mean(sizes), 1), "plan": plan,
    }


async def explain_first_page(session, scope, now) -> dict:
    """The plan of a first page: each part of the union must be an ordered index scan with a LIMIT."""
    query = repo.work_queue_select(scope, parse_filter({"limit": "50"}), now)
    from sqlalchemy.dialects import postgresql

    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    rows = (await session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {compiled}"))).scalars().all()
    plan_text = "\n".join(rows)
    return {
        "uses_queue_indexes": "ix_task_owner_queue" in plan_text and "ix_task_pool_queue" in plan_text,
        "seq_scan": "Seq Scan" in plan_text,
        # Only the merge sorts; a sort under it means a pool's rows were all read to find the first 50.
        "sorts_a_pool": "Sort Method" in plan_text,
        "text": plan_text,
    }


async def bench_http(database_url: str, state_dir: Path, requests: int) -> dict:
    import httpx

    from services.notifications.main import NotificationsConfig
    from services.notifications.main import build_spec
    from tovholder.auth import issue_dev_token
    from tovholder.service import create_service

    settings = Settings(service="notifications", environment="test", database_url=database_url, state_dir=state_dir,
                        kafka_bootstrap="127.0.0.1:1", log_format="text", log_level="ERROR")
    app = create_service(build_spec(NotificationsConfig(sweep_interval_s=3600, delivery_poll_interval_s=3600)), settings)
    latencies = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
        # Every role's queue: the owners in the data (nurse-0,3,6…, koord-1,4,7…, visit-2,5,8…).
        tokens = [issue_dev_token(settings, role=role, sub=f"{prefix}{n}", botilbud=BOTILBUD[n % 6])
                  for offset, (prefix, role) in enumerate((("nurse-", "nurse-consultant"), ("koord-", "coordinator"),
                                                           ("visit-", "visitation")))
                  for n in range(offset, 300, 3)]
        for i in range(requests):
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            started = time.perf_counter()
            response = await client.get("/api/v1/work-queue", headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    await asyncio.sleep(0.2)  # let the last request's unit of work close before the pool goes away
    await app.state.ctx.engine.dispose()
    await app.state.ctx.producer.stop()  # never started (no lifespan here); closes it quietly
    return summary(latencies)


async def main_async(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pgdata", log_file=Path(tmp) / "postgres.log")
        pg.start()
        try:
            pg.ensure_database("notifications_bench")
            url = pg.url("notifications_bench")
            upgrade("notifications", url)
            settings = Settings(service="notifications", database_url=url, database_pool_size=args.concurrency + 2)
            engine = create_engine(settings)
            sessions = session_factory(engine)

            print(f"1. task creation from {args.events} hospital notices (concurrency {args.concurrency}) …", flush=True)
            creation = await bench_task_creation(sessions, args.events, args.concurrency)
            print(f"   {creation['tasks_per_s']} tasks/s, p99 {creation['latency']['p99_ms']} ms per event", flush=True)

            print(f"2. loading {args.tasks:,} tasks …", flush=True)
            load_s = await load_tasks(engine, args.tasks)
            async with engine.connect() as conn:
                total = (await conn.execute(text("SELECT count(*) FROM task"))).scalar_one()
                active = (await conn.execute(text("SELECT count(*) FROM task WHERE status IN ('open','claimed','in_progress')"))).scalar_one()
                size = (await conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('task'))"))).scalar_one()
            print(f"   {total:,} tasks ({active:,} active, {size}) in {load_s:.0f} s; querying …", flush=True)
            queue = await bench_queue(sessions, args.queries)
            http = await bench_http(url, Path(tmp) / "state", args.http_requests)
            await engine.dispose()
        finally:
            pg.stop()
    return {
        "benchmark": "notifications",
        "at": datetime.now(timezone.utc).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "task_creation": creation,
        "work_queue": {"tasks": total, "active_tasks": active, "table_size": size, "load_seconds": round(load_s, 1),
                       "queries_per_case": args.queries, "query": queue, "http_get_work_queue": http},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--http-requests", type=int, default=300)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "notifications_bench.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    q = result["work_queue"]["query"]
    print()
    print(f"{'measure':44} {'value':>12}")
    print(f"{'task creation from events (tasks/s)':44} {result['task_creation']['tasks_per_s']:>12}")
    print(f"{'  per event p50 / p99 (ms)':44} {result['task_creation']['latency']['p50_ms']:>6} / {result['task_creation']['latency']['p99_ms']}")
    print(f"work queue at {result['work_queue']['tasks']:,} tasks ({result['work_queue']['active_tasks']:,} active):")
    for case in ("first_page", "deep_page", "filtered_kind", "overdue", "due_before"):
        print(f"{'  query ' + case + ' p50 / p99 (ms)':44} {q[case]['p50_ms']:>6} / {q[case]['p99_ms']}")
    print(f"{'  plan: queue indexes used / seq scan / a pool sorted':44} {q['plan']['uses_queue_indexes']!s:>6} / {q['plan']['seq_scan']} / {q['plan']['sorts_a_pool']}")
    http = result["work_queue"]["http_get_work_queue"]
    print(f"{'  GET /api/v1/work-queue p50 / p99 (ms)':44} {http['p50_ms']:>6} / {http['p99_ms']}")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
