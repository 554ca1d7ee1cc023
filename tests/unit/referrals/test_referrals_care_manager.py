"""Whose placement the citizen's tovholder manages (``EpisodeOfCare.careManager``): the tovholder in force at
the placement's end, or now while it runs, from the history of choices; pure."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from types import SimpleNamespace

from fhir.resources.R4B.episodeofcare import EpisodeOfCare

from datetime import timedelta

from services.referrals.fhir.resources import episode_of_care, in_force, manages
from tovholder.fhir import STAFF_SYSTEM

CHOSEN = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def placement(**kw):
    base = dict(id=uuid.uuid4(), citizen_id=uuid.uuid4(), status="placed", botilbud_id="orion", ended_on=None,
                updated_at=datetime(2026, 11, 1, tzinfo=timezone.utc), received_at=datetime(2026, 10, 1, tzinfo=timezone.utc),
                moved_in_on=date(2026, 11, 1), start_date=None, legal_basis="SEL §108", step=7, offer_id="orion")
    return SimpleNamespace(**{**base, **kw})


def tovholder(**kw):
    return SimpleNamespace(**{**dict(nurse_consultant_sub="orion-n1", nurse_consultant_name="Nanna Holm",
                                     botilbud_id="orion", chosen_at=CHOSEN), **kw})


def test_the_tovholder_manages_the_placement_at_the_botilbud_where_they_were_chosen():
    assert manages(tovholder(), placement())
    assert not manages(tovholder(botilbud_id="hygge"), placement())  # chosen at another botilbud
    assert not manages(None, placement())
    assert not manages(tovholder(), placement(status="withdrawn"))
    assert not manages(tovholder(), placement(status="ended", ended_on=date(2026, 11, 19)))  # ended before the choice
    assert manages(tovholder(), placement(status="ended", ended_on=date(2026, 11, 20)))


def test_care_manager_is_a_practitioner_by_identifier_and_name_and_moves_last_updated():
    episode = episode_of_care(placement(), [], [tovholder()])
    EpisodeOfCare.model_validate(episode.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert episode.careManager.identifier.system == STAFF_SYSTEM and episode.careManager.identifier.value == "orion-n1"
    assert episode.careManager.display == "Nanna Holm" and episode.careManager.type == "Practitioner"
    assert episode.meta.lastUpdated == CHOSEN
    assert episode_of_care(placement(), [], [tovholder(botilbud_id="hygge")]).careManager is None


def test_a_finished_placement_names_the_tovholder_in_force_at_its_end_a_running_one_the_current():
    nanna = tovholder()
    ole = tovholder(nurse_consultant_sub="orion-n2", nurse_consultant_name="Ole Bak", chosen_at=CHOSEN + timedelta(days=5))
    later = tovholder(nurse_consultant_sub="orion-n3", chosen_at=CHOSEN + timedelta(days=30))
    history = [nanna, ole, later]
    ended = placement(status="ended", ended_on=date(2026, 11, 28))
    assert in_force(history, ended) is ole  # Ole was the tovholder when it ended; the later choice is not his
    assert in_force(history, placement(status="ended", ended_on=date(2026, 11, 20))) is nanna  # the day of the choice counts
    assert in_force(history, placement(status="ended", ended_on=date(2026, 11, 19))) is None  # ended before any
    assert in_force(history, placement()) is later  # running: the current one
    assert in_force([], placement()) is None
    # In force at its end was a nurse of another botilbud (the citizen had moved on): no care manager.
    assert in_force([nanna, tovholder(botilbud_id="hygge", chosen_at=CHOSEN + timedelta(days=1))],
                    placement(status="ended", ended_on=date(2026, 11, 28))) is None
    # Recorded as ended on its last day, before a choice later that day: that choice came after it.
    same_day = tovholder(nurse_consultant_sub="orion-n4", chosen_at=CHOSEN + timedelta(days=8, hours=3))
    assert in_force([ole, same_day], ended, ended_at=CHOSEN + timedelta(days=8)) is ole
    assert in_force([ole, same_day], ended) is same_day  # no record of when: the day decides
    episode = episode_of_care(ended, [], history)
    assert episode.careManager.identifier.value == "orion-n2" and episode.meta.lastUpdated == ole.chosen_at
