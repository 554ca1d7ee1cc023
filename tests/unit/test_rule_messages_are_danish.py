"""What a staff member or citizen reads is Danish (docs: people see Danish); a partner reads English.

Held here for plans' and referrals' rule messages, plans' access refusals (403) and not-found answers
(404), referrals' matching exclusions and visitation warnings, the consent decision's reasons
(``tovholder.consent``) and the kit's CPR messages (``tovholder.cpr``):

- read from the source: every message a rule or a refusal raises (``PlanRuleViolation``, ``InvalidInput``,
  ``StateConflict``, ``DomainError``, ``Forbidden``, ``NotFound``, ``authorize`` …, a module constant passed
  to them included), every name of a text a rule asks for (``require_text``/``_text``), every warning or
  exclusion appended for visitation and every reason a decision is made with is checked for English words;
- and asked: every access decision plans makes (each viewer × action), every kind of consent decision,
  every refused CPR and referrals' exclusions and warnings answer Danish.

The English a partner reads goes in ``en`` (integration endpoints and FHIR answer in English) and is not
checked here except that it is there. The behaviour of single messages is in tests/unit/plans,
tests/unit/referrals and tests/unit/kit."""

from __future__ import annotations

import ast
import itertools
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
FILES = sorted([*(SERVICES / "plans").glob("domain/*.py"), SERVICES / "plans" / "services.py",
                SERVICES / "plans" / "schemas.py", SERVICES / "plans" / "repository.py", SERVICES / "plans" / "api.py",
                *(SERVICES / "referrals").glob("domain/*.py"), SERVICES / "referrals" / "services.py",
                SERVICES / "referrals" / "repository.py", ROOT / "tovholder" / "consent.py", ROOT / "tovholder" / "cpr.py"])
# Callable → the position of the argument a person reads.
RAISED = {name: 0 for name in ("PlanRuleViolation", "UnknownCategory", "InvalidInput", "StateConflict", "DomainError",
                               "Forbidden", "NotFound", "NotVisible", "Conflict", "AccessDenied", "InvalidCpr",
                               "authorize", "refused", "_invalid")}
NAMED = {"require_text": 1, "_text": 1, "authorize": 1, "Decision": 2, "AccessDecision": 2}
KEYWORDS = {"not_found"}  # keyword arguments a person reads (``en=`` is the partner's)
LISTS = {"warnings", "exclusions", "reasons"}  # ``warnings.append(...)``: what visitation reads
ENGLISH = re.compile(r"\b(the|must|cannot|needs?|already|say|only|Only|before|after|unknown|is|are|should|has|"
                     r"not|Not|of|with|Cannot|The|An?|Unknown|Say|Step|allowed|you|your|such|this|This|No|no|"
                     r"was|were|been)\b")


def literal_text(node: ast.AST) -> str:
    """The literal parts of a string expression (f-string holes left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(literal_text(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return f"{literal_text(node.left)} {literal_text(node.right)}"
    if isinstance(node, ast.Tuple) and node.elts:  # (Danish, English): a person reads the first
        return literal_text(node.elts[0])
    return ""


def constants(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level ``NAME = "…"`` (or a tuple): a message may be passed by its name."""
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


ALL_CONSTANTS = {name: value for path in FILES for name, value in constants(ast.parse(path.read_text())).items()}


def text_of(node: ast.AST, own: dict[str, ast.AST]) -> str:
    if isinstance(node, ast.Name) and node.id in own:
        return literal_text(own[node.id])
    if isinstance(node, ast.Attribute) and node.attr in ALL_CONSTANTS:  # repository.NO_PLAN
        return literal_text(ALL_CONSTANTS[node.attr])
    return literal_text(node)


def _danish_and_english(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Tuple) and len(node.elts) == 2 \
        and all(isinstance(e, (ast.Constant, ast.JoinedStr, ast.BinOp)) and literal_text(e) for e in node.elts)


def callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def messages(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    own = constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and _danish_and_english(node.value):
            found.append((node.lineno, literal_text(node.value)))  # ``return (Danish, English)``
        if not isinstance(node, ast.Call):
            continue
        name = callee(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "append" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in LISTS and node.args:
            found.append((node.lineno, text_of(node.args[0], own)))
            continue
        if name is None:
            continue
        positions = {p for p in (RAISED.get(name), NAMED.get(name)) if p is not None}
        for position in positions:
            if len(node.args) > position:
                found.append((node.lineno, text_of(node.args[position], own)))
        if name in RAISED or name in NAMED:
            found.extend((node.lineno, text_of(k.value, own)) for k in node.keywords if k.arg in KEYWORDS)
    return [(line, text) for line, text in found if text.strip()]


def english(text: str) -> bool:
    return bool(ENGLISH.search(text))


def test_the_check_finds_the_messages_it_reads():
    found = {path.relative_to(ROOT).as_posix(): messages(path) for path in FILES}
    assert sum(len(m) for m in found.values()) > 150
    # Each area the check holds: the refusals and not-found answers of plans, referrals' exclusions and
    # warnings, the consent decision's reasons, the CPR messages.
    assert len(found["services/plans/services.py"]) >= 15
    assert any("ingen plan endnu" in text for _, text in found["services/plans/repository.py"])
    assert len(found["services/plans/domain/access.py"]) >= 8
    assert len(found["services/referrals/domain/offers.py"]) >= 8
    assert len(found["tovholder/consent.py"]) >= 4
    assert len(found["tovholder/cpr.py"]) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rule_messages_that_staff_read_are_danish(path):
    assert [(line, text) for line, text in messages(path) if english(text)] == []


# --- asked, not read: what the rules answer ------------------------------------------------------------

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


def test_every_access_decision_of_plans_gives_its_reason_in_danish_and_in_english():
    from services.plans.domain.access import Action, Viewer, decide
    from services.plans.domain.consent import ConsentRecord

    citizen = str(uuid4())
    viewers = [Viewer(citizen, "citizen"), Viewer(str(uuid4()), "citizen"),
               Viewer("orion-k1", "coordinator", botilbud="orion"), Viewer("orion-k2", "coordinator", botilbud="orion"),
               Viewer("cirklen-k1", "coordinator", botilbud="cirklen"), Viewer("p", "partner", org="SOR:1234567"),
               Viewer("admin-1", "admin"), Viewer("visitation-1", "visitation")]
    revoked = ConsentRecord(uuid4(), "organisation", "SOR:1234567", "plan", NOW - timedelta(days=2), "k1",
                            revoked_at=NOW - timedelta(days=1))
    seen = set()
    for viewer, action, empty, consents in itertools.product(viewers, Action, (False, True), ([], [revoked])):
        decision = decide(viewer, action, citizen_id=citizen, network={"orion-k1"}, botilbud_id="orion",
                          consents=consents, at=NOW, network_is_empty=empty)
        assert decision.reason and not english(decision.reason), (viewer, action, decision.reason)
        assert decision.en and decision.en != decision.reason, (viewer, action)  # a partner's FHIR answer
        seen.add(decision.reason)
    assert len(seen) >= 8


def test_every_kind_of_consent_decision_gives_its_reason_in_danish_and_in_english():
    from tovholder import consent as kit

    org, relatives = kit.Recipient.organisation("SOR:1234567"), kit.Recipient(kit.GROUP, "relatives")
    given = kit.Consent("c1", org, "health", NOW - timedelta(days=3))
    revoked = kit.Consent("c2", relatives, "plan", NOW - timedelta(days=3), revoked_at=NOW - timedelta(days=1))
    later = kit.Consent("c3", org, "fit", NOW + timedelta(days=1))
    named = kit.Recipient.organisation("SOR:1111111")
    bases = {**kit.LEGAL_BASES, "testloven § 1": kit.LegalBasis("testloven § 1", frozenset({"health"}),
                                                                frozenset({named}), "test")}
    asked = [
        dict(consents=[given], legal_basis=None, recipient=org, category="health"),  # consent
        dict(consents=[], legal_basis="testloven § 1", recipient=named, category="health", bases=bases),  # basis
        dict(consents=[revoked], legal_basis=None, recipient=relatives, category="plan"),  # revoked
        dict(consents=[later], legal_basis=None, recipient=org, category="fit"),  # not yet in force
        dict(consents=[], legal_basis=None, recipient=org, category="safety-plan"),  # none
        dict(consents=[], legal_basis="retssikkerhedsloven § 12 c", recipient=org, category="hospital-notice"),
        dict(consents=[], legal_basis="lov om noget andet § 7", recipient=org, category="health"),
        dict(consents=[], legal_basis=None, recipient=org, category="diary"),  # a category the kit does not name
    ]
    reasons = []
    for question in asked:
        decision = kit.decide(at=NOW, **question)
        assert not english(decision.reason), decision.reason
        assert decision.en and decision.en != decision.reason
        reasons.append(decision.reason)
    assert len(set(reasons)) == len(asked)
    assert "pårørende" in reasons[2] and "21.11.2026 kl. 13.00" in reasons[2]  # Copenhagen time, as a Dane writes it
    assert not english(kit.refused("abonnementet er stoppet", en="the subscription was stopped").reason)


@pytest.mark.parametrize("raw, today", [(None, None), ("12345", None), ("3102904321", None),
                                        ("0101304000", date(2026, 11, 22))])
def test_every_refused_cpr_is_said_in_danish_and_in_english(raw, today):
    from tovholder.cpr import CPR_INVALID, InvalidCpr, normalize_cpr

    with pytest.raises(InvalidCpr) as caught:
        normalize_cpr(raw, today=today)
    assert caught.value.message.startswith(CPR_INVALID) and not english(caught.value.message)
    assert "CPR number" in caught.value.en  # a partner's receipt


def test_referrals_exclusions_and_visitation_warnings_are_danish():
    from services.referrals.domain import lifecycle as lc
    from services.referrals.domain.model import Channel, LegalBasis, Referrer, Trait
    from services.referrals.domain.offers import CitizenProfile, Offer, ResidentMix, TargetGroup, match_offers

    every_trait = frozenset(Trait)
    offer = Offer(offer_id="o", name="Orion", botilbud_id="orion", legal_basis=LegalBasis.SEL_108, step=7,
                  approved_places=10, occupied=10, reserved=0, active=False,
                  target_group=TargetGroup(min_age=30, max_age=40, requires=every_trait - {Trait.MISBRUG},
                                           excludes=frozenset({Trait.MISBRUG})),
                  mix=ResidentMix(residents=10, outward_reacting=2, drug_using=3, withdrawn=4))
    said = []
    for profile in (CitizenProfile(age=20, traits=frozenset({Trait.MISBRUG, Trait.TILBAGETRUKKET})),
                    CitizenProfile(age=50, traits=frozenset({Trait.UDADREAGERENDE}))):
        [match] = match_offers([offer], profile, step=6, legal_basis=LegalBasis.SEL_107)
        said += [*match.exclusions, *match.warnings]
    at = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    case = lc.open_case(case_id=uuid4(), citizen_id=uuid4(), referrer=Referrer(channel=Channel.PARTNER, org="SOR:1"),
                        reason="Har brug for et trygt sted at bo.", received_at=at, citizen_wishes=None,
                        requested_step=7, requested_legal_basis=LegalBasis.SEL_108)
    lc.start_screening(case, by="v", at=at)
    lc.record_assessment(case, scores={"egenomsorg": 3}, wishes="Egen bolig.", needs="Struktur.", resources="Søster.",
                         traits=[], by="v", at=at)
    home = Offer(offer_id="h", name="Hjem", botilbud_id="hjem", legal_basis=LegalBasis.SEL_108, step=7,
                 approved_places=5, occupied=1, reserved=0, target_group=TargetGroup(min_age=18))
    lc.grant(case, offer=home, profile=CitizenProfile(age=30), start_date=date(2026, 2, 1), follow_up_date=None,
             reason="Borgeren har brug for døgnstøtte.", by="v", at=at)
    lc.move_in(case, offer=home, moved_in_on=date(2026, 2, 1), by="v", at=datetime(2026, 2, 1, 10, tzinfo=timezone.utc))
    _, warnings = lc.plan_move_out(case, destination=lc.Destination.OFFER, planned_on=date(2026, 6, 1), by="v",
                                   at=datetime(2026, 3, 1, 10, tzinfo=timezone.utc), receiving_offer=offer,
                                   phase_out_visits_planned=1)
    said += warnings
    assert len(said) >= 12 and len(warnings) == 2
    assert [text for text in said if english(text)] == []
    assert any("kognitiv funktionsnedsættelse" in text for text in said)  # the characteristic as a Dane writes it


def test_a_refused_step_of_the_case_names_its_status_in_danish():
    from types import SimpleNamespace

    from services.referrals.domain import lifecycle as lc
    from services.referrals.domain.model import CaseStatus

    codes = re.compile("|".join(rf"\b{s.value}\b" for s in CaseStatus))
    for status, action in itertools.product(CaseStatus, [*lc._ACTION_DA, "grant"]):
        said = lc._why_not(SimpleNamespace(status=status, grant=None, refusal=None), CaseStatus.GRANTED, action)
        assert not codes.search(said) and not english(said), said

