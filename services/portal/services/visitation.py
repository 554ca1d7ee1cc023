"""The visitation's use cases: a case's whole life along the indsatstrappe (intake, screening, the VUM
assessment, matching, grant or refusal, waitlist and reserved places, move-in, follow-ups, move-out plan
and phase-out visits, step-down, end, withdraw, reopen), the unmatched hospital notices, the flow report
and the capacity per offer. Every call goes to referrals (or health) with the person's own token; the
services decide and audit. A refusal comes back as the Danish sentence of ``visitation_words``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.portal.backends import Backends, Reply
from services.portal.domain import visitation_words as vw
from services.portal.services import Part, SignedIn, botilbud_names, forget_botilbud_names

FormData = Mapping[str, str]


class FormProblem(ValueError):
    """What the person typed cannot be sent as it is (Danish; shown next to the form)."""


def problem_of(reply: Reply) -> str:
    """A service's refusal as a Danish sentence (the rule recognised, else the code's meaning)."""
    if reply.status is None or (reply.status or 0) >= 500:
        return reply.problem or "Tjenesten svarer ikke lige nu; intet er ændret."
    body = reply.data if isinstance(reply.data, dict) else {}
    return vw.problem_text(reply.code, body.get("detail"), reply.problem)


# ---------------------------------------------------------------- reading what a form sent


def text(form: FormData, name: str, *, required: str | None = None) -> str | None:
    value = (form.get(name) or "").strip()
    if not value and required:
        raise FormProblem(required)
    return value or None


def day(form: FormData, name: str, *, required: str | None = None) -> str | None:
    value = text(form, name, required=required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise FormProblem("Datoen er ikke gyldig; vælg den i kalenderen (dd.mm.åååå).") from None


def whole(form: FormData, name: str, *, low: int, high: int, what: str, required: bool = False) -> int | None:
    value = text(form, name, required=f"Udfyld {what}." if required else None)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise FormProblem(f"{what[0].upper()}{what[1:]} skal være et helt tal fra {low} til {high}.") from None
    if not low <= number <= high:
        raise FormProblem(f"{what[0].upper()}{what[1:]} skal være et helt tal fra {low} til {high}.")
    return number


def legal_basis(form: FormData) -> str:
    value = text(form, "legal_basis", required="Vælg lovgrundlaget.")
    if value not in vw.LEGAL_BASES:
        raise FormProblem("Vælg lovgrundlaget.")
    return value


# ---------------------------------------------------------------- intake


def referral_body(form: FormData) -> dict[str, Any]:
    body = {
        "cpr": text(form, "cpr", required="Skriv borgerens CPR-nummer."),
        "citizen_name": text(form, "citizen_name", required="Skriv borgerens navn."),
        "reason": text(form, "reason", required="Skriv årsagen til henvisningen."),
        "citizen_wishes": text(form, "citizen_wishes"),
        "requested_step": whole(form, "requested_step", low=1, high=7, what="det ønskede trin"),
        "requested_offer": text(form, "requested_offer") if form.get("requested_offer") in vw.LEGAL_BASES else None,
        "requested_offer_id": text(form, "requested_offer_id"),
        "municipality": text(form, "municipality"),
    }
    return {k: v for k, v in body.items() if v is not None}


async def create_referral(backends: Backends, user: SignedIn, form: FormData) -> tuple[str | None, str | None]:
    """(the case's id, None) or (None, the Danish problem)."""
    try:
        body = referral_body(form)
    except FormProblem as problem:
        return None, str(problem)
    reply = await backends.post("referrals", "/api/v1/referrals", user.token, json=body)
    if not reply.ok:
        return None, problem_of(reply)
    return reply.data["referral_id"], None


async def intake_page(backends: Backends, user: SignedIn) -> dict[str, Any]:
    offers = await backends.get("referrals", "/api/v1/offers", user.token)
    return {"offers": Part.of(offers), "signed_out": offers.signed_out}


# ---------------------------------------------------------------- the case page


async def case_page(backends: Backends, user: SignedIn, referral_id: str) -> dict[str, Any]:
    """The case with everything its next steps need: the offers (names, places), the matching table
    while it is being decided, the waitlist of its offer while it waits, and the staff's names."""
    case, offers = await backends.gather(
        backends.get("referrals", f"/api/v1/referrals/{referral_id}", user.token),
        backends.get("referrals", "/api/v1/offers", user.token))
    data: dict[str, Any] = {"case": Part(data=case.data if case.ok else None,
                                         problem=problem_of(case) if not case.ok else None),
                            "offers": Part.of(offers), "signed_out": case.signed_out or offers.signed_out,
                            "not_found": case.status in (403, 404), "matches": Part(), "waitlist": Part()}
    row = case.data if case.ok else None
    names = await botilbud_names(backends, user)
    data["offer_names"] = {k.removeprefix("offer:"): v for k, v in names.items() if k.startswith("offer:")}
    data["botilbud_names"] = {k: v for k, v in names.items() if not k.startswith("offer:")}
    if not row:
        return data
    if row["status"] == "screening" and row.get("assessment"):
        matches = await backends.get("referrals", f"/api/v1/referrals/{referral_id}/matches", user.token, all_steps="true")
        data["matches"] = Part(data=matches.data if matches.ok else None, problem=None if matches.ok else problem_of(matches))
    if row["status"] in ("granted", "waiting") and row.get("offer_id"):
        data["waitlist"] = await waitlist_part(backends, user, row["offer_id"])
    return data


async def waitlist_part(backends: Backends, user: SignedIn, offer_id: str) -> Part:
    """An offer's waitlist with the citizens' names (from the case list of the waiting cases)."""
    waitlist, waiting = await backends.gather(
        backends.get("referrals", f"/api/v1/offers/{offer_id}/waitlist", user.token),
        backends.get("referrals", "/api/v1/referrals", user.token, offer_id=offer_id, limit=200))
    if not waitlist.ok:
        return Part(problem=problem_of(waitlist))
    named = {c["referral_id"]: c["citizen_name"] for c in (waiting.data or [])} if waiting.ok else {}
    for entry in waitlist.data["entries"]:
        entry["citizen_name"] = named.get(entry["referral_id"], "Borger (navn ikke tilgængeligt)")
    return Part(data=waitlist.data)


def mentioned_staff(case: Mapping[str, Any] | None) -> set[str]:
    if not case:
        return set()
    subs = {h.get("by") for h in case.get("history", [])} | {case.get("decided_by")}
    subs |= {(case.get("assessment") or {}).get("assessed_by"), (case.get("move_out_plan") or {}).get("planned_by")}
    return {s for s in subs if s}


# ---------------------------------------------------------------- changing a case


def _assessment(form: FormData) -> dict[str, Any]:
    scores = {}
    for key, label in vw.VUM_THEMES.items():
        value = (form.get(f"score_{key}") or "").strip()
        if value == "":
            continue
        if value not in {"0", "1", "2", "3", "4"}:
            raise FormProblem(f"{label}: vælg en score fra 0 til 4.")
        scores[key] = int(value)
    if not scores:
        raise FormProblem("Vurdér mindst ét tema på skalaen 0–4.")
    traits = [t for t in form.getlist("traits")] if hasattr(form, "getlist") else []
    return {"scores": scores, "wishes": text(form, "wishes", required="Skriv borgerens egne ønsker med borgerens ord."),
            "needs": text(form, "needs"), "resources": text(form, "resources"),
            "traits": [t for t in traits if t in vw.TRAITS]}


def _grant(form: FormData) -> dict[str, Any]:
    offer = text(form, "offer_id", required="Vælg det tilbud, borgeren bevilges.")
    return {"decision": "granted", "legal_basis": legal_basis(form), "offer_id": offer,
            "step": whole(form, "step", low=1, high=7, what="trinnet"),
            "start_date": day(form, "start_date", required="Vælg startdatoen."), "follow_up_date": day(form, "follow_up_date"),
            "reason": text(form, "reason", required="Skriv begrundelsen for bevillingen."),
            "join_waitlist": form.get("join_waitlist") == "ja",
            "target_group_override": text(form, "target_group_override"), "internal_note": text(form, "internal_note")}


def _refusal(form: FormData) -> dict[str, Any]:
    return {"decision": "refused", "legal_basis": legal_basis(form),
            "reason": text(form, "reason", required="Skriv begrundelsen for afslaget med ord, borgeren kan læse."),
            "complaint_guidance": text(form, "complaint_guidance"), "internal_note": text(form, "internal_note")}


def _reason(form: FormData) -> dict[str, Any]:
    return {"reason": text(form, "reason", required="Skriv begrundelsen.")}


def _move_out_plan(form: FormData) -> dict[str, Any]:
    destination = text(form, "destination", required="Vælg, hvor borgeren skal flytte hen.")
    if destination not in vw.DESTINATIONS:
        raise FormProblem("Vælg, hvor borgeren skal flytte hen.")
    body = {"destination": destination, "planned_on": day(form, "planned_on", required="Vælg udflytningsdatoen."),
            "receiving_offer_id": text(form, "receiving_offer_id") if destination == "offer" else None,
            "receiving_step": whole(form, "receiving_step", low=1, high=7, what="det modtagende trin"),
            "phase_out_visits_planned": whole(form, "phase_out_visits_planned", low=0, high=20,
                                              what="antal udslusningsbesøg"),
            "reason": text(form, "reason")}
    return {k: v for k, v in body.items() if v is not None}


def _end(form: FormData, *, cause: str | None = None) -> dict[str, Any]:
    cause = cause or text(form, "cause", required="Vælg, hvorfor anbringelsen slutter.")
    if cause not in vw.END_CAUSES:
        raise FormProblem("Vælg, hvorfor anbringelsen slutter.")
    destination = text(form, "destination")
    if destination is not None and destination not in vw.DESTINATIONS:
        raise FormProblem("Vælg, hvor borgeren flytter hen.")
    body = {"ended_on": day(form, "ended_on"), "cause": cause, "destination": destination,
            "receiving_offer_id": text(form, "receiving_offer_id") if destination == "offer" else None,
            "to_step": whole(form, "to_step", low=1, high=7, what="det nye trin"), "reason": text(form, "reason"),
            "internal_note": text(form, "internal_note"), "target_group_override": text(form, "target_group_override")}
    return {k: v for k, v in body.items() if v is not None}


@dataclass(frozen=True)
class Action:
    method: str
    path: str  # after /api/v1/referrals/{id}/
    body: Callable[[FormData], Any]
    done: str  # what the person is told afterwards


ACTIONS: dict[str, Action] = {
    "udred": Action("POST", "screening", lambda f: {"note": text(f, "note")}, "Udredningen er startet."),
    "vurdering": Action("PUT", "assessment", _assessment, "Funktionsvurderingen er gemt."),
    "bevil": Action("POST", "decision", _grant, "Bevillingen er gemt."),
    "afslag": Action("POST", "decision", _refusal, "Afslaget er gemt med klagevejledning."),
    "genvurder": Action("POST", "reopen", _reason, "Sagen er genåbnet til genvurdering."),
    "frigiv-plads": Action("POST", "release-place", _reason, "Pladsen er frigivet; borgeren venter fortsat."),
    "reserver-plads": Action("POST", "reserve-place", lambda f: None, "Pladsen er reserveret til borgeren."),
    "indflytning": Action("POST", "move-in", lambda f: {"moved_in_on": day(f, "moved_in_on"),
                                                        "follow_up_date": day(f, "follow_up_date")},
                          "Indflytningen er registreret."),
    "opfoelgning": Action("POST", "follow-ups", lambda f: {
        "held_on": day(f, "held_on"), "next_follow_up_date": day(f, "next_follow_up_date", required="Vælg datoen for næste opfølgning."),
        "note": text(f, "note")}, "Opfølgningen er registreret."),
    "udflytningsplan": Action("PUT", "move-out-plan", _move_out_plan, "Udflytningsplanen er gemt."),
    "udslusningsbesoeg": Action("POST", "phase-out-visits",
                                lambda f: {"visited_on": day(f, "visited_on", required="Vælg datoen for besøget.")},
                                "Udslusningsbesøget er registreret."),
    "nedtrap": Action("POST", "end", lambda f: _end(f, cause="stepped_down"), "Borgeren er trappet ned; anbringelsen er afsluttet."),
    "afslut": Action("POST", "end", _end, "Anbringelsen er afsluttet."),
    "traek-tilbage": Action("POST", "withdraw", _reason, "Henvisningen er trukket tilbage."),
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    problem: str | None = None
    signed_out: bool = False
    continued_in: str | None = None


async def case_action(backends: Backends, user: SignedIn, referral_id: str, action: str, form: FormData) -> Outcome:
    step = ACTIONS[action]
    try:
        body = step.body(form)
    except FormProblem as problem:
        return Outcome(ok=False, problem=str(problem))
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if v is not None}
    reply = await backends.call("referrals", step.method, f"/api/v1/referrals/{referral_id}/{step.path}", user.token,
                                json=body)
    if not reply.ok:
        return Outcome(ok=False, problem=problem_of(reply), signed_out=reply.signed_out)
    answer = reply.data if isinstance(reply.data, dict) else {}
    # A step-down or transfer may open the case at the receiving offer: the page follows it there.
    return Outcome(ok=True, continued_in=(answer.get("continued_in") or {}).get("referral_id"))


# ---------------------------------------------------------------- capacity, flow report, hospital notices


async def capacity(backends: Backends, user: SignedIn) -> dict[str, Any]:
    """Every offer's places (approved, occupied, reserved, free), resident mix and waitlist length."""
    offers = await backends.get("referrals", "/api/v1/offers", user.token)
    if not offers.ok:
        return {"offers": Part(problem=problem_of(offers)), "signed_out": offers.signed_out}
    rows = sorted(offers.data, key=lambda o: (o["step"], o["name"]))
    # The figures only (entries=false): the overview names no citizen, so referrals neither lists nor audits them.
    waitlists = await backends.gather(*(backends.get("referrals", f"/api/v1/offers/{o['offer_id']}/waitlist",
                                                     user.token, entries="false")
                                        for o in rows))
    names = await botilbud_names(backends, user)
    for offer, waitlist in zip(rows, waitlists):
        # Reserved places are shown beside the occupied ones; "på venteliste" is the queue behind them.
        offer["waiting"] = waitlist.data["waiting"] - waitlist.data["reserved"] if waitlist.ok else None
        offer["longest_days_waiting"] = waitlist.data.get("longest_days_waiting") if waitlist.ok else None
        offer["botilbud_name"] = names.get(offer.get("botilbud_id") or "")
    return {"offers": Part(data=rows), "signed_out": offers.signed_out}


OFFER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def offer_body(current: dict[str, Any], form: FormData) -> dict[str, Any]:
    """The offer as visitation corrects it on Kapacitet. Referrals replaces the whole offer, so what the
    form does not change (legal basis, step, botilbud, municipality) is sent as it is now."""
    name = text(form, "name", required="Skriv tilbuddets navn.")
    if len(name) > 200:
        raise FormProblem("Tilbuddets navn er for langt (højst 200 tegn).")
    requires = [t for t in form.getlist("requires") if t in vw.TRAITS]
    excludes = [t for t in form.getlist("excludes") if t in vw.TRAITS]
    if set(requires) & set(excludes):
        both = ", ".join(vw.TRAITS[t].lower() for t in sorted(set(requires) & set(excludes)))
        raise FormProblem(f"Et kendetegn kan ikke både kræves og udelukkes ({both}).")
    min_age = whole(form, "min_age", low=18, high=120, what="den laveste alder")
    max_age = whole(form, "max_age", low=18, high=120, what="den højeste alder")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise FormProblem("Den laveste alder er højere end den højeste.")
    description = text(form, "description")
    if description and len(description) > 2000:
        raise FormProblem("Beskrivelsen af målgruppen er for lang (højst 2000 tegn).")
    body = {
        "offer_id": current["offer_id"], "name": name, "botilbud_id": current.get("botilbud_id"),
        "municipality": current.get("municipality"), "legal_basis": current["legal_basis"], "step": current["step"],
        "approved_places": whole(form, "approved_places", low=0, high=10_000, what="antal godkendte pladser",
                                 required=True),
        "active": form.get("active") == "ja",
        "target_group": {"description": description, "min_age": min_age, "max_age": max_age,
                         "requires": requires, "excludes": excludes},
    }
    occupied = whole(form, "occupied_places", low=0, high=10_000, what="antal beboere")
    if occupied is not None:
        body["occupied_places"] = occupied
    return body


async def update_offer(backends: Backends, user: SignedIn, offer_id: str, form: FormData) -> Outcome:
    """Correct an offer (name, places, open for new citizens, target group) on referrals."""
    if not OFFER_ID.match(offer_id):
        return Outcome(ok=False, problem="Tilbuddet findes ikke; genindlæs siden.")
    offers = await backends.get("referrals", "/api/v1/offers", user.token)
    if not offers.ok:
        return Outcome(ok=False, problem=problem_of(offers), signed_out=offers.signed_out)
    current = next((o for o in offers.data if o["offer_id"] == offer_id), None)
    if current is None:
        return Outcome(ok=False, problem="Tilbuddet findes ikke; genindlæs siden.")
    try:
        body = offer_body(current, form)
    except FormProblem as problem:
        return Outcome(ok=False, problem=str(problem))
    reply = await backends.call("referrals", "PUT", f"/api/v1/offers/{offer_id}", user.token, json=body)
    if not reply.ok:
        return Outcome(ok=False, problem=problem_of(reply), signed_out=reply.signed_out)
    forget_botilbud_names()
    return Outcome(ok=True)


async def flow_report(backends: Backends, user: SignedIn, period_from: date, period_to: date) -> dict[str, Any]:
    reply = await backends.get("referrals", "/api/v1/reports/flow", user.token,
                               **{"from": period_from.isoformat(), "to": period_to.isoformat()})
    names = await botilbud_names(backends, user)
    return {"report": Part(data=reply.data if reply.ok else None, problem=None if reply.ok else problem_of(reply)),
            "offer_names": {k.removeprefix("offer:"): v for k, v in names.items() if k.startswith("offer:")},
            "signed_out": reply.signed_out}


async def hospital_notices(backends: Backends, user: SignedIn, q: str) -> dict[str, Any]:
    """The open unmatched hospital notices (health) and, when searched, the citizens to match them to."""
    calls = [backends.get("health", "/api/v1/unmatched-hospital-notices", user.token, status="open")]
    if q:
        calls.append(backends.get("notifications", "/api/v1/citizens", user.token, q=q, limit=20))
    replies = await backends.gather(*calls)
    notices = replies[0]
    data = {"notices": Part(data=(notices.data or {}).get("notices", []) if notices.ok else None,
                            problem=None if notices.ok else problem_of(notices)),
            "candidates": Part(), "signed_out": any(r.signed_out for r in replies)}
    if len(replies) > 1:
        found = replies[1]
        data["candidates"] = Part(data=found.data if found.ok else None, problem=None if found.ok else problem_of(found))
    return data


async def match_notice(backends: Backends, user: SignedIn, unmatched_id: str, form: FormData) -> Outcome:
    citizen = text(form, "citizen_id")
    if not citizen:
        return Outcome(ok=False, problem="Vælg den borger, beskeden gælder.")
    body = {"citizen_id": citizen, "override_reason": text(form, "override_reason")}
    reply = await backends.post("health", f"/api/v1/unmatched-hospital-notices/{unmatched_id}/match", user.token,
                                json={k: v for k, v in body.items() if v})
    if not reply.ok:
        return Outcome(ok=False, problem=problem_of(reply), signed_out=reply.signed_out)
    return Outcome(ok=True)
