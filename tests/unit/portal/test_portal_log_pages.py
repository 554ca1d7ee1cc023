"""Min log's merged pages (services.portal.domain.log_pages): the keyset (moment, service, entry id)
gives every entry of four services exactly once, also when many share a moment at a page edge."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from services.portal.domain import log_pages

AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
SERVICES = ("referrals", "plans", "health", "notifications")


def entry(service: str, entry_id: int, at: datetime) -> dict:
    text = at.isoformat().replace("+00:00", "Z")
    return {"at": text, "service": service, "entry_id": entry_id}


def below(entries: list[dict], service: str, position: tuple[datetime, int]) -> list[dict]:
    """What a service answers for a cursor (at, id): its entries with (at, id) below it."""
    at, ident = position
    return [e for e in entries if e["service"] == service
            and (datetime.fromisoformat(e["at"]) < at
                 or (datetime.fromisoformat(e["at"]) == at and e["entry_id"] < ident))]


def pages(entries: list[dict], size: int) -> list[list[dict]]:
    """The portal's paging over the services, as ``services.portal.services.citizen.my_log`` does it."""
    shown: list[list[dict]] = []
    edge = None
    while True:
        merged = []
        for service in SERVICES:
            mine = below(entries, service, edge.position_for(service)) if edge else \
                [e for e in entries if e["service"] == service]
            merged += sorted(mine, key=log_pages.order_key, reverse=True)[:size]
        merged.sort(key=log_pages.order_key, reverse=True)
        window = merged[:size]
        if window:
            shown.append(window)
        if len(merged) <= size:
            return shown
        edge = log_pages.parse_edge(log_pages.edge_of(window[-1]).encode())


def test_many_entries_of_one_moment_across_page_edges_are_each_shown_once():
    rng = random.Random(13)
    entries = [entry(s, i, AT) for s in SERVICES for i in range(1, 31)]  # 120 entries, one moment
    entries += [entry(rng.choice(SERVICES), 100 + i, AT - timedelta(microseconds=rng.randrange(3))) for i in range(40)]
    seen = [(e["service"], e["entry_id"]) for page in pages(entries, 25) for e in page]
    assert len(seen) == len(set(seen)) == len(entries)
    flat = [e for page in pages(entries, 25) for e in page]
    assert flat == sorted(entries, key=log_pages.order_key, reverse=True)


def test_moments_are_compared_as_moments_not_as_text():
    whole, later = entry("plans", 1, AT), entry("health", 2, AT + timedelta(microseconds=500000))
    assert whole["at"] > later["at"]  # as text '…00Z' sorts after '…00.500000Z'
    assert sorted([whole, later], key=log_pages.order_key, reverse=True) == [later, whole]


def test_an_edge_reads_back_and_nonsense_is_the_first_page():
    edge = log_pages.Edge(AT, "plans", 42)
    assert log_pages.parse_edge(edge.encode()) == edge
    assert log_pages.parse_edge("ikke-en-dato") is None and log_pages.parse_edge("") is None
    # An old link with only a moment: every service gives what is older.
    old = log_pages.parse_edge(AT.isoformat())
    assert old == log_pages.Edge(AT) and old.position_for("health") == (AT, 0)
    odd = log_pages.parse_edge(f"{AT.isoformat()}~<x>~-3")
    assert odd == log_pages.Edge(AT)


def test_services_before_and_after_the_edge_at_its_moment():
    edge = log_pages.Edge(AT, "notifications", 7)
    assert edge.position_for("notifications") == (AT, 7)
    assert edge.position_for("health") == (AT, log_pages.ID_ABOVE_ALL)  # comes after it: all of that moment
    assert edge.position_for("plans") == (AT, 0)  # came before it: only what is older
    assert edge.position_for("referrals") == (AT, 0)
