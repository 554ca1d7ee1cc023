"""Who may see which part of an installation's records: one rule for single reads and lists alike.

A ``Scope`` says which municipality, botilbud, citizen or partner organisation an actor's reads are
limited to. A single read asks ``scope.sees_*`` about the one record; a list query asks the same
scope for its filter (``only_municipality`` + ``sees_records_without_municipality``, ``botilbud``,
``citizen_id``, ``org``), so a list never shows what the single read would refuse. Pure: no I/O.

Municipality. Visitation staff's token may name the municipality whose cases they handle (claim
``municipality``); without it they handle every case of the installation (an installation serving
one municipality). A record that names no municipality of its own — a partner's referral, a
hospital notice whose CPR matched nobody — belongs to the *receiving* municipality: a partner
message arrives at one municipality's installation, so it is that municipality's to handle. The
installation says which municipality it serves in ``TOVHOLDER_MUNICIPALITY``. If it does not,
such records are seen only by staff not limited to one municipality: a claim cannot be matched
against an unnamed municipality, and guessing would show them to every municipality's staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# The demo data's visitation staff work for København (tovholder/demo.py): a development
# installation without TOVHOLDER_MUNICIPALITY serves København, so `make run` works as documented.
DEVELOPMENT_MUNICIPALITY = "København"


class _Settings(Protocol):
    municipality: str | None
    environment: str


class PrincipalClaims(Protocol):
    """What a token says of its holder (``tovholder.auth.Principal``)."""

    sub: str
    role: str
    org: str | None
    botilbud: str | None
    municipality: str | None


def serving_municipality(settings: _Settings) -> str | None:
    """The municipality the installation serves: where records without a municipality belong."""
    if settings.municipality:
        return settings.municipality
    return DEVELOPMENT_MUNICIPALITY if settings.environment == "development" else None


def receiving_municipality(recorded: str | None, serving: str | None) -> str | None:
    """The municipality a record belongs to: its own, else the one whose installation received it."""
    return recorded or serving


@dataclass(frozen=True)
class Scope:
    """The records an actor may see. A field that is None does not limit; the ``sees_*`` questions
    answer for one record, the properties give the same limits to a list query."""

    role: str
    only_municipality: str | None = None  # visitation with a municipality claim
    serving: str | None = None  # the installation's municipality (records that name none belong to it)
    botilbud: str | None = None  # coordinators, nurse consultants: their botilbud
    citizen_id: str | None = None  # a citizen: themselves
    org: str | None = None  # a partner: what its organisation sent

    def sees_municipality(self, recorded: str | None) -> bool:
        if self.only_municipality is None:
            return True
        return receiving_municipality(recorded, self.serving) == self.only_municipality

    @property
    def sees_records_without_municipality(self) -> bool:
        """Whether records that name no municipality (they belong to the serving one) are in scope."""
        return self.sees_municipality(None)

    def sees_botilbud(self, botilbud: str | None) -> bool:
        return self.botilbud is not None and botilbud == self.botilbud

    def is_citizen(self, citizen_id: object) -> bool:
        return self.citizen_id is not None and str(citizen_id) == self.citizen_id

    def sent_by(self, org: str | None) -> bool:
        return self.org is not None and org == self.org


def scope_for(role: str, *, sub: str, org: str | None = None, botilbud: str | None = None,
              municipality: str | None = None, serving: str | None = None) -> Scope:
    """The scope of an actor with these claims. Which role may read what at all is each service's
    rule; the scope narrows it to the records within the actor's reach."""
    if role == "visitation":
        return Scope(role, only_municipality=municipality or None, serving=serving)
    if role in ("coordinator", "nurse-consultant"):
        return Scope(role, botilbud=botilbud or None, serving=serving)
    if role == "citizen":
        return Scope(role, citizen_id=sub, serving=serving)
    if role == "partner":
        return Scope(role, org=org or None, serving=serving)
    return Scope(role, serving=serving)


def scope_of(principal: PrincipalClaims, *, serving: str | None) -> Scope:
    """The scope of a caller's token. ``serving``: ``serving_municipality(settings)``."""
    return scope_for(principal.role, sub=principal.sub, org=principal.org, botilbud=principal.botilbud,
                     municipality=principal.municipality, serving=serving)
