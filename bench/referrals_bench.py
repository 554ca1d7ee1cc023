"""Referrals benchmark: the case list and the matching query at 100,000 cases.

    python bench/referrals_bench.py [--cases 100000] [--offers 60] [--requests 300] [--concurrency 8]

Real PostgreSQL and Tansu, the referrals service as a real process (`tovholder serve referrals`).
The database is migrated and then loaded with SQL: citizens, offers with target groups, cases spread
over every status with a history of ~4 entries each. Then it times HTTP calls as visitation staff make
them (every read is audited, as in production):
- case list, newest first (first page; filtered by status; by offer; a deep page via the cursor);
- the coordinator's list (placements to their botilbud);
- matching for one case (all offers, target groups, free places, resident-mix warnings);
- an offer's waitlist;
- partner referrals (``POST /integration/v1/referrals``), half for new people, half joining a case.
Prints p50/p95/p99 per call and writes bench/results/referrals.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.topics import ALL_TOPICS  # noqa: E402
from tovholder.auth import issue_dev_token  # noqa: E402
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics, free_port  # noqa: E402
from tovholder.migrations import upgrade  # noqa: E402
from tovholder.settings import Settings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CPR_HASH_KEY = "bench-cpr-hash-key"
CPR_ENCRYPTION_KEY = "1cfAVJsZOl5Ys7yH0I-D7BHyNcaURV7xYkGfhvRZ0AQ="  # Fernet key, benchmark only

# Status mix of a municipality's case history (INFERRED): most cases are placed or ended.
STATUS_MIX = [("received", 4), ("screening", 5), ("granted", 2), ("waiting", 4), ("placed", 38), ("ended", 37),
              ("refused", 8), ("withdrawn", 2)]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 50) * 1000, 1), "p95_ms": round(pct(values, 95) * 1000, 1),
            "p99_ms": round(pct(values, 99) * 1000, 1), "mean_ms": round(statistics.fmean(values) * 1000, 1),
            "n": len(values)}


LOAD_SQL = """
INSERT INTO offer (id, botilbud_id, name, municipality, legal_basis, step, approved_places, occupied_places,
                   reserved_places, target_group, target_min_age, target_max_age, target_requires, target_excludes,
                   active)
SELECT 'offer-' || g, 'botilbud-' || g, 'Tilbud ' || g, 'København',
       (ARRAY['SEL §108','SEL §107','SEL §85','ABL §105 + SEL §85'])[1 + g % 4],
       (ARRAY[7, 6, 4, 6])[1 + g % 4], 10 + g % 40, 0, 0, 'Målgruppe ' || g,
       CASE WHEN g % 3 = 0 THEN 18 END, CASE WHEN g % 3 = 0 THEN 30 + g % 40 END,
       CASE WHEN g % 7 = 0 THEN '["dobbeltdiagnose"]'::jsonb ELSE '[]'::jsonb END,
       CASE WHEN g % 5 = 0 THEN '["udadreagerende"]'::jsonb ELSE '[]'::jsonb END,
       true
FROM generate_series(1, {offers}) g;

INSERT INTO citizen (id, cpr_hash, cpr_encrypted, name, municipality, birth_date)
SELECT md5('c' || g)::uuid, md5('cpr' || g), $1, 'Borger ' || g, 'København',
       date '1950-01-01' + (g::bigint * 7919 % 18000)::int
FROM generate_series(1, {cases}) g;
"""

CASES_SQL = """
WITH base AS (
  SELECT g, md5('r' || g)::uuid AS id, md5('c' || g)::uuid AS citizen_id,
         now() - ((g::bigint * 104729 % (365 * 6 * 24)) || ' hours')::interval AS received_at,
         'offer-' || (1 + abs(hashtext('o' || g)) % {offers}) AS offer_id,
         abs(hashtext('b' || g)) % 100 AS bucket
  FROM generate_series(1, {cases}) g
), typed AS (
  SELECT b.*, CASE
    WHEN bucket < 4 THEN 'received' WHEN bucket < 9 THEN 'screening' WHEN bucket < 11 THEN 'granted'
    WHEN bucket < 15 THEN 'waiting' WHEN bucket < 53 THEN 'placed' WHEN bucket < 90 THEN 'ended'
    WHEN bucket < 98 THEN 'refused' ELSE 'withdrawn' END AS status
  FROM base b
)
INSERT INTO referral (id, citizen_id, status, channel, referrer_org, referrer_name, reason, requested_step,
                      requested_offer, received_at, assessment, decision, legal_basis, step, offer_id, botilbud_id,
                      start_date, follow_up_date, decided_at, decided_by, decision_reason, waitlisted, moved_in_on,
                      ended_on, end_cause, end_destination, to_step, updated_at)
SELECT t.id, t.citizen_id, t.status, CASE WHEN t.g % 3 = 0 THEN 'staff' ELSE 'partner' END,
       CASE WHEN t.g % 3 = 0 THEN NULL ELSE 'SOR:' || (1234567 + t.g % 20) END, 'Henviser', 'Årsag ' || t.g,
       o.step, o.legal_basis, t.received_at,
       CASE WHEN t.status NOT IN ('received') THEN jsonb_build_object(
         'scores', jsonb_build_object('egenomsorg', t.g % 5, 'socialt_liv', (t.g / 5) % 5),
         'wishes', 'Ro', 'needs', '', 'resources', '',
         'traits', CASE WHEN t.g % 4 = 0 THEN '["tilbagetrukket"]'::jsonb ELSE '[]'::jsonb END,
         'assessed_by', 'visitation-1', 'assessed_at', to_char(t.received_at, 'YYYY-MM-DD"T"HH24:MI:SS+00:00')) END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN 'granted'
            WHEN t.status = 'refused' THEN 'refused' END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended','refused') THEN o.legal_basis END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN o.step END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN o.id END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN o.botilbud_id END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN (t.received_at + interval '30 days')::date END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended') THEN (t.received_at + interval '120 days')::date END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended','refused') THEN t.received_at + interval '20 days' END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended','refused') THEN 'visitation-1' END,
       CASE WHEN t.status IN ('granted','waiting','placed','ended','refused') THEN 'Begrundelse' END,
       CASE WHEN t.status = 'waiting' THEN true WHEN t.status IN ('granted','placed','ended') THEN false END,
       CASE WHEN t.status IN ('placed','ended') THEN (t.received_at + interval '45 days')::date END,
       CASE WHEN t.status = 'ended' THEN (t.received_at + interval '400 days')::date END,
       CASE WHEN t.status = 'ended' THEN (ARRAY['stepped_down','moved_out','transferred','other'])[1 + t.g % 4] END,
       CASE WHEN t.status = 'ended' THEN (ARRAY['offer','own_home','offer','other'])[1 + t.g % 4] END,
       CASE WHEN t.status = 'ended' AND t.g % 4 = 0 THEN 3 END,
       now()
FROM typed t JOIN offer o ON o.id = t.offer_id;

INSERT INTO referral_status_change (referral_id, status, from_status, action, at, by, note)
SELECT r.id, s.status, s.from_status, s.action, r.received_at + (s.n || ' days')::interval, 'visitation-1', 'Note'
FROM referral r
CROSS JOIN LATERAL (VALUES (0, 'received', NULL, 'received'), (2, 'screening', 'received', 'assessment-recorded'),
                           (20, r.status, 'screening', 'decided'), (45, r.status, r.status, 'moved-in')) AS s(n, status, from_status, action);

UPDATE offer o SET occupied_places = c.placed, reserved_places = c.reserved,
                   approved_places = GREATEST(o.approved_places, c.placed + c.reserved + (CASE WHEN o.id ~ '[05]$' THEN 0 ELSE 3 END))
FROM (SELECT offer_id, count(*) FILTER (WHERE status = 'placed') AS placed,
             count(*) FILTER (WHERE status = 'granted') AS reserved
      FROM referral WHERE offer_id IS NOT NULL GROUP BY offer_id) c
WHERE c.offer_id = o.id;
ANALYZE;
"""


async def load(dsn: str, cases: int, offers: int, encrypted: str) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        # The sizes are ints we chose (formatted in); the one string value goes as a parameter.
        for statement in [s for s in (LOAD_SQL + CASES_SQL).split(";\n") if s.strip()]:
            sql = statement.replace("{cases}", str(int(cases))).replace("{offers}", str(int(offers)))
            await conn.execute(sql, encrypted) if "$1" in sql else await conn.execute(sql)
        await conn.execute("VACUUM ANALYZE")  # steady state, not a table autovacuum is still chewing on
        count = await conn.fetchval("SELECT count(*) FROM referral")
        assert count == cases, count
        sizes = await conn.fetch("SELECT count(*) AS n FROM referral WHERE status IN ('granted', 'waiting') GROUP BY offer_id")
        print(f"waitlists: {len(sizes)} offers, {min(r['n'] for r in sizes)}–{max(r['n'] for r in sizes)} entries each")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def timed(http: httpx.AsyncClient, label: str, paths: list[str], headers: dict, concurrency: int) -> dict:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(path: str) -> None:
        async with gate:
            t0 = time.perf_counter()
            r = await http.get(path, headers=headers)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200, f"{label}: {r.status_code} {r.text[:300]}"

    for path in paths[:5]:  # warm-up
        await one(path)
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in paths))
    elapsed = time.perf_counter() - started
    return {**summary_ms(latencies), "requests_per_s": round(len(paths) / elapsed, 1)}


def partner_referral(i: int, *, joining: bool) -> dict:
    """A partner's referral; every other one names a person an earlier one named (it joins their case)."""
    n = i // 2 if joining else i
    # Born 1950–1989 (serial 0xxx–3xxx: the 1900s), day 01–28: a valid CPR for every n below 11.2 million.
    day, month, year, serial = n % 28 + 1, n // 28 % 12 + 1, 50 + n // 336 % 40, n // 13440 % 4000
    return {"message_id": str(uuid.uuid4()), "sent_at": "2026-12-03T08:00:00+01:00",
            "sender": {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
            "cpr": f"{day:02d}{month:02d}{year:02d}{serial:04d}", "citizen_name": f"Borger {n}",
            "reason": "Udskrives snart og har brug for et trygt sted at bo.", "requested_step": 7,
            "requested_offer": "SEL §108"}


async def timed_partner_referrals(http: httpx.AsyncClient, headers: dict, count: int, concurrency: int) -> dict:
    """``count`` partner referrals at ``concurrency`` in flight: half for new people (citizen + case), half
    for people named before (the referral joins their open case). Receipts/s and latency."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    bodies = [partner_referral(i, joining=i % 2 == 1) for i in range(count)]

    async def one(body: dict) -> None:
        async with gate:
            t0 = time.perf_counter()
            r = await http.post("/integration/v1/referrals", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 202, f"partner referral: {r.status_code} {r.text[:300]}"

    # In pairs, so the one that joins a case comes after the one that opened it.
    started = time.perf_counter()
    for pair in range(0, count, 2 * concurrency):
        await asyncio.gather(*(one(b) for b in bodies[pair:pair + 2 * concurrency:2]))
        await asyncio.gather(*(one(b) for b in bodies[pair + 1:pair + 2 * concurrency:2]))
    elapsed = time.perf_counter() - started
    return {**summary_ms(latencies), "requests_per_s": round(count / elapsed, 1)}


async def bench(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="tovholder-referrals-bench-"))
    pg = EmbeddedPostgres(tmp / "pgdata", log_file=tmp / "postgres.log")
    tansu = Tansu(log_file=tmp / "tansu.log")
    pg.start()
    tansu.start()
    process = None
    try:
        await create_topics(tansu.bootstrap, ALL_TOPICS)
        pg.ensure_database("referrals")
        url = pg.url("referrals")
        upgrade("referrals", url)
        state = tmp / "state"
        state.mkdir()
        settings = Settings(service="referrals", environment="development", state_dir=state,
                            cpr_hash_key=CPR_HASH_KEY, cpr_encryption_key=CPR_ENCRYPTION_KEY)
        from tovholder.cpr import CprVault

        encrypted = CprVault(settings).encrypt("0101904321")
        load_s = await load(url.replace("+asyncpg", ""), args.cases, args.offers, encrypted)
        print(f"loaded {args.cases} cases and {args.offers} offers in {load_s:.1f}s")

        port = free_port()
        env = dict(os.environ, TOVHOLDER_SERVICE="referrals", TOVHOLDER_DATABASE_URL=url,
                   TOVHOLDER_KAFKA_BOOTSTRAP=tansu.bootstrap, TOVHOLDER_STATE_DIR=str(state),
                   TOVHOLDER_CPR_HASH_KEY=CPR_HASH_KEY, TOVHOLDER_CPR_ENCRYPTION_KEY=CPR_ENCRYPTION_KEY,
                   TOVHOLDER_LOG_LEVEL="WARNING", TOVHOLDER_PORT=str(port),
                   TOVHOLDER_KAFKA_IDEMPOTENT_PRODUCER="false")  # Tansu has no idempotent producer
        tovholder = Path(sys.executable).parent / "tovholder"
        process = subprocess.Popen([str(tovholder), "serve", "referrals", "--port", str(port)], env=env,
                                   stdout=open(tmp / "referrals.log", "w"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30,
                                     limits=httpx.Limits(max_connections=args.concurrency)) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"referrals did not become ready; see {tmp / 'referrals.log'}")
                await asyncio.sleep(0.3)
            visitation = {"Authorization": "Bearer " + issue_dev_token(settings, role="visitation", sub="bench-vis")}
            coordinator = {"Authorization": "Bearer " + issue_dev_token(
                settings, role="coordinator", sub="bench-coord", botilbud="botilbud-7")}
            partner = {"Authorization": "Bearer " + issue_dev_token(
                settings, role="partner", sub="bench-pck", org="SOR:1234567")}
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                screening_ids = [str(r["id"]) for r in await conn.fetch(
                    "SELECT id FROM referral WHERE status = 'screening' ORDER BY id LIMIT $1", args.requests)]
                deep_cursor = await conn.fetchval(
                    "SELECT received_at FROM referral ORDER BY received_at DESC OFFSET $1 LIMIT 1", args.cases // 2)
            finally:
                await conn.close()
            rng = random.Random(7)
            n = args.requests
            statuses = ["received", "screening", "waiting", "placed", "ended"]
            results = {
                "case_list_first_page": await timed(http, "list", ["/api/v1/referrals?limit=50"] * n,
                                                    visitation, args.concurrency),
                "case_list_by_status": await timed(http, "status", [
                    f"/api/v1/referrals?limit=50&status={rng.choice(statuses)}" for _ in range(n)],
                    visitation, args.concurrency),
                "case_list_by_offer": await timed(http, "offer", [
                    f"/api/v1/referrals?limit=50&offer_id=offer-{rng.randint(1, args.offers)}" for _ in range(n)],
                    visitation, args.concurrency),
                "case_list_deep_page": await timed(http, "deep", [
                    "/api/v1/referrals?limit=50&before=" + httpx.QueryParams({"b": deep_cursor.isoformat()})["b"]
                    .replace("+", "%2B")] * n, visitation, args.concurrency),
                "coordinator_list": await timed(http, "coordinator", ["/api/v1/referrals?limit=50"] * n,
                                                coordinator, args.concurrency),
                "matching": await timed(http, "matching", [
                    f"/api/v1/referrals/{screening_ids[i % len(screening_ids)]}/matches?all_steps=true"
                    for i in range(n)], visitation, args.concurrency),
                "matching_requested_step": await timed(http, "matching-step", [
                    f"/api/v1/referrals/{screening_ids[i % len(screening_ids)]}/matches" for i in range(n)],
                    visitation, args.concurrency),
                "partner_referrals": await timed_partner_referrals(http, partner, n * 4, args.concurrency),
                "waitlist": await timed(http, "waitlist", [
                    f"/api/v1/offers/offer-{rng.randint(1, args.offers)}/waitlist" for _ in range(n)],
                    visitation, args.concurrency),
            }
        return {"cases": args.cases, "offers": args.offers, "requests_per_call": n, "concurrency": args.concurrency,
                "load_s": round(load_s, 1), "results": results}
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        tansu.stop()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=60)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    out = asyncio.run(bench(args))
    print(f"\nreferrals at {out['cases']} cases, {out['offers']} offers "
          f"({out['requests_per_call']} requests per call, concurrency {out['concurrency']})")
    for name, r in out["results"].items():
        print(f"  {name:<26} p50 {r['p50_ms']:>7} ms  p95 {r['p95_ms']:>7} ms  p99 {r['p99_ms']:>7} ms  "
              f"{r['requests_per_s']:>7} req/s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "referrals.json").write_text(json.dumps(out, indent=2))
    print(f"\nwrote {RESULTS / 'referrals.json'}")


if __name__ == "__main__":
    main()
