"""Danish words for what the services answer in codes, and dates as a Dane reads them.

The services return stable codes (task status ``in_progress``, role ``nurse-consultant``, error code
``forbidden``); people read the Danish word. One place for each mapping, so no English code reaches a page.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

ROLE_LABELS = {
    "visitation": "Visitation", "coordinator": "Koordinator", "nurse-consultant": "Sygeplejekonsulent",
    "admin": "Administrator", "citizen": "Borger", "partner": "Samarbejdspartner",
}
TASK_STATUS_LABELS = {"open": "Åben", "claimed": "Taget", "in_progress": "I gang", "done": "Udført",
                      "cancelled": "Annulleret"}
PRIORITY_LABELS = {"routine": "Rutine", "urgent": "Haster", "asap": "Hurtigst muligt"}
CASE_STATUS_LABELS = {"received": "Modtaget", "screening": "Under udredning", "granted": "Bevilget", "refused": "Afslag",
                      "waiting": "På venteliste", "placed": "Flyttet ind", "ended": "Afsluttet", "withdrawn": "Trukket tilbage"}
NETWORK_ROLE_LABELS = {"coordinator": "Netværkskoordinator", "makker": "Makker", "nurse-consultant": "Sygeplejekonsulent",
                       "rehabilitation-leader": "Rehabiliteringsleder", "medication-partner": "Medicinmakker",
                       "other": "Andet"}
LA2_LABELS = {"green": "Grøn", "yellow": "Gul", "red": "Rød"}
ADMISSION_LABELS = {"not-admitted": "Ikke indlagt", "admitted": "Indlagt nu", "on-leave": "Indlagt, hjemme på orlov",
                    "discharged": "Udskrevet", "deceased": "Død"}
SERVICE_LABELS = {"referrals": "Visitation og sager", "plans": "Borgerens Plan", "health": "Sundhed",
                  "notifications": "Opgaver og påmindelser"}
# The kit's stable error codes (tovholder.errors, tovholder.auth): what a person reads instead.
ERROR_LABELS = {
    "forbidden": "Din rolle giver ikke adgang til dette.",
    "not-found": "Det findes ikke (eller du har ikke adgang til det).",
    "unauthorized": "Du er ikke logget ind længere; log ind igen.",
    "token-missing": "Du er ikke logget ind længere; log ind igen.",
    "token-expired": "Dit login er udløbet; log ind igen.",
    "token-invalid": "Dit login gælder ikke længere; log ind igen.",
    "token-role": "Dit login har en rolle, systemet ikke kender.",
    "token-incomplete": "Dit login mangler oplysninger; log ind igen.",
    "body-too-large": "Det indsendte er for stort.",
    "unavailable": "Tjenesten kan ikke nå sin database lige nu; intet er ændret. Prøv igen om lidt.",
    "control-character": "Teksten indeholder et tegn, der ikke kan gemmes; fjern det og prøv igen.",
}

# A service's sentence that is Danish (the services answer people in Danish) may be shown as it is; one
# that is not never reaches a page.
_DANISH_WORDS = re.compile(r"[æøå]|\b(og|ikke|er|en|et|skal|har|med|kan|det|den|der|som|af|på|til|fra|om|"
                           r"eller|kun|du|dit|din|ligger|ukendt|angiv|skriv|vælg|hvad|hvilken|borgeren|sagen|netværket|"
                           r"medarbejderen)\b", re.IGNORECASE)
_ENGLISH_WORDS = re.compile(r"\b(the|is|are|not|and|of|must|cannot|with|you|your)\b", re.IGNORECASE)


def number(value) -> str:
    """A number as a Dane writes it: 19,5 (no trailing zeros); "–" when there is none."""
    if value is None or value == "":
        return "–"
    return f"{float(value):g}".replace(".", ",")


def is_danish(text: str | None) -> bool:
    """Whether a service's sentence reads as Danish (and has no English in it)."""
    return bool(text) and bool(_DANISH_WORDS.search(text)) and not _ENGLISH_WORDS.search(text)


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", "Ukendt rolle")


def task_status_label(status: str | None) -> str:
    return TASK_STATUS_LABELS.get(status or "", "Ukendt status")


def priority_label(priority: str | None) -> str:
    return PRIORITY_LABELS.get(priority or "", "Ukendt prioritet")


def case_status_label(status: str | None) -> str:
    return CASE_STATUS_LABELS.get(status or "", "Ukendt status")


def service_label(service: str) -> str:
    return SERVICE_LABELS.get(service, service)


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def local_datetime(value: datetime | str | None) -> str:
    """``dd.mm.yyyy kl. HH:MM`` in Copenhagen time; "–" when there is none."""
    moment = _as_datetime(value)
    return moment.astimezone(COPENHAGEN).strftime("%d.%m.%Y kl. %H:%M") if moment else "–"


def local_date(value: date | datetime | str | None) -> str:
    """``dd.mm.yyyy`` (a datetime: the Copenhagen day it falls on)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    moment = _as_datetime(value)
    return moment.astimezone(COPENHAGEN).strftime("%d.%m.%Y") if moment else "–"


def network_role_label(role: str | None) -> str:
    return NETWORK_ROLE_LABELS.get(role or "", "Andet")


def la2_label(level: str | None) -> str:
    return LA2_LABELS.get(level or "", "Ikke vurderet")


def admission_label(state: str | None) -> str:
    return ADMISSION_LABELS.get(state or "", "Ukendt")
