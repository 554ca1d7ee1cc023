"""Which screens a signed-in person sees in the one navigation, by role (authorisation itself stays
in the services: a screen left out here would still be refused there)."""

from __future__ import annotations

from dataclasses import dataclass

STAFF_ROLES = frozenset({"visitation", "coordinator", "nurse-consultant", "admin"})
PORTAL_ROLES = STAFF_ROLES | {"citizen"}


@dataclass(frozen=True)
class Screen:
    path: str
    label: str


STAFF_SCREENS = (Screen("/", "Forside"), Screen("/arbejdsko", "Arbejdskø"), Screen("/borgere", "Borgere"))
CITIZEN_SCREENS = (Screen("/", "Forside"), Screen("/min-plan", "Min plan"), Screen("/min-sag", "Min sag"),
                   Screen("/mit-netvaerk", "Mit netværk"), Screen("/mine-samtykker", "Mine samtykker"),
                   Screen("/min-fit", "Min FIT"), Screen("/min-log", "Min log"))


def may_sign_in(role: str) -> bool:
    """Staff and citizens use the portal; partner systems use the partner API."""
    return role in PORTAL_ROLES


VISITATION_SCREENS = (Screen("/visitation", "Sager"), Screen("/visitation/kapacitet", "Kapacitet"),
                      Screen("/visitation/flow", "Flowrapport"), Screen("/visitation/hospitalsbeskeder", "Hospitalsbeskeder"))


# The nurse consultant (the citizen's tovholder): pages/health.py.
NURSE_SCREENS = (Screen("/helbred/indlagte", "Indlagte nu"), Screen("/helbred/helbredstjek", "Sundhedstjek"),
                 Screen("/helbred/dagsplan", "Dagsplan"))


def screens_for(role: str) -> tuple[Screen, ...]:
    if role == "nurse-consultant":
        return STAFF_SCREENS + NURSE_SCREENS
    if role == "citizen":
        return CITIZEN_SCREENS
    if role in ("visitation", "admin"):
        return STAFF_SCREENS + VISITATION_SCREENS
    return STAFF_SCREENS if role in STAFF_ROLES else ()
