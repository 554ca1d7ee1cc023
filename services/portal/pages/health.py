"""The nurse consultant's pages (sygeplejekonsulenten, the citizen's tovholder): Indlagte nu, the
health-check year (årshjul), day planning by GP practice, one health check with its preparation and
minutes, and per citizen: health (stays and timeline), medication (changes and alerts) and forensic
psychiatry. Health decides who sees what; a refusal is shown in Danish beside the form."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.domain import health_words as hw
from services.portal.pages.common import MESSAGES, ctx_of, expired, page_user, render, today, with_message
from services.portal.services import health as hs

router = APIRouter(include_in_schema=False)
NURSE = ("nurse-consultant",)
HEALTH_STAFF = ("nurse-consultant", "coordinator")  # a coordinator takes the minutes and may be in the network
REFUSAL = "Siden er for botilbuddets sygeplejekonsulenter."
MESSAGES.update({
    "advarsel-kvitteret": "Advarslen er kvitteret: du har set ændringen i FMK.",
    "trin-gjort": "Trinnet er markeret som gjort.",
    "tjek-holdt": "Referatet og beslutningerne er gemt.",
    "forundersoegelse-gemt": "Forundersøgelsen er gemt.",
    "kontakt-gemt": "Kontakten er skrevet i helbredstidslinjen.",
    "tjek-afslaaet": "Registreret: borgeren siger nej tak til sundhedstjekket (det er frivilligt).",
    "tjek-accepteret": "Registreret: borgeren vil gerne have sundhedstjekket alligevel.",
    "depotbesoeg-gemt": "Depotbesøget er registreret.",
    "tvang-gemt": "Overvejelsen om tvang er skrevet i loggen.",
    "dage-planlagt": "Sundhedstjekkene er planlagt.",
    "behandlingsdom-gemt": "Behandlingsdommen er registreret; en tidligere dom er gemt som historik.",
    "depotplan-gemt": "Planen for depotmedicin er gemt.",
    "medicinaendring-gemt": "Medicinændringen er registreret.",
    "undersoegelse-gemt": "Undersøgelsen og blodprøverne er registreret.",
    "kadence-gemt": "Botilbuddets kadence for sundhedstjek er gemt.",
})
PARTICIPANT_FIELDS = ("citizen", "minute-taker", "gp", "psychiatrist", "pharmacist", "staff", "forensic-nurse")
DECISION_ROWS = 3


def _labels() -> dict[str, Any]:
    return {"hw": hw}


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:20_000] for k, v in form.items()}


def _moment(day: str, at: str) -> str | None:
    """A date (yyyy-mm-dd, from a date field) and a time (HH:MM) in Copenhagen time, as ISO 8601."""
    try:
        return hs.local_moment(date.fromisoformat(day), time.fromisoformat(at or "12:00"))
    except ValueError:
        return None


def _day(value: str) -> date | None:
    """A date field's value (yyyy-mm-dd), or None when it is empty or not a date."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _span(form: dict[str, str], start: str, end: str, *, no_start: str, bad_end: str) -> tuple[str, str | None] | str:
    """A required start date and an optional end date (empty: none) as ISO, or the Danish reason why not."""
    first = _day(form.get(start, ""))
    if first is None:
        return no_start
    typed = form.get(end, "").strip()
    last = _day(typed) if typed else None
    if typed and last is None:
        return bad_end
    return first.isoformat(), last.isoformat() if last else None


Show = Callable[..., Awaitable[Response]]  # the page again: (user, *, fejl, status, form) -> Response


async def _form_post(request: Request, *, roles: tuple[str, ...], back: str, message: str,
                     send: Callable[[Any, dict[str, str]], Awaitable[hs.Outcome | str]], show: Show) -> Response:
    """What every form here does: who may send it, its CSRF token, the call to health, then back to the
    page with a message — or the same page with the refusal in Danish beside the form, what was typed kept.
    ``send`` answers health's outcome, or a Danish reason the form could not be sent as it is."""
    user = await page_user(request, roles=roles, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    form = await _form(request)
    if not user.csrf_ok(form.get("csrf")):
        return RedirectResponse(with_message(back, "forkert-formular"), status_code=303)
    result = await send(user, form)
    if isinstance(result, str):
        return await show(user, fejl=result, status=422, form=form)
    if result.signed_out:
        return await expired(request)
    if not result.ok:
        return await show(user, fejl=result.problem, status=result.reply.status or 502, form=form)
    return RedirectResponse(with_message(back, message), status_code=303)


# ---------------------------------------------------------------- Indlagte nu


@router.get("/helbred/indlagte", response_class=HTMLResponse)
async def admitted(request: Request) -> Response:
    user = await page_user(request, roles=NURSE, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    data = await hs.admitted_now(ctx_of(request).backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "helbred/indlagte.html", user=user, **data, **_labels())


# ---------------------------------------------------------------- one citizen


def _now_form() -> dict[str, str]:
    """A form's date and time fields filled with now (Copenhagen)."""
    now = datetime.now(hs.COPENHAGEN)
    return {"dato": now.date().isoformat(), "tid": now.strftime("%H:%M"), "f_dato": now.date().isoformat()}


async def _citizen_page(request: Request, user, citizen_id: uuid.UUID, load, template: str, *, besked: str | None = None,
                        fejl: str | None = None, status: int = 200, form: dict[str, str] | None = None,
                        where: str | None = None) -> Response:
    """One of the citizen's health pages (``load`` is its use case), with a form's refusal and what was typed
    (beside the form it was sent from, ``where``, on a page with several)."""
    data = await load(ctx_of(request).backends, user, str(citizen_id))
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, template, status, user=user, citizen_id=str(citizen_id), besked=besked, form_error=fejl,
                  error_at=where, form=form or _now_form(), **data, **_labels())


@router.get("/borgere/{citizen_id}/helbred", response_class=HTMLResponse)
async def citizen_health(request: Request, citizen_id: uuid.UUID, besked: str | None = None) -> Response:
    user = await page_user(request, roles=HEALTH_STAFF, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return await _citizen_health_page(request, user, citizen_id, besked=MESSAGES.get(besked or ""))


def _citizen_health_page(request: Request, user, citizen_id: uuid.UUID, **shown: Any) -> Awaitable[Response]:
    return _citizen_page(request, user, citizen_id, hs.citizen_health, "helbred/borger.html", **shown)


@router.post("/borgere/{citizen_id}/helbred/kontakt")
async def contact(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(user, form):
        occurred_at = _moment(form.get("dato", ""), form.get("tid", ""))
        if occurred_at is None:
            return "Skriv dato og klokkeslæt for kontakten."
        return await hs.record_contact(ctx_of(request).backends, user, str(citizen_id), {
            "kind": form.get("art", "phone"), "counterpart": form.get("hvem", "")[:50], "org": form.get("org", "").strip(),
            "who": form.get("person", "").strip() or None, "what": form.get("hvad", "").strip(), "occurred_at": occurred_at})

    async def show(user, *, fejl, status, form):
        return await _citizen_health_page(request, user, citizen_id, fejl=fejl, status=status, form=form)

    return await _form_post(request, roles=NURSE, back=f"/borgere/{citizen_id}/helbred", message="kontakt-gemt",
                            send=send, show=show)


@router.get("/borgere/{citizen_id}/medicin", response_class=HTMLResponse)
async def medication(request: Request, citizen_id: uuid.UUID, besked: str | None = None) -> Response:
    user = await page_user(request, roles=HEALTH_STAFF, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return await _medication_page(request, user, citizen_id, besked=MESSAGES.get(besked or ""))


def _medication_page(request: Request, user, citizen_id: uuid.UUID, **shown: Any) -> Awaitable[Response]:
    return _citizen_page(request, user, citizen_id, hs.medication, "helbred/medicin.html", **shown)


@router.post("/borgere/{citizen_id}/medicin/advarsler/{alert_id}/kvitter")
async def acknowledge(request: Request, citizen_id: uuid.UUID, alert_id: uuid.UUID) -> Response:
    async def send(user, form):
        return await hs.acknowledge_alert(ctx_of(request).backends, user, str(alert_id))

    async def show(user, *, fejl, status, form):
        return await _medication_page(request, user, citizen_id, fejl=fejl, status=status, where="advarsler")

    return await _form_post(request, roles=HEALTH_STAFF, back=f"/borgere/{citizen_id}/medicin",
                            message="advarsel-kvitteret", send=send, show=show)


def _medication_change_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's StaffMedicationChange: a reference to the entry in FMK (never the medication list), its kind and time."""
    changed_at = _moment(form.get("dato", ""), form.get("tid", ""))
    if changed_at is None:
        return "Skriv dato og klokkeslæt for ændringen i FMK."
    return {"fmk_reference": form.get("fmk", "").strip(), "change_kind": form.get("art", ""), "changed_at": changed_at,
            "changed_by_org": form.get("hvem", "").strip() or None, "note": form.get("note", "").strip() or None,
            "source": form.get("kilde", "staff")}


@router.post("/borgere/{citizen_id}/medicin/aendring")
async def medication_change(request: Request, citizen_id: uuid.UUID) -> Response:
    """Staff record a change made in FMK."""
    return await _body_form(request, citizen_id, page=_medication_page, back=f"/borgere/{citizen_id}/medicin",
                            body_of=_medication_change_body, record=hs.record_medication_change, where="aendring",
                            message="medicinaendring-gemt")


@router.get("/borgere/{citizen_id}/retspsykiatri", response_class=HTMLResponse)
async def forensic(request: Request, citizen_id: uuid.UUID, besked: str | None = None) -> Response:
    user = await page_user(request, roles=HEALTH_STAFF, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return await _forensic_page(request, user, citizen_id, besked=MESSAGES.get(besked or ""))


def _forensic_page(request: Request, user, citizen_id: uuid.UUID, **shown: Any) -> Awaitable[Response]:
    return _citizen_page(request, user, citizen_id, hs.forensic, "helbred/retspsykiatri.html", **shown)


def _forensic_shown(request: Request, citizen_id: uuid.UUID, where: str) -> Show:
    async def show(user, *, fejl, status, form):
        return await _forensic_page(request, user, citizen_id, fejl=fejl, status=status, form=form, where=where)
    return show


def _body_form(request: Request, object_id: uuid.UUID, *, page: Callable[..., Awaitable[Response]], back: str,
               body_of: Callable[[dict[str, str]], dict[str, Any] | str], record: Callable[..., Awaitable[hs.Outcome]],
               where: str, message: str, roles: tuple[str, ...] = NURSE) -> Awaitable[Response]:
    """A form on a page about one citizen or one health check (``page``, ``object_id``): health's body from
    the form (or a Danish reason it cannot be sent as it is) sent with ``record``; a refusal shows beside the
    form it came from (``where``), what was typed kept."""
    async def send(user, form):
        body = body_of(form)
        if isinstance(body, str):
            return body
        return await record(ctx_of(request).backends, user, str(object_id), body)

    async def show(user, *, fejl, status, form):
        return await page(request, user, object_id, fejl=fejl, status=status, form=form, where=where)

    return _form_post(request, roles=roles, back=back, message=message, send=send, show=show)


def _treatment_order_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's TreatmentOrderBody: the court, the judgment's date, an end (none: tidsubestemt), conditions one a line."""
    span = _span(form, "doms_dato", "gyldig_til", no_start="Skriv datoen for dommen.",
                 bad_end="»Gyldig til« er ikke en dato; lad feltet stå tomt, hvis dommen er tidsubestemt.")
    if isinstance(span, str):
        return span
    conditions = [line.strip() for line in form.get("vilkaar", "").splitlines() if line.strip()]
    if len(conditions) > 30:
        return "Højst 30 vilkår, ét pr. linje."
    return {"court": form.get("ret", "").strip(), "judgment_date": span[0], "valid_until": span[1],
            "conditions": conditions, "forensic_team_org": form.get("team", "").strip() or None}


@router.post("/borgere/{citizen_id}/retspsykiatri/behandlingsdom")
async def treatment_order(request: Request, citizen_id: uuid.UUID) -> Response:
    """Record the behandlingsdom, or replace the current one (health keeps the old one as history)."""
    return await _body_form(request, citizen_id, page=_forensic_page, back=f"/borgere/{citizen_id}/retspsykiatri",
                            body_of=_treatment_order_body, record=hs.record_treatment_order, where="behandlingsdom",
                            message="behandlingsdom-gemt")


def _depot_schedule_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's DepotScheduleBody: a weekday and time every 1–4 weeks, from/to, hours before a visit counts as missed."""
    span = _span(form, "fra", "til", no_start="Skriv datoen, planen begynder.",
                 bad_end="»Til« er ikke en dato; lad feltet stå tomt, hvis planen ikke har en slutdato.")
    if isinstance(span, str):
        return span
    try:
        at = time.fromisoformat(form.get("kl", ""))
        weekday, every, grace_hours = int(form.get("ugedag", "")), int(form.get("hver", "1")), int(form.get("frist", "4"))
    except ValueError:
        return "Vælg ugedag og hvor ofte, og skriv klokkeslættet og fristen i hele timer."
    return {"weekday": weekday, "at": at.strftime("%H:%M"), "starts_on": span[0], "ends_on": span[1],
            "interval_weeks": every, "grace_minutes": grace_hours * 60,
            "forensic_team_org": form.get("depot_team", "").strip() or None}


@router.post("/borgere/{citizen_id}/retspsykiatri/depotplan")
async def depot_schedule(request: Request, citizen_id: uuid.UUID) -> Response:
    """A plan for the forensic nurses' depot-medication visits."""
    return await _body_form(request, citizen_id, page=_forensic_page, back=f"/borgere/{citizen_id}/retspsykiatri",
                            body_of=_depot_schedule_body, record=hs.create_depot_schedule, where="depotplan",
                            message="depotplan-gemt")


@router.post("/borgere/{citizen_id}/retspsykiatri/depotbesoeg")
async def depot_visit(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(user, form):
        visited_at = _moment(form.get("dato", ""), form.get("tid", ""))
        if visited_at is None:
            return "Skriv dato og klokkeslæt for besøget."
        return await hs.record_depot_visit(ctx_of(request).backends, user, str(citizen_id), schedule_id=form.get("plan", ""),
                                           visited_at=visited_at, outcome_code=form.get("udfald", ""))

    return await _form_post(request, roles=NURSE, back=f"/borgere/{citizen_id}/retspsykiatri", message="depotbesoeg-gemt",
                            send=send, show=_forensic_shown(request, citizen_id, "depotbesoeg"))


@router.post("/borgere/{citizen_id}/retspsykiatri/tvang")
async def coercion(request: Request, citizen_id: uuid.UUID) -> Response:
    async def send(user, form):
        considered_at = _moment(form.get("dato", ""), form.get("tid", ""))
        if considered_at is None:
            return "Skriv dato og klokkeslæt for overvejelsen."
        return await hs.record_coercion(ctx_of(request).backends, user, str(citizen_id), {
            "considered_at": considered_at, "measure": form.get("foranstaltning", ""),
            "situation": form.get("situation", ""), "least_intrusive_alternative": form.get("alternativ", ""),
            "decision": form.get("beslutning", ""), "citizen_informed": form.get("borger_informeret") == "ja",
            "participants": [p.strip() for p in form.get("deltagere", "").split(",") if p.strip()][:20]})

    return await _form_post(request, roles=NURSE, back=f"/borgere/{citizen_id}/retspsykiatri", message="tvang-gemt",
                            send=send, show=_forensic_shown(request, citizen_id, "tvang"))


# ---------------------------------------------------------------- the health-check year and its days


@router.get("/helbred/helbredstjek", response_class=HTMLResponse)
async def health_check_year(request: Request, aar: int | None = None, besked: str | None = None) -> Response:
    user = await page_user(request, roles=NURSE, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return await _year_page(request, user, aar, besked=MESSAGES.get(besked or ""))


def _year_of(aar: Any) -> int:
    try:
        year = int(aar)
    except (TypeError, ValueError):
        return today().year
    return year if 2000 <= year <= 2100 else today().year


async def _year_page(request: Request, user, aar: Any, *, besked: str | None = None, fejl: str | None = None,
                     status: int = 200, form: dict[str, str] | None = None) -> Response:
    """The year, with the botilbud's cadence (its form filled from health's setting, or as typed on a refusal)."""
    year = _year_of(aar)
    data = await hs.health_check_year(ctx_of(request).backends, user, year)
    if data.pop("signed_out"):
        return await expired(request)
    cadence = data["cadence"].data or {}
    shown = form or {"hver": str(cadence.get("every_years", "")), "udvidet": str(cadence.get("extended_every_years") or "")}
    return render(request, "helbred/aarshjul.html", status, user=user, year=year, besked=besked, form_error=fejl,
                  form=shown, **data, **_labels())


@router.post("/helbred/helbredstjek/kadence")
async def cadence(request: Request) -> Response:
    """How often the botilbud's citizens have the health check: every year or every second year, and an
    extended check every Nth year (or none)."""
    form = await _form(request)  # read once more by _form_post (Starlette caches the form)
    year = _year_of(form.get("aar"))

    async def send(user, form):
        extended = form.get("udvidet", "").strip()
        if form.get("hver") not in hw.CADENCE_YEARS or (extended and not extended.isdigit()):
            return "Vælg hvert år eller hvert andet år, og hvor ofte det udvidede tjek holdes."
        return await hs.set_cadence(ctx_of(request).backends, user, {
            "every_years": int(form["hver"]), "extended_every_years": int(extended) if extended else None})

    async def show(user, *, fejl, status, form):
        return await _year_page(request, user, year, fejl=fejl, status=status, form=form)

    return await _form_post(request, roles=NURSE, back=f"/helbred/helbredstjek?aar={year}", message="kadence-gemt",
                            send=send, show=show)


def _plan_form_defaults() -> dict[str, str]:
    return {"dage": ", ".join(d.strftime("%d.%m.%Y") for d in hs.default_check_days(today())),
            "minutter": "15", "pr_dag": "10", "foerste": "09:00"}


@router.get("/helbred/dagsplan", response_class=HTMLResponse)
async def day_plan(request: Request) -> Response:
    user = await page_user(request, roles=NURSE, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return render(request, "helbred/dagsplan.html", user=user, form=_plan_form_defaults(), plan=None, **_labels())


@router.post("/helbred/dagsplan", response_class=HTMLResponse)
async def day_plan_sent(request: Request) -> Response:
    user = await page_user(request, roles=NURSE, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    form = await _form(request)
    if not user.csrf_ok(form.get("csrf")):
        return RedirectResponse(with_message("/helbred/dagsplan", "forkert-formular"), status_code=303)
    try:
        days = hw.parse_days(form.get("dage", ""))
        slot_minutes, per_day = int(form.get("minutter") or 15), int(form.get("pr_dag") or 10)
        first = time.fromisoformat(form.get("foerste") or "09:00")
    except ValueError as error:
        reason = str(error) if "dato" in str(error) or "dag" in str(error) else "Minutter, antal pr. dag og første tid skal være tal og et klokkeslæt."
        return render(request, "helbred/dagsplan.html", 422, user=user, form=form, plan=None, form_error=reason, **_labels())
    schedule = form.get("handling") == "planlaeg"
    body = {"days": [d.isoformat() for d in days], "slot_minutes": slot_minutes, "per_day": per_day,
            "first_slot": first.strftime("%H:%M"), "one_practice_per_day": form.get("en_praksis") == "ja",
            "schedule": schedule, "confirm_warnings": form.get("bekraeft") == "ja"}
    data = await hs.plan_days(ctx_of(request).backends, user, body)
    if data.pop("signed_out"):
        return await expired(request)
    if data["problem"]:
        return render(request, "helbred/dagsplan.html", 422, user=user, form=form, plan=data["plan"],
                      form_error=data["problem"], **_labels())
    if schedule:
        return RedirectResponse(with_message(f"/helbred/helbredstjek?aar={days[0].year}", "dage-planlagt"), status_code=303)
    return render(request, "helbred/dagsplan.html", user=user, form=form, plan=data["plan"], **_labels())


# ---------------------------------------------------------------- one health check: preparation, minutes


@router.get("/helbred/tjek/{health_check_id}", response_class=HTMLResponse)
async def health_check(request: Request, health_check_id: uuid.UUID, besked: str | None = None) -> Response:
    user = await page_user(request, roles=HEALTH_STAFF, refusal=REFUSAL)
    if isinstance(user, Response):
        return user
    return await _check_page(request, user, health_check_id, besked=MESSAGES.get(besked or ""))


async def _check_page(request: Request, user, health_check_id: uuid.UUID, *, besked: str | None = None,
                      fejl: str | None = None, where: str = "referat", status: int = 200,
                      form: dict[str, str] | None = None) -> Response:
    """The check; a refusal shows beside the part it was sent from (``where``: trin, forundersoegelse, undersoegelse, referat)."""
    data = await hs.health_check(ctx_of(request).backends, user, str(health_check_id))
    if data.pop("signed_out"):
        return await expired(request)
    code = status if data["check"].data or status != 200 else 404
    return render(request, "helbred/tjek.html", code, user=user, besked=besked, form_error=fejl, error_at=where,
                  form=form or {**_now_form(), "p_citizen": data["name"] or "", "u_dato": today().isoformat(),
                                **{f"bt_{t}": "ja" for t in hw.BLOOD_TESTS}, **{f"m_{m}": "ja" for m in hw.MEASUREMENTS}},
                  participant_fields=PARTICIPANT_FIELDS, decision_rows=range(DECISION_ROWS), **data, **_labels())


@router.post("/helbred/tjek/{health_check_id}/trin/{step}")
async def step_done(request: Request, health_check_id: uuid.UUID, step: str) -> Response:
    async def send(user, form):
        if step not in hw.STEPS:
            return "Det trin findes ikke."
        return await hs.complete_step(ctx_of(request).backends, user, str(health_check_id), step)

    async def show(user, *, fejl, status, form):  # beside the steps, not the minutes
        return await _check_page(request, user, health_check_id, fejl=fejl, where="trin", status=status)

    return await _form_post(request, roles=HEALTH_STAFF, back=f"/helbred/tjek/{health_check_id}", message="trin-gjort",
                            send=send, show=show)


def _pre_assessment_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's PreAssessmentBody: each theme in the citizen's words, or skipped with a reason."""
    try:
        done_on = date.fromisoformat(form.get("f_dato", ""))
    except ValueError:
        return "Skriv datoen for forundersøgelsen."
    answers, skipped = [], []
    for theme in hw.THEMES:
        words, why = form.get(f"t_{theme}", "").strip(), form.get(f"s_{theme}", "").strip()
        score = form.get(f"n_{theme}", "")
        if words:
            answers.append({"theme": theme, "citizens_words": words[:2000],
                            "symptom_score": int(score) if score.isdigit() else None})
        elif why:
            skipped.append({"theme": theme, "reason": why[:500]})
    return {"answers": answers, "skipped": skipped, "done_on": done_on.isoformat(),
            "wants_to_talk_about": form.get("tale_om", "")[:2000], "setting": form.get("ramme", "").strip()[:200] or None}


def _check_form(request: Request, health_check_id: uuid.UUID, **how: Any) -> Awaitable[Response]:
    """A form on one health check (see ``_body_form``)."""
    return _body_form(request, health_check_id, page=_check_page, back=f"/helbred/tjek/{health_check_id}", **how)


@router.post("/helbred/tjek/{health_check_id}/forundersoegelse")
async def pre_assessment(request: Request, health_check_id: uuid.UUID) -> Response:
    return await _check_form(request, health_check_id, body_of=_pre_assessment_body, record=hs.record_pre_assessment,
                             where="forundersoegelse", message="forundersoegelse-gemt")


@router.post("/helbred/tjek/{health_check_id}/svar/{answer}")
async def decline_or_accept(request: Request, health_check_id: uuid.UUID, answer: str) -> Response:
    """The citizen says no thanks (voluntary, no reason needed) — or changes their mind."""
    async def send(user, form):
        if answer not in ("nej-tak", "ja-alligevel"):
            return "Den handling findes ikke."
        return await hs.decline_or_accept(ctx_of(request).backends, user, str(health_check_id), decline=answer == "nej-tak",
                                          reason=form.get("grund", "").strip()[:500] or None)

    async def show(user, *, fejl, status, form):
        return await _check_page(request, user, health_check_id, fejl=fejl, where="trin", status=status)

    return await _form_post(request, roles=NURSE, back=f"/helbred/tjek/{health_check_id}",
                            message="tjek-afslaaet" if answer == "nej-tak" else "tjek-accepteret", send=send, show=show)


def _examination_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's ExaminationBody: when and where, and which of the standard blood tests and measurements were taken."""
    done_on = _day(form.get("u_dato", ""))
    if done_on is None:
        return "Skriv datoen for undersøgelsen."
    if form.get("hvor") not in hw.EXAMINATION_PLACES:
        return "Vælg, hvor undersøgelsen blev gjort."
    return {"done_on": done_on.isoformat(), "where": form["hvor"],
            "blood_tests": [t for t in hw.BLOOD_TESTS if form.get(f"bt_{t}") == "ja"],
            "measurements": [m for m in hw.MEASUREMENTS if form.get(f"m_{m}") == "ja"]}


@router.post("/helbred/tjek/{health_check_id}/undersoegelse")
async def examination(request: Request, health_check_id: uuid.UUID) -> Response:
    return await _check_form(request, health_check_id, body_of=_examination_body, record=hs.record_examination,
                             where="undersoegelse", message="undersoegelse-gemt")


def _held_body(form: dict[str, str]) -> dict[str, Any] | str:
    """health's HeldBody from the form, or a Danish reason the form cannot be sent as it is."""
    held_at = _moment(form.get("dato", ""), form.get("tid", ""))
    if held_at is None:
        return "Skriv dato og klokkeslæt for sundhedstjekket."
    participants = [{"role": role, "name": form[f"p_{role}"].strip()} for role in PARTICIPANT_FIELDS
                    if form.get(f"p_{role}", "").strip()]
    if not participants:
        return "Skriv navnene på dem, der var med (mindst borgeren, referenten og en læge)."
    decisions = []
    for n in range(DECISION_ROWS):
        title = form.get(f"b{n}_titel", "").strip()
        if not title:
            continue
        due = form.get(f"b{n}_frist", "").strip()
        decision: dict[str, Any] = {"kind": form.get(f"b{n}_type", "other"), "title": title[:200]}
        if due:
            decision["due_at"] = _moment(due, "09:00")
            if decision["due_at"] is None:
                return f"Fristen for »{title[:40]}« er ikke en dato."
        decisions.append(decision)
    return {"held_at": held_at, "participants": participants, "minutes": form.get("referat", ""), "decisions": decisions}


@router.post("/helbred/tjek/{health_check_id}/holdt")
async def held(request: Request, health_check_id: uuid.UUID) -> Response:
    return await _check_form(request, health_check_id, body_of=_held_body, record=hs.record_held, where="referat",
                             message="tjek-holdt", roles=HEALTH_STAFF)
