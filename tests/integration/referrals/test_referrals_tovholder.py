"""The placement's tovholder, from health to referrals on the real broker: a nurse consultant chosen as
tovholder in health becomes ``EpisodeOfCare.careManager`` in referrals' FHIR API (by staff identifier and
name, never a CPR); a change replaces it; an event handled once is not handled again (the inbox)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from sqlalchemy import func, select

from contracts.health import TovholderChosenV1
from services.health.models import HealthRecord
from services.referrals.models import CitizenTovholder, TovholderChoice
from services.referrals.services import follow_the_chosen_tovholder
from tests.fhir_support import fhir_get, search
from tests.integration.referrals.conftest import placed_citizen
from tests.support import eventually, publish_event, run_service
from tovholder.db import AuditEntry
from tovholder.fhir import STAFF_SYSTEM

pytestmark = pytest.mark.integration
HOME = "toftegaarden"
ORG = "SOR:1234567"
V = dict(role="visitation", sub="visitation-1")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def health(pg, kafka, tmp_path_factory):
    async with run_service("health", pg=pg, kafka=kafka, state_dir=tmp_path_factory.mktemp("h-state")) as svc:
        yield svc


async def care_manager(referrals, rid: str, sub: str, name: str | None) -> dict:
    """The EpisodeOfCare once its careManager is ``sub`` (validated as FHIR R4)."""
    async def shown():
        episode = await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", referrals.auth(**V))
        manager = episode.get("careManager") or {}
        return episode if manager.get("identifier", {}).get("value") == sub and manager.get("display") == name else None

    episode = await eventually(shown, timeout=30, message=f"careManager {sub}")
    EpisodeOfCare.model_validate(episode)
    assert episode["careManager"] == {"type": "Practitioner", "identifier": {"system": STAFF_SYSTEM, "value": sub},
                                      **({"display": name} if name else {})}
    return episode


async def test_the_tovholder_chosen_in_health_is_the_placements_care_manager(referrals, health, kafka):
    cpr = "1507884321"
    rid, citizen_id = await placed_citizen(referrals, cpr, HOME, ORG)

    async def record():
        async with health.ctx.sessions() as s:
            return (await s.execute(select(HealthRecord).where(
                HealthRecord.citizen_id == uuid.UUID(citizen_id)))).scalar_one_or_none()

    await eventually(record, timeout=30, message="health record opened from referrals' grant")
    r = await health.client.put(f"/api/v1/botilbud/{HOME}/nurse-consultants", headers=health.auth("admin", "admin-1"),
                                json=[{"sub": "toft-n1", "name": "Nanna Holm"}, {"sub": "toft-n2", "name": "Ole Bak"}])
    assert r.status_code == 200, r.text
    episode = await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", referrals.auth(**V))
    assert "careManager" not in episode  # nobody chosen yet

    # The citizen chooses Nanna in health → referrals' EpisodeOfCare names her.
    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": "toft-n1"},
                                headers=health.auth("citizen", citizen_id))
    assert r.status_code == 200, r.text
    await care_manager(referrals, rid, "toft-n1", "Nanna Holm")
    async with referrals.ctx.sessions() as s:
        first_event = (await s.get(CitizenTovholder, uuid.UUID(citizen_id))).event_id

    # … changes to Ole (recorded by a nurse of the botilbud on her behalf) → updated.
    r = await health.client.put(f"/api/v1/citizens/{citizen_id}/tovholder", json={"nurse_consultant_sub": "toft-n2"},
                                headers=health.auth("nurse-consultant", "toft-n1", botilbud=HOME))
    assert r.status_code == 200, r.text
    episode = await care_manager(referrals, rid, "toft-n2", "Ole Bak")
    assert cpr not in str(episode)

    # The same readers see it as in the other reads: the citizen and the referring partner, in a search too.
    own = await search(referrals.client, "EpisodeOfCare", referrals.auth("citizen", citizen_id, scope="patient/*.read"))
    assert [e["resource"]["careManager"]["identifier"]["value"] for e in own["entry"]] == ["toft-n2"]
    partner = await fhir_get(referrals.client, f"/fhir/r4/EpisodeOfCare/{rid}", referrals.auth("partner", "pck", org=ORG))
    assert partner["careManager"]["display"] == "Ole Bak"

    # Redelivered (the first choice's event again): handled once, so Ole stays. A later choice after it
    # (same citizen, same partition, so handled after the redelivery) shows that the redelivery was read.
    await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="toft-n1",
                                                              botilbud_id=HOME, nurse_consultant_name="Nanna Holm"),
                        event_id=first_event)
    await publish_event(kafka, TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub="toft-n2",
                                                              botilbud_id=HOME, nurse_consultant_name="Ole Bak Jensen"))
    await care_manager(referrals, rid, "toft-n2", "Ole Bak Jensen")
    async with referrals.ctx.sessions() as s:
        recorded = (await s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.citizen_id == uuid.UUID(citizen_id), AuditEntry.action == "tovholder.recorded"))).scalar_one()
    assert recorded == 3  # Nanna, Ole, Ole's new name — not Nanna again


async def test_a_finished_placement_keeps_the_tovholder_in_force_at_its_end(referrals, kafka):
    """The history of choices (each with the time it took effect, the event's): a placement that ended names
    the tovholder in force then, not one chosen afterwards; a redelivered choice adds nothing."""
    home = "ravnsborg"  # an offer of its own (the module's other test fills toftegaarden)
    rid, citizen_id = await placed_citizen(referrals, "0304794321", home, ORG)
    visitation = referrals.auth(**V)

    def chosen(sub: str, name: str) -> TovholderChosenV1:
        return TovholderChosenV1(citizen_id=citizen_id, nurse_consultant_sub=sub, botilbud_id=home, nurse_consultant_name=name)

    now = datetime.now(timezone.utc)
    await publish_event(kafka, chosen("toft-n1", "Nanna Holm"), time=now - timedelta(minutes=20))
    second = await publish_event(kafka, chosen("toft-n2", "Ole Bak"), time=now - timedelta(minutes=10))
    await care_manager(referrals, rid, "toft-n2", "Ole Bak")  # running: the current one

    r = await referrals.client.post(f"/api/v1/referrals/{rid}/end", headers=visitation, json={
        "cause": "moved_out", "destination": "own_home"})  # today; recorded now
    assert r.status_code == 200, r.text
    # After the placement ended: a new choice (the current tovholder now), and the second choice redelivered.
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    await publish_event(kafka, chosen("toft-n3", "Per Lund"), time=after)
    await publish_event(kafka, chosen("toft-n2", "Ole Bak Redelivered"), event_id=second, time=after)

    async def three_choices():
        async with referrals.ctx.sessions() as s:
            current = await s.get(CitizenTovholder, uuid.UUID(citizen_id))
            return current if current is not None and current.nurse_consultant_sub == "toft-n3" else None

    await eventually(three_choices, timeout=30, message="the choice after the end reaches referrals")
    episode = await care_manager(referrals, rid, "toft-n2", "Ole Bak")  # in force at the end, not Per, not redelivered
    assert episode["status"] == "finished"
    async with referrals.ctx.sessions() as s:
        kept = (await s.execute(select(TovholderChoice.nurse_consultant_sub).where(
            TovholderChoice.citizen_id == uuid.UUID(citizen_id)).order_by(TovholderChoice.chosen_at))).scalars().all()
    assert kept == ["toft-n1", "toft-n2", "toft-n3"]

    # The business key holds without the inbox too: the same event handled twice adds one choice.
    async with referrals.ctx.uow() as uow:
        await follow_the_chosen_tovholder(uow, chosen("toft-n3", "Per Lund"), event_id="direct-1", at=after)
        await follow_the_chosen_tovholder(uow, chosen("toft-n3", "Per Lund"), event_id="direct-1", at=after)
        await uow.commit()
    async with referrals.ctx.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(TovholderChoice).where(
            TovholderChoice.event_id == "direct-1"))).scalar_one() == 1
