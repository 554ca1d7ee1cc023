"""FIT on its real scales through the API and the database: ORS and SRS as four 0–10 items (totals
0–40), the cut-offs with the trend, smileys on the same line, the v2 event, and what the migration
did with sessions stored on the old 1–10 scale."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.plans.models import FitSessionRow
from tests.integration.plans.conftest import citizen, form_network, open_plan, staff
from tovholder.db import OutboxMessage
from tovholder.migrations import upgrade

ORS_ITEMS = {"individual": 5.5, "interpersonal": 6.0, "social": 4.2, "overall": 6.8}


async def test_a_real_session_ors_22_5_srs_35_is_accepted_with_the_cutoffs(plans, kafka):
    """Regression (issue 15): a real session (ORS 22.5, SRS 35) was refused as 'scored from 1 to 10'."""
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/fit"
    held = datetime.now(timezone.utc) - timedelta(days=14)
    first = await plans.client.post(base, headers=staff(plans, "n1"),
                                    json={"held_at": held.isoformat(), "ors": 22.5, "srs": 35, "shared_by_citizen": True})
    assert first.status_code == 201, first.text
    assert (first.json()["ors"], first.json()["srs"], first.json()["scale"]) == (22.5, 35.0, "0-40")
    assert first.json()["ors_below_cutoff"] is True and first.json()["srs_below_cutoff"] is True
    # The next session with the four item marks (ORS) and smileys (SRS).
    second = await plans.client.post(base, headers=staff(plans, "n1"), json={
        "held_at": datetime.now(timezone.utc).isoformat(), "shared_by_citizen": True,
        "ors": {"items": {**ORS_ITEMS, "overall": 9.8}},
        "srs": {"smileys": {"relationship": 5, "goals_and_topics": 5, "approach_or_method": 4, "overall": 5}}})
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["ors"] == 25.5 and body["ors_answered_with"] == "items"
    assert [i["score"] for i in body["ors_items"]] == [5.5, 6.0, 4.2, 9.8]
    assert body["ors_items"][0]["label"].startswith("Individuelt")
    assert body["srs"] == 37.5 and body["srs_answered_with"] == "smileys"
    assert body["ors_below_cutoff"] is False and body["srs_below_cutoff"] is False

    read = (await plans.client.get(base, headers=citizen(plans, citizen_id))).json()
    ors, srs = read["trend"]["ors"], read["trend"]["srs"]
    assert (ors["cutoff"], ors["scale_max"], ors["latest"], ors["latest_below_cutoff"]) == (25.0, 40.0, 25.5, False)
    assert (srs["cutoff"], srs["latest"], srs["latest_below_cutoff"]) == (36.0, 37.5, False)
    assert ors["direction"] == "improving" and "klinisk" in ors["cutoff_meaning"]

    async with plans.ctx.sessions() as session:
        bodies = [json.loads(b) for b in await session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.subject == str(citizen_id),
                                             OutboxMessage.event_type.like("tovholder.plans.fit-recorded.%"))
            .order_by(OutboxMessage.id))]
        types = set(await session.scalars(select(OutboxMessage.event_type).where(
            OutboxMessage.subject == str(citizen_id), OutboxMessage.event_type.like("tovholder.plans.fit-recorded.%"))))
    assert types == {"tovholder.plans.fit-recorded.v2"}
    assert [(b["ors"], b["srs"], b["ors_below_cutoff"], b["srs_below_cutoff"]) for b in bodies] == [
        (22.5, 35.0, True, True), (25.5, 37.5, False, False)]


async def test_scores_outside_the_scales_are_refused_in_danish_and_nothing_is_stored(plans, kafka):
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    base = f"/api/v1/citizens/{citizen_id}/fit"
    held = datetime.now(timezone.utc).isoformat()
    for body, reason in [
        ({"ors": 40.5}, "0 til 40"),
        ({"ors": {"items": {**ORS_ITEMS, "social": 10.5}}}, "fra 0 til 10"),
        ({"ors": {"items": {"individual": 5}}}, "mangler"),
        ({"srs": {"smileys": {"relationship": 6, "goals_and_topics": 5, "approach_or_method": 5, "overall": 5}}},
         "smiley"),
        ({"ors": {"items": ORS_ITEMS, "total": 30}}, "ikke summen"),
    ]:
        response = await plans.client.post(base, headers=staff(plans, "n1"),
                                           json={"held_at": held, "shared_by_citizen": True, **body})
        assert response.status_code == 422, response.text
        assert reason in response.json()["detail"], response.text
    async with plans.ctx.sessions() as session:
        assert not list(await session.scalars(select(FitSessionRow.id).where(FitSessionRow.citizen_id == citizen_id)))


async def test_the_migration_keeps_old_1_to_10_sessions_as_recorded_and_out_of_the_trend(pg, plans, kafka):
    """The new revision marks every existing session '1-10' (values untouched); new ones are '0-40'."""
    name = f"plans_fitmig_{uuid.uuid4().hex[:8]}"
    pg.ensure_database(name)
    url = pg.url(name)
    upgrade("plans", url, "ea7bd6f0b3e5")  # the schema before the real scales
    engine = create_async_engine(url)
    old_id = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO fit_session (id, citizen_id, held_at, recorded_by, ors, srs, shared_by_citizen) "
                "VALUES (:id, :c, now(), 's', 7, 9, true)"), {"id": old_id, "c": uuid.uuid4()})
        upgrade("plans", url, "3f0c2a7d9b14")
        async with engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT ors, srs, scale, ors_answered_with, ors_items FROM fit_session WHERE id = :id"),
                {"id": old_id})).one()
            assert tuple(row) == (7.0, 9.0, "1-10", "total", None)
            await conn.execute(text(
                "INSERT INTO fit_session (id, citizen_id, held_at, recorded_by, ors, shared_by_citizen) "
                "VALUES (:id, :c, now(), 's', 22.5, true)"), {"id": uuid.uuid4(), "c": uuid.uuid4()})
            assert await conn.scalar(text("SELECT count(*) FROM fit_session WHERE scale = '0-40'")) == 1
    finally:
        await engine.dispose()

    # Through the API, an old session shows on its own scale and stays out of the 0–40 trend.
    citizen_id = await open_plan(kafka, plans)
    await form_network(plans, citizen_id)
    async with plans.ctx.sessions() as session:
        session.add(FitSessionRow(id=uuid.uuid4(), citizen_id=citizen_id, recorded_by="orion-n1", ors=3.0, srs=9.0,
                                  held_at=datetime.now(timezone.utc) - timedelta(days=300), shared_by_citizen=True,
                                  scale="1-10", ors_answered_with="total", srs_answered_with="total"))
        await session.commit()
    await plans.client.post(f"/api/v1/citizens/{citizen_id}/fit", headers=staff(plans, "n1"),
                            json={"held_at": datetime.now(timezone.utc).isoformat(), "ors": 20, "shared_by_citizen": True})
    read = (await plans.client.get(f"/api/v1/citizens/{citizen_id}/fit", headers=citizen(plans, citizen_id))).json()
    assert [(s["scale"], s["ors"], s["ors_below_cutoff"]) for s in read["sessions"]] == [("1-10", 3.0, None),
                                                                                         ("0-40", 20.0, True)]
    assert read["trend"]["ors"]["direction"] == "not-enough-data" and read["trend"]["ors"]["latest"] == 20.0
