"""Health benchmark: hospital notices through the real system (four services as processes on real
PostgreSQL and a broker, demo data loaded), next to the raw broker and raw PostgreSQL of the same run.

    python bench/health_bench.py [--notices 1000] [--concurrency 32] [--paced 60] [--rate 5] [--broker both]
                                 [--health-replicas 1]

Each notice is an admission (STIN, its own hospital episode) for a demo citizen with a tovholder, so
each one should become an "accompany/visit" task in the tovholder's work queue. Measures:
- notices/s and receipt latency for POST /integration/v1/hospital-notifications;
- notice → task latency (POST sent → task row created in notifications), p50/p95/p99;
- notice → event latency (POST sent → event published by health's outbox relay).
First as a burst (``--concurrency`` at a time: throughput, latency under queueing), then one by one
at ``--rate`` per second (latency without queueing). On each broker asked for (default: Tansu, and
Apache Kafka where Java 17+ is here). With ``--health-replicas 2``, two health processes share the
partners' load as two pods behind a load balancer would (one relay publishes, the consumers share the
group). The CPU each part spends per notice says what bounds the burst. Prints the numbers and writes
bench/results/health.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.topics import SERVICES  # noqa: E402
from tovholder.auth import issue_dev_token  # noqa: E402
from tovholder.demo import demo_data  # noqa: E402
from tovholder.infra import free_port  # noqa: E402
from tovholder.launcher import LocalStack  # noqa: E402
from tovholder.settings import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import LoadClient  # noqa: E402
from pipeline import brokers_asked, cpu_line, cpu_per_unit, cpu_seconds, raw_kafka, raw_postgres  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PARTNER_ORG = "SOR:1234567"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 50) * 1000, 1), "p95_ms": round(pct(values, 95) * 1000, 1),
            "p99_ms": round(pct(values, 99) * 1000, 1), "mean_ms": round(statistics.fmean(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


async def run_notices(stack: LocalStack, n: int, concurrency: int, rate: float | None = None) -> dict:
    """Send ``n`` admissions, ``concurrency`` at a time (a burst), or one by one at ``rate`` per second."""
    settings = Settings(state_dir=stack.state_dir)
    partner = {"Authorization": "Bearer " + issue_dev_token(settings, role="partner", sub="bench-epj", org=PARTNER_ORG)}
    citizens = [c for c in demo_data()["citizens"] if c.get("tovholder_sub")]
    dsn = {s: stack.database_url(s).replace("+asyncpg", "") for s in ("health", "notifications")}

    run_tag = f"BENCH-{uuid.uuid4().hex[:6]}"  # this run's notices only (not the warm-up's)
    admin = await asyncpg.connect(stack.pg.url("postgres", driver="postgresql"))
    await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    await admin.execute("SELECT pg_stat_statements_reset()")
    gate = asyncio.Semaphore(concurrency)
    sent_at: dict[str, float] = {}  # message_id → wall clock when the POST was sent
    receipt_latency: list[float] = []

    # Each health replica its share of the partners' connections, in turn (a load balancer's round robin).
    replicas = [stack.url(name) for name in stack.procs if name.partition("#")[0] == "health"]
    clients = [LoadClient(url, connections=max(1, concurrency // len(replicas))) for url in replicas]
    async with contextlib.AsyncExitStack() as open_clients:
        for client in clients:
            await open_clients.enter_async_context(client)

        async def send(i: int) -> None:
            http = clients[i % len(clients)]
            citizen = citizens[i % len(citizens)]
            occurred = datetime.now(timezone.utc) - timedelta(minutes=5)
            body = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                    "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": "STIN",
                    "cpr": citizen["cpr"], "hospital_episode_id": f"{run_tag}-{i}",
                    "department": "Afsnit P2", "occurred_at": occurred.isoformat(), "replaces_message_id": None}
            async with gate:
                sent_at[body["message_id"]] = time.time()
                t0 = time.perf_counter()
                status, answer = await http.post_json("/integration/v1/hospital-notifications", body, partner)
                receipt_latency.append(time.perf_counter() - t0)
            if status != 202:
                raise SystemExit(f"notice {i} refused: {status} {answer.decode(errors='replace')}")

        cpu_before = cpu_seconds(stack)
        started = time.perf_counter()
        if rate:
            for i in range(n):
                await send(i)
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
        else:
            await asyncio.gather(*(send(i) for i in range(n)))
        intake_s = time.perf_counter() - started

    health_db = await asyncpg.connect(dsn["health"])
    rows = await health_db.fetch("SELECT id, message_id FROM hospital_notice WHERE hospital_episode_id LIKE $1", f"{run_tag}-%")
    notice_of = {str(r["message_id"]): str(r["id"]) for r in rows}
    message_of_notice = {v: k for k, v in notice_of.items()}

    # notice → event: health's relay publishes the outbox row; published_at is when it went to Kafka.
    published: dict[str, float] = {}
    deadline = time.monotonic() + 120
    # Each poll asks only for what is new (with a margin for transactions that commit out of order), so
    # that the bench's own reading does not grow with the run and cost the database what it measures.
    seen_until = datetime.fromtimestamp(min(sent_at.values()) - 1, timezone.utc)
    while time.monotonic() < deadline and len(published) < n:
        for r in await health_db.fetch(
                "SELECT body::jsonb->>'notice_id' AS notice_id, published_at FROM outbox "
                "WHERE event_type LIKE '%hospital-notice-registered%' AND published_at >= $1", seen_until):
            if r["notice_id"] in message_of_notice:
                published[message_of_notice[r["notice_id"]]] = r["published_at"].timestamp()
            seen_until = max(seen_until, r["published_at"] - timedelta(seconds=2))
        await asyncio.sleep(0.1)
    await health_db.close()

    notifications = await asyncpg.connect(dsn["notifications"])
    created: dict[str, float] = {}
    deadline = time.monotonic() + 120
    seen_until = datetime.fromtimestamp(min(sent_at.values()) - 1, timezone.utc)
    while time.monotonic() < deadline and len(created) < n:
        for r in await notifications.fetch(
                "SELECT links, created_at FROM task WHERE kind = 'accompany-admission' AND links IS NOT NULL "
                "AND created_at >= $1", seen_until):
            for link in (json.loads(r["links"]) if isinstance(r["links"], str) else r["links"]):
                if link.startswith("hospital-notice:") and link.split(":", 1)[1] in message_of_notice:
                    created.setdefault(message_of_notice[link.split(":", 1)[1]], r["created_at"].timestamp())
            seen_until = max(seen_until, r["created_at"] - timedelta(seconds=2))
        await asyncio.sleep(0.1)
    await notifications.close()
    pipeline_s = max(created.values()) - min(sent_at.values()) if created else float("nan")
    # Until the last task (not the end of the polling): what one notice costs each part.
    cpu = cpu_per_unit(cpu_before, cpu_seconds(stack), n, time.perf_counter() - started)

    statements = await statements_per_notice(admin, n)
    await admin.close()

    to_task = [created[m] - sent_at[m] for m in created]
    to_event = [published[m] - sent_at[m] for m in published]
    return {
        "notices": n, "concurrency": 1 if rate else concurrency, "rate_per_s": rate, "citizens": len(citizens),
        "intake": {"notices_per_s": round(n / intake_s, 1), **summary_ms(receipt_latency)},
        "notice_to_event": {"events": len(to_event), **(summary_ms(to_event) if to_event else {})},
        "notice_to_task": {"tasks": len(to_task), **(summary_ms(to_task) if to_task else {}),
                           "tasks_per_s": round(len(to_task) / pipeline_s, 1) if to_task else 0.0},
        "missing_tasks": n - len(created),
        "sql_statements_per_notice": statements,
        "cpu": cpu,
    }


# The bench's own polling queries (above) are not the system's work: left out of the count.
BENCH_QUERIES = ("hospital_episode_id LIKE", "->>'notice_id' AS notice_id", "SELECT links, created_at FROM task",
                 "pg_stat_statements")


async def statements_per_notice(admin: asyncpg.Connection, n: int) -> dict[str, object]:
    """SQL statements (each one a round trip) per notice, per database: health's share is the partner's
    request plus the relay; notifications' is turning the event into a task. The top statements say where."""
    rows = await admin.fetch(
        "SELECT d.datname, s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE d.datname IN ('health', 'notifications')")
    per_db: dict[str, float] = {}
    top: list[tuple[int, str, str]] = []
    for r in rows:
        if any(q in r["query"] for q in BENCH_QUERIES):
            continue
        per_db[r["datname"]] = per_db.get(r["datname"], 0) + r["calls"]
        top.append((r["calls"], r["datname"], " ".join(r["query"].split())[:110]))
    top.sort(reverse=True)
    return {**{db: round(calls / n, 1) for db, calls in per_db.items()},
            "top": [f"{calls / n:.2f}/notice {db}: {query}" for calls, db, query in top[:40]]}


async def run(args: argparse.Namespace, broker: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="tovholder-health-bench-") as tmp:
        stack = LocalStack(state_dir=Path(tmp), ports={s: free_port() for s in SERVICES}, broker=broker,
                           kafka_port=free_port(), env={"TOVHOLDER_LOG_LEVEL": "WARNING", "TOVHOLDER_ENVIRONMENT": "test"})
        await asyncio.to_thread(stack.start)
        try:
            for _ in range(args.health_replicas - 1):
                await asyncio.to_thread(stack.start_replica, "health")
            raw_k = await raw_kafka(stack.kafka.bootstrap, args.raw_messages, idempotent=broker == "kafka")
            raw_pg = await raw_postgres(stack.pg.url("postgres", driver="postgresql"), args.raw_transactions)
            # A short warm-up so connection pools and consumer assignments are in place.
            await run_notices(stack, min(20, args.notices), args.concurrency)
            burst = await run_notices(stack, args.notices, args.concurrency)
            # Latency without queueing: a steady trickle, as hospitals really send.
            paced = await run_notices(stack, args.paced, 1, rate=args.rate)
        finally:
            await asyncio.to_thread(stack.stop)
    return {"broker": broker, "health_replicas": args.health_replicas, "health": burst, "health_paced": paced,
            "raw_kafka": raw_k, "raw_postgres": raw_pg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--paced", type=int, default=60, help="notices sent one by one after the burst")
    parser.add_argument("--rate", type=float, default=5.0, help="notices per second in the paced phase")
    parser.add_argument("--raw-messages", type=int, default=5000)
    parser.add_argument("--raw-transactions", type=int, default=2000)
    parser.add_argument("--broker", choices=("tansu", "kafka", "both"), default="both")
    parser.add_argument("--health-replicas", type=int, default=1,
                        help="health processes side by side (as pods would run), the partners' load shared in turn")
    args = parser.parse_args()
    results = {}
    for broker in brokers_asked(args.broker):
        result = results[broker] = asyncio.run(run(args, broker))
        name = {"tansu": "Tansu", "kafka": "Apache Kafka"}[broker]
        print(f"== on {name}" + (f", {args.health_replicas} health replicas" if args.health_replicas > 1 else ""))
        for label, h in (("burst", result["health"]), ("paced", result["health_paced"])):
            report(label, h)
        k, pg = result["raw_kafka"], result["raw_postgres"]
        print(f"raw Kafka ({name}) {k['messages_per_s']:>8} msgs/s   p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms (produce→consume)")
        print(f"raw PostgreSQL      {pg['transactions_per_s']:>8} tx/s (single-row insert + commit)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "health.json"
    out.write_text(json.dumps({"when": datetime.now(timezone.utc).isoformat(), "machine": {"cpus": os.cpu_count()},
                               "brokers": results}, indent=2) + "\n")
    print(f"wrote {out}")


def report(label: str, h: dict) -> None:
    how = f"{h['rate_per_s']}/s one by one" if h["rate_per_s"] else f"concurrency {h['concurrency']}"
    print(f"{label}: {h['notices']} hospital notices ({how}, {h['citizens']} citizens)")
    print(f"  intake           {h['intake']['notices_per_s']:>8} notices/s   receipt p50 {h['intake']['p50_ms']} ms"
          f"  p99 {h['intake']['p99_ms']} ms")
    e = h["notice_to_event"]
    if e.get("events"):
        print(f"  notice → event   p50 {e['p50_ms']} ms  p95 {e['p95_ms']} ms  p99 {e['p99_ms']} ms")
    t = h["notice_to_task"]
    if t.get("tasks"):
        print(f"  notice → task    p50 {t['p50_ms']} ms  p95 {t['p95_ms']} ms  p99 {t['p99_ms']} ms"
              f"  ({t['tasks']} tasks, {t['tasks_per_s']} tasks/s)")
    if h.get("cpu") and not h["rate_per_s"]:
        print(cpu_line(h["cpu"], "notice"))
    s = h.get("sql_statements_per_notice") or {}
    print(f"  SQL statements per notice: health {s.get('health')}  notifications {s.get('notifications')}")
    if os.environ.get("BENCH_TOP_STATEMENTS"):
        for line in s.get("top", []):
            print(f"    {line}")
    if h["missing_tasks"]:
        print(f"  {h['missing_tasks']} notices had no task within 120 s")


if __name__ == "__main__":
    main()
