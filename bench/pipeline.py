"""Pipeline benchmark: N partner referrals through the thin flow, measured against the raw broker
and the raw database on the same machine in the same run.

    python bench/pipeline.py [--referrals 300] [--concurrency 16] [--broker tansu|kafka|both]

Runs on each broker asked for (default: both where Java 17+ is here, else Tansu). Prints a table
and writes bench/results/pipeline.json, one section per broker:
- receipts/s and receipt latency for POST /integration/v1/referrals;
- POST decision → task in the coordinators' work queue: latency p50/p95/p99 and end-to-end events/s
  (every event the flow publishes, across the four services), in a burst and paced (no queueing);
- the bus alone: N granted decisions (with their citizens) committed to referrals' outbox at once, as a
  burst of decisions leaves them, and the time until every consequence is stored downstream (plans
  opened, tasks created, health following): events consumed/s and published/s across the services —
  the relay, the batch consumers and the handlers without the HTTP intake in front;
- raw aiokafka produce→consume throughput and latency on the same broker (acks=all, one consumer group;
  the idempotent producer on Apache Kafka, as the relay uses it);
- raw PostgreSQL single-row insert+commit transactions/s on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.topics import SERVICES  # noqa: E402
from loadgen import LoadClient  # noqa: E402
from tovholder.auth import issue_dev_token  # noqa: E402
from tovholder.infra import free_port  # noqa: E402
from tovholder.launcher import LocalStack  # noqa: E402
from tovholder.settings import Settings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 50) * 1000, 1), "p95_ms": round(pct(values, 95) * 1000, 1),
            "p99_ms": round(pct(values, 99) * 1000, 1), "mean_ms": round(statistics.fmean(values) * 1000, 1)}


async def raw_kafka(bootstrap: str, n: int, *, idempotent: bool = False) -> dict:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench-raw-{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest",
                                session_timeout_ms=3000, heartbeat_interval_ms=500, enable_auto_commit=False)
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, linger_ms=2)
    await producer.start()
    latencies: list[float] = []
    body = json.dumps({"citizen_id": str(uuid.uuid4()), "pad": "x" * 300}).encode()

    async def consume() -> None:
        while len(latencies) < n:
            batch = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    latencies.append(now - float(dict(r.headers)["t"].decode()))
            await consumer.commit()

    consuming = asyncio.create_task(consume())
    started = time.perf_counter()
    for i in range(n):
        await producer.send(topic, value=body, key=str(i % 50).encode(), headers=[("t", str(time.perf_counter()).encode())])
    await producer.flush()
    await asyncio.wait_for(consuming, 120)
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return {"messages": n, "messages_per_s": round(n / elapsed, 1), **summary_ms(latencies)}


async def raw_postgres(dsn: str, n: int) -> dict:
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id uuid primary key, body jsonb, at timestamptz default now())")
    started = time.perf_counter()
    for _ in range(n):
        async with conn.transaction():
            await conn.execute("INSERT INTO bench_raw (id, body) VALUES ($1, $2)", uuid.uuid4(), '{"k": 1}')
    elapsed = time.perf_counter() - started
    await conn.execute("DROP TABLE bench_raw")
    await conn.close()
    return {"transactions": n, "transactions_per_s": round(n / elapsed, 1)}


async def pipeline(stack: LocalStack, n: int, concurrency: int, *, pace_per_s: float | None = None,
                   first_citizen: int = 0) -> dict:
    """Burst (``concurrency`` requests in flight) or paced (``pace_per_s`` decisions a second, one at a
    time), so the numbers show both throughput and the latency of one decision without a queue."""
    settings = Settings(state_dir=stack.state_dir)
    partner = {"Authorization": "Bearer " + issue_dev_token(settings, role="partner", sub="bench", org="SOR:1234567")}
    visitation = {"Authorization": "Bearer " + issue_dev_token(settings, role="visitation", sub="visitation-1")}
    dsn = {s: stack.database_url(s).replace("+asyncpg", "") for s in SERVICES}

    # A roomy offer, so the benchmark measures the pipe and not the capacity rule.
    ref = await asyncpg.connect(dsn["referrals"])
    await ref.execute("UPDATE offer SET approved_places = approved_places + $1 WHERE id = 'tangkaer'", n)
    await ref.close()

    gate = asyncio.Semaphore(concurrency)
    receipt_latency: list[float] = []
    referral_ids: list[str] = []

    cpu_before = cpu_seconds(stack)
    async with LoadClient(stack.url("referrals"), connections=concurrency) as http:
        async def refer(i: int) -> None:
            i += first_citizen  # every phase refers citizens of its own
            body = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                    "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
                    "cpr": f"{(i % 28) + 1:02d}{(i // 28) % 12 + 1:02d}80{i % 4000:04d}",
                    "citizen_name": f"Bench Borger {i}", "reason": "benchmark", "requested_step": 7}
            async with gate:
                t0 = time.perf_counter()
                status, answer = await http.post_json("/integration/v1/referrals", body, partner)
                receipt_latency.append(time.perf_counter() - t0)
            assert status == 202, answer
            referral_ids.append(json.loads(answer)["referral_id"])

        started = intake_started = time.perf_counter()
        await asyncio.gather(*(refer(i) for i in range(n)))
        intake_s = time.perf_counter() - started

        posted_at: dict[str, float] = {}

        async def grant(referral_id: str) -> None:
            async with gate:
                status, answer = await http.send("POST", f"/api/v1/referrals/{referral_id}/screening", visitation)
                assert status == 200, answer
                status, answer = await http.send("PUT", f"/api/v1/referrals/{referral_id}/assessment", visitation,
                                                 {"scores": {"egenomsorg": 3}, "wishes": "Ro og egen lejlighed"})
                assert status == 200, answer
                posted_at[referral_id] = time.time()
                status, answer = await http.send("POST", f"/api/v1/referrals/{referral_id}/decision", visitation,
                                                 {"decision": "granted", "legal_basis": "SEL §108", "offer_id": "tangkaer",
                                                  "reason": "Behov for længerevarende botilbud"})
            assert status == 200, answer

        window_start = datetime.now(timezone.utc)
        started = time.perf_counter()
        if pace_per_s:
            for referral_id in referral_ids:
                tick = time.perf_counter()
                await grant(referral_id)
                await asyncio.sleep(max(0.0, 1 / pace_per_s - (time.perf_counter() - tick)))
        else:
            await asyncio.gather(*(grant(r) for r in referral_ids))

    # Correlate by citizen: each benchmark referral is a new citizen with one first-network-meeting task.
    ref = await asyncpg.connect(dsn["referrals"])
    citizen_of = {str(r["id"]): r["citizen_id"] for r in await ref.fetch(
        "SELECT id, citizen_id FROM referral WHERE id = ANY($1::uuid[])", referral_ids)}
    await ref.close()
    notifications = await asyncpg.connect(dsn["notifications"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = await notifications.fetch(
            "SELECT citizen_id, min(created_at) AS created_at FROM task "
            "WHERE kind = 'first-network-meeting' AND citizen_id = ANY($1::uuid[]) GROUP BY citizen_id",
            list(citizen_of.values()))
        task_at = {r["citizen_id"]: r["created_at"].timestamp() for r in rows}
        done = {rid: task_at[c] for rid, c in citizen_of.items() if c in task_at}
        if len(done) == n:
            break
        await asyncio.sleep(0.05)
    await notifications.close()
    pipeline_s = time.perf_counter() - started
    if len(done) < n:
        raise SystemExit(f"only {len(done)} of {n} tasks appeared within 120 s")
    latencies = [done[r] - posted_at[r] for r in referral_ids]
    cpu = cpu_per_unit(cpu_before, cpu_seconds(stack), n, time.perf_counter() - intake_started)

    published = 0
    for service in SERVICES:
        conn = await asyncpg.connect(dsn[service])
        published += await conn.fetchval("SELECT count(*) FROM outbox WHERE created_at >= $1", window_start)
        await conn.close()
    return {
        "referrals": n, "concurrency": 1 if pace_per_s else concurrency, "paced_per_s": pace_per_s,
        "intake": {"receipts_per_s": round(n / intake_s, 1), **summary_ms(receipt_latency)},
        "decision_to_task": {"tasks": n, **summary_ms(latencies)},
        "events_published_during_flow": published,
        "events_per_s": round(published / pipeline_s, 1),
        "cpu": cpu,  # per referral, intake to task: four requests, their events and the tasks
    }


async def bus(stack: LocalStack, n: int, *, chunk: int = 500) -> dict:
    """Commit ``n`` CitizenRegistered + VisitationDecided(granted) pairs to referrals' outbox through the
    kit's unit of work (what ``n`` decisions leave behind), then wait for every downstream effect."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from contracts.referrals import CitizenRegisteredV1, VisitationDecidedV1
    from tovholder.uow import UnitOfWork

    dsn = {s: stack.database_url(s).replace("+asyncpg", "") for s in SERVICES}
    admin = await asyncpg.connect(stack.pg.url("postgres", driver="postgresql"))
    await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    # The bench watches the effects as its own role, so its polling never counts as a service's
    # statements (it once made plans look like 8 ms of PostgreSQL per event).
    await admin.execute("DO $$ BEGIN CREATE ROLE bench_probe LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    await admin.execute("GRANT pg_read_all_data TO bench_probe")
    await admin.execute("SELECT pg_stat_statements_reset()")
    engine = create_async_engine(stack.database_url("referrals"))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    citizens = [uuid.uuid4() for _ in range(n)]
    window_start = datetime.now(timezone.utc)
    started = time.perf_counter()
    for first in range(0, n, chunk):
        async with UnitOfWork(sessions, service="referrals") as uow:
            for citizen_id in citizens[first:first + chunk]:
                uow.emit(CitizenRegisteredV1(citizen_id=citizen_id, cpr_hash=uuid.uuid4().hex,
                                             citizen_name="Bus Borger", municipality="København"))
                uow.emit(VisitationDecidedV1(
                    citizen_id=citizen_id, referral_id=uuid.uuid4(), decision="granted",
                    decided_at=datetime.now(timezone.utc), decided_by="visitation-1", legal_basis="SEL §108",
                    step=7, offer_id="tangkaer", botilbud_id="tangkaer"))
            await uow.commit()
    committed_s = time.perf_counter() - started
    await engine.dispose()

    plans = await asyncpg.connect(dsn["plans"].replace("postgres@", "bench_probe@", 1))
    notifications = await asyncpg.connect(dsn["notifications"].replace("postgres@", "bench_probe@", 1))
    deadline = time.monotonic() + 300
    tasks = opened = 0
    while time.monotonic() < deadline:
        tasks = await notifications.fetchval(
            "SELECT count(DISTINCT citizen_id) FROM task WHERE kind = 'first-network-meeting' "
            "AND citizen_id = ANY($1::uuid[])", citizens)
        opened = await plans.fetchval("SELECT count(*) FROM plan WHERE citizen_id = ANY($1::uuid[])", citizens)
        if tasks == n and opened == n:
            break
        # Each look is two index scans of n ids on the same 2 cores: often enough to time the end
        # within 0.2 s, rarely enough not to slow what it measures.
        await asyncio.sleep(0.2)
    await plans.close()
    await notifications.close()
    elapsed = time.perf_counter() - started
    if tasks < n or opened < n:
        raise SystemExit(f"bus: only {tasks} tasks and {opened} plans of {n} within 300 s")
    consumed = published = 0
    per_service: dict[str, dict[str, float]] = {}
    statements = {r["datname"]: r for r in await admin.fetch(
        "SELECT d.datname, sum(s.calls)::bigint AS calls, sum(s.total_exec_time) AS exec_ms "
        "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE s.userid <> 'bench_probe'::regrole GROUP BY d.datname")}
    # Where each database's time went: its three costliest statements (the query text, never values).
    heaviest: dict[str, list[dict[str, Any]]] = {}
    for r in await admin.fetch(
            "SELECT datname, calls, exec_ms, query FROM (SELECT d.datname, s.calls, s.total_exec_time AS exec_ms, "
            "s.query, row_number() OVER (PARTITION BY d.datname ORDER BY s.total_exec_time DESC) AS rank "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE s.userid <> 'bench_probe'::regrole) t "
            "WHERE rank <= 3 ORDER BY datname, rank"):
        heaviest.setdefault(r["datname"], []).append(
            {"calls": int(r["calls"]), "exec_ms": round(float(r["exec_ms"]), 1), "query": " ".join(r["query"].split())[:240]})
    await admin.close()
    for service in SERVICES:
        conn = await asyncpg.connect(dsn[service])
        out = await conn.fetchval("SELECT count(*) FROM outbox WHERE created_at >= $1", window_start)
        handled = await conn.fetchval("SELECT count(*) FROM inbox WHERE processed_at >= $1", window_start)
        database = await conn.fetchval("SELECT current_database()")
        await conn.close()
        published += out
        consumed += handled
        row = statements.get(database)
        calls = int(row["calls"]) if row else 0
        # The bound of a consumer: SQL statements (each one a round trip) per event it handled.
        per_service[service] = {"events_handled": handled, "events_published": out, "sql_statements": calls,
                                "statements_per_event": round(calls / handled, 1) if handled else None,
                                "db_exec_ms_per_event": round(float(row["exec_ms"]) / handled, 2) if handled and row else None,
                                "heaviest_statements": heaviest.get(database, [])}
    return {"decisions": n, "events_published": published, "events_consumed": consumed, "per_service": per_service,
            "seconds": round(elapsed, 2), "outbox_commit_s": round(committed_s, 2),
            "published_per_s": round(published / elapsed, 1), "consumed_per_s": round(consumed / elapsed, 1),
            "decisions_per_s": round(n / elapsed, 1)}


def brokers_asked(choice: str) -> list[str]:
    from tovholder.apache_kafka import kafka_available

    if choice == "both":
        return ["tansu", "kafka"] if kafka_available() else ["tansu"]
    return [choice]


async def run(args: argparse.Namespace, broker: str) -> dict:
    phases = set(args.phases.split(","))
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        env = {"TOVHOLDER_LOG_LEVEL": "WARNING", "TOVHOLDER_ENVIRONMENT": "test"}
        profile_dir = RESULTS / f"profile-{broker}"
        if args.profile:
            profile_dir.mkdir(parents=True, exist_ok=True)
            env["TOVHOLDER_PROFILE_DIR"] = str(profile_dir)
        stack = LocalStack(state_dir=Path(tmp), ports={s: free_port() for s in SERVICES}, broker=broker,
                           kafka_port=free_port(), env=env)
        await asyncio.to_thread(stack.start)
        try:
            raw_k = await raw_kafka(stack.kafka.bootstrap, args.raw_messages, idempotent=broker == "kafka")
            raw_pg = await raw_postgres(stack.pg.url("postgres", driver="postgresql"), args.raw_transactions)
            flow = await pipeline(stack, args.referrals, args.concurrency) if "burst" in phases else None
            paced = await pipeline(stack, args.paced, 1, pace_per_s=args.pace, first_citizen=args.referrals) \
                if "paced" in phases else None
            on_the_bus = await bus(stack, args.bus) if "bus" in phases and args.bus else None
            rss = service_rss_mb(stack)
        finally:
            await asyncio.to_thread(stack.stop)
    if args.profile:
        print_profiles(profile_dir)
    return {"broker": broker, "pipeline": flow, "pipeline_paced": paced, "bus": on_the_bus, "rss_mb": rss,
            "raw_kafka": raw_k, "raw_postgres": raw_pg}


def service_rss_mb(stack: LocalStack) -> dict[str, dict[str, float]]:
    """Each service's resident memory now and at its peak (VmHWM), after the load (Linux /proc)."""
    out: dict[str, dict[str, float]] = {}
    for service, proc in stack.procs.items():
        fields: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            continue
        out[service] = {"rss_mb": fields.get("VmRSS", float("nan")), "peak_mb": fields.get("VmHWM", float("nan"))}
    return out


def cpu_seconds(stack: LocalStack) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each part of the stack, each with its child processes
    (PostgreSQL's backends, the broker's JVM), and by this bench process (the load generator): two
    readings around a phase divided by its count say what one unit of work costs where. On a 2-core
    machine the sum is the throughput bound no tuning of one part can pass."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid … utime stime
        parent[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    roots = {service: proc.pid for service, proc in stack.procs.items()}
    if stack.pg.process is not None:
        roots["postgres"] = stack.pg.process.pid
    broker = getattr(stack.kafka, "process", None)
    if broker is not None:
        roots["broker"] = broker.pid
    part_of_root = {pid: name for name, pid in roots.items()}
    totals = {name: 0.0 for name in roots}
    for pid, seconds in used.items():
        ancestor, hops = pid, 0
        while ancestor > 1 and ancestor not in part_of_root and hops < 64:
            ancestor, hops = parent.get(ancestor, 0), hops + 1
        if ancestor in part_of_root:
            totals[part_of_root[ancestor]] += seconds
    totals["bench client"] = time.process_time()
    # The whole machine too (/proc/stat: everything but idle and I/O wait), kernel work on the loopback
    # network included, which belongs to no process: it tells whether the cores are used up.
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    totals[MACHINE] = (sum(fields[:8]) - fields[3] - fields[4]) / tick
    return totals


MACHINE = "whole machine"


def cpu_per_unit(before: dict[str, float], after: dict[str, float], units: int, elapsed_s: float) -> dict[str, Any]:
    """Milliseconds of CPU per unit of work, per part, and the rate the machine's cores would allow."""
    import os

    parts = [name for name in after if name != MACHINE]
    per_unit = {name: round((after.get(name, 0.0) - before.get(name, 0.0)) / units * 1000, 2) for name in parts}
    total_ms = sum(per_unit.values())
    cores = os.cpu_count() or 1
    busy = sum(after.get(n, 0.0) - before.get(n, 0.0) for n in parts) / elapsed_s if elapsed_s > 0 else float("nan")
    machine = (after.get(MACHINE, 0.0) - before.get(MACHINE, 0.0)) / elapsed_s if elapsed_s > 0 else float("nan")
    return {"ms_per_unit": per_unit, "total_ms": round(total_ms, 2), "cores": cores,
            "cores_busy": round(busy, 2), "machine_cores_busy": round(machine, 2),
            "cpu_bound_per_s": round(cores * 1000 / total_ms, 1) if total_ms else None}


def cpu_line(cpu: dict[str, Any], unit: str) -> str:
    parts = "  ".join(f"{name} {ms}" for name, ms in sorted(cpu["ms_per_unit"].items(), key=lambda kv: -kv[1]))
    return (f"  CPU ms per {unit}: {parts}  = {cpu['total_ms']} ms; these parts kept {cpu['cores_busy']} of"
            f" {cpu['cores']} cores busy, the whole machine {cpu.get('machine_cores_busy')}; bound"
            f" {cpu['cpu_bound_per_s']} {unit}s/s")


def print_profiles(profile_dir: Path, top: int = 12) -> None:
    """Where each service spent its CPU (cProfile on process time), own time first."""
    import pstats

    for path in sorted(profile_dir.glob("*.prof")):
        stats = pstats.Stats(str(path))
        total = stats.total_tt  # type: ignore[attr-defined]
        print(f"-- {path.stem}: {total:.1f} s CPU in the event-loop thread; own time by function")
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
        for (filename, line, name), (_, calls, own, cumulative, _) in rows:
            where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
            print(f"   {100 * own / total:5.1f} %  {calls:>8} calls  {name} ({where}:{line})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--paced", type=int, default=40, help="referrals in the paced phase")
    parser.add_argument("--pace", type=float, default=4.0, help="decisions per second in the paced phase")
    parser.add_argument("--phases", default="burst,paced,bus", help="comma-separated: burst, paced, bus")
    parser.add_argument("--profile", action="store_true",
                        help="profile every service's CPU time (cProfile) and print where it went")
    parser.add_argument("--bus", type=int, default=2000, help="decisions in the bus phase (0: skip)")
    parser.add_argument("--raw-messages", type=int, default=5000)
    parser.add_argument("--raw-transactions", type=int, default=2000)
    parser.add_argument("--broker", choices=("tansu", "kafka", "both"), default="both")
    args = parser.parse_args()
    results = {}
    for broker in brokers_asked(args.broker):
        result = results[broker] = asyncio.run(run(args, broker))
        report(result)
    RESULTS.mkdir(exist_ok=True)
    # A partial or profiled run never overwrites the full figures.
    full = args.phases == "burst,paced,bus" and not args.profile
    out = RESULTS / ("pipeline.json" if full else f"pipeline-{args.phases.replace(',', '-')}.json")
    out.write_text(json.dumps({"when": datetime.now(timezone.utc).isoformat(),
                               "machine": {"cpus": __import__("os").cpu_count()}, "brokers": results}, indent=2))
    print(f"wrote {out}")


def report(result: dict) -> None:
    name = {"tansu": "Tansu", "kafka": "Apache Kafka"}[result["broker"]]
    flow, k, pg = result["pipeline"], result["raw_kafka"], result["raw_postgres"]
    print(f"== on {name}")
    if flow:
        report_http(flow, pg)
    if result["pipeline_paced"]:
        paced = result["pipeline_paced"]["decision_to_task"]
        print(f"pipeline, paced ({result['pipeline_paced']['referrals']} decisions at {result['pipeline_paced']['paced_per_s']}/s)")
        print(f"  decision → task   p50 {paced['p50_ms']} ms  p95 {paced['p95_ms']} ms  p99 {paced['p99_ms']} ms")
    if result.get("bus"):
        b = result["bus"]
        print(f"bus alone ({b['decisions']} decisions committed to the outbox at once)")
        print(f"  consumed          {b['consumed_per_s']:>8} events/s ({b['events_consumed']} events handled)"
              f" = {100 * b['consumed_per_s'] / pg['transactions_per_s']:.1f} % of raw PostgreSQL commits")
        print(f"  published         {b['published_per_s']:>8} events/s ({b['events_published']} events)"
              f"   all effects stored after {b['seconds']} s")
        for service, figures in b["per_service"].items():
            print(f"  {service:<14} {figures['events_handled']:>6} handled  {figures['statements_per_event']} SQL statements"
                  f" and {figures['db_exec_ms_per_event']} ms in PostgreSQL per event handled")
            for statement in figures.get("heaviest_statements", [])[:3]:
                print(f"      {statement['exec_ms']:>9.1f} ms in {statement['calls']:>6} calls: {statement['query'][:110]}")
    for service, mem in (result.get("rss_mb") or {}).items():
        print(f"memory {service:<14} {mem['rss_mb']:>6} MB now, peak {mem['peak_mb']} MB")
    print(f"raw Kafka ({name}) {k['messages_per_s']:>8} msgs/s      p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms (produce→consume)")
    print(f"raw PostgreSQL      {pg['transactions_per_s']:>8} tx/s (single-row insert + commit)")


def report_http(flow: dict, pg: dict) -> None:
    print(f"pipeline, burst ({flow['referrals']} referrals, concurrency {flow['concurrency']})")
    print(f"  intake            {flow['intake']['receipts_per_s']:>8} receipts/s   p50 {flow['intake']['p50_ms']} ms  p99 {flow['intake']['p99_ms']} ms")
    d = flow["decision_to_task"]
    print(f"  decision → task   p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  p99 {d['p99_ms']} ms")
    print(f"  events            {flow['events_per_s']:>8} events/s ({flow['events_published_during_flow']} events)"
          f" = {100 * flow['events_per_s'] / pg['transactions_per_s']:.1f} % of raw PostgreSQL commits")
    if flow.get("cpu"):
        print(cpu_line(flow["cpu"], "referral"))


if __name__ == "__main__":
    main()
