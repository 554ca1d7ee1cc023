"""Min log's pages over four services (pure): the merged log is ordered newest first by the keyset
(moment, service, entry id), so entries that share a moment — one transaction's audit entries all do,
and two services can — are never skipped or repeated at a page edge.

A page edge is the last entry shown: (``at``, ``service``, ``entry_id``). The next page is every entry
below it in that order, which each service answers with its own (moment, id) cursor
(``tovholder.access_log.cursor_before`` of ``Edge.position_for``): at the edge's moment a service whose
name sorts below the edge's still owes all its entries, the edge's own service those with a lower id,
and a service whose name sorts above it none — only the older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

SEPARATOR = "~"
ID_ABOVE_ALL = 2**63 - 1  # above every audit entry id (a BIGINT)


@dataclass(frozen=True)
class Edge:
    at: datetime
    service: str = ""  # "" (an old link with a moment only): every service owes only the older entries
    entry_id: int = 0

    def encode(self) -> str:
        return f"{self.at.isoformat()}{SEPARATOR}{self.service}{SEPARATOR}{self.entry_id}"

    def position_for(self, service: str) -> tuple[datetime, int]:
        """(moment, id) such that this service's entries below it are those below the edge in the merged
        order (newest first: moment, service, id) — the service's own cursor is made of it."""
        if not self.service:
            return self.at, 0
        if service == self.service:
            return self.at, self.entry_id
        # Ordered descending, a service named below the edge's comes after it at the same moment.
        return self.at, ID_ABOVE_ALL if service < self.service else 0


def parse_edge(text: str | None) -> Edge | None:
    """The ``foer`` of a Min log link; anything unreadable is the first page (None)."""
    if not text:
        return None
    at_text, _, rest = text.partition(SEPARATOR)
    service, _, ident = rest.partition(SEPARATOR)
    try:
        at = datetime.fromisoformat(at_text)
        entry_id = int(ident) if ident else 0
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    if not service.isalpha() or entry_id < 0 or entry_id > ID_ABOVE_ALL:
        service, entry_id = "", 0
    return Edge(at, service, entry_id)


def order_key(entry: dict[str, Any]) -> tuple[datetime, str, int]:
    """Sort key of an entry as the services answer it (newest first is ``reverse=True``). The moment is
    compared as a moment, not as text ('…:00Z' and '…:00.5Z' sort wrongly as strings)."""
    return datetime.fromisoformat(entry["at"]), entry.get("service") or "", int(entry.get("entry_id") or 0)


def edge_of(entry: dict[str, Any]) -> Edge:
    at, service, entry_id = order_key(entry)
    return Edge(at, service, entry_id)
