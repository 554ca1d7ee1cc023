"""Portal benchmark: each page's server time with the demo data, and with extra tasks in the queue.

    python bench/portal_bench.py [--requests 100] [--tasks 10000]

The whole system as `tovholder up` runs it (PostgreSQL, Tansu, the four services and the portal as
real processes, demo data loaded), in a throwaway state directory. ``--tasks`` more open tasks go
into the Orion coordinators' pool (SQL, straight into notifications' database). A demo coordinator
signs in; then each page is requested ``--requests`` times, one at a time, over loopback: the front
page, Arbejdskø (first page and a filtered one), Borgere (Orion's 38 citizens), one card's badges
(plans and health; the list loads them per card as it comes into view) and one Borgeroverblik. The time is the portal's whole answer, including its calls to the
services. Prints p50/p95/p99 per page and writes bench/results/portal.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tovholder.demo import demo_data  # noqa: E402
from tovholder.infra import free_port  # noqa: E402
from tovholder.launcher import LocalStack  # noqa: E402

PROCESSES = ("referrals", "plans", "health", "notifications", "portal")


async def add_tasks(dsn: str, count: int) -> None:
    if not count:
        return
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(timezone.utc)
        rows = [(uuid.uuid4(), f"Opfølgning {n}", now + timedelta(minutes=n)) for n in range(count)]
        await conn.executemany(
            """INSERT INTO task (id, citizen_id, title, kind, status, priority, due_at, sort_at, pool_role,
               pool_botilbud, botilbud_id, source_event_id, source_event_type, links, checklist, created_at)
               VALUES ($1, NULL, $2, 'other', 'open', 'routine', $3, $3, 'coordinator', 'orion', 'orion',
               gen_random_uuid()::text, 'bench', '[]', '[]', now())""", rows)
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=10_000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="tovholder-portal-bench-"))
    stack = LocalStack(state_dir=state, ports={p: free_port() for p in PROCESSES}, pg_port=free_port(),
                       kafka_port=free_port(), say=lambda line: None)
    results: dict[str, dict[str, float]] = {}
    try:
        stack.start(ready_timeout=120)
        asyncio.run(add_tasks(stack.database_url("notifications").replace("postgresql+asyncpg", "postgresql"), args.tasks))
        base = stack.url("portal")
        with httpx.Client(base_url=base, timeout=30) as client:
            page = client.get("/logind")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            signed = client.post("/logind/demo", data={"sub": "orion-koordinator-1", "csrf": csrf, "naeste": "/"})
            cookie = signed.cookies.get("tovholder_portal")  # Secure: httpx would not send it over http itself
            citizen = next(c for c in demo_data()["citizens"] if c["botilbud"] == "orion")["citizen_id"]
            pages = {"forside": "/", "arbejdsko": "/arbejdsko", "arbejdsko-haster": "/arbejdsko?prioritet=haster",
                     "borgere": "/borgere", "borger-maerker": f"/borgere/{citizen}/maerker",
                     "borgeroverblik": f"/borgere/{citizen}"}
            for name, path in pages.items():
                timings = []
                for n in range(args.requests + 5):
                    started = time.perf_counter()
                    answer = client.get(path, headers={"cookie": f"tovholder_portal={cookie}"})
                    elapsed = (time.perf_counter() - started) * 1000
                    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                    if n >= 5:  # warm-up
                        timings.append(elapsed)
                results[name] = {"p50_ms": round(statistics.median(timings), 1),
                                 "p95_ms": round(percentile(timings, 0.95), 1),
                                 "p99_ms": round(percentile(timings, 0.99), 1)}
                print(f"{name:<18} p50 {results[name]['p50_ms']:7.1f} ms  p95 {results[name]['p95_ms']:7.1f} ms  "
                      f"p99 {results[name]['p99_ms']:7.1f} ms", flush=True)
    finally:
        stack.stop()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "portal.json").write_text(json.dumps({
        "requests_per_page": args.requests, "extra_tasks": args.tasks, "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0], "pages": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
