"""The visitation's pages: the cases, a new referral, the case page with its whole life along the
indsatstrappe, capacity per offer, the flow report (with its pictures) and the unmatched hospital notices."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal import services as sl
from services.portal.charts import SVG_CSP
from services.portal.domain import visitation_words as vw
from services.portal.domain import words
from services.portal.pages.common import MESSAGES, TEMPLATES, ctx_of, expired, page_user, render, today
from services.portal.services import visitation as vs
from services.portal.services.flow_charts import flow_chart, month_label
from services.portal.services.flow_export import flow_csv, flow_csv_filename

router = APIRouter(include_in_schema=False)
ROLES = ("visitation", "admin")
REFUSAL = "Visitationens sider er for visitationen."
MESSAGES.update({f"sag-{key}": action.done for key, action in vs.ACTIONS.items()})
MESSAGES.update({"henvisning-oprettet": "Henvisningen er oprettet som en ny sag.",
                 "henvisning-tilfoejet": "Borgeren havde en åben sag; henvisningen er føjet til den.",
                 "besked-knyttet": "Hospitalsbeskeden er knyttet til borgeren.",
                 "tilbud-rettet": "Tilbuddet er rettet."})
TEMPLATES.globals.update(theme_label=vw.theme_label, scale_label=vw.scale_label, trait_label=vw.trait_label,
                         legal_basis_label=vw.legal_basis_label, end_cause_label=vw.end_cause_label,
                         destination_label=vw.destination_label, channel_label=vw.channel_label,
                         deadline_label=vw.deadline_label, notice_code_label=vw.notice_code_label,
                         translate=vw.translate, legal_bases=vw.LEGAL_BASES,
                         month_label=month_label)


async def _visitor(request: Request):
    return await page_user(request, roles=ROLES, refusal=REFUSAL)


async def _form_ok(request: Request, user) -> tuple[object, bool]:
    form = await request.form()
    return form, user.csrf_ok(form.get("csrf"))


# ---------------------------------------------------------------- the cases and a new referral


@router.get("/visitation", response_class=HTMLResponse)
async def cases(request: Request, status: str = "", foer: str = "", besked: str = "") -> Response:
    user = await page_user(request, roles=ROLES, refusal="Sagerne er for visitationen.")
    if isinstance(user, Response):
        return user
    status = status if status in words.CASE_STATUS_LABELS else ""
    data = await sl.case_list(ctx_of(request).backends, user, status=status or None, before=foer[:40] or None)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "cases.html", user=user, status=status, foer=foer[:40], besked=MESSAGES.get(besked),
                  statuses=words.CASE_STATUS_LABELS, **data)


@router.get("/visitation/ny", response_class=HTMLResponse)
async def new_referral(request: Request) -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    data = await vs.intake_page(ctx_of(request).backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "visitation/intake.html", user=user, values={}, **data)


@router.post("/visitation/ny", response_class=HTMLResponse)
async def create_referral(request: Request) -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    form, fresh = await _form_ok(request, user)
    if not fresh:
        return RedirectResponse("/visitation/ny?besked=forkert-formular", status_code=303)
    backends = ctx_of(request).backends
    created, problem = await vs.create_referral(backends, user, form)
    if created:
        return RedirectResponse(f"/visitation/sager/{created}?besked=henvisning-oprettet", status_code=303)
    data = await vs.intake_page(backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    values = {k: v for k, v in form.items() if k not in ("csrf", "cpr")}  # the CPR is typed again, never echoed
    return render(request, "visitation/intake.html", 422, user=user, values=values, fejl_form=problem, **data)


# ---------------------------------------------------------------- the case page


async def _case(request: Request, user, referral_id: uuid.UUID, *, status_code: int = 200, besked: str | None = None,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    ctx = ctx_of(request)
    data = await vs.case_page(ctx.backends, user, str(referral_id))
    if data.pop("signed_out"):
        return await expired(request)
    async with ctx.uow() as uow:
        staff = await sl.staff_names(uow, vs.mentioned_staff(data["case"].data), demo=ctx.demo_sign_in)
    if data.pop("not_found"):
        status_code = 404
    chosen = request.query_params.get("tilbud", "")[:100]
    return render(request, "visitation/case.html", status_code, user=user, staff=staff, besked=besked,
                  errors=errors or {}, values=values or {}, chosen_offer=chosen, today=today().isoformat(),
                  scale=vw.VUM_SCALE, themes=vw.VUM_THEMES, traits=vw.TRAITS, legal_bases=vw.LEGAL_BASES,
                  end_causes=vw.END_CAUSES, destinations=vw.DESTINATIONS, **data)


@router.get("/visitation/sager/{referral_id}", response_class=HTMLResponse)
async def case_page(request: Request, referral_id: uuid.UUID, besked: str = "") -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    return await _case(request, user, referral_id, besked=MESSAGES.get(besked))


@router.post("/visitation/sager/{referral_id}/{handling}", response_class=HTMLResponse)
async def case_action(request: Request, referral_id: uuid.UUID, handling: str) -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    if handling not in vs.ACTIONS:
        return render(request, "error.html", 404, user=user, besked="Den handling findes ikke.")
    here = f"/visitation/sager/{referral_id}"
    form, fresh = await _form_ok(request, user)
    if not fresh:
        return RedirectResponse(f"{here}?besked=forkert-formular", status_code=303)
    outcome = await vs.case_action(ctx_of(request).backends, user, str(referral_id), handling, form)
    if outcome.signed_out:
        return await expired(request)
    if not outcome.ok:
        values = {k: v for k, v in form.items() if k != "csrf"}
        values["traits"] = form.getlist("traits")
        return await _case(request, user, referral_id, status_code=422, errors={handling: outcome.problem},
                           values=values)
    target = f"/visitation/sager/{outcome.continued_in}" if outcome.continued_in else here
    return RedirectResponse(f"{target}?besked=sag-{handling}#forloeb", status_code=303)


# ---------------------------------------------------------------- capacity and the flow report


@router.get("/visitation/kapacitet", response_class=HTMLResponse)
async def capacity(request: Request) -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    return await _capacity(request, user, besked=MESSAGES.get(request.query_params.get("besked") or ""))


async def _capacity(request: Request, user, *, status_code: int = 200, besked: str | None = None,
                    errors: dict[str, str] | None = None, values: dict[str, object] | None = None) -> Response:
    data = await vs.capacity(ctx_of(request).backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "visitation/capacity.html", status_code, user=user, besked=besked, errors=errors or {},
                  v=values or {}, traits=vw.TRAITS, **data)


@router.post("/visitation/kapacitet/{offer_id}/ret", response_class=HTMLResponse)
async def update_offer(request: Request, offer_id: str) -> Response:
    """Correct an offer: name, approved places, open for new citizens, the target group (and, when the
    count is wrong, the residents living there now)."""
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    form, fresh = await _form_ok(request, user)
    if not fresh:
        return RedirectResponse("/visitation/kapacitet?besked=forkert-formular", status_code=303)
    outcome = await vs.update_offer(ctx_of(request).backends, user, offer_id[:100], form)
    if outcome.signed_out:
        return await expired(request)
    if not outcome.ok:
        typed = {"offer_id": offer_id, **{k: form.get(k) for k in form.keys()},
                 "requires": form.getlist("requires"), "excludes": form.getlist("excludes")}
        return await _capacity(request, user, status_code=422, errors={offer_id: outcome.problem}, values=typed)
    return RedirectResponse(f"/visitation/kapacitet?besked=tilbud-rettet#tilbud-{offer_id}", status_code=303)


def _period(fra: str, til: str) -> tuple[date, date, str | None]:
    end = today()
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    try:
        start = date.fromisoformat(fra) if fra else start
        end = date.fromisoformat(til) if til else end
    except ValueError:
        return start, end, "Datoen er ikke gyldig; vælg den i kalenderen. Rapporten viser det seneste år."
    return start, end, None


async def _flow(request: Request, fra: str, til: str):
    """(the signed-in visitor, the period, its problem, the report's parts) — or the answer to give
    instead (sign-in, refusal, expired session)."""
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    start, end, problem = _period(fra[:10], til[:10])
    data = await vs.flow_report(ctx_of(request).backends, user, start, end)
    if data.pop("signed_out"):
        return await expired(request)
    return user, start, end, problem, data


@router.get("/visitation/flow", response_class=HTMLResponse)
async def flow(request: Request, fra: str = "", til: str = "") -> Response:
    found = await _flow(request, fra, til)
    if isinstance(found, Response):
        return found
    user, start, end, problem, data = found
    return render(request, "visitation/flow.html", user=user, fra=start.isoformat(), til=end.isoformat(),
                  fejl=problem, **data)


@router.get("/visitation/flow.csv")
async def flow_spreadsheet(request: Request, fra: str = "", til: str = "") -> Response:
    """The flow report's numbers as a spreadsheet (Danish Excel: semicolons, decimal commas, BOM)."""
    found = await _flow(request, fra, til)
    if isinstance(found, Response):
        return found
    user, _, _, _, data = found
    report = data["report"].data
    if report is None:
        return render(request, "error.html", 503, user=user,
                      besked=f"Flowrapporten kan ikke hentes som regneark: {data['report'].problem}")
    name = flow_csv_filename(report["period_from"], report["period_to"])
    return Response(flow_csv(report, data["offer_names"]), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store",
        "x-content-type-options": "nosniff"})


@router.get("/visitation/flow/{chart}.svg")
async def flow_picture(request: Request, chart: str, fra: str = "", til: str = "") -> Response:
    """The flow report as a picture (pygal, rendered here); the page shows the same numbers as a table."""
    if chart not in ("maaned", "tilbud", "ventetid"):
        user = await _visitor(request)
        return user if isinstance(user, Response) else Response(status_code=404)
    found = await _flow(request, fra, til)
    if isinstance(found, Response):
        return found
    report = found[4]["report"].data
    if report is None:
        return Response(status_code=503)
    svg = flow_chart(chart, report, found[4]["offer_names"])
    return Response(svg, media_type="image/svg+xml", headers={
        "cache-control": "no-store", "x-content-type-options": "nosniff", "content-security-policy": SVG_CSP})


# ---------------------------------------------------------------- unmatched hospital notices


@router.get("/visitation/hospitalsbeskeder", response_class=HTMLResponse)
async def hospital_notices(request: Request, q: str = "", besked: str = "") -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    return await _notices(request, user, q.strip()[:100], besked=MESSAGES.get(besked))


async def _notices(request: Request, user, q: str, *, status_code: int = 200, besked: str | None = None,
                   errors: dict[str, str] | None = None) -> Response:
    data = await vs.hospital_notices(ctx_of(request).backends, user, q)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "visitation/notices.html", status_code, user=user, q=q, besked=besked,
                  errors=errors or {}, **data)


@router.post("/visitation/hospitalsbeskeder/{unmatched_id}/knyt", response_class=HTMLResponse)
async def match_notice(request: Request, unmatched_id: uuid.UUID) -> Response:
    user = await _visitor(request)
    if isinstance(user, Response):
        return user
    form, fresh = await _form_ok(request, user)
    q = str(form.get("q") or "")[:100]
    if not fresh:
        return RedirectResponse("/visitation/hospitalsbeskeder?besked=forkert-formular", status_code=303)
    outcome = await vs.match_notice(ctx_of(request).backends, user, str(unmatched_id), form)
    if outcome.signed_out:
        return await expired(request)
    if not outcome.ok:
        return await _notices(request, user, q, status_code=422, errors={str(unmatched_id): outcome.problem})
    return RedirectResponse("/visitation/hospitalsbeskeder?besked=besked-knyttet", status_code=303)
