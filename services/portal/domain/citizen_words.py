"""The citizen's own words for what the services answer in codes (issue 13): plain Danish, written to
"du". Staff's words stay in ``words.py``; these are the citizen pages' only source of labels."""

from __future__ import annotations

from services.portal.domain.words import number

# What the citizen's pages may say after a redirect: by key, so no text from a URL is ever shown.
MESSAGES = {
    "perspektiv-gemt": "Tak. Dit syn er skrevet i planen.",
    "kommentar-gemt": "Tak. Din kommentar er skrevet i planen.",
    "maal-gemt": "Dit mål er skrevet i planen. Dit netværk kan se det.",
    "moede-bedt": "Du har bedt om et netværksmøde. Din koordinator har fået en opgave om det.",
    "tovholder-skiftet": "Du har skiftet tovholder.",
    "samtykke-givet": "Dit samtykke er gemt.",
    "samtykke-traekket": "Du har trukket dit samtykke tilbage. Fra nu af deles der ikke mere med den modtager.",
    "fit-delt": "Målingen er nu delt med dem, der hjælper dig.",
    "fit-ikke-delt": "Målingen deles ikke længere.",
    "forkert-formular": "Formularen var forældet; prøv igen.",
}

GOAL_KINDS = {"develop": "Noget jeg vil lære eller opnå", "maintain": "Noget jeg vil holde fast i",
              "harm-reduction": "Noget der skal gøre mindre skade"}
GOAL_STATUS = {"active": "I gang", "paused": "Sat på pause", "achieved": "Nået", "dropped": "Sluppet"}
SUB_GOAL_KINDS = {"ordinary": "Delmål", "snublemaal": "Snublemål", "afklaringsdelmaal": "Afklaringsdelmål"}
ENTRY_KINDS = {"citizen-perspective": "Mit syn", "staff-observation": "Personalet skrev",
               "citizen-comment": "Min kommentar"}
RESPONSIBLE = {"citizen": "Dig", "staff": "En medarbejder", "external": "En samarbejdspartner"}

CONSENT_CATEGORIES = {
    "plan": "din plan (mål, delmål og handlinger)",
    "health": "dine helbredsoplysninger",
    "safety-plan": "din tryghedsplan og tryghedsvurdering",
    "fit": "dine FIT-målinger (hvordan du har det, og hvordan samtalerne går)",
    "hospital-notice": "besked om indlæggelse og udskrivelse",
}
CONSENT_RECIPIENT_KINDS = {"organisation": "Organisation", "group": "Gruppe"}
RECIPIENT_GROUPS = {"relatives": "dine pårørende"}

# What flows without consent, by the provision's reference (tovholder.consent.LEGAL_BASES), in plain words.
WITHOUT_CONSENT = {
    "retssikkerhedsloven § 12 c": "Når du bliver indlagt, er på orlov eller bliver udskrevet, giver hospitalet "
                                  "kommunen besked, også uden dit samtykke, så dit botilbud kan hjælpe dig. "
                                  "Kommunen må ikke give beskeden videre til andre.",
}

MEETING_STATUS = {"requested": "Du har bedt om mødet; din koordinator finder en tid",
                  "scheduled": "Mødet har fået en tid", "held": "Mødet er holdt", "cancelled": "Mødet er aflyst"}

CASE_DECISIONS = {"granted": "Bevilget", "refused": "Afslag"}
# How to complain about a decision on social support (retssikkerhedsloven §§ 60 og 66-67).
COMPLAINT_HOW = ("Er du uenig i en afgørelse, kan du klage. Klag til kommunen inden 4 uger efter, at du fik "
                 "afgørelsen; du kan klage skriftligt eller mundtligt. Kommunen ser på sagen igen. Giver kommunen "
                 "dig ikke ret, sender den klagen videre til Ankestyrelsen. Du kan få hjælp til at klage af din "
                 "koordinator eller en bisidder.")

# Min log: the services as the citizen knows them.
LOG_SERVICES = {"referrals": "Sag og visitation", "plans": "Plan, netværk og samtykker", "health": "Helbred",
                "notifications": "Opgaver og beskeder"}
LOG_KINDS = {"læst": "Set", "ændret": "Ændret"}
LOG_PERIODS = {"": "Hele perioden", "7": "Den seneste uge", "30": "Den seneste måned", "365": "Det seneste år"}


def label(mapping: dict[str, str], key: str | None, default: str = "Andet") -> str:
    return mapping.get(key or "", default)


def consent_category(category: str | None) -> str:
    return CONSENT_CATEGORIES.get(category or "", "andre oplysninger")


def recipient_label(consent: dict) -> str:
    if consent.get("recipient_kind") == "group":
        return RECIPIENT_GROUPS.get(consent.get("recipient_id") or "", consent.get("recipient_name") or "en gruppe")
    return consent.get("recipient_name") or f"organisationen {consent.get('recipient_id')}"


PLAN_CHANGES = {"plan-opened": "Planen blev oprettet", "goal-added": "Et mål kom til", "goal-changed": "Et mål blev ændret",
                "sub-goal-added": "Et delmål kom til", "action-added": "En handling kom til",
                "action-done": "En handling blev gjort", "cadence-changed": "Hvor tit I følger op, blev ændret",
                "entry-added": "Der blev skrevet i planen", "comment-added": "Der kom en kommentar",
                "perspective-added": "Der kom et syn på planen", "observation-added": "Personalet skrev i planen"}

FIT_MEANING = ("Under 25 på ORS kan betyde, at du har det svært lige nu. Under 36 på SRS kan betyde, at samtalerne "
               "ikke passer helt til dig; sig det gerne til den, du taler med.")


def score(value: float | None) -> str:
    """A FIT score as a Dane writes it: 27 or 27,5; "–" when there is none (or it is not shared)."""
    return number(value)
