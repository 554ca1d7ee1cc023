"""``GET /api/v1/work-queue/events``: the caller's queue changes as server-sent events, over real HTTP
(uvicorn in the test's loop), authenticated and scoped like the queue list. No events are needed
(tasks are stored directly), so no broker is started."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import httpx
import pytest
import uvicorn

from services.notifications.domain import tasks as d
from services.notifications.main import NotificationsConfig, build_spec
from tests.support import NoBroker, run_service
from tovholder.infra import free_port

from .conftest import FAST
from .test_work_queue_api import make_task, store

pytestmark = pytest.mark.integration
STREAMING = NotificationsConfig(**{**FAST.model_dump(), "queue_stream_interval_s": 0.1, "queue_stream_max_s": 60})


@contextlib.asynccontextmanager
async def served(app):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def events(lines):
    """(event, data) pairs from an SSE line iterator."""
    name = None
    async for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            yield name, json.loads(line.split(":", 1)[1])


async def test_the_stream_says_when_my_queue_changes_and_only_for_my_pools(pg, state_dir):
    async with run_service(build_spec(STREAMING), pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as svc, \
            served(svc.app) as base:
        headers = svc.auth("coordinator", "koord-sse", botilbud="tangkaer")
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            refused = await client.get("/api/v1/work-queue/events")
            assert refused.status_code == 401
            citizen_refused = await client.get("/api/v1/work-queue/events", headers=svc.auth("citizen", str(uuid.uuid4())))
            assert citizen_refused.status_code == 403
            async with client.stream("GET", "/api/v1/work-queue/events", headers=headers) as stream:
                assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
                received = events(stream.aiter_lines())
                name, first = await anext(received)
                assert name == "queue-changed" and first["count"] == 0
                # Another botilbud's pool is not my queue: no event. Then one in my pool: an event.
                await store(svc, [make_task(uuid.uuid4(), due_in_h=2, pool=d.Pool(d.Role.COORDINATOR, "orion"),
                                            botilbud="orion")])
                await store(svc, [make_task(uuid.uuid4(), due_in_h=3, pool=d.Pool(d.Role.COORDINATOR, "tangkaer"))])
                name, second = await asyncio.wait_for(anext(received), 10)
                assert name == "queue-changed" and second["count"] == 1 and second["fingerprint"] != first["fingerprint"]
            bad = await client.get("/api/v1/work-queue/events", params={"priority": "whenever"}, headers=headers)
            assert bad.status_code == 422 and "priority" in bad.json()["detail"]


async def test_priority_filter_and_citizen_names_in_the_queue(pg, state_dir):
    async with run_service(build_spec(FAST), pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as svc:
        pool = d.Pool(d.Role.COORDINATOR, "tangkaer")
        await store(svc, [make_task(uuid.uuid4(), due_in_h=1, pool=pool, priority=d.Priority.URGENT),
                          make_task(uuid.uuid4(), due_in_h=2, pool=pool)])
        headers = svc.auth("coordinator", "koord-prio", botilbud="tangkaer")
        urgent = (await svc.client.get("/api/v1/work-queue", params={"priority": "urgent"}, headers=headers)).json()
        assert [t["priority"] for t in urgent] == ["urgent"] and "citizen_name" in urgent[0]
        kinds = (await svc.client.get("/api/v1/task-kinds", headers=headers)).json()
        assert {"kind": "plan-follow-up", "label": d.KIND_LABELS_DA[d.TaskKind.PLAN_FOLLOW_UP]} in kinds


async def test_the_citizen_list_is_scoped_like_the_timeline_searchable_and_counts_open_tasks(pg, state_dir):
    from datetime import datetime, timezone

    from services.notifications import models as m

    async with run_service(build_spec(FAST), pg=pg, kafka=NoBroker(), state_dir=state_dir, wait=False) as svc:
        at_orion, at_other, in_network, in_aarhus = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with svc.ctx.sessions() as session:
            session.add_all([m.Citizen(id=at_orion, name="Bo 100% Hansen", botilbud_id="orion", tovholder_sub="sygpl-1"),
                             m.Citizen(id=at_other, name="Ida Jensen", botilbud_id="tangkaer"),
                             m.Citizen(id=in_network, name="Lone Holm", botilbud_id="cirklen"),
                             m.Citizen(id=in_aarhus, name="Per Aarhus", municipality="Aarhus"),
                             m.NetworkMember(citizen_id=in_network, staff_id="koord-1", role="koordinator",
                                             added_at=datetime.now(timezone.utc))])
            await session.commit()
        await store(svc, [make_task(at_orion, due_in_h=-2, pool=d.Pool(d.Role.COORDINATOR, "orion"), botilbud="orion"),
                          make_task(at_orion, due_in_h=5, pool=d.Pool(d.Role.COORDINATOR, "orion"), botilbud="orion")])

        async def names(role, sub, botilbud=None, municipality=None, **params):
            claims = {"municipality": municipality} if municipality else {}
            answer = await svc.client.get("/api/v1/citizens", params=params,
                                          headers=svc.auth(role, sub, botilbud=botilbud, **claims))
            assert answer.status_code == 200, answer.text
            return answer.json()

        mine = await names("coordinator", "koord-1", "orion")
        assert [c["name"] for c in mine] == ["Bo 100% Hansen", "Lone Holm"]  # botilbud ∪ network, not Tangkær
        assert (mine[0]["open_tasks"], mine[0]["overdue_tasks"]) == (2, 1)
        assert [c["name"] for c in await names("coordinator", "koord-1", "orion", mine="true")] == ["Lone Holm"]
        assert [c["name"] for c in await names("nurse-consultant", "sygpl-1", "orion", mine="true")] == ["Bo 100% Hansen"]
        assert [c["name"] for c in await names("visitation", "vis-1", q="JENSEN")] == ["Ida Jensen"]
        assert [c["name"] for c in await names("visitation", "vis-1", q="100%")] == ["Bo 100% Hansen"]  # % is literal
        assert await names("visitation", "vis-1", q="_") == []
        # Visitation of a municipality lists that municipality's citizens only, like the timeline's single read.
        assert "Per Aarhus" in [c["name"] for c in await names("visitation", "vis-aar", municipality="Aarhus")]
        assert "Per Aarhus" not in [c["name"] for c in await names("visitation", "vis-ode", municipality="Odense")]
        citizen = await svc.client.get("/api/v1/citizens", headers=svc.auth("citizen", str(at_orion)))
        assert citizen.status_code == 403
