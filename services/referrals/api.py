"""Referrals' HTTP routes: partner intake (receipts) and the sender's status view, visitation's case
work along the indsatstrappe, offers and waitlists, follow-ups, the flow report, the citizen's view.

Thin routes: each parses its input, calls one use case in ``services.py`` and returns the body its
``response_model`` (``schemas.py``) describes. No SQL and no rules here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from contracts.referrals import LegalBasis
from services.referrals import schemas, services
from services.referrals.domain.report import report_csv
from services.referrals.fhir.api import router as fhir_router
from services.referrals.schemas import (
    AssessmentIn,
    Decision,
    EndIn,
    FollowUpIn,
    MoveIn,
    MoveOutPlanIn,
    Note,
    OfferIn,
    PartnerReferral,
    Reason,
    StaffReferral,
    VisitIn,
)
from services.referrals.services import CASE_LIST_MAX, FOLLOW_UP_LEAD_DAYS
from tovholder.auth import CurrentUser, PartnerUser, Principal, require_roles
from tovholder.receipts import RECEIPT_RESPONSES, partner_message_openapi
from tovholder.service import Ctx, UoW


integration = APIRouter(prefix="/integration/v1", tags=["integration"])
staff = APIRouter(prefix="/api/v1", tags=["visitation"])
VisitationUser = Annotated[Principal, require_roles("visitation")]
OfferAdmin = Annotated[Principal, require_roles("visitation", "admin")]
CaseReader = Annotated[Principal, require_roles("visitation", "coordinator", "partner", "citizen")]
StaffReader = Annotated[Principal, require_roles("visitation", "coordinator")]


# ---------------------------------------------------------------------------------------------
# Intake


@integration.post("/referrals", status_code=202, response_model=schemas.ReferralReceipt,
                  summary="A partner refers a citizen (answer: a receipt)",
                  responses=RECEIPT_RESPONSES, openapi_extra=partner_message_openapi(PartnerReferral))
async def post_referral(request: Request, partner: PartnerUser, uow: UoW, ctx: Ctx):
    return await services.receive_partner_referral(uow, partner, await request.body(), ctx=ctx)


@integration.get("/referrals/{referral_id}", response_model=schemas.ReferrerView,
                 summary="The sender follows its referral (status and status history)")
async def get_referral_for_partner(referral_id: uuid.UUID, partner: PartnerUser, uow: UoW, ctx: Ctx):
    return await services.referral_for_partner(uow, partner, referral_id, ctx=ctx)


@staff.post("/referrals", status_code=201, response_model=schemas.ReferralCreated,
            summary="Visitation registers a referral")
async def create_referral(body: StaffReferral, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.create_referral(uow, user, body, ctx=ctx)


# ---------------------------------------------------------------------------------------------
# Reading cases


@staff.get("/referrals/{referral_id}", response_model=schemas.CaseOut | schemas.CitizenCase | schemas.ReferrerView,
           response_model_exclude_unset=True, summary="One case, as much as the caller may see")
async def get_case(referral_id: uuid.UUID, user: CaseReader, uow: UoW, ctx: Ctx):
    return await services.read_case(uow, user, referral_id, ctx=ctx)


@staff.get("/referrals/{referral_id}/cpr", response_model=schemas.CprRevealed,
           summary="Reveal the citizen's CPR (visitation; audited)")
async def reveal_cpr(referral_id: uuid.UUID, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.reveal_cpr(uow, user, referral_id, ctx=ctx)


@staff.get("/referrals", response_model=list[schemas.CaseListItem],
           summary="The case list (visitation: all; coordinator: placements to own botilbud)")
async def list_referrals(
    user: StaffReader, uow: UoW, ctx: Ctx,
    status: str | None = None, offer_id: str | None = None, botilbud_id: str | None = None,
    citizen_id: uuid.UUID | None = None,
    before: datetime | None = Query(default=None, description="Cursor: only cases received before this time"),
    limit: int = Query(default=50, ge=1, le=CASE_LIST_MAX),
):
    return await services.list_cases(uow, user, ctx=ctx, status=status, offer_id=offer_id, botilbud_id=botilbud_id,
                                     citizen_id=citizen_id, before=before, limit=limit)


@staff.get("/me/referrals", response_model=list[schemas.CitizenCase], summary="The citizen's own cases (role citizen)")
async def my_cases(user: Annotated[Principal, require_roles("citizen")], uow: UoW):
    return await services.my_cases(uow, user)


# ---------------------------------------------------------------------------------------------
# Changing cases (visitation)


@staff.post("/referrals/{referral_id}/screening", response_model=schemas.CaseSummary, summary="Start screening")
async def start_screening(referral_id: uuid.UUID, user: VisitationUser, uow: UoW, ctx: Ctx, body: Note | None = None):
    return await services.start_screening(uow, user, referral_id, body, ctx=ctx)


@staff.put("/referrals/{referral_id}/assessment", response_model=schemas.AssessmentRecorded,
           summary="Record the functional assessment (screening)")
async def record_assessment(referral_id: uuid.UUID, body: AssessmentIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.record_assessment(uow, user, referral_id, body, ctx=ctx)


@staff.get("/referrals/{referral_id}/matches", response_model=schemas.Matches,
           summary="Offers that fit the case, free places, exclusions, warnings")
async def matches(referral_id: uuid.UUID, user: VisitationUser, uow: UoW, ctx: Ctx,
                  step: int | None = Query(default=None, ge=1, le=7),
                  legal_basis: LegalBasis | None = None, all_steps: bool = False):
    return await services.matches(uow, user, referral_id, ctx=ctx, step=step, legal_basis=legal_basis,
                                  all_steps=all_steps)


@staff.post("/referrals/{referral_id}/decision", response_model=schemas.Decided, summary="Grant or refuse")
async def decide(referral_id: uuid.UUID, body: Decision, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.decide(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/reopen", response_model=schemas.CaseSummary,
            summary="Reassess a refused case (genvurdering)")
async def reopen(referral_id: uuid.UUID, body: Reason, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.reopen(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/release-place", response_model=schemas.CaseSummary,
            summary="Give up the reserved place; the citizen keeps the grant and waits")
async def release_place(referral_id: uuid.UUID, body: Reason, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.release_place(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/reserve-place", response_model=schemas.CaseSummary,
            summary="Reserve a freed place for a waiting citizen")
async def reserve_place(referral_id: uuid.UUID, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.reserve_place(uow, user, referral_id, ctx=ctx)


@staff.post("/referrals/{referral_id}/move-in", response_model=schemas.MovedIn,
            summary="Register the move-in (placement starts)")
async def move_in(referral_id: uuid.UUID, body: MoveIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.move_in(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/follow-ups", response_model=schemas.FollowUpRecorded,
            summary="Record a follow-up and set the next one")
async def record_follow_up(referral_id: uuid.UUID, body: FollowUpIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.record_follow_up(uow, user, referral_id, body, ctx=ctx)


@staff.put("/referrals/{referral_id}/move-out-plan", response_model=schemas.MoveOutPlanned,
           summary="Plan the move-out (receiving offer or own home, phase-out visits)")
async def plan_move_out(referral_id: uuid.UUID, body: MoveOutPlanIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.plan_move_out(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/phase-out-visits", response_model=schemas.PhaseOutVisitRecorded,
            summary="Record a phase-out visit (udslusningsbesøg)")
async def phase_out_visit(referral_id: uuid.UUID, body: VisitIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.record_phase_out_visit(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/end", response_model=schemas.PlacementEnded,
            summary="End the placement (moved out, stepped down, …)")
async def end_placement(referral_id: uuid.UUID, body: EndIn, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.end_placement(uow, user, referral_id, body, ctx=ctx)


@staff.post("/referrals/{referral_id}/withdraw", response_model=schemas.CaseSummary,
            summary="Withdraw the referral before move-in")
async def withdraw(referral_id: uuid.UUID, body: Reason, user: VisitationUser, uow: UoW, ctx: Ctx):
    return await services.withdraw(uow, user, referral_id, body, ctx=ctx)


# ---------------------------------------------------------------------------------------------
# Offers and waitlists


@staff.get("/offers", response_model=list[schemas.OfferOut],
           summary="Offers with legal basis, step, places and target group")
async def list_offers(user: CurrentUser, uow: UoW):
    return await services.list_offers(uow, user)


@staff.put("/offers/{offer_id}", response_model=schemas.OfferOut, summary="Create or update an offer")
async def put_offer(offer_id: str, body: OfferIn, user: OfferAdmin, uow: UoW, ctx: Ctx):
    return await services.put_offer(uow, user, offer_id, body, ctx=ctx)


@staff.get("/offers/{offer_id}/waitlist", response_model=schemas.WaitlistOut,
           summary="Who waits for the offer, and for how long")
async def get_waitlist(offer_id: str, user: StaffReader, uow: UoW, ctx: Ctx,
                       entries: Annotated[bool, Query(description="false: only the figures (how many wait, for how "
                                                      "long), no citizens — what an overview of places needs")] = True):
    return await services.waitlist(uow, user, offer_id, ctx=ctx, with_entries=entries)


# ---------------------------------------------------------------------------------------------
# Follow-ups


@staff.get("/follow-ups", response_model=list[schemas.DueFollowUp],
           summary="Placements whose follow-up is due within the given days (or overdue)")
async def due_follow_ups(user: VisitationUser, uow: UoW, ctx: Ctx,
                         within_days: int = Query(default=FOLLOW_UP_LEAD_DAYS, ge=0, le=366)):
    return await services.due_follow_ups(uow, user, within_days, ctx=ctx)


@staff.post("/follow-ups/scan", response_model=schemas.ScanResult,
            summary="Signal due follow-ups now (the service also does this every hour)")
async def scan_follow_ups(user: OfferAdmin, uow: UoW, ctx: Ctx):
    return await services.scan_follow_ups(uow, user, ctx=ctx)


# ---------------------------------------------------------------------------------------------
# Flow report


@staff.get("/reports/flow", response_model=schemas.FlowReportOut,
           responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
           summary="Flow per period: referrals, decisions, waiting times, placements, move-outs")
async def get_flow_report(user: Annotated[Principal, require_roles("visitation", "admin")], uow: UoW, ctx: Ctx,
                          period_from: date = Query(alias="from"), period_to: date = Query(alias="to"),
                          format: Literal["json", "csv"] = "json"):
    report = await services.flow(uow, user, period_from, period_to, ctx=ctx)
    if format == "csv":
        name = f"flow-{period_from.isoformat()}-{period_to.isoformat()}.csv"
        return PlainTextResponse(report_csv(report), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return report.as_dict()


routers = [integration, staff, fhir_router]
