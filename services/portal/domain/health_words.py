"""The nurse consultant's screens in Danish: health's codes (notice kinds, preparation steps, decisions,
depot outcomes, coercion measures, its error codes) as a person reads them, and the hospital stays a
citizen's notices describe. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

NOTICE_KINDS = {"admission": "Indlagt", "leave-started": "Orlov begyndt", "leave-ended": "Orlov slut",
                "discharge": "Udskrevet", "death": "Død"}
NOTICE_STATUS = {"active": "Gældende", "superseded": "Rettet", "cancelled": "Annulleret af sygehuset"}
STEPS = {"pre-assessment": "Forundersøgelse", "examination": "Undersøgelse og blodprøver",
         "medication-reconciliation": "Medicinafstemning", "medication-review": "Medicingennemgang"}
THEMES = {"teeth": "Tænder", "diet": "Kost", "exercise": "Motion og bevægelse", "sleep": "Søvn",
          "dependence": "Afhængighed", "pain": "Smerter", "nada": "NADA (øreakupunktur)"}
STEP_STATUS = {"done": "Gjort", "on-track": "I god tid", "due": "Skal gøres nu", "late": "Over frist",
               "not-applicable": "Bortfaldet"}
STEP_ROLES = {"staff": "en medarbejder", "gp": "lægen", "pharmacist": "farmaceuten"}
CHECK_STATUS = {"planned": "Planlagt", "declined": "Borgeren har sagt nej tak", "held": "Holdt", "cancelled": "Aflyst"}
PARTICIPANT_ROLES = {"citizen": "Borgeren", "staff": "Medarbejder, der kender borgeren", "minute-taker": "Referent",
                     "gp": "Praktiserende læge", "psychiatrist": "Psykiater", "pharmacist": "Farmaceut",
                     "forensic-nurse": "Retspsykiatrisk sygeplejerske"}
DECISION_KINDS = {"reduce-dose": "Sæt dosis ned", "stop-drug": "Stop et præparat", "start-drug": "Start et præparat",
                  "book-examination": "Book en undersøgelse", "watch-symptom": "Hold øje med et symptom",
                  "lifestyle": "Kost, rygning, alkohol, motion", "other": "Andet"}
CHANGE_KINDS = {"started": "Startet", "stopped": "Stoppet", "dose-changed": "Dosis ændret", "paused": "Pauseret",
                "other": "Anden ændring"}
CHANGE_SOURCES = {"staff": "Registreret her", "health-check": "Fra sundhedstjekket", "partner": "Fra samarbejdspartner"}
DEPOT_OUTCOMES = {"given": "Givet", "refused": "Borgeren sagde nej", "not-met": "Borgeren blev ikke truffet"}
MISS_REASONS = {"not-recorded": "Intet besøg registreret", "refused": "Borgeren sagde nej",
                "not-met": "Borgeren blev ikke truffet"}
COERCION_MEASURES = {"compulsory-admission": "Tvangsindlæggelse", "activate-treatment-order": "Aktivering af behandlingsdom",
                     "forced-medication": "Tvangsmedicinering", "other": "Andet"}
COERCION_DECISIONS = {"not-used": "Ikke brugt", "referred": "Henvist videre", "used": "Brugt"}
BLOOD_TESTS = {"red-blood-count": "Rødt blodbillede", "white-blood-count": "Hvidt blodbillede", "liver": "Levertal",
               "fluid": "Væsketal", "b12": "B12-vitamin", "vitamin-d": "D-vitamin", "cholesterol": "Kolesterol",
               "thyroid": "Stofskifte"}
MEASUREMENTS = {"height": "Højde", "weight": "Vægt", "waist": "Livvidde", "blood-pressure": "Blodtryk", "pulse": "Puls",
                "ecg": "Hjertekardiogram (EKG)", "spirometry": "Lungefunktion (spirometri)"}
EXAMINATION_PLACES = {"own-gp": "Hos egen læge", "mobile-lab": "Mobilt laboratorium på botilbuddet"}
CADENCE_YEARS = {"1": "Hvert år", "2": "Hvert andet år (lægeaftalen)"}
STAFF_CHANGE_SOURCES = {"staff": "Registreret her", "health-check": "Besluttet ved sundhedstjekket"}
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
TIMELINE_KINDS = {"hospital-notice": "Sygehusadvis", "medication-change": "Medicinændring",
                  "partner-document": "Dokument fra samarbejdspartner", "health-check": "Sundhedstjek",
                  "depot-visit": "Depotbesøg", "court": "Retten", "phone": "Telefon", "meeting": "Møde",
                  "letter": "Brev", "other": "Andet"}
CONTACT_KINDS = {"phone": "Telefon", "meeting": "Møde", "letter": "Brev", "court": "Retten", "other": "Andet"}
COUNTERPARTS = {"probation": "Kriminalforsorgen", "hospital": "Sygehus", "forensic-psychiatry": "Retspsykiatrien",
                "gp": "Egen læge", "specialist-dentistry": "Specialtandpleje", "lawyer": "Advokat",
                "drug-centre": "Misbrugscenter", "pharmacy": "Apotek", "physiotherapist": "Fysioterapeut",
                "psychiatric-ward": "Psykiatrisk afsnit", "emergency-department": "Akutmodtagelse",
                "psychiatrist": "Psykiater"}

# Health's error codes (beside the kit's, in words.ERROR_LABELS): what the person reads beside the form.
HEALTH_ERRORS = {
    "confirm-warnings": "Planen ligger uden for den sædvanlige dag. Læs advarslerne, og bekræft planen, hvis det er meningen.",
    "conflict": "Det er allerede registreret, eller nogen ændrede det samtidig; se siden igen.",
    "rule-violation": "Det strider mod en regel for sundhedsdata; ret det og prøv igen.",
    "invalid-request": "Nogle af oplysningerne er ikke gyldige; ret dem og prøv igen.",
    "not-found": "Det findes ikke, eller du har ikke adgang til det.",
    "forbidden": "Din rolle giver ikke adgang til dette.",
}
# Health's request fields, for an "invalid-request" answer that names a field.
FIELDS = {"days": "dagene", "slot_minutes": "minutter pr. borger", "per_day": "borgere pr. dag",
          "first_slot": "første tid", "held_at": "tidspunktet", "participants": "deltagerne", "name": "navnet",
          "minutes": "referatet", "decisions": "beslutningerne", "title": "beslutningen", "due_at": "fristen",
          "visited_at": "besøgstidspunktet", "outcome": "udfaldet", "schedule_id": "depotplanen",
          "considered_at": "tidspunktet", "situation": "situationen", "least_intrusive_alternative": "det mindst indgribende alternativ",
          "measure": "foranstaltningen", "decision": "beslutningen", "review_on": "dato for opfølgning",
          "citizens_words": "borgerens ord", "symptom_score": "symptomscoren", "done_on": "datoen",
          "wants_to_talk_about": "hvad borgeren vil tale om", "reason": "begrundelsen",
          "counterpart": "hvem", "org": "organisationen",
          "court": "retten", "judgment_date": "domsdatoen", "conditions": "vilkårene", "valid_until": "gyldig til",
          "forensic_team_org": "det retspsykiatriske team", "weekday": "ugedagen", "at": "klokkeslættet",
          "starts_on": "startdatoen", "ends_on": "slutdatoen", "interval_weeks": "hvor ofte",
          "grace_minutes": "fristen", "fmk_reference": "FMK-referencen", "change_kind": "ændringen",
          "changed_at": "tidspunktet for ændringen", "changed_by_org": "hvem der lavede ændringen", "note": "noten",
          "every_years": "hvor ofte", "extended_every_years": "det udvidede tjek", "where": "hvor",
          "blood_tests": "blodprøverne", "measurements": "målingerne", "what": "hvad", "occurred_at": "tidspunktet", "who": "personen"}


def label(table: Mapping[str, str], code: str | None, unknown: str = "Ukendt") -> str:
    return table.get(code or "", unknown)


def sentence(text: str) -> str:
    """A rule's reason as a sentence (health's rules speak in lower case, without a full stop)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def health_problem(code: str | None, detail: Any, fallback: str | None) -> str:
    """The Danish sentence beside a form for one of health's refusals."""
    if code == "rule-violation" and isinstance(detail, str) and detail:
        return sentence(detail)
    if code == "invalid-request" and isinstance(detail, list):
        names = sorted({FIELDS[p] for e in detail if isinstance(e, dict) for p in e.get("loc", ()) if p in FIELDS})
        if names:
            return f"Tjek {', '.join(names)}: {HEALTH_ERRORS['invalid-request'][0].lower()}{HEALTH_ERRORS['invalid-request'][1:]}"
    if code in HEALTH_ERRORS:
        return HEALTH_ERRORS[code]
    return fallback or "Sundhed afviste forespørgslen."


@dataclass
class Stay:
    """One hospital stay (an episode), as its effective notices describe it."""

    episode: str
    department: str
    sender: str
    admitted_at: datetime | None = None
    discharged_at: datetime | None = None
    leaves: list[tuple[datetime | None, datetime | None]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.discharged_at is None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def hospital_stays(notices: Iterable[Mapping[str, Any]]) -> list[Stay]:
    """The citizen's stays, newest first, from health's notices (corrections in place, cancellations out;
    every notice kept on its stay for the history)."""
    stays: dict[str, Stay] = {}
    for n in sorted(notices, key=lambda n: str(n.get("occurred_at") or "")):
        episode = str(n.get("hospital_episode_id") or "")
        stay = stays.setdefault(episode, Stay(episode, str(n.get("department") or ""),
                                              str(n.get("sender_name") or n.get("sender_org") or "")))
        if n.get("action") != "cancel":
            stay.notices.append(dict(n))
        if n.get("status") != "active" or n.get("action") == "cancel":
            continue
        when, kind = _moment(n.get("occurred_at")), n.get("kind")
        stay.department = str(n.get("department") or stay.department)
        if kind == "admission":
            stay.admitted_at = when
        elif kind in ("discharge", "death"):
            stay.discharged_at = when
        elif kind == "leave-started":
            stay.leaves.append((when, None))
        elif kind == "leave-ended" and stay.leaves and stay.leaves[-1][1] is None:
            stay.leaves[-1] = (stay.leaves[-1][0], when)
    kept = [s for s in stays.values() if s.admitted_at or s.discharged_at or s.leaves]
    return sorted(kept, key=lambda s: (s.admitted_at or s.discharged_at or s.leaves[0][0]).isoformat()
                  if (s.admitted_at or s.discharged_at or s.leaves[0][0]) else "", reverse=True)


def parse_days(text: str, limit: int = 60) -> list[date]:
    """Check days as a person types them: dd.mm.yyyy (or yyyy-mm-dd), separated by commas, spaces or lines.
    Raises ValueError with a Danish reason."""
    days: list[date] = []
    for part in text.replace(",", " ").replace(";", " ").split():
        try:
            if "." in part:
                d, m, y = part.split(".")
                days.append(date(int(y), int(m), int(d)))
            else:
                days.append(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"»{part[:20]}« er ikke en dato; skriv fx 12.03.2027.") from None
    if not days:
        raise ValueError("Skriv mindst én dag, fx 12.03.2027.")
    if len(days) > limit:
        raise ValueError(f"Højst {limit} dage ad gangen.")
    return days
