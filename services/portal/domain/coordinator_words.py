"""Danish words for the coordinator's screens: what plans answers in codes (goal kinds, statuses, entry
kinds, cadences, consent categories, FIT trends), and its refusals (Danish from plans) as sentences, so no
English code or sentence reaches a page. Pure: no I/O."""

from __future__ import annotations

import re

from services.portal.domain.words import is_danish, number  # noqa: F401  (number: the templates' cw.number)

GOAL_KINDS = {"develop": "Udvikle (lære eller opnå noget)", "maintain": "Fastholde (ikke miste det, der virker)",
              "harm-reduction": "Skadesreduktion"}
GOAL_STATUSES = {"active": "Aktivt", "paused": "Sat på pause", "achieved": "Nået", "dropped": "Opgivet af borgeren"}
SUB_GOAL_KINDS = {"ordinary": "Almindeligt delmål", "snublemaal": "Snublemål (kort og motiverende)",
                  "afklaringsdelmaal": "Afklaringsdelmål"}
ENTRY_KINDS = {"citizen-perspective": "Borgerens perspektiv", "staff-observation": "Medarbejdernes perspektiv",
               "citizen-comment": "Borgerens kommentar"}
ACTOR_KINDS = {"staff": "Medarbejder", "citizen": "Borgeren selv", "external": "Ekstern"}
# Cadence presets plans knows (services/plans/domain/cadence.py), as a person chooses them.
CADENCES = {"14-days": "Hver 14. dag", "8-weeks": "Hver 8. uge", "2-3-months": "Hver 2.–3. måned",
            "sel-103": "Halvårligt (SEL § 103)", "sel-104": "Årligt (SEL § 104)"}
CHANGE_BASES = {"citizen-choice": "Borgerens eget valg", "initial-assignment": "Tildelt, før borgeren kender personalet"}
PLAN_CHANGES = {
    "plan-opened": "Planen blev oprettet", "cadence-changed": "Planens opfølgning blev ændret", "goal-added": "Et mål blev tilføjet", "goal-changed": "Et mål blev ændret",
    "sub-goal-added": "Et delmål blev tilføjet", "action-added": "En handling blev tilføjet",
    "action-done": "En handling blev udført", "entry-added": "Et perspektiv blev skrevet",
    "comment-added": "Borgeren kommenterede",
}
DIFF_KINDS = {"added": "Tilføjet", "removed": "Fjernet", "changed": "Ændret"}
DIFF_FIELDS = {
    "goals": "Mål", "sub_goals": "Delmål", "actions": "Handling", "entries": "Perspektiv", "text": "tekst",
    "status": "status", "kind": "slags", "cadence": "opfølgning", "done_on": "udført", "due_on": "frist",
    "responsible": "ansvarlig", "smart": "SMART", "written_with_citizen": "skrevet med borgeren",
    "follow_up_owner": "ansvarlig for opfølgning", "time_bound": "tidsfrist", "specific": "specifikt",
    "measurable": "målbart", "achievable": "realistisk", "relevant": "relevant",
}
TRYGHEDSPLAN_PARTS = {
    "triggers": "Det, der kan udløse uro", "early_signs": "Tidlige tegn", "what_helps": "Det, der hjælper",
    "staff_should_do": "Det skal personalet gøre", "staff_should_avoid": "Det skal personalet undgå",
}
LEARNING_OUTCOMES = {"difficult": "Svær episode", "went-well": "Episode, der gik godt"}
CONSENT_CATEGORIES = {"plan": "Borgerens Plan", "health": "Helbredsoplysninger", "safety-plan": "Tryghedsplanen",
                      "fit": "FIT-scorer", "hospital-notice": "Indlæggelses- og udskrivningsbeskeder"}
RECIPIENT_KINDS = {"organisation": "Organisation", "group": "Gruppe"}
RECIPIENT_GROUPS = {"relatives": "Pårørende"}
FIT_DIRECTIONS = {"improving": "Bedring", "worsening": "Forværring", "stable": "Stabil",
                  "not-enough-data": "For få samtaler til en tendens"}
FIT_ANSWERED = {"items": "fire markeringer", "smileys": "smileys", "total": "total"}

GENERIC_RULE = "Det kan ikke gemmes, fordi det bryder en regel for Borgerens Plan; ret oplysningerne og prøv igen."


def rule_message(detail: str | None) -> str:
    """A plans refusal (its ``detail``) as a Danish sentence: plans answers its rules in Danish, shown as
    they are (a capital, a full stop); anything else a general Danish sentence (never English on a page)."""
    text = (detail or "").strip()
    if is_danish(text):
        return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return GENERIC_RULE




# A network meeting the citizen called, as staff read its status (citizen_words has the citizen's).
MEETING_STATUS = {"requested": "Borgeren har bedt om mødet; det mangler en tid", "scheduled": "Mødet har en tid",
                  "held": "Holdt", "cancelled": "Aflyst"}
MEETING_OUTCOMES = {"held": "Mødet er holdt", "cancelled": "Mødet er aflyst"}


def label(table: dict[str, str], code: str | None, fallback: str = "Ukendt") -> str:
    return table.get(code or "", fallback)


def lines(text: str | None, *, limit: int = 30) -> list[str]:
    """A textarea's lines as a list: one point per line, empty lines left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()][:limit]


def diff_path(path: str, names: dict[str, str]) -> str:
    """``goals[<id>].sub_goals[<id>].text`` as a Danish phrase, naming goals and sub-goals by their text
    (``names``: id → text) instead of ids."""
    parts = []
    for segment in path.split("."):
        match = re.fullmatch(r"(\w+)(?:\[([^\]]+)\])?", segment)
        if not match:
            continue
        field, ident = match.groups()
        word = DIFF_FIELDS.get(field, "")
        if ident:
            known = names.get(ident)
            parts.append(f"{word or 'Del'} »{known}«" if known else word or "Del")
        elif word:
            parts.append(word)
    return ", ".join(parts) or "Planen"


def diff_value(value) -> str:
    """A before/after value, short and without codes."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, dict):
        if "text" in value:
            return f"»{value['text']}«"
        if "label" in value and value.get("label"):
            return cadence_label(value)
        return "…"
    if isinstance(value, list):
        return f"{len(value)} punkter"
    text = str(value)
    for table in (GOAL_STATUSES, GOAL_KINDS, SUB_GOAL_KINDS, ENTRY_KINDS):
        if text in table:
            return table[text]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        year, month, day = text.split("-")
        return f"{day}.{month}.{year}"
    return text if len(text) <= 200 else text[:199] + "…"


def cadence_label(cadence: dict | None) -> str:
    """A stored cadence (days/months/latest_months) in Danish."""
    if not cadence:
        return "Ingen fast opfølgning"
    days, months, latest = cadence.get("days") or 0, cadence.get("months") or 0, cadence.get("latest_months")
    if months and latest:
        return f"Hver {months}.–{latest}. måned"
    if months:
        return {6: "Halvårligt", 12: "Årligt"}.get(months, f"Hver {months}. måned")
    if days and days % 7 == 0 and days > 14:
        return f"Hver {days // 7}. uge"
    return f"Hver {days}. dag" if days else "Ingen fast opfølgning"
