"""The visitation's Danish words: VUM themes and their 0–4 scale, characteristics, legal bases, how a
placement ends, and — in one place — what referrals' error codes and rule texts mean for the person at
the form.

Referrals answers every refusal with a stable ``code`` (``rule-violation``, ``conflict``, ``forbidden``,
``not-found`` …) and a ``detail`` in Danish (its matching exclusions and warnings too). A page shows the
detail as it is, dates as a Dane writes them, or as ``RULE_TEXTS`` says it where the API's words do not
suit the form; a detail that is not Danish never reaches the page: the code's Danish sentence
(``CODE_TEXTS``, then the kit's ``ERROR_LABELS``) stands in for it."""

from __future__ import annotations

import re

from services.portal.domain.words import ERROR_LABELS, is_danish

# VUM 2.0's themes (referrals' keys) by their Danish names, in VUM's order.
VUM_THEMES = {
    "praktiske_opgaver": "Praktiske opgaver i hjemmet",
    "egenomsorg": "Egenomsorg",
    "kommunikation": "Kommunikation",
    "mobilitet": "Mobilitet",
    "samfundsliv": "Samfundsliv (uddannelse, arbejde, økonomi)",
    "socialt_liv": "Socialt liv (relationer og netværk)",
    "sundhed": "Sundhed (fysisk og psykisk)",
    "misbrug": "Misbrug (stoffer og alkohol)",
    "risikoadfaerd": "Risikoadfærd (selvskade, udadreagerende adfærd, kriminalitet)",
}
# VUM's scale of functional limitation.
VUM_SCALE = {
    0: "Ingen eller ubetydelige begrænsninger",
    1: "Lette begrænsninger",
    2: "Moderate begrænsninger",
    3: "Svære begrænsninger",
    4: "Totale begrænsninger",
}
TRAITS = {
    "tilbagetrukket": "Tilbagetrukket", "udadreagerende": "Udadreagerende", "misbrug": "Misbrug",
    "dobbeltdiagnose": "Dobbeltdiagnose", "behandlingsdom": "Behandlingsdom", "selvskade": "Selvskade",
    "kognitiv_funktionsnedsaettelse": "Kognitiv funktionsnedsættelse",
}
LEGAL_BASES = {
    "SEL §107": "Midlertidigt botilbud (servicelovens § 107)",
    "SEL §108": "Længerevarende botilbud (servicelovens § 108)",
    "SEL §85": "Socialpædagogisk støtte (servicelovens § 85)",
    "ABL §105 + SEL §85": "Almen bolig med støtte (almenboliglovens § 105 og servicelovens § 85)",
}
END_CAUSES = {"stepped_down": "Trappet ned (lavere trin)", "moved_out": "Flyttet ud", "transferred": "Flyttet til andet tilbud",
              "died": "Død", "other": "Andet"}
# MedCom's hospital notice codes (HospitalNotification), as a visitation officer reads them.
NOTICE_CODES = {"STIN": "Indlagt", "STAA": "Indlagt akut", "STOR": "På orlov fra hospitalet",
                "SLOR": "Tilbage fra orlov", "SLHJ": "Udskrevet", "MORS": "Død"}
DESTINATIONS = {"own_home": "Egen bolig", "offer": "Et andet tilbud", "other": "Andet"}
CHANNELS = {"partner": "Samarbejdspartner", "staff": "Visitationen"}
DEADLINE_KINDS = {"decision": "Afgørelse", "complaint": "Klagefrist", "follow-up": "Opfølgning",
                  "temporary-stay-end": "Midlertidigt ophold slutter"}
STEPS = {1: "Trin 1 · åbne tilbud uden visitation", 2: "Trin 2", 3: "Trin 3", 4: "Trin 4", 5: "Trin 5",
         6: "Trin 6 · midlertidigt botilbud", 7: "Trin 7 · længerevarende botilbud"}


def theme_label(key: str) -> str:
    return VUM_THEMES.get(key, "Andet tema")


def scale_label(score) -> str:
    return VUM_SCALE.get(score, "Ikke vurderet") if isinstance(score, int) else "Ikke vurderet"


def trait_label(key: str) -> str:
    return TRAITS.get(key, "Andet kendetegn")


def legal_basis_label(value: str | None) -> str:
    return LEGAL_BASES.get(value or "", "–")


def end_cause_label(value: str | None) -> str:
    return END_CAUSES.get(value or "", "–")


def destination_label(value: str | None) -> str:
    return DESTINATIONS.get(value or "", "–")


def channel_label(value: str | None) -> str:
    return CHANNELS.get(value or "", "–")


def deadline_label(value: str | None) -> str:
    return DEADLINE_KINDS.get(value or "", "Frist")


# Referrals answers its rules in Danish (``detail``); a text here is said otherwise on the page, where the
# API's words (a field name) do not suit the person at the form. A pattern's groups are given to its
# template; a template may be a function of the match. Order matters: the first that matches wins.
RULE_TEXTS: list[tuple[re.Pattern[str], object]] = [(re.compile(p, re.S), t) for p, t in [
    (r"omfatter ikke borgeren i sin målgruppe \((.+?)\)\. Vælg",
     r"Borgeren hører ikke til tilbuddets målgruppe (\1). Skriv den faglige begrundelse for at bevilge alligevel."),
    (r"'(.+?)' har ingen ledig plads \((.+?)\)\. Vælg",
     r"'\1' har ingen ledig plads (\2). Vælg et andet passende tilbud, eller sæt kryds ved "
     r"»Sæt borgeren på ventelisten« for at bevilge med plads på ventelisten."),
]]
# What each code means when the rule itself is not recognised.
CODE_TEXTS = {
    "rule-violation": "Oplysningerne overholder ikke reglerne for sagen; ret dem og prøv igen.",
    "conflict": "Det kan ikke lade sig gøre i sagens nuværende status; siden viser sagen, som den står nu.",
    "invalid-request": "Nogle af oplysningerne mangler eller er ikke gyldige; ret dem og prøv igen.",
    "bad-request": "Forespørgslen kunne ikke forstås; prøv igen.",
    "refused": "Forespørgslen blev afvist.",
    "already-matched": "Hospitalsbeskeden er allerede knyttet til en borger.",
}
_ISO_DAY = re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b")


def translate(detail: str) -> str:
    """A rule text, exclusion or warning from referrals (or health) as the page says it: as the service
    wrote it, dates as a Dane reads them, or as ``RULE_TEXTS`` says it; "" when it is not Danish."""
    for pattern, template in RULE_TEXTS:
        found = pattern.search(detail)
        if found:
            return template(found) if callable(template) else found.expand(template)
    if is_danish(detail):
        return _ISO_DAY.sub(lambda m: f"{m[3]}.{m[2]}.{m[1]}", detail)
    return ""


def problem_text(code: str | None, detail, fallback: str | None = None) -> str:
    """The Danish sentence for a refusal: the rule recognised, else the code's meaning."""
    if isinstance(detail, str) and detail:
        text = translate(detail)
        if text:
            return text[0].upper() + text[1:]
    if code in ERROR_LABELS:
        return ERROR_LABELS[code]
    return CODE_TEXTS.get(code or "", fallback or "Forespørgslen blev afvist.")


def notice_code_label(code: str | None) -> str:
    """``STIN`` → "Indlagt"; ``RE_SLHJ`` → "Rettelse: Udskrevet"; ``AN_STIN`` → "Annulleret: Indlagt"."""
    code = (code or "").upper()
    prefix, _, base = code.rpartition("_")
    what = NOTICE_CODES.get(base, "Hospitalsbesked")
    return {"RE": f"Rettelse: {what}", "AN": f"Annulleret: {what}"}.get(prefix, what)
