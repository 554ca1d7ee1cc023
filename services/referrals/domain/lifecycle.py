"""The visitation lifecycle: every change to a case, its rules, and its history entry.

    received → screening → granted | refused
    granted ⇄ waiting            (granted with a reserved place / on the offer's waitlist)
    granted | waiting → placed → ended
    received | screening | granted | waiting → withdrawn
    refused → screening          (genvurdering, e.g. after a complaint)

Each function checks everything first and only then changes the case, so a refused request leaves
the case untouched. Each returns the ``HistoryEntry`` it appended (who, when, why).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

from services.referrals.domain.dates import check_fact_date
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import (
    OPEN_STATUSES,
    Addition,
    CaseStatus,
    Channel,
    Destination,
    EndCause,
    Ending,
    FunctionalAssessment,
    Grant,
    HistoryEntry,
    LegalBasis,
    MoveOutPlan,
    Placement,
    Referrer,
    Refusal,
    VisitationCase,
    VumTheme,
    check_step,
    parse_traits,
)
from services.referrals.domain.offers import CitizenProfile, Offer, target_group_exclusions
from tovholder import clock

ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.SCREENING, CaseStatus.WITHDRAWN}),
    CaseStatus.SCREENING: frozenset({CaseStatus.GRANTED, CaseStatus.WAITING, CaseStatus.REFUSED, CaseStatus.WITHDRAWN}),
    CaseStatus.GRANTED: frozenset({CaseStatus.WAITING, CaseStatus.PLACED, CaseStatus.WITHDRAWN}),
    CaseStatus.WAITING: frozenset({CaseStatus.GRANTED, CaseStatus.PLACED, CaseStatus.WITHDRAWN}),
    CaseStatus.PLACED: frozenset({CaseStatus.ENDED}),
    CaseStatus.REFUSED: frozenset({CaseStatus.SCREENING}),
    CaseStatus.ENDED: frozenset(),
    CaseStatus.WITHDRAWN: frozenset(),
}

# Standard Danish complaint guidance for a refusal under serviceloven (4 weeks, the municipality
# re-assesses, then Ankestyrelsen).
DEFAULT_COMPLAINT_GUIDANCE = (
    "Du kan klage over afgørelsen. Send din klage til kommunen senest 4 uger efter, at du har fået "
    "afgørelsen. Du kan klage skriftligt eller mundtligt. Kommunen ser på sagen igen, og hvis kommunen "
    "fastholder afgørelsen, sender den din klage videre til Ankestyrelsen."
)

# A temporary §107 stay is "temporary as a starting point, with systematic goal follow-up"
# ([2]:491-499): follow it up within 6 months; other placements at least yearly. (Limits INFERRED.)
MAX_FOLLOW_UP_DAYS: dict[LegalBasis, int] = {
    LegalBasis.SEL_107: 183,
    LegalBasis.SEL_108: 366,
    LegalBasis.SEL_85: 366,
    LegalBasis.ABL_105_SEL_85: 366,
}
DEFAULT_FOLLOW_UP_DAYS: dict[LegalBasis, int] = {
    LegalBasis.SEL_107: 91,
    LegalBasis.SEL_108: 182,
    LegalBasis.SEL_85: 182,
    LegalBasis.ABL_105_SEL_85: 182,
}
# The sources describe 4–5 phase-out visits at move-out ([4]:6667-6680).
RECOMMENDED_PHASE_OUT_VISITS = 4
MAX_PHASE_OUT_VISITS = 20


def default_follow_up_date(basis: LegalBasis, start: date) -> date:
    return start + timedelta(days=DEFAULT_FOLLOW_UP_DAYS[basis])


# What a refused transition was trying to do, in the words of the message (``check_transition``'s ``action``).
_ACTION_DA = {
    "start screening": "starte udredningen", "grant": "bevilge", "refuse": "give afslag",
    "reopen for reassessment": "genåbne sagen til genvurdering", "put the case on the waitlist": "sætte sagen på venteliste",
    "reserve a place": "reservere en plads", "register the move-in": "registrere indflytningen",
    "end the placement": "afslutte opholdet", "withdraw the referral": "trække henvisningen tilbage",
}


def check_transition(case: VisitationCase, to: CaseStatus, action: str) -> None:
    if to in ALLOWED_TRANSITIONS[case.status]:
        return
    raise StateConflict(_why_not(case, to, action))


def _why_not(case: VisitationCase, to: CaseStatus, action: str) -> str:
    status = case.status
    if to in (CaseStatus.GRANTED, CaseStatus.REFUSED, CaseStatus.WAITING) and status in (
        CaseStatus.GRANTED,
        CaseStatus.REFUSED,
        CaseStatus.WAITING,
        CaseStatus.PLACED,
        CaseStatus.ENDED,
    ) and action in ("grant", "refuse"):
        decided = case.grant.decided_at if case.grant else case.refusal.decided_at if case.refusal else None
        when = f" den {clock.local_date(decided).strftime('%d.%m.%Y')}" if decided else ""
        hint = (
            " Et afslag ændres ved først at genåbne sagen til genvurdering."
            if status is CaseStatus.REFUSED
            else ""
        )
        return f"Kan ikke {_ACTION_DA.get(action, action)}: sagen blev allerede afgjort{when} og er nu '{status.danish}'.{hint}"
    if status in (CaseStatus.ENDED, CaseStatus.WITHDRAWN):
        return (
            f"Kan ikke {_ACTION_DA.get(action, action)}: sagen er lukket ('{status.danish}'). "
            "Registrér en ny henvisning, hvis borgeren skal visiteres igen."
        )
    allowed = ", ".join(s.danish for s in sorted(ALLOWED_TRANSITIONS[status])) or "ingen"
    return f"Kan ikke {_ACTION_DA.get(action, action)}: sagen er '{status.danish}'; derfra kan den kun gå til: {allowed}."


def _text(value: str | None, what: str, *, required: bool, en: str | None = None) -> str | None:
    """``what`` names the text in Danish; ``en`` in English, where a partner can leave it out."""
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{what} skal udfyldes: skriv den med ord, borgeren kan læse.",
                               en=f"{en} is required: write it in words the citizen can read." if en else None)
        return None
    return value.strip()


def _record(case: VisitationCase, to: CaseStatus, *, by: str, at: datetime, action: str,
            reason: str | None = None, internal_note: str | None = None) -> HistoryEntry:
    entry = HistoryEntry(
        at=at, by=by, action=action, from_status=case.status, to_status=to, reason=reason,
        internal_note=_text(internal_note, "intern note", required=False),
    )
    case.status = to
    case.history.append(entry)
    return entry


# ---------------------------------------------------------------------------------------------
# Intake


def open_case(
    *,
    case_id: UUID,
    citizen_id: UUID,
    referrer: Referrer,
    reason: str,
    received_at: datetime,
    municipality: str | None = None,
    citizen_wishes: str | None = None,
    requested_step: int | None = None,
    requested_legal_basis: LegalBasis | None = None,
    requested_offer_id: str | None = None,
) -> VisitationCase:
    reason_text = _text(reason, "Begrundelsen for henvisningen", required=True, en="The reason for the referral")
    if requested_step is not None:
        check_step(requested_step, what="requested_step")
    case = VisitationCase(
        case_id=case_id,
        citizen_id=citizen_id,
        municipality=municipality,
        referrer=referrer,
        reason=reason_text,
        citizen_wishes=_text(citizen_wishes, "citizen_wishes", required=False),
        requested_step=requested_step,
        requested_legal_basis=requested_legal_basis,
        requested_offer_id=requested_offer_id,
        received_at=received_at,
        status=CaseStatus.RECEIVED,
    )
    case.history.append(
        HistoryEntry(
            at=received_at,
            by=referrer.org or referrer.sub or "unknown",
            action="received",
            from_status=None,
            to_status=CaseStatus.RECEIVED,
            reason="Henvisningen er modtaget.",
        )
    )
    return case


def case_to_join(cases: list[VisitationCase] | tuple[VisitationCase, ...], municipality: str | None) -> VisitationCase | None:
    """One case per citizen: the citizen's open case in this municipality, which a new referral joins
    (the newest, should old data hold more than one). ``None``: the referral opens a case."""
    open_here = [c for c in cases if c.status in OPEN_STATUSES and c.municipality == municipality]
    return max(open_here, key=lambda c: (c.received_at, str(c.case_id)), default=None)


def add_to_case(
    case: VisitationCase,
    *,
    addition_id: UUID,
    referrer: Referrer,
    reason: str,
    at: datetime,
    citizen_wishes: str | None = None,
    requested_step: int | None = None,
    requested_legal_basis: LegalBasis | None = None,
    requested_offer_id: str | None = None,
) -> Addition:
    """A further referral joins the citizen's open case: recorded as an addition, with a history entry."""
    if case.status not in OPEN_STATUSES:
        raise StateConflict(f"Sagen er '{case.status.danish}' og ikke åben; en ny henvisning åbner en ny sag.")
    reason_text = _text(reason, "Begrundelsen for henvisningen", required=True, en="The reason for the referral")
    if requested_step is not None:
        check_step(requested_step, what="requested_step")
    addition = Addition(
        addition_id=addition_id, referrer=referrer, reason=reason_text, received_at=at,
        citizen_wishes=_text(citizen_wishes, "citizen_wishes", required=False), requested_step=requested_step,
        requested_legal_basis=requested_legal_basis, requested_offer_id=requested_offer_id,
    )
    if referrer.org:
        case.added_by_orgs = case.added_by_orgs | {referrer.org}
    case.history.append(HistoryEntry(
        at=at, by=referrer.org or referrer.sub or "unknown", action="referral-added", from_status=case.status,
        to_status=case.status, reason="Der er kommet en ny henvisning, som er lagt til din sag."))
    return addition


# ---------------------------------------------------------------------------------------------
# Screening


def start_screening(case: VisitationCase, *, by: str, at: datetime, note: str | None = None) -> HistoryEntry:
    if case.status is CaseStatus.REFUSED:
        # One way back from a refusal: the reassessment, with its reason (``reopen_for_reassessment``).
        raise StateConflict(
            "Sagen har fået afslag og kan ikke udredes igen uden videre. Genvurdér den med en begrundelse "
            "(POST …/reopen), fx efter en klage."
        )
    check_transition(case, CaseStatus.SCREENING, "start screening")
    return _record(case, CaseStatus.SCREENING, by=by, at=at, action="screening-started",
                   reason="Visitationen er gået i gang med at udrede sagen.", internal_note=note)


def parse_scores(scores: dict[str, int]) -> dict[VumTheme, int]:
    if not scores:
        themes = ", ".join(t.value for t in VumTheme)
        raise InvalidInput(f"En funktionsvurdering skal have mindst ét tema scoret 0–4. Temaer: {themes}.")
    parsed: dict[VumTheme, int] = {}
    for key, score in scores.items():
        try:
            theme = VumTheme(key)
        except ValueError:
            themes = ", ".join(t.value for t in VumTheme)
            raise InvalidInput(f"Ukendt VUM-tema '{key}'. Temaer: {themes}.") from None
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 4:
            raise InvalidInput(
                f"Temaet '{key}' skal scores med et helt tal 0–4 "
                f"(0 = ingen begrænsning … 4 = fuldstændig begrænsning); fik {score!r}."
            )
        parsed[theme] = score
    return parsed


def record_assessment(
    case: VisitationCase,
    *,
    scores: dict[str, int],
    wishes: str,
    needs: str | None,
    resources: str | None,
    traits=(),
    by: str,
    at: datetime,
) -> HistoryEntry:
    """Record (or revise) the functional assessment. A case still 'received' moves to screening."""
    if case.status not in (CaseStatus.RECEIVED, CaseStatus.SCREENING):
        raise StateConflict(
            f"Kan ikke registrere en vurdering: sagen er '{case.status.danish}'. "
            "Vurderingen hører til udredningen, før afgørelsen."
        )
    assessment = FunctionalAssessment(
        scores=parse_scores(scores),
        wishes=_text(wishes, "Borgerens egne ønsker", required=True),
        needs=_text(needs, "behov", required=False) or "",
        resources=_text(resources, "ressourcer", required=False) or "",
        traits=parse_traits(traits),
        assessed_by=by,
        assessed_at=at,
    )
    action = "assessment-revised" if case.assessment is not None else "assessment-recorded"
    case.assessment = assessment
    return _record(case, CaseStatus.SCREENING, by=by, at=at, action=action,
                   reason="Der er lavet en udredning af, hvad du kan, og hvad du har brug for støtte til.")


# ---------------------------------------------------------------------------------------------
# Decision


def grant(
    case: VisitationCase,
    *,
    offer: Offer,
    profile: CitizenProfile,
    start_date: date,
    follow_up_date: date | None,
    reason: str,
    by: str,
    at: datetime,
    legal_basis: LegalBasis | None = None,
    step: int | None = None,
    join_waitlist: bool = False,
    target_group_override: str | None = None,
    internal_note: str | None = None,
) -> HistoryEntry:
    """Grant the citizen a place in ``offer``. Reserves a free place; if the offer is full the
    grant is refused unless ``join_waitlist`` (then the case waits on the offer's waitlist)."""
    check_transition(case, CaseStatus.GRANTED, "grant")
    if case.assessment is None:
        raise StateConflict(
            "Kan ikke bevilge, før funktionsvurderingen er registreret: udredningen skal vise "
            "borgerens ønsker, behov og ressourcer."
        )
    reason_text = _text(reason, "Begrundelsen for afgørelsen", required=True)
    if not offer.active:
        raise StateConflict(f"'{offer.name}' er lukket for nye henvisninger; vælg et andet tilbud.")
    if step is not None:
        check_step(step)
        if step != offer.step:
            raise InvalidInput(f"'{offer.name}' ligger på trin {offer.step} af indsatstrappen, ikke trin {step}.")
    if legal_basis is not None and legal_basis is not offer.legal_basis:
        raise InvalidInput(
            f"'{offer.name}' bevilges efter {offer.legal_basis.value}, ikke {legal_basis.value}; "
            "vælg et tilbud efter den hjemmel, du vil bevilge efter."
        )
    if offer.step == 1:
        raise InvalidInput("Tilbud på trin 1 kræver ingen visitation; luk henvisningen i stedet for at bevilge.")
    exclusions = target_group_exclusions(offer, profile)
    override = _text(target_group_override, "target_group_override", required=False)
    if exclusions and override is None:
        raise StateConflict(
            f"'{offer.name}' omfatter ikke borgeren i sin målgruppe ("
            + "; ".join(exclusions)
            + "). Vælg et tilbud, der passer, eller angiv target_group_override med den faglige begrundelse."
        )
    if start_date < clock.local_date(case.received_at):
        raise InvalidInput("Startdatoen kan ikke ligge før den dag, henvisningen blev modtaget.")
    follow_up = follow_up_date or default_follow_up_date(offer.legal_basis, start_date)
    _check_follow_up(offer.legal_basis, start_date, follow_up, what="startdatoen")
    waitlisted = offer.full
    if waitlisted and not join_waitlist:
        raise StateConflict(
            f"'{offer.name}' har ingen ledig plads ({offer.approved_places} godkendte pladser, "
            f"{offer.occupied} optagne, {offer.reserved} reserverede). Vælg et andet passende tilbud, "
            "eller bevilg med join_waitlist for at sætte borgeren på dets venteliste."
        )
    case.grant = Grant(
        offer_id=offer.offer_id,
        botilbud_id=offer.botilbud_id,
        legal_basis=offer.legal_basis,
        step=offer.step,
        start_date=start_date,
        follow_up_date=follow_up,
        decided_by=by,
        decided_at=at,
        reason=reason_text,
        waitlisted=waitlisted,
        target_group_override=override if exclusions else None,
    )
    case.refusal = None
    to = CaseStatus.WAITING if waitlisted else CaseStatus.GRANTED
    return _record(case, to, by=by, at=at, action="granted", reason=reason_text, internal_note=internal_note)


def refuse(
    case: VisitationCase,
    *,
    reason: str,
    legal_basis: LegalBasis,
    by: str,
    at: datetime,
    complaint_guidance: str | None = None,
    internal_note: str | None = None,
) -> HistoryEntry:
    check_transition(case, CaseStatus.REFUSED, "refuse")
    reason_text = _text(reason, "Begrundelsen for afslaget", required=True)
    case.refusal = Refusal(
        reason=reason_text,
        legal_basis=legal_basis,
        complaint_guidance=_text(complaint_guidance, "complaint_guidance", required=False)
        or DEFAULT_COMPLAINT_GUIDANCE,
        decided_by=by,
        decided_at=at,
    )
    return _record(case, CaseStatus.REFUSED, by=by, at=at, action="refused", reason=reason_text,
                   internal_note=internal_note)


def reopen_for_reassessment(case: VisitationCase, *, reason: str, by: str, at: datetime) -> HistoryEntry:
    """Genvurdering: a refused case goes back to screening (e.g. after a complaint)."""
    check_transition(case, CaseStatus.SCREENING, "reopen for reassessment")
    reason_text = _text(reason, "Begrundelsen for genvurderingen", required=True)
    case.refusal = None  # the refusal stays in the history; the case awaits a new decision
    return _record(case, CaseStatus.SCREENING, by=by, at=at, action="reopened", reason=reason_text)


# ---------------------------------------------------------------------------------------------
# Waiting and move-in


def release_place(case: VisitationCase, *, reason: str, by: str, at: datetime) -> HistoryEntry:
    """The citizen keeps the grant but gives up the reserved place for now (e.g. move-in postponed)."""
    check_transition(case, CaseStatus.WAITING, "put the case on the waitlist")
    reason_text = _text(reason, "Begrundelsen", required=True)
    return _record(case, CaseStatus.WAITING, by=by, at=at, action="place-released", reason=reason_text)


def reserve_place(case: VisitationCase, *, offer: Offer, by: str, at: datetime) -> HistoryEntry:
    """A place became free in the offer the citizen waits for: reserve it."""
    check_transition(case, CaseStatus.GRANTED, "reserve a place")
    _require_same_offer(case, offer)
    if offer.full:
        raise StateConflict(
            f"'{offer.name}' har stadig ingen ledig plads ({offer.occupied} optagne og {offer.reserved} reserverede af "
            f"{offer.approved_places}); borgeren bliver på ventelisten."
        )
    return _record(case, CaseStatus.GRANTED, by=by, at=at, action="place-reserved",
                   reason=f"Der er en ledig plads til dig på {offer.name}.")


def _require_same_offer(case: VisitationCase, offer: Offer) -> None:
    assert case.grant is not None
    if offer.offer_id != case.grant.offer_id:
        raise InvalidInput(
            f"Bevillingen gælder tilbuddet '{case.grant.offer_id}', ikke '{offer.offer_id}'. "
            "Et andet tilbud kræver en ny afgørelse i sagen."
        )


def move_in(
    case: VisitationCase,
    *,
    offer: Offer,
    moved_in_on: date,
    by: str,
    at: datetime,
    follow_up_date: date | None = None,
) -> HistoryEntry:
    check_transition(case, CaseStatus.PLACED, "register the move-in")
    assert case.grant is not None
    _require_same_offer(case, offer)
    if case.status is CaseStatus.WAITING and offer.full:
        raise StateConflict(
            f"'{offer.name}' har ingen ledig plads ({offer.approved_places} godkendte, {offer.occupied} optagne, "
            f"{offer.reserved} reserverede); borgeren bliver på ventelisten, til en plads bliver ledig."
        )
    check_fact_date(moved_in_on, what="Indflytningsdatoen", at=at,
                    not_before=[(clock.local_date(case.received_at), "datoen, henvisningen blev modtaget")])
    follow_up = follow_up_date or case.grant.follow_up_date
    if follow_up <= moved_in_on:
        if follow_up_date is None:
            raise InvalidInput(
                f"Den bevilgede opfølgningsdato {follow_up.isoformat()} ligger ikke efter indflytningsdatoen "
                f"{moved_in_on.isoformat()}; angiv en ny follow_up_date."
            )
    _check_follow_up(case.grant.legal_basis, moved_in_on, follow_up, what="indflytningsdatoen")
    case.placement = Placement(
        offer_id=offer.offer_id,
        botilbud_id=offer.botilbud_id,
        legal_basis=case.grant.legal_basis,
        step=case.grant.step,
        moved_in_on=moved_in_on,
        follow_up_date=follow_up,
    )
    return _record(case, CaseStatus.PLACED, by=by, at=at, action="moved-in",
                   reason=f"Du er flyttet ind på {offer.name}.")


def _check_follow_up(basis: LegalBasis, start: date, follow_up: date, *, what: str) -> None:
    if follow_up <= start:
        raise InvalidInput(f"Opfølgningsdatoen skal ligge efter {what} ({start.isoformat()}).")
    limit = MAX_FOLLOW_UP_DAYS[basis]
    if (follow_up - start).days > limit:
        latest = (start + timedelta(days=limit)).isoformat()
        kind = "et midlertidigt ophold" if basis.temporary else "en anbringelse"
        raise InvalidInput(
            f"Efter {basis.value} skal {kind} følges op inden for {limit} dage: "
            f"vælg en opfølgningsdato senest {latest}."
        )


# ---------------------------------------------------------------------------------------------
# Follow-up and movement down the ladder


def follow_up_due(case: VisitationCase, today: date, *, lead_days: int = 0) -> bool:
    """True when a placed case's follow-up date is within ``lead_days`` of today (or past) and no
    "follow-up due" has been signalled for that date yet."""
    if case.status is not CaseStatus.PLACED or case.placement is None:
        return False
    due = case.placement.follow_up_date
    return due <= today + timedelta(days=lead_days) and case.follow_up_signalled_for != due


def mark_follow_up_signalled(case: VisitationCase) -> None:
    assert case.placement is not None
    case.follow_up_signalled_for = case.placement.follow_up_date


def record_follow_up(
    case: VisitationCase,
    *,
    held_on: date,
    next_follow_up_date: date,
    by: str,
    at: datetime,
    note: str | None = None,
) -> HistoryEntry:
    if case.status is not CaseStatus.PLACED or case.placement is None:
        raise StateConflict(f"Kan ikke registrere en opfølgning: sagen er '{case.status.danish}', ikke indflyttet.")
    check_fact_date(held_on, what="Datoen for den holdte opfølgning", at=at,
                    not_before=[(case.placement.moved_in_on, "indflytningsdatoen")])
    _check_follow_up(case.placement.legal_basis, held_on, next_follow_up_date, what="den holdte opfølgning")
    case.placement = replace(
        case.placement,
        follow_up_date=next_follow_up_date,
        follow_ups_held=case.placement.follow_ups_held + (held_on,),
    )
    return _record(case, CaseStatus.PLACED, by=by, at=at, action="follow-up-held",
                   reason=f"Opfølgning holdt. Næste opfølgning senest {next_follow_up_date.isoformat()}.",
                   internal_note=note)


def plan_move_out(
    case: VisitationCase,
    *,
    destination: Destination,
    planned_on: date,
    by: str,
    at: datetime,
    receiving_offer: Offer | None = None,
    receiving_step: int | None = None,
    phase_out_visits_planned: int = RECOMMENDED_PHASE_OUT_VISITS,
    reason: str | None = None,
) -> tuple[HistoryEntry, list[str]]:
    """Record (or replace) the move-out plan. Returns the history entry and warnings for staff."""
    if case.status is not CaseStatus.PLACED or case.placement is None:
        raise StateConflict(f"Kan ikke planlægge en udflytning: sagen er '{case.status.danish}', ikke indflyttet.")
    if planned_on < case.placement.moved_in_on:
        raise InvalidInput("Den planlagte udflytningsdato kan ikke ligge før indflytningsdatoen.")
    if destination is Destination.OFFER:
        if receiving_offer is None:
            raise InvalidInput("En flytning til et andet tilbud kræver receiving_offer_id.")
        if receiving_offer.offer_id == case.placement.offer_id:
            raise InvalidInput("Det modtagende tilbud er det tilbud, borgeren allerede bor i.")
        if receiving_step is not None and receiving_step != receiving_offer.step:
            raise InvalidInput(f"'{receiving_offer.name}' ligger på trin {receiving_offer.step}, ikke {receiving_step}.")
        receiving_step = receiving_offer.step
    elif receiving_offer is not None:
        raise InvalidInput("receiving_offer_id gælder kun, når destinationen er 'offer'.")
    if receiving_step is not None:
        check_step(receiving_step, what="receiving_step")
    if isinstance(phase_out_visits_planned, bool) or not 0 <= phase_out_visits_planned <= MAX_PHASE_OUT_VISITS:
        raise InvalidInput(f"phase_out_visits_planned skal være mellem 0 og {MAX_PHASE_OUT_VISITS}.")
    warnings: list[str] = []
    if phase_out_visits_planned < RECOMMENDED_PHASE_OUT_VISITS:
        warnings.append(
            f"Kun {phase_out_visits_planned} udslusningsbesøg planlagt; erfaringen fra botilbuddene er 4–5 "
            "besøg efter udflytningen."
        )
    if receiving_step is not None and receiving_step >= case.placement.step:
        warnings.append(
            f"Det modtagende trin {receiving_step} er ikke lavere end det nuværende trin {case.placement.step}: "
            "det er en flytning, ikke en nedtrapning."
        )
    previous_visits = case.move_out_plan.phase_out_visits_done if case.move_out_plan else ()
    case.move_out_plan = MoveOutPlan(
        destination=destination,
        planned_on=planned_on,
        receiving_offer_id=receiving_offer.offer_id if receiving_offer else None,
        receiving_step=receiving_step,
        phase_out_visits_planned=phase_out_visits_planned,
        phase_out_visits_done=previous_visits,
        planned_by=by,
        planned_at=at,
    )
    where = {
        Destination.OWN_HOME: "egen bolig",
        Destination.OFFER: receiving_offer.name if receiving_offer else "et andet tilbud",
        Destination.OTHER: "et andet sted",
    }[destination]
    entry = _record(case, CaseStatus.PLACED, by=by, at=at, action="move-out-planned",
                    reason=_text(reason, "reason", required=False)
                    or f"Der er lagt en plan for din udflytning til {where} omkring {planned_on.isoformat()}.")
    return entry, warnings


def record_phase_out_visit(case: VisitationCase, *, visited_on: date, by: str, at: datetime) -> HistoryEntry:
    if case.move_out_plan is None:
        raise StateConflict("Kan ikke registrere et udslusningsbesøg: sagen har ingen udflytningsplan.")
    if case.status not in (CaseStatus.PLACED, CaseStatus.ENDED):
        raise StateConflict(f"Kan ikke registrere et udslusningsbesøg: sagen er '{case.status.danish}'.")
    assert case.placement is not None
    check_fact_date(visited_on, what="Datoen for udslusningsbesøget", at=at,
                    not_before=[(case.placement.moved_in_on, "indflytningsdatoen")])
    case.move_out_plan = replace(
        case.move_out_plan,
        phase_out_visits_done=tuple(sorted(case.move_out_plan.phase_out_visits_done + (visited_on,))),
    )
    entry = HistoryEntry(at=at, by=by, action="phase-out-visit", from_status=case.status, to_status=case.status,
                         reason=f"Udslusningsbesøg {visited_on.isoformat()}.")
    case.history.append(entry)
    return entry


def end_placement(
    case: VisitationCase,
    *,
    ended_on: date,
    by: str,
    at: datetime,
    cause: EndCause | None = None,
    destination: Destination | None = None,
    receiving_offer: Offer | None = None,
    to_step: int | None = None,
    reason: str | None = None,
    internal_note: str | None = None,
) -> HistoryEntry:
    """End the placement (moved out, stepped down, transferred, died, other). Destination and
    receiving offer default to the move-out plan's. Without a cause, it is derived from the steps."""
    check_transition(case, CaseStatus.ENDED, "end the placement")
    assert case.placement is not None
    check_fact_date(ended_on, what="Datoen, opholdet sluttede", at=at,
                    not_before=[(case.placement.moved_in_on, "indflytningsdatoen")])
    plan = case.move_out_plan
    if destination is None:
        destination = plan.destination if plan else (Destination.OTHER if cause in (EndCause.DIED, EndCause.OTHER) else None)
        if destination is None:
            raise InvalidInput("Angiv, hvor borgeren flyttede hen: destination 'own_home', 'offer' eller 'other'.")
    if destination is Destination.OFFER and receiving_offer is None and plan and plan.receiving_offer_id:
        raise InvalidInput(
            f"Udflytningsplanen nævner det modtagende tilbud '{plan.receiving_offer_id}'; angiv det som receiving_offer_id."
        )
    planned = plan is not None and plan.destination is destination
    if destination is Destination.OFFER:
        if receiving_offer is None:
            raise InvalidInput("En flytning til et andet tilbud kræver receiving_offer_id.")
        if planned and plan.receiving_offer_id and plan.receiving_offer_id != receiving_offer.offer_id:
            raise InvalidInput(
                f"Udflytningsplanen nævner '{plan.receiving_offer_id}' som det modtagende tilbud, ikke "
                f"'{receiving_offer.offer_id}'. Ret udflytningsplanen først (PUT …/move-out-plan)."
            )
        # The step is the receiving offer's; a different to_step contradicts it and is refused, never replaced.
        if to_step is not None and to_step != receiving_offer.step:
            raise InvalidInput(
                f"to_step {to_step} passer ikke med det modtagende tilbud '{receiving_offer.name}', som ligger på "
                f"trin {receiving_offer.step} af indsatstrappen"
                + (" (efter udflytningsplanen)" if planned else "")
                + ". Udelad to_step, eller ret udflytningsplanen først."
            )
        to_step = receiving_offer.step
    elif receiving_offer is not None:
        raise InvalidInput("receiving_offer_id gælder kun, når destinationen er 'offer'.")
    elif planned and plan.receiving_step is not None:
        if to_step is not None and to_step != plan.receiving_step:
            raise InvalidInput(
                f"to_step {to_step} passer ikke med udflytningsplanen, som siger trin {plan.receiving_step}. "
                "Udelad to_step, eller ret udflytningsplanen først (PUT …/move-out-plan)."
            )
        to_step = plan.receiving_step
    if to_step is not None:
        check_step(to_step, what="to_step")
    from_step = case.placement.step
    lower = to_step is not None and to_step < from_step
    if cause is None:
        if lower:
            cause = EndCause.STEPPED_DOWN
        elif destination is Destination.OFFER:
            cause = EndCause.TRANSFERRED
        else:
            cause = EndCause.MOVED_OUT
    elif cause is EndCause.STEPPED_DOWN and not lower:
        raise InvalidInput(
            f"Et trin ned kræver et lavere trin end det nuværende trin {from_step}: angiv et to_step "
            "(eller et modtagende tilbud) under det."
        )
    elif cause is EndCause.TRANSFERRED and (destination is not Destination.OFFER or lower):
        raise InvalidInput(
            "'transferred' betyder en flytning til et andet tilbud på samme eller et højere trin; "
            "en flytning til et lavere trin er 'stepped_down'."
        )
    elif cause in (EndCause.MOVED_OUT, EndCause.OTHER) and lower:
        cause = EndCause.STEPPED_DOWN  # a move to a lower step counts as a step down whatever it was called
    case.ending = Ending(
        cause=cause,
        ended_on=ended_on,
        destination=destination,
        receiving_offer_id=receiving_offer.offer_id if receiving_offer else None,
        from_step=from_step,
        to_step=to_step,
        ended_by=by,
    )
    default_reason = {
        EndCause.STEPPED_DOWN: "Du er flyttet videre til et tilbud med mindre støtte.",
        EndCause.MOVED_OUT: "Du er flyttet ud.",
        EndCause.TRANSFERRED: "Du er flyttet til et andet tilbud.",
        EndCause.DIED: "Opholdet er afsluttet.",
        EndCause.OTHER: "Opholdet er afsluttet.",
    }[cause]
    return _record(case, CaseStatus.ENDED, by=by, at=at, action="placement-ended",
                   reason=_text(reason, "reason", required=False) or default_reason, internal_note=internal_note)


def opens_case_at_receiving_offer(case: VisitationCase, offer: Offer | None) -> bool:
    """An ending that moves the citizen to an offer (a step down or a transfer) continues the case
    there — except at step 1, which needs no visitation."""
    return (case.ending is not None and case.ending.destination is Destination.OFFER and offer is not None
            and case.ending.receiving_offer_id == offer.offer_id and offer.step > 1)


def continue_at_receiving_offer(
    previous: VisitationCase,
    *,
    case_id: UUID,
    offer: Offer,
    profile: CitizenProfile,
    by: str,
    at: datetime,
    target_group_override: str | None = None,
) -> VisitationCase:
    """The citizen moved from ``previous`` (just ended) to ``offer``: their case continues there as a
    new case, linked both ways, with the screening carried over. With a free place the citizen is
    placed from the day they moved; otherwise they wait on the offer's waitlist (granted, no place).
    The grant's rules apply (target group, active offer), so a refused grant refuses the ending."""
    ending = previous.ending
    assert ending is not None and previous.placement is not None and previous.status is CaseStatus.ENDED
    moved_on = ending.ended_on
    case = open_case(
        case_id=case_id, citizen_id=previous.citizen_id, referrer=Referrer(channel=Channel.STAFF, sub=by),
        reason=f"Flytter videre fra '{previous.placement.offer_id}' (trin {ending.from_step}) til {offer.name} "
               f"(trin {offer.step}).",
        received_at=min(at, clock.start_of_local_day(moved_on)), municipality=previous.municipality,
        requested_step=offer.step, requested_legal_basis=offer.legal_basis, requested_offer_id=offer.offer_id,
    )
    case.continued_from = previous.case_id
    case.history[0] = replace(case.history[0], at=at, by=by, action="continued-from",
                              reason=f"Dit forløb fortsætter fra dit tidligere tilbud på {offer.name}.")
    case.assessment = previous.assessment
    _record(case, CaseStatus.SCREENING, by=by, at=at, action="assessment-carried-over",
            reason="Udredningen fra dit tidligere tilbud følger med.")
    step_word = "et trin ned ad indsatstrappen" if ending.stepped_down else "videre"
    grant(case, offer=offer, profile=profile, start_date=moved_on, follow_up_date=None,
          reason=f"Du flytter {step_word} til {offer.name}.", by=by, at=at, join_waitlist=True,
          target_group_override=target_group_override)
    if case.status is CaseStatus.GRANTED:
        move_in(case, offer=offer, moved_in_on=moved_on, by=by, at=at)
    previous.continued_in = case.case_id
    previous.history.append(HistoryEntry(
        at=at, by=by, action="continued-in", from_status=previous.status, to_status=previous.status,
        reason=f"Dit forløb fortsætter på {offer.name}."))
    return case


def withdraw(case: VisitationCase, *, reason: str, by: str, at: datetime) -> HistoryEntry:
    check_transition(case, CaseStatus.WITHDRAWN, "withdraw the referral")
    reason_text = _text(reason, "Begrundelsen for tilbagetrækningen", required=True)
    case.withdrawn_reason = reason_text
    return _record(case, CaseStatus.WITHDRAWN, by=by, at=at, action="withdrawn", reason=reason_text)
