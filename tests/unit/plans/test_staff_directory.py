"""Who may join a citizen's network: staff of the citizen's botilbud that plans knows (pure)."""

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.staff import (RegisterEntryInvalid, Source, StaffMember, from_register, from_token,
                                         require_may_join)

KNOWN = StaffMember(staff_id="orion-koordinator-2", role="coordinator", botilbud_id="orion", name="Bo Jensen")


def test_staff_of_the_citizens_botilbud_may_join():
    assert require_may_join("orion-koordinator-2", KNOWN, botilbud_id="orion") is KNOWN


def test_any_string_is_not_a_staff_member():
    """Regression (issue 15): any string was accepted as a staff id."""
    with pytest.raises(PlanRuleViolation, match="ikke en medarbejder, systemet kender"):
        require_may_join("hvem-som-helst", None, botilbud_id="orion")
    with pytest.raises(PlanRuleViolation, match="hvilken medarbejder"):
        require_may_join("  ", None, botilbud_id="orion")


def test_staff_of_another_botilbud_is_refused():
    """Regression (issue 15): staff of another botilbud could be added."""
    with pytest.raises(PlanRuleViolation, match="andet botilbud \\(orion\\)"):
        require_may_join("orion-koordinator-2", KNOWN, botilbud_id="tangkaer")


def test_the_directory_learns_botilbud_staff_from_their_tokens_only():
    assert from_token(sub="tangkaer-sygeplejekonsulent-1", role="nurse-consultant", botilbud="tangkaer") == \
        StaffMember("tangkaer-sygeplejekonsulent-1", "nurse-consultant", "tangkaer", source=Source.TOKEN)
    assert from_token(sub="visitation-1", role="visitation", botilbud=None) is None
    assert from_token(sub="c-1", role="citizen", botilbud=None) is None
    assert from_token(sub="k-1", role="coordinator", botilbud=None) is None
    assert from_token(sub="ekstern:123", role="coordinator", botilbud="orion") is None


def test_a_member_who_left_cannot_join():
    left = StaffMember("orion-k9", "coordinator", "orion", name="Anna Holm", source=Source.REGISTER, active=False)
    with pytest.raises(PlanRuleViolation, match="'Anna Holm' er fratrådt"):
        require_may_join("orion-k9", left, botilbud_id="orion")


def test_the_register_provisions_botilbud_staff_only():
    assert from_register(user_name=" orion-k9 ", role="nurse-consultant", botilbud_id="orion", name=" Anna ",
                         active=False) == StaffMember("orion-k9", "nurse-consultant", "orion", name="Anna",
                                                      source=Source.REGISTER, active=False)
    for kw, reason in ((dict(user_name=""), "userName is required"), (dict(user_name="ekstern:1"), "must not start"),
                       (dict(role="visitation"), "role must be one of"), (dict(role=None), "role must be one of"),
                       (dict(botilbud_id=" "), "botilbudId is required")):
        entry = {"user_name": "orion-k9", "role": "coordinator", "botilbud_id": "orion", "name": None, "active": True, **kw}
        with pytest.raises(RegisterEntryInvalid, match=reason):
            from_register(**entry)
