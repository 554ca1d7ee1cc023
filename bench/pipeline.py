"""Pipeline benchmark: N partner referrals through the thin flow, measured against the raw broker
and the raw database on the same machine in the same run.

    python bench/pipeline.py [--referrals 300] [--concurrency 16] [--broker tansu|kafka|both]

Runs on each broker asked for (default: both where Java 17+ is here, else Tansu). Prints a table
and writes bench/results/pipeline.json, one section per broker:
- receipts/s and receipt latency for POST /integration/v1/referrals;
- POST decision → task in the coordinators' work queue: latency p50/p95/p99 and end-to-end events/s
  (every event the flow publishes, across the four services), in a burst and paced (no queueing);
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

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.topics import SERVICES  # noqa: E402
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

    async with httpx.AsyncClient(base_url=stack.url("referrals"), timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as http:
        async def refer(i: int) -> None:
            i += first_citizen  # every phase refers citizens of its own
            body = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                    "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
                    "cpr": f"{(i % 28) + 1:02d}{(i // 28) % 12 + 1:02d}80{i % 4000:04d}",
                    "citizen_name": f"Bench Borger {i}", "reason": "benchmark", "requested_step": 7}
            async with gate:
                t0 = time.perf_counter()
                response = await http.post("/integration/v1/referrals", json=body, headers=partner)
                receipt_latency.append(time.perf_counter() - t0)
            assert response.status_code == 202, response.text
            referral_ids.append(response.json()["referral_id"])

        started = time.perf_counter()
        await asyncio.gather(*(refer(i) for i in range(n)))
        intake_s = time.perf_counter() - started

        posted_at: dict[str, float] = {}

        async def grant(referral_id: str) -> None:
            async with gate:
                screened = await http.post(f"/api/v1/referrals/{referral_id}/screening", headers=visitation)
                assert screened.status_code == 200, screened.text
                assessed = await http.put(f"/api/v1/referrals/{referral_id}/assessment", headers=visitation,
                                          json={"scores": {"egenomsorg": 3}, "wishes": "Ro og egen lejlighed"})
                assert assessed.status_code == 200, assessed.text
                posted_at[referral_id] = time.time()
                response = await http.post(f"/api/v1/referrals/{referral_id}/decision", headers=visitation,
                                           json={"decision": "granted", "legal_basis": "SEL §108", "offer_id": "tangkaer",
                                                 "reason": "Behov for længerevarende botilbud"})
            assert response.status_code == 200, response.text

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
    }


def brokers_asked(choice: str) -> list[str]:
    from tovholder.apache_kafka import kafka_available

    if choice == "both":
        return ["tansu", "kafka"] if kafka_available() else ["tansu"]
    return [choice]


async def run(args: argparse.Namespace, broker: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        stack = LocalStack(state_dir=Path(tmp), ports={s: free_port() for s in SERVICES}, broker=broker,
                           kafka_port=free_port(), env={"TOVHOLDER_LOG_LEVEL": "WARNING", "TOVHOLDER_ENVIRONMENT": "test"})
        await asyncio.to_thread(stack.start)
        try:
            raw_k = await raw_kafka(stack.kafka.bootstrap, args.raw_messages, idempotent=broker == "kafka")
            raw_pg = await raw_postgres(stack.pg.url("postgres", driver="postgresql"), args.raw_transactions)
            flow = await pipeline(stack, args.referrals, args.concurrency)
            paced = await pipeline(stack, args.paced, 1, pace_per_s=args.pace, first_citizen=args.referrals)
        finally:
            await asyncio.to_thread(stack.stop)
    return {"broker": broker, "pipeline": flow, "pipeline_paced": paced, "raw_kafka": raw_k, "raw_postgres": raw_pg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--paced", type=int, default=40, help="referrals in the paced phase")
    parser.add_argument("--pace", type=float, default=4.0, help="decisions per second in the paced phase")
    parser.add_argument("--raw-messages", type=int, default=5000)
    parser.add_argument("--raw-transactions", type=int, default=2000)
    parser.add_argument("--broker", choices=("tansu", "kafka", "both"), default="both")
    args = parser.parse_args()
    results = {}
    for broker in brokers_asked(args.broker):
        result = results[broker] = asyncio.run(run(args, broker))
        report(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "pipeline.json"
    out.write_text(json.dumps({"when": datetime.now(timezone.utc).isoformat(),
                               "machine": {"cpus": __import__("os").cpu_count()}, "brokers": results}, indent=2))
    print(f"wrote {out}")


def report(result: dict) -> None:
    name = {"tansu": "Tansu", "kafka": "Apache Kafka"}[result["broker"]]
    flow, k, pg = result["pipeline"], result["raw_kafka"], result["raw_postgres"]
    paced = result["pipeline_paced"]["decision_to_task"]
    print(f"== on {name}")
    print(f"pipeline, burst ({flow['referrals']} referrals, concurrency {flow['concurrency']})")
    print(f"  intake            {flow['intake']['receipts_per_s']:>8} receipts/s   p50 {flow['intake']['p50_ms']} ms  p99 {flow['intake']['p99_ms']} ms")
    d = flow["decision_to_task"]
    print(f"  decision → task   p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  p99 {d['p99_ms']} ms")
    print(f"  events            {flow['events_per_s']:>8} events/s ({flow['events_published_during_flow']} events)"
          f" = {100 * flow['events_per_s'] / pg['transactions_per_s']:.1f} % of raw PostgreSQL commits")
    print(f"pipeline, paced ({result['pipeline_paced']['referrals']} decisions at {result['pipeline_paced']['paced_per_s']}/s)")
    print(f"  decision → task   p50 {paced['p50_ms']} ms  p95 {paced['p95_ms']} ms  p99 {paced['p99_ms']} ms")
    print(f"raw Kafka ({name}) {k['messages_per_s']:>8} msgs/s      p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms (produce→consume)")
    print(f"raw PostgreSQL      {pg['transactions_per_s']:>8} tx/s (single-row insert + commit)")


if __name__ == "__main__":
    main()
