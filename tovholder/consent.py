"""The one consent decision: may this recipient receive this category of information about a citizen now?

Information about a citizen reaches a recipient outside the citizen's own network only
- under a consent of the citizen, in force at that moment, to that recipient for that category; or
- under a legal basis that *names that recipient* for that category.

A legal basis that lets information reach the municipality does not by itself let the municipality
pass it on: every basis below lists the recipients it names for onward delivery, and a basis that names
none opens nothing (the information then flows on only under the citizen's consent).

Pure (no I/O, no settings); every time must carry a time zone. A decision's ``reason`` is Danish (the
citizen's consent page and staff read it); its ``en`` says the same in English for the delivery log a
partner's developer reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from tovholder.clock import local

ORGANISATION = "organisation"
GROUP = "group"

# The categories of information in the words of a Danish sentence ("… at dele helbredsoplysninger med …").
CATEGORY_WORDS: Mapping[str, str] = MappingProxyType({
    "plan": "Borgerens Plan",
    "health": "helbredsoplysninger",
    "safety-plan": "tryghedsplanen",
    "fit": "FIT-scorer",
    "hospital-notice": "indlæggelses- og udskrivningsbeskeder",
})
GROUP_WORDS: Mapping[str, str] = MappingProxyType({"relatives": "pårørende"})


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives: an organisation (e.g. ``SOR:1234567``) or a group (e.g. ``relatives``)."""

    kind: str
    id: str

    @classmethod
    def organisation(cls, org: str) -> Recipient:
        return cls(ORGANISATION, org)

    def __str__(self) -> str:
        return self.id if self.kind == ORGANISATION else f"{self.kind} '{self.id}'"

    @property
    def danish(self) -> str:
        """The recipient in a Danish sentence: the organisation's id, or the group's name (pårørende)."""
        if self.kind == ORGANISATION:
            return self.id
        return GROUP_WORDS.get(self.id, f"gruppen '{self.id}'")


@dataclass(frozen=True, slots=True)
class Consent:
    """One consent of the citizen (as plans records it and every read model keeps it)."""

    consent_id: str
    recipient: Recipient
    category: str
    given_at: datetime
    revoked_at: datetime | None = None

    def names(self, recipient: Recipient, category: str) -> bool:
        return self.recipient == recipient and self.category == category

    def in_force(self, at: datetime) -> bool:
        # Half-open: from the moment it was given until the moment it was revoked; a revocation
        # applies to everything shared at or after it, never to what was shared before.
        return self.given_at <= at and (self.revoked_at is None or at < self.revoked_at)


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """A provision that lets information flow without consent, and to whom it lets it flow on."""

    reference: str
    categories: frozenset[str]
    # The recipients the provision names for onward delivery. Empty: it names none, so it opens no
    # delivery by itself, whoever asks.
    recipients: frozenset[Recipient]
    description: str

    def names(self, recipient: Recipient, category: str) -> bool:
        return category in self.categories and recipient in self.recipients


LEGAL_BASES: Mapping[str, LegalBasis] = MappingProxyType({
    # Retssikkerhedsloven (lov om retssikkerhed og administration på det sociale område) § 12 c, as the
    # integration contract records it on every hospital notice: the hospital's admission, leave,
    # discharge and death notices reach the municipality without the citizen's consent, so that the
    # municipality can act on them (the tovholder's tasks). The provision concerns the exchange between
    # hospital and municipality; it names no third party the municipality may pass the notice on to.
    "retssikkerhedsloven § 12 c": LegalBasis(
        reference="retssikkerhedsloven § 12 c",
        categories=frozenset({"health", "hospital-notice"}),
        recipients=frozenset(),
        description="hospital admission and discharge notices from the hospital to the municipality",
    ),
})


class Grounds(StrEnum):
    CONSENT = "consent"
    LEGAL_BASIS = "legal-basis"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    grounds: Grounds
    reason: str  # Danish, for the citizen and staff
    consent_id: str | None = None
    legal_basis: str | None = None
    en: str = ""  # the same in English, for a partner (the delivery log); ``reason`` when not given

    def __post_init__(self) -> None:
        if not self.en:
            object.__setattr__(self, "en", self.reason)

    @property
    def basis(self) -> str | None:
        """What allowed it, as recorded with a disclosure: ``consent <id>`` or the legal reference."""
        if self.grounds is Grounds.CONSENT:
            return f"consent {self.consent_id}"
        if self.grounds is Grounds.LEGAL_BASIS:
            return self.legal_basis
        return None

    def __bool__(self) -> bool:
        return self.allowed


def refused(reason: str, *, en: str | None = None) -> Decision:
    """A refusal: ``reason`` in Danish, ``en`` in English for a partner."""
    return Decision(False, Grounds.NONE, reason, en=en or reason)


def _category(category: str) -> str:
    return CATEGORY_WORDS.get(category, f"oplysninger af kategorien '{category}'")


def _when(moment: datetime) -> str:
    return local(moment).strftime("%d.%m.%Y kl. %H.%M")


def legal_bases_naming(recipient: Recipient, category: str,
                       bases: Mapping[str, LegalBasis] = LEGAL_BASES) -> list[LegalBasis]:
    """The provisions under which ``recipient`` receives ``category`` without consent (usually none)."""
    return [basis for basis in bases.values() if basis.names(recipient, category)]


def decide(*, consents: Iterable[Consent], legal_basis: str | None, recipient: Recipient, category: str,
           at: datetime, bases: Mapping[str, LegalBasis] = LEGAL_BASES) -> Decision:
    """May ``recipient`` receive information of ``category`` about the citizen at ``at``?

    ``consents`` are that citizen's consents (never another citizen's); ``legal_basis`` is the basis
    recorded on the information itself (e.g. on a hospital notice), or ``None``."""
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time cannot be compared honestly with recorded consent times.
        raise ValueError("the moment of sharing must carry a time zone")
    basis = bases.get(legal_basis) if legal_basis else None
    if basis is not None and basis.names(recipient, category):
        return Decision(True, Grounds.LEGAL_BASIS, f"hjemmel i loven: {basis.reference}", legal_basis=basis.reference,
                        en=f"legal basis: {basis.reference}")

    matching = [c for c in consents if c.names(recipient, category)]
    in_force = [c for c in matching if c.in_force(at)]
    if in_force:
        chosen = max(in_force, key=lambda c: c.given_at)
        return Decision(True, Grounds.CONSENT, f"borgerens samtykke {chosen.consent_id}", consent_id=chosen.consent_id,
                        en=f"consent {chosen.consent_id}")

    what, to = _category(category), recipient.danish
    if basis is not None:
        why_not_basis = (f"; {basis.reference} giver ikke hjemmel til at dele {what} med andre end kommunen",
                         f"; {basis.reference} names no recipient of '{category}' beyond the municipality")
    elif legal_basis:
        why_not_basis = (f"; '{legal_basis}' er ikke en hjemmel, der tillader deling",
                         f"; '{legal_basis}' is not a legal basis that allows sharing")
    else:
        why_not_basis = ("", "")
    revoked = sorted((c for c in matching if c.revoked_at is not None and c.revoked_at <= at),
                     key=lambda c: c.revoked_at)
    if revoked:
        last = revoked[-1]
        return refused(f"borgerens samtykke til at dele {what} med {to} blev trukket tilbage "
                       f"{_when(last.revoked_at)}{why_not_basis[0]}",
                       en=f"consent {last.consent_id} for {recipient} ('{category}') was revoked "
                          f"{last.revoked_at.isoformat()}{why_not_basis[1]}")
    if matching:
        return refused(f"borgeren har ikke et samtykke i kraft {_when(at)} til at dele {what} med {to}{why_not_basis[0]}",
                       en=f"no consent for {recipient} ('{category}') is in force at {at.isoformat()}{why_not_basis[1]}")
    return refused(f"borgeren har ikke givet samtykke til at dele {what} med {to}{why_not_basis[0]}",
                   en=f"the citizen has given no consent that covers {recipient} for '{category}'{why_not_basis[1]}")
