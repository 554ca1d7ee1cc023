"""Plans benchmark: the rules on their own, and the write/read/scheduler paths on real PostgreSQL.

    python bench/plans_bench.py [--citizens 200] [--writes 1000] [--reads 400] [--due 5000]

1. pure rules: ``may_receive`` against a citizen with many consents (decisions/s), and the diff of a
   plan's first and 200th version with 20 goals;
2. on a private embedded PostgreSQL (started and removed by the script), through the real FastAPI app
   in-process (no broker: events stay in the outbox): adding a goal (lock the plan, read the current
   version, write the next one as JSONB, outbox row, audit row) and reading a plan at ~version 200;
3. the due-follow-up scheduler announcing ``--due`` follow-ups (follow-up-due events into the outbox).

Prints the numbers and writes bench/results/plans.json.
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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.plans.repository import to_json  # noqa: E402
from services.plans.domain.cadence import FOURTEEN_DAYS  # noqa: E402
from services.plans.domain.consent import ConsentRecord, may_receive  # noqa: E402
from services.plans.domain.plan import (  # noqa: E402
    Author, AuthorRole, add_goal, change_goal, diff_versions, first_version, new_goal,
)
from tovholder.auth import issue_dev_token  # noqa: E402
from tovholder.db import create_engine, session_factory  # noqa: E402
from tovholder.infra import EmbeddedPostgres  # noqa: E402
from tovholder.migrations import upgrade  # noqa: E402
from tovholder.settings import Settings  # noqa: E402
from tovholder.uow import UnitOfWork  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)


def summary(ms: list[float]) -> dict:
    ordered = sorted(ms)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {"n": len(ms), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(ms), 2)}


def bench_pure() -> dict:
    consents = [ConsentRecord(consent_id=uuid.uuid4(), recipient_kind="organisation", recipient_id=f"SOR:{i}",
                              category=("plan", "health", "safety-plan", "fit")[i % 4], given_at=T0,
                              given_by="s", revoked_at=T0 + timedelta(days=i % 30) if i % 3 else None)
                for i in range(1000)]
    n = 20_000
    started = time.perf_counter()
    for i in range(n):
        may_receive(recipient_kind="organisation", recipient_id=f"SOR:{i % 1000}", category="plan",
                    at=T0 + timedelta(days=10), consents=consents)
    decisions_per_s = n / (time.perf_counter() - started)

    staff = Author("s", AuthorRole.STAFF)
    v = first_version(plan_id=uuid.uuid4(), citizen_id=uuid.uuid4(), created_at=T0, created_by=staff)
    first = v
    goals = []
    for i in range(20):
        g = new_goal(goal_id=uuid.uuid4(), text=f"Mål {i}", written_with_citizen=True, cadence=FOURTEEN_DAYS)
        goals.append(g.goal_id)
        v = add_goal(v, g, by=staff, at=T0)
    for i in range(180):
        v = change_goal(v, goals[i % 20], text=f"Mål {i % 20}, version {i}", by=staff, at=T0)
    started = time.perf_counter()
    for _ in range(200):
        diff = diff_versions(first, v)
    diff_ms = (time.perf_counter() - started) * 1000 / 200
    return {"may_receive_per_s_1000_consents": round(decisions_per_s), "diff_v1_v200_ms": round(diff_ms, 3),
            "diff_changes": len(diff.changes), "version_json_bytes": len(json.dumps(to_json(v)))}


async def seed(sessions, citizens: int) -> list[uuid.UUID]:
    from services.plans.models import NetworkMemberRow, Plan
    from services.plans.repository import opening_version, version_row

    ids = []
    async with UnitOfWork(sessions, service="plans") as uow:
        for i in range(citizens):
            cid = uuid.uuid4()
            plan = Plan(id=uuid.uuid4(), citizen_id=cid, botilbud_id="orion", opened_at=T0, current_version=1)
            uow.session.add(plan)
            await uow.session.flush()
            uow.session.add(version_row(opening_version(plan)))
            uow.session.add(NetworkMemberRow(citizen_id=cid, staff_id=f"orion-k{i % 10}", role="coordinator",
                                             basis="citizen-choice", added_at=T0, added_by="bench"))
            ids.append(cid)
        await uow.commit()
    return ids


async def bench_http(url: str, state_dir: Path, citizens: list[uuid.UUID], writes: int, reads: int) -> dict:
    from services.plans.main import spec
    from tovholder.service import create_service

    settings = Settings(service="plans", environment="test", database_url=url, state_dir=state_dir,
                        kafka_bootstrap="127.0.0.1:1", log_format="text", log_level="ERROR")
    app = create_service(spec, settings)
    write_ms, read_ms = [], []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        tokens = {i: issue_dev_token(settings, role="coordinator", sub=f"orion-k{i}", botilbud="orion")
                  for i in range(10)}
        for i in range(writes):
            n = i % len(citizens)
            headers = {"Authorization": f"Bearer {tokens[n % 10]}"}
            started = time.perf_counter()
            response = await client.post(f"/api/v1/citizens/{citizens[n]}/plan/goals", headers=headers,
                                         json={"text": f"Mål nummer {i}", "written_with_citizen": True,
                                               "cadence": {"days": 14}})
            write_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.text
        # One long-lived plan: ~200 versions, then reads of the current version.
        busy = citizens[0]
        headers = {"Authorization": f"Bearer {tokens[0]}"}
        goal_id = (await client.post(f"/api/v1/citizens/{busy}/plan/goals", headers=headers,
                                     json={"text": "Langt forløb", "written_with_citizen": True})).json()["goal_id"]
        for i in range(200):
            await client.patch(f"/api/v1/citizens/{busy}/plan/goals/{goal_id}", headers=headers,
                               json={"text": f"Langt forløb, runde {i}"})
        for _ in range(reads):
            started = time.perf_counter()
            response = await client.get(f"/api/v1/citizens/{busy}/plan", headers=headers)
            read_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        version = response.json()["version"]
    await app.state.ctx.engine.dispose()
    await app.state.ctx.producer.stop()
    return {"add_goal": summary(write_ms), "add_goal_per_s_serial": round(1000 / statistics.fmean(write_ms), 1),
            "read_plan": summary(read_ms), "read_plan_at_version": version}


async def bench_scheduler(sessions, due: int) -> dict:
    from sqlalchemy import select

    from services.plans.models import FollowUpScheduleRow, Plan
    from services.plans.services import announce_due_follow_ups

    today = date.today()
    async with UnitOfWork(sessions, service="plans") as uow:
        plans = list((await uow.session.execute(select(Plan.id, Plan.citizen_id).limit(1000))).all())
        for i in range(due):
            plan_id, citizen_id = plans[i % len(plans)]
            uow.session.add(FollowUpScheduleRow(subject_id=uuid.uuid4(), plan_id=plan_id, citizen_id=citizen_id,
                                                subject="goal", cadence=to_json(FOURTEEN_DAYS),
                                                anchor=today - timedelta(days=14), due_on=today, active=True))
        await uow.commit()
    started = time.perf_counter()
    announced = 0
    while True:
        async with UnitOfWork(sessions, service="plans") as uow:
            count = await announce_due_follow_ups(uow, today=today)
        announced += count
        if count == 0:
            break
    seconds = time.perf_counter() - started
    return {"announced": announced, "seconds": round(seconds, 2), "per_s": round(announced / seconds)}


async def main_async(args) -> dict:
    pure = bench_pure()
    print(f"1. may_receive: {pure['may_receive_per_s_1000_consents']:,}/s against 1000 consents; "
          f"diff v1→v200 (20 goals): {pure['diff_v1_v200_ms']} ms", flush=True)
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pgdata", log_file=Path(tmp) / "postgres.log")
        pg.start()
        try:
            pg.ensure_database("plans_bench")
            url = pg.url("plans_bench")
            upgrade("plans", url)
            engine = create_engine(Settings(service="plans", database_url=url))
            sessions = session_factory(engine)
            citizens = await seed(sessions, args.citizens)
            state = Path(tmp) / "state"
            state.mkdir()
            http = await bench_http(url, state, citizens, args.writes, args.reads)
            print(f"2. add goal: p50 {http['add_goal']['p50_ms']} ms, p99 {http['add_goal']['p99_ms']} ms "
                  f"({http['add_goal_per_s_serial']}/s serial); read plan at v{http['read_plan_at_version']}: "
                  f"p50 {http['read_plan']['p50_ms']} ms, p99 {http['read_plan']['p99_ms']} ms", flush=True)
            scheduler = await bench_scheduler(sessions, args.due)
            print(f"3. scheduler: {scheduler['announced']} follow-ups announced in {scheduler['seconds']} s "
                  f"({scheduler['per_s']}/s)", flush=True)
            await engine.dispose()
        finally:
            pg.stop()
    return {"benchmark": "plans", "at": datetime.now(timezone.utc).isoformat(), "args": vars(args),
            "pure": pure, "http": http, "scheduler": scheduler}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--due", type=int, default=5000)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "plans.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'plans.json'}")


if __name__ == "__main__":
    main()
