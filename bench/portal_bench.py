"""Portal benchmark: each page's server time with the demo data plus 100,000 cases and 1,000,000 tasks.

    python bench/portal_bench.py [--requests 100] [--tasks 1000000] [--cases 100000]

The whole system as `tovholder up` runs it (PostgreSQL, Tansu, the four services and the portal as
real processes, demo data loaded), in a throwaway state directory. ``--tasks`` open tasks go into the
Orion coordinators' pool and ``--cases`` cases into København's visitation (SQL, straight into
notifications' and referrals' databases, then ANALYZE). A demo coordinator, a visitation officer and
a nurse consultant sign in; each of their pages is requested ``--requests`` times, one at a time, over
loopback. The time is the portal's whole answer, including its calls to the services. In the same run,
the raw PostgreSQL floor: one round trip, and the work queue's own statement from a plain client (the
pages do not touch the broker, so there is no broker figure here). Prints p50/p95/p99 per page and the
pages over the issue's 300 ms p95, and writes bench/results/portal.json.
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
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tovholder.demo import demo_data  # noqa: E402
from tovholder.infra import free_port  # noqa: E402
from tovholder.launcher import LocalStack  # noqa: E402

PROCESSES = ("referrals", "plans", "health", "notifications", "portal")


async def add_tasks(dsn: str, count: int, orion: list[str], cases: int) -> None:
    """``count`` tasks as a few years of work leave them: nine in ten done, one in ten open — all the open
    ones in the Orion coordinators' pool (the signed-in coordinator's own pool, the work queue's worst
    case: 100,000 open tasks in it at a million). Each task is about a citizen: one in a hundred about
    Orion's 38 demo citizens (about 260 each, 26 of them open), the rest spread over the bench's case
    citizens. One INSERT … SELECT: a million rows take seconds."""
    if not count:
        return
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO task (id, citizen_id, title, kind, status, priority, due_at, sort_at, pool_role,
               pool_botilbud, botilbud_id, source_event_id, source_event_type, links, checklist, created_at)
               SELECT gen_random_uuid(),
                      CASE WHEN g % 100 = 0 THEN ($2::uuid[])[1 + (g / 100) % cardinality($2::uuid[])]
                           WHEN $3 > 0 THEN md5('bench-citizen-' || (1 + g % $3))::uuid END,
                      'Opfølgning ' || g, 'other', CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END,
                      CASE WHEN g % 50 = 0 THEN 'urgent' ELSE 'routine' END,
                      now() + (g - $1 / 2) * interval '7 seconds', now() + (g - $1 / 2) * interval '7 seconds',
                      'coordinator', 'orion', 'orion', gen_random_uuid()::text, 'bench', '[]', '[]', now()
               FROM generate_series(1, $1) AS g""", count, orion, cases)
        await conn.execute("ANALYZE task")
    finally:
        await conn.close()


CASE_STATUSES = ("received", "screening", "granted", "refused", "waiting", "placed", "ended", "withdrawn")


async def add_cases(dsn: str, count: int) -> None:
    """``count`` cases in København (the demo visitation officers' municipality), one citizen each, received
    over the last three years, in every status; the decided ones on the demo offers of København."""
    if not count:
        return
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO citizen (id, cpr_hash, cpr_encrypted, name, municipality, birth_date)
                   SELECT md5('bench-citizen-' || g)::uuid, md5('bench-a' || g) || md5('bench-b' || g), 'bench',
                          'Benchborger ' || g, 'København', date '1960-01-01' + (g % 15000)
                   FROM generate_series(1, $1) AS g""", count)
            await conn.execute(
                """INSERT INTO referral (id, citizen_id, status, channel, municipality, reason, received_at, decision,
                                         legal_basis, step, offer_id, botilbud_id, decided_at, decided_by,
                                         moved_in_on, ended_on, end_cause)
                   SELECT md5('bench-referral-' || g)::uuid, md5('bench-citizen-' || g)::uuid, s.status,
                          CASE WHEN g % 3 = 0 THEN 'partner' ELSE 'staff' END, 'København',
                          'Benchhenvisning ' || g, r.received_at,
                          CASE WHEN s.status IN ('granted', 'waiting', 'placed', 'ended') THEN 'granted'
                               WHEN s.status = 'refused' THEN 'refused' END,
                          CASE WHEN s.status <> 'received' AND s.status <> 'screening' AND s.status <> 'withdrawn'
                               THEN 'SEL §108' END,
                          CASE WHEN s.status IN ('granted', 'waiting', 'placed', 'ended') THEN 7 END,
                          CASE WHEN s.status IN ('granted', 'waiting', 'placed', 'ended') THEN 'orion' END,
                          CASE WHEN s.status IN ('granted', 'waiting', 'placed', 'ended') THEN 'orion' END,
                          CASE WHEN s.status IN ('granted', 'refused', 'waiting', 'placed', 'ended')
                               THEN r.received_at + interval '20 days' END,
                          CASE WHEN s.status IN ('granted', 'refused', 'waiting', 'placed', 'ended') THEN 'visitation-1' END,
                          CASE WHEN s.status IN ('placed', 'ended') THEN (r.received_at + interval '40 days')::date END,
                          CASE WHEN s.status = 'ended' THEN (r.received_at + interval '400 days')::date END,
                          CASE WHEN s.status = 'ended' THEN (ARRAY['moved_out', 'stepped_down', 'transferred'])[1 + g % 3] END
                   FROM generate_series(1, $1) AS g,
                        LATERAL (SELECT ($2::text[])[1 + g % cardinality($2::text[])] AS status) AS s,
                        LATERAL (SELECT now() - (g % 1095) * interval '1 day' - (g % 86400) * interval '1 second'
                                 AS received_at) AS r""", count, list(CASE_STATUSES))
            # Each case's history as referrals keeps it: received, and the decision where there is one.
            await conn.execute(
                """INSERT INTO referral_status_change (referral_id, status, from_status, action, at, by)
                   SELECT id, 'received', NULL, 'received', received_at, 'bench' FROM referral WHERE reason LIKE 'Benchhenvisning %'
                   UNION ALL
                   SELECT id, status, 'screening', decision, decided_at, decided_by FROM referral
                   WHERE reason LIKE 'Benchhenvisning %' AND decided_at IS NOT NULL""")
        await conn.execute("ANALYZE referral_status_change")
        await conn.execute("ANALYZE citizen")
        await conn.execute("ANALYZE referral")
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(timings: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(percentile(timings, 0.95), 2),
            "p99_ms": round(percentile(timings, 0.99), 2)}


async def raw_postgres(dsn: str, requests: int) -> dict[str, dict[str, float]]:
    """The floor under every page, in the same run: one round trip to the same PostgreSQL, and the work
    queue's own statement (first page of the Orion coordinators' pool) straight from a client."""
    conn = await asyncpg.connect(dsn)
    out = {}
    try:
        for name, sql in {
            "select_1": "SELECT 1",
            "queue_first_page": "SELECT * FROM task WHERE owner IS NULL AND status = 'open' AND pool_role = 'coordinator' "
                                "AND pool_botilbud = 'orion' ORDER BY sort_at, id LIMIT 51",
        }.items():
            timings = []
            for n in range(requests + 5):
                started = time.perf_counter()
                await conn.fetch(sql)
                if n >= 5:
                    timings.append((time.perf_counter() - started) * 1000)
            out[name] = summary(timings)
    finally:
        await conn.close()
    return out


def sign_in(base: str, sub: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/logind")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    signed = client.post("/logind/demo", data={"sub": sub, "csrf": csrf, "naeste": "/"})
    # Secure cookie: httpx would not send it over http itself.
    client.headers["cookie"] = f"tovholder_portal={signed.cookies.get('tovholder_portal')}"
    return client


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="tovholder-portal-bench-"))
    stack = LocalStack(state_dir=state, ports={p: free_port() for p in PROCESSES}, pg_port=free_port(),
                       kafka_port=free_port(), say=lambda line: None)
    results: dict[str, dict[str, float]] = {}
    raw: dict[str, dict[str, float]] = {}
    over: list[str] = []
    orion = [c["citizen_id"] for c in demo_data()["citizens"] if c["botilbud"] == "orion"]
    citizen = orion[0]
    try:
        stack.start(ready_timeout=120)
        dsn = {name: stack.database_url(name).replace("postgresql+asyncpg", "postgresql")
               for name in ("notifications", "referrals")}
        started = time.perf_counter()
        asyncio.run(add_tasks(dsn["notifications"], args.tasks, orion, args.cases))
        asyncio.run(add_cases(dsn["referrals"], args.cases))
        print(f"added {args.tasks:,} tasks and {args.cases:,} cases in {time.perf_counter() - started:.0f} s", flush=True)
        base = stack.url("portal")
        visitation = sign_in(base, "visitation-1")
        case_link = re.search(r'href="(/visitation/sager/[0-9a-f-]{36})"', visitation.get("/visitation").text)
        by_person = {
            "orion-koordinator-1": {
                "forside": "/", "arbejdsko": "/arbejdsko", "arbejdsko-haster": "/arbejdsko?prioritet=haster",
                "arbejdsko-tabel": "/arbejdsko/tabel", "borgere": "/borgere", "borger-maerker": f"/borgere/{citizen}/maerker",
                "borgeroverblik": f"/borgere/{citizen}", "plan": f"/borgere/{citizen}/plan",
                "netvaerk": f"/borgere/{citizen}/netvaerk", "tryghedsplan": f"/borgere/{citizen}/tryghedsplan",
            },
            "visitation-1": {
                "sager": "/visitation", "sager-modtaget": "/visitation?status=received",
                **({"sag": case_link.group(1)} if case_link else {}),
                "kapacitet": "/visitation/kapacitet", "flow": "/visitation/flow",
                "hospitalsbeskeder": "/visitation/hospitalsbeskeder",
            },
            "orion-sygeplejekonsulent-1": {
                "indlagte": "/helbred/indlagte", "helbredstjek": "/helbred/helbredstjek",
                "helbred": f"/borgere/{citizen}/helbred", "medicin": f"/borgere/{citizen}/medicin",
            },
        }
        for sub, pages in by_person.items():
            client = visitation if sub == "visitation-1" else sign_in(base, sub)
            try:
                for name, path in pages.items():
                    timings = []
                    for n in range(args.requests + 5):
                        started = time.perf_counter()
                        answer = client.get(path)
                        elapsed = (time.perf_counter() - started) * 1000
                        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                        if n >= 5:  # warm-up
                            timings.append(elapsed)
                    results[name] = {"path": path, "as": sub, **summary(timings)}
                    if results[name]["p95_ms"] > 300:
                        over.append(name)
                    print(f"{sub:<27} {name:<18} p50 {results[name]['p50_ms']:7.1f} ms  p95 {results[name]['p95_ms']:7.1f} ms  "
                          f"p99 {results[name]['p99_ms']:7.1f} ms", flush=True)
            finally:
                client.close()
        raw = asyncio.run(raw_postgres(dsn["notifications"], args.requests))
        for name, figures in raw.items():
            print(f"raw PostgreSQL {name:<17} p50 {figures['p50_ms']:7.2f} ms  p95 {figures['p95_ms']:7.2f} ms", flush=True)
    finally:
        stack.stop()
    print(f"pages over 300 ms p95: {', '.join(over) or 'none'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "portal.json").write_text(json.dumps({
        "requests_per_page": args.requests, "extra_tasks": args.tasks, "extra_cases": args.cases,
        "cpus": os.cpu_count(), "load_average": os.getloadavg()[0], "pages": results,
        "raw_postgres": raw, "over_300_ms_p95": over}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
