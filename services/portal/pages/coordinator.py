"""The coordinator's screens under the citizen: Borgerens Plan (and its versions), the network, the
tryghedsplan, LA2, learning plans, FIT and the consent registry.

Every screen is a GET that gathers its parts (``services.coordinator``); every change is a POST with the
session's CSRF token that sends one change to plans and then goes back to the screen with a message
(303). Input a person typed wrong, and every refusal plans answers, is shown in Danish beside the form
it came from, with what was typed kept. plans decides who may see and change what; a screen whose part
plans refuses says so."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal import charts
from services.portal import services as sl
from services.portal.domain import coordinator_words as cw
from services.portal.domain import words
from services.portal.pages.common import MESSAGES, TEMPLATES, ctx_of, expired, page_user, render, today, with_message
from services.portal.services import coordinator as co

router = APIRouter(include_in_schema=False)

MESSAGES.update({
    "maal-tilfoejet": "Målet er skrevet ind i planen.", "maal-status": "Målets status er ændret.",
    "delmaal-tilfoejet": "Delmålet er tilføjet.", "handling-tilfoejet": "Handlingen er tilføjet.",
    "handling-udfoert": "Handlingen er markeret som udført.",
    "opfoelgning-gemt": "Opfølgningen er registreret; opgaven i Arbejdskø lukkes af sig selv.", "perspektiv-tilfoejet": "Perspektivet er skrevet ind.",
    "medlem-tilfoejet": "Medarbejderen er med i netværket.", "ekstern-tilfoejet": "Samarbejdspartneren er med i netværket.",
    "medlem-fjernet": "Medlemmet er taget ud af netværket.", "rolle-aendret": "Rollen er ændret.",
    "moede-planlagt": "Mødets tidspunkt er sat; borgeren kan se det under Mit netværk.",
    "moede-afsluttet": "Mødet er registreret; opgaven i Arbejdskø er lukket.",
    "tryghedsplan-gemt": "Tryghedsplanen er gemt som en ny version.", "la2-gemt": "Vurderingen er gemt.",
    "la2-fortalt": "Det er noteret, om borgeren har fået vurderingen at vide.",
    "laeringsplan-oprettet": "Læringsplanen er oprettet.", "laeringsplan-skrevet": "Læringsplanen er skrevet.",
    "fit-gemt": "FIT-samtalen er gemt.", "samtykke-givet": "Samtykket er registreret.",
    "samtykke-tilbagekaldt": "Samtykket er trukket tilbage.",
})

TEMPLATES.filters["tal"] = cw.number

TABS = (("plan", "Borgerens Plan"), ("plan/versioner", "Versioner"), ("netvaerk", "Netværk"),
        ("tryghedsplan", "Tryghedsplan"), ("la2", "LA2"), ("laeringsplaner", "Læringsplaner"), ("fit", "FIT"),
        ("samtykker", "Samtykker"))
ROLES = ("coordinator", "makker", "rehabilitation-leader", "medication-partner", "nurse-consultant", "other")


class Invalid(ValueError):
    """Input a person typed that cannot be sent: the Danish sentence to show beside the form."""


@dataclass
class Fields:
    """A submitted form, read field by field with Danish messages for what is wrong."""

    values: dict[str, str]

    def text(self, name: str, what: str, *, required: bool = True, max_length: int = 4000) -> str | None:
        value = (self.values.get(name) or "").strip()
        if not value:
            if required:
                raise Invalid(f"Skriv {what}.")
            return None
        if len(value) > max_length:
            raise Invalid(f"{what[0].upper() + what[1:]} er for lang (højst {max_length} tegn).")
        return value

    def flag(self, name: str) -> bool:
        return self.values.get(name) in ("ja", "on", "true")

    def choice(self, name: str, allowed, what: str, *, required: bool = True) -> str | None:
        value = self.values.get(name) or ""
        if not value and not required:
            return None
        if value not in allowed:
            raise Invalid(f"Vælg {what}.")
        return value

    def _parsed(self, name: str, what: str, required: bool, parse, wrong: str):
        value = (self.values.get(name) or "").strip()
        if not value:
            if required:
                raise Invalid(f"Angiv {what}.")
            return None
        try:
            parsed = parse(value)
        except ValueError:
            parsed = None
        if parsed is None or not 1900 <= parsed.year <= 2200:
            raise Invalid(f"{what[0].upper() + what[1:]} er ikke {wrong}.")
        return parsed

    def day(self, name: str, what: str, *, required: bool = True) -> date | None:
        """A ``date`` field."""
        return self._parsed(name, what, required, date.fromisoformat, "en gyldig dato")

    def moment(self, name: str, what: str, *, required: bool = True) -> datetime | None:
        """A ``datetime-local`` field, read as Copenhagen time."""
        parsed = self._parsed(name, what, required, datetime.fromisoformat, "et gyldigt tidspunkt")
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=words.COPENHAGEN)
        return parsed

    def score(self, name: str, what: str) -> float | None:
        value = (self.values.get(name) or "").strip().replace(",", ".")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise Invalid(f"{what} skal være et tal fra 0 til 40.") from None
        if not 0 <= number <= 40 or round(number, 1) != number:
            raise Invalid(f"{what} skal være et tal fra 0 til 40 med højst én decimal.")
        return number


# ---------------------------------------------------------------- the screens


SCREENS: dict[str, tuple[str, Callable[..., Awaitable[dict[str, Any]]]]] = {
    "plan": ("koordinator/plan.html", co.plan_screen),
    "netvaerk": ("koordinator/network.html", co.network_screen),
    "la2": ("koordinator/la2.html", co.la2_screen),
    "laeringsplaner": ("koordinator/learning.html", co.learning_screen),
    "fit": ("koordinator/fit.html", co.fit_screen),
    "samtykker": ("koordinator/consents.html", co.consent_screen),
}


async def _render_screen(request: Request, user: sl.SignedIn, citizen_id: uuid.UUID, screen: str, *,
                         loader=None, status: int = 200, errors: dict[str, str] | None = None,
                         values: dict[str, str] | None = None, **extra: Any) -> Response:
    ctx = ctx_of(request)
    template, load = SCREENS.get(screen, (None, None))
    if loader is not None:
        template, load = loader
    data = await load(ctx.backends, user, str(citizen_id), **extra)
    if data.pop("signed_out"):
        return await expired(request)
    async with ctx.uow() as uow:
        known = await sl.staff_names(uow, co.mentioned(data), demo=ctx.demo_sign_in)
    staff = {**co.staff_from_plans(data), **known}
    besked = MESSAGES.get(request.query_params.get("besked") or "") if status == 200 else None
    return render(request, template, status, user=user, staff=staff, tabs=TABS, screen=screen, cw=cw,
                  besked=besked, errors=errors or {}, v=values or {}, today=today().isoformat(),
                  now_local=co.local_now().strftime("%Y-%m-%dT%H:%M"), roles=ROLES, la2_labels=words.LA2_LABELS, **data)


async def _screen(request: Request, citizen_id: uuid.UUID, screen: str, **extra: Any) -> Response:
    user = await page_user(request, refusal="Borgerens Plan er for medarbejdere.")
    if isinstance(user, Response):
        return user
    return await _render_screen(request, user, citizen_id, screen, **extra)


def _plain_screen(screen: str):
    async def show(request: Request, citizen_id: uuid.UUID) -> Response:
        return await _screen(request, citizen_id, screen)
    show.__name__ = f"screen_{screen}"
    return show


# The screens that take nothing but the citizen: /borgere/{id}/plan, …/netvaerk, …/la2, …
for _screen_name in SCREENS:
    router.add_api_route(f"/borgere/{{citizen_id}}/{_screen_name}", _plain_screen(_screen_name), methods=["GET"],
                         response_class=HTMLResponse)


def _version(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


@router.get("/borgere/{citizen_id}/plan/versioner", response_class=HTMLResponse)
async def plan_versions(request: Request, citizen_id: uuid.UUID, fra: str = "", til: str = "") -> Response:
    return await _screen(request, citizen_id, "plan/versioner", loader=("koordinator/versions.html", co.versions_screen),
                         older=_version(fra), newer=_version(til))


@router.get("/borgere/{citizen_id}/tryghedsplan", response_class=HTMLResponse)
async def tryghedsplan(request: Request, citizen_id: uuid.UUID, version: str = "") -> Response:
    return await _screen(request, citizen_id, "tryghedsplan",
                         loader=("koordinator/tryghedsplan.html", co.tryghedsplan_screen), version=_version(version))


# ---------------------------------------------------------------- the pictures


def _svg(body: str) -> Response:
    return Response(body, media_type="image/svg+xml",
                    headers={"cache-control": "no-store", "content-security-policy": charts.SVG_CSP})


async def _picture(request: Request, citizen_id: uuid.UUID, fetch, draw) -> Response:
    user = await page_user(request)
    if isinstance(user, Response):
        return Response(status_code=401)
    reply = await fetch(ctx_of(request).backends, user, str(citizen_id))
    if not reply.ok:
        return Response(status_code=reply.status if reply.status in (403, 404) else 502)
    return _svg(draw(reply.data))


@router.get("/borgere/{citizen_id}/fit.svg")
async def fit_picture(request: Request, citizen_id: uuid.UUID) -> Response:
    return await _picture(request, citizen_id, co.fit_data, lambda data: charts.fit_trend_svg(data or {}))


@router.get("/borgere/{citizen_id}/la2.svg")
async def la2_picture(request: Request, citizen_id: uuid.UUID) -> Response:
    return await _picture(request, citizen_id, co.la2_history, lambda data: charts.la2_history_svg(data or []))


# ---------------------------------------------------------------- the changes


async def _change(request: Request, citizen_id: uuid.UUID, screen: str, form_name: str, done: str,
                  send: Callable[[Any, sl.SignedIn, str, Fields], Awaitable[Any]], *, anchor: str = "",
                  loader=None, **extra: Any) -> Response:
    """Read the form, send the change, and go back to the screen with ``done`` — or show the screen
    again with the Danish reason beside the form ``form_name`` and what was typed."""
    user = await page_user(request, refusal="Borgerens Plan er for medarbejdere.")
    if isinstance(user, Response):
        return user
    back = f"/borgere/{citizen_id}/{screen}"
    submitted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not user.csrf_ok(submitted.get("csrf")):
        return RedirectResponse(with_message(back, "forkert-formular"), status_code=303)
    fields = Fields(submitted)
    try:
        reply = await send(ctx_of(request).backends, user, str(citizen_id), fields)
    except Invalid as wrong:
        return await _render_screen(request, user, citizen_id, screen, loader=loader, status=422,
                                    errors={form_name: str(wrong)}, values=submitted, **extra)
    if reply.signed_out:
        return await expired(request)
    if not reply.ok:
        return await _render_screen(request, user, citizen_id, screen, loader=loader, status=reply.status or 502,
                                    errors={form_name: reply.problem}, values=submitted, **extra)
    return RedirectResponse(with_message(back, done) + (f"#{anchor}" if anchor else ""), status_code=303)


# Borgerens Plan

@router.post("/borgere/{citizen_id}/plan/maal")
async def add_goal(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        cadence = f.choice("hyppighed", cw.CADENCES, "hvor ofte målet følges op", required=False) or ""
        start = f.day("fra", "datoen, opfølgningen tælles fra", required=False)
        if start and start > today():
            raise Invalid("Opfølgningen tælles fra i dag eller en tidligere dag.")
        return await co.add_goal(backends, user, cid, text=f.text("tekst", "målet med borgerens egne ord"),
                                 with_citizen=f.flag("med_borger"), kind=f.choice("slags", cw.GOAL_KINDS, "slags mål"),
                                 cadence=cadence, follow_up_from=start)
    return await _change(request, citizen_id, "plan", "nyt-maal", "maal-tilfoejet", send)


@router.post("/borgere/{citizen_id}/plan/maal/{goal_id}/status")
async def goal_status(request: Request, citizen_id: uuid.UUID, goal_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.change_goal_status(backends, user, cid, str(goal_id),
                                           f.choice("status", cw.GOAL_STATUSES, "målets status"))
    return await _change(request, citizen_id, "plan", f"maal-{goal_id}", "maal-status", send, anchor=f"maal-{goal_id}")


@router.post("/borgere/{citizen_id}/plan/maal/{goal_id}/delmaal")
async def add_sub_goal(request: Request, citizen_id: uuid.UUID, goal_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.add_sub_goal(backends, user, cid, str(goal_id), text=f.text("tekst", "delmålet"),
                                     with_citizen=f.flag("med_borger"),
                                     kind=f.choice("slags", cw.SUB_GOAL_KINDS, "slags delmål"))
    return await _change(request, citizen_id, "plan", f"delmaal-{goal_id}", "delmaal-tilfoejet", send,
                         anchor=f"maal-{goal_id}")


@router.post("/borgere/{citizen_id}/plan/maal/{goal_id}/handlinger")
async def add_action(request: Request, citizen_id: uuid.UUID, goal_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        text = f.text("tekst", "hvad der skal gøres")
        who = f.text("hvem", "hvem der gør det", max_length=200) or ""
        if who == "borger":
            responsible = {"kind": "citizen", "ref": ""}
        elif who == "ekstern":
            responsible = {"kind": "external", "ref": f.text("ekstern", "den eksterne samarbejdspartners navn", max_length=200)}
        elif who.startswith("medarbejder:"):
            responsible = {"kind": "staff", "ref": who.removeprefix("medarbejder:")}
        else:
            raise Invalid("Vælg, hvem der gør det.")
        due = f.day("frist", "hvornår det skal være gjort")
        if due < today():
            raise Invalid("En handlings frist kan ikke ligge i fortiden.")
        return await co.add_action(backends, user, cid, str(goal_id), text=text, responsible=responsible, due_on=due,
                                   with_citizen=f.flag("med_borger"))
    return await _change(request, citizen_id, "plan", f"handling-{goal_id}", "handling-tilfoejet", send,
                         anchor=f"maal-{goal_id}")


@router.post("/borgere/{citizen_id}/plan/maal/{goal_id}/handlinger/{action_id}/udfoert")
async def action_done(request: Request, citizen_id: uuid.UUID, goal_id: uuid.UUID, action_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.action_done(backends, user, cid, str(goal_id), str(action_id))
    return await _change(request, citizen_id, "plan", f"maal-{goal_id}", "handling-udfoert", send,
                         anchor=f"maal-{goal_id}")


@router.post("/borgere/{citizen_id}/plan/maal/{goal_id}/opfoelgning")
async def record_follow_up(request: Request, citizen_id: uuid.UUID, goal_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        held = f.day("holdt", "hvornår opfølgningen blev holdt")
        if held > today():
            raise Invalid("En opfølgning registreres, når den er holdt.")
        following = f.day("naeste", "næste opfølgning", required=False)
        if following and following <= held:
            raise Invalid("Næste opfølgning skal ligge efter denne.")
        return await co.record_follow_up(backends, user, cid, str(goal_id), held_on=held,
                                         outcome=f.text("udfald", "hvad I kom frem til"),
                                         with_citizen=f.flag("med_borger"), next_due_on=following)
    return await _change(request, citizen_id, "plan", f"opfoelgning-{goal_id}", "opfoelgning-gemt", send,
                         anchor=f"maal-{goal_id}")


@router.post("/borgere/{citizen_id}/plan/perspektiver")
async def add_entry(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        goal = f.values.get("maal") or None
        if goal:
            try:
                goal = str(uuid.UUID(goal))
            except ValueError:
                raise Invalid("Målet findes ikke længere; genindlæs siden.") from None
        kind = f.choice("slags", ("citizen-perspective", "staff-observation"), "hvis perspektiv det er")
        return await co.add_entry(backends, user, cid, kind=kind, text=f.text("tekst", "perspektivet"),
                                  with_citizen=f.flag("med_borger"), goal_id=goal)
    # The error shows beside the one perspective form the person used (the goal's, or the plan's own).
    return await _change(request, citizen_id, "plan", "perspektiv", "perspektiv-tilfoejet", send)


# The network

@router.post("/borgere/{citizen_id}/netvaerk/medlemmer")
async def add_member(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        staff_id = f.text("medarbejder", "hvilken medarbejder borgeren har valgt", max_length=200)
        return await co.add_member(backends, user, cid, staff_id=staff_id,
                                   role=f.choice("rolle", ROLES, "medarbejderens rolle i netværket"),
                                   basis=f.choice("grundlag", cw.CHANGE_BASES, "hvorfor medarbejderen kommer med"))
    return await _change(request, citizen_id, "netvaerk", "nyt-medlem", "medlem-tilfoejet", send)


@router.post("/borgere/{citizen_id}/netvaerk/eksterne")
async def add_external(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.add_external(backends, user, cid, name=f.text("navn", "samarbejdspartnerens navn", max_length=200),
                                     organisation=f.text("organisation", "organisationen", max_length=200))
    return await _change(request, citizen_id, "netvaerk", "ny-ekstern", "ekstern-tilfoejet", send)


@router.post("/borgere/{citizen_id}/netvaerk/medlemmer/{staff_id}/fjern")
async def remove_member(request: Request, citizen_id: uuid.UUID, staff_id: str) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.remove_member(backends, user, cid, staff_id[:200])
    return await _change(request, citizen_id, "netvaerk", f"medlem-{staff_id}", "medlem-fjernet", send)


@router.post("/borgere/{citizen_id}/netvaerk/medlemmer/{staff_id}/rolle")
async def change_role(request: Request, citizen_id: uuid.UUID, staff_id: str) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.change_role(backends, user, cid, staff_id[:200],
                                    role=f.choice("rolle", ROLES, "den nye rolle"),
                                    previous_holder_role=f.choice("tidligere", ROLES, "hvad den tidligere indehaver bliver",
                                                                  required=False))
    return await _change(request, citizen_id, "netvaerk", f"medlem-{staff_id}", "rolle-aendret", send)


def _meeting_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid("Mødet findes ikke længere; genindlæs siden.") from None


@router.post("/borgere/{citizen_id}/netvaerk/moeder/{meeting_id}/tid")
async def schedule_meeting(request: Request, citizen_id: uuid.UUID, meeting_id: str) -> Response:
    """Set (or move) the time and place of a network meeting the citizen called; the citizen sees it."""
    async def send(backends, user, cid, f: Fields):
        mid = _meeting_id(meeting_id)
        when = f.moment("tidspunkt", "mødets tidspunkt")
        if when < co.local_now().replace(second=0, microsecond=0):
            raise Invalid("Mødets tidspunkt er overstået; vælg et tidspunkt frem i tiden – eller registrér mødet som holdt.")
        return await co.schedule_meeting(backends, user, cid, mid, meeting_at=when,
                                         place=f.text("sted", "hvor mødet holdes", required=False, max_length=200))
    return await _change(request, citizen_id, "netvaerk", f"moede-{meeting_id[:40]}", "moede-planlagt", send,
                         anchor="moeder")


@router.post("/borgere/{citizen_id}/netvaerk/moeder/{meeting_id}/afslut")
async def close_meeting(request: Request, citizen_id: uuid.UUID, meeting_id: str) -> Response:
    """Record the meeting as held, or call it off with a reason the citizen reads."""
    async def send(backends, user, cid, f: Fields):
        mid = _meeting_id(meeting_id)
        outcome = f.choice("udfald", ("held", "cancelled"), "om mødet er holdt eller aflyst")
        note = f.text("note", "hvorfor mødet er aflyst (borgeren læser det)", required=outcome == "cancelled",
                      max_length=2000)
        return await co.close_meeting(backends, user, cid, mid, outcome=outcome, note=note)
    return await _change(request, citizen_id, "netvaerk", f"moede-{meeting_id[:40]}", "moede-afsluttet", send,
                         anchor="moeder")


# The tryghedsplan

@router.post("/borgere/{citizen_id}/tryghedsplan")
async def revise_tryghedsplan(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        parts = {key: cw.lines(f.values.get(key)) for key in cw.TRYGHEDSPLAN_PARTS}
        for key, items in parts.items():
            if any(len(item) > 4000 for item in items):
                raise Invalid(f"Et punkt under »{cw.TRYGHEDSPLAN_PARTS[key]}« er for langt.")
        if not any(parts.values()):
            raise Invalid("Skriv mindst ét punkt i tryghedsplanen.")
        return await co.revise_tryghedsplan(backends, user, cid, parts,
                                            medication_note=f.text("pn", "noten om PN-medicin", required=False),
                                            with_citizen=f.flag("med_borger"))
    return await _change(request, citizen_id, "tryghedsplan", "tryghedsplan", "tryghedsplan-gemt", send,
                         loader=("koordinator/tryghedsplan.html", co.tryghedsplan_screen), version=None)


# LA2

@router.post("/borgere/{citizen_id}/la2")
async def rate(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        level = f.choice("niveau", words.LA2_LABELS, "grøn, gul eller rød")
        reason = f.text("begrundelse", "en begrundelse for vurderingen")
        again = f.moment("ny_vurdering", "hvornår der skal vurderes igen", required=level != "green")
        if again and again <= co.local_now():
            raise Invalid("Tidspunktet for ny vurdering skal ligge efter nu.")
        return await co.rate(backends, user, cid, level=level, reason=reason, reassess_at=again,
                             citizen_told=f.flag("fortalt"))
    return await _change(request, citizen_id, "la2", "ny-vurdering", "la2-gemt", send)


@router.post("/borgere/{citizen_id}/la2/{rating_id}/fortalt")
async def rating_told(request: Request, citizen_id: uuid.UUID, rating_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.rating_told(backends, user, cid, str(rating_id),
                                    not_told_reason=f.text("hvorfor_ikke", "hvorfor borgeren ikke har fået det at vide",
                                                           required=False))
    return await _change(request, citizen_id, "la2", "fortalt", "la2-fortalt", send)


# Learning plans

@router.post("/borgere/{citizen_id}/laeringsplaner")
async def open_learning_plan(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        started = f.moment("start", "hvornår episoden begyndte")
        ended = f.moment("slut", "hvornår episoden sluttede")
        if ended < started:
            raise Invalid("En episode kan ikke slutte, før den begynder.")
        if ended > co.local_now():
            raise Invalid("En læringsplan oprettes, når episoden er slut.")
        return await co.open_learning_plan(backends, user, cid, started=started, ended=ended,
                                           outcome=f.choice("udfald", cw.LEARNING_OUTCOMES, "hvordan episoden gik"),
                                           with_staff=f.text("med", "medarbejderen", required=False, max_length=200))
    return await _change(request, citizen_id, "laeringsplaner", "ny-laeringsplan", "laeringsplan-oprettet", send)


@router.post("/borgere/{citizen_id}/laeringsplaner/{learning_plan_id}/skriv")
async def complete_learning_plan(request: Request, citizen_id: uuid.UUID, learning_plan_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.complete_learning_plan(
            backends, user, cid, str(learning_plan_id), what_happened=f.text("hvad", "hvad der skete"),
            citizen_took_part=f.flag("deltog"), what_helped=f.text("hjalp", "hvad der hjalp", required=False),
            citizen_view=f.text("borger", "borgerens syn", required=False),
            staff_view=f.text("personale", "personalets syn", required=False))
    return await _change(request, citizen_id, "laeringsplaner", f"lp-{learning_plan_id}", "laeringsplan-skrevet", send)


# FIT

@router.post("/borgere/{citizen_id}/fit")
async def record_fit(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        held = f.moment("holdt", "hvornår samtalen blev holdt")
        if held > co.local_now() + timedelta(minutes=5):
            raise Invalid("En FIT-samtale registreres, når den er holdt – ikke før.")
        ors, srs = f.score("ors", "ORS"), f.score("srs", "SRS")
        if ors is None and srs is None:
            raise Invalid("Skriv en ORS- eller en SRS-score (0–40).")
        return await co.record_fit(backends, user, cid, held_at=held, ors=ors, srs=srs, shared=f.flag("deler"))
    return await _change(request, citizen_id, "fit", "ny-fit", "fit-gemt", send)


# Consents

@router.post("/borgere/{citizen_id}/samtykker")
async def give_consent(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        kind = f.choice("modtager_type", cw.RECIPIENT_KINDS, "om modtageren er en organisation eller en gruppe")
        if kind == "group":
            recipient = f.choice("gruppe", cw.RECIPIENT_GROUPS, "hvilken gruppe")
            name = cw.RECIPIENT_GROUPS[recipient]
        else:
            recipient = f.text("modtager", "organisationens SOR-kode eller navn", max_length=200)
            name = f.text("modtager_navn", "organisationens navn", required=False, max_length=200)
        return await co.give_consent(backends, user, cid, recipient_kind=kind, recipient_id=recipient,
                                     recipient_name=name,
                                     category=f.choice("kategori", ("plan", "health", "safety-plan", "fit"),
                                                       "hvilke oplysninger samtykket gælder"))
    return await _change(request, citizen_id, "samtykker", "nyt-samtykke", "samtykke-givet", send)


@router.post("/borgere/{citizen_id}/samtykker/{consent_id}/tilbagekald")
async def revoke_consent(request: Request, citizen_id: uuid.UUID, consent_id: uuid.UUID) -> Response:
    async def send(backends, user, cid, f: Fields):
        return await co.revoke_consent(backends, user, cid, str(consent_id))
    return await _change(request, citizen_id, "samtykker", f"samtykke-{consent_id}", "samtykke-tilbagekaldt", send)
