"""The work queue's filters as a person chooses them (Danish words in the address) and as
notifications' API takes them; and which actions a task offers its owner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PRIORITIES = {"rutine": "routine", "haster": "urgent", "hurtigst": "asap"}
DUE_CHOICES = {"over-frist": "Over frist", "i-dag": "Senest i dag", "uge": "Inden for en uge"}
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueChoice:
    """What the person chose (kept in the address, so a link shows the same queue)."""

    type: str = ""
    frist: str = ""
    prioritet: str = ""
    side: str = ""  # notifications' cursor for the next page

    def api_params(self, today: date) -> dict[str, str]:
        params: dict[str, str] = {"limit": str(PAGE_SIZE)}
        if self.type:
            params["kind"] = self.type
        if self.prioritet in PRIORITIES:
            params["priority"] = PRIORITIES[self.prioritet]
        if self.frist == "over-frist":
            params["overdue"] = "true"
        elif self.frist == "i-dag":
            params["due_before"] = today.isoformat()
        elif self.frist == "uge":
            params["due_before"] = (today + timedelta(days=6)).isoformat()
        if self.side:
            params["cursor"] = self.side
        return params

    def query(self, **changes: str) -> str:
        """The address's query for this choice with ``changes`` (empty values left out)."""
        from urllib.parse import urlencode

        values = {"type": self.type, "frist": self.frist, "prioritet": self.prioritet, "side": self.side, **changes}
        return urlencode({k: v for k, v in values.items() if v})


def parse_choice(params: Mapping[str, str]) -> QueueChoice:
    def pick(name: str, allowed=None, limit: int = 300) -> str:
        value = str(params.get(name) or "")[:limit]
        return value if allowed is None or value in allowed else ""

    return QueueChoice(type=pick("type", limit=60), frist=pick("frist", DUE_CHOICES),
                       prioritet=pick("prioritet", PRIORITIES), side=pick("side"))


# The portal's action words → notifications' transitions, and what the person is told afterwards.
ACTIONS = {
    "tag": ("claim", "Du har taget opgaven."),
    "start": ("start", "Opgaven er sat i gang."),
    "status": ("business-status", "Din status på opgaven er gemt."),
    "laeg-tilbage": ("release", "Opgaven er lagt tilbage i puljen."),
    "udfoer": ("complete", "Opgaven er udført."),
}


def actions_for(task: Mapping, me: str) -> list[str]:
    """The actions a task offers the person looking at it (the service decides in the end)."""
    status, owner = task.get("status"), task.get("owner")
    if status == "open" and owner is None:
        return ["tag"]
    if owner == me and status == "open":
        return ["tag", "laeg-tilbage"]
    if owner == me and status == "claimed":
        return ["start", "status", "laeg-tilbage", "udfoer"]
    if owner == me and status == "in_progress":
        return ["status", "laeg-tilbage", "udfoer"]
    return []
