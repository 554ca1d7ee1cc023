"""How many round trips to PostgreSQL a partner's document (lab results, a pharmacist's review, a
psychiatrist's notes) or medication change costs health's intake, counted on a connection of its own,
for a known citizen with a record and for a CPR not known here. Each statement is a round trip, plus
BEGIN and COMMIT."""

from __future__ import annotations

import json

import pytest
from services.health import schemas as s
from services.health.services.partner_documents import receive_partner_document, receive_partner_medication_change
from tests.integration.health.helpers import PARTNER_ORG, known_citizen, new_cpr
from tests.integration.health.test_health_partner_receipts import message
from tests.support import with_statements_counted
from tovholder.auth import Principal

pytestmark = pytest.mark.integration

PARTNER = Principal(sub="partner-system", role="partner", org=PARTNER_ORG)
MODELS = {"lab-results": s.LabResults, "pharmacist-reviews": s.PharmacistReview, "psychiatrist-notes": s.PsychiatristNotes}
# The bound: a partner message in at most 5 round trips (BEGIN and COMMIT are two).
ROUND_TRIPS = 5
STATEMENTS = ROUND_TRIPS - 2


async def intake(health, vault, endpoint: str, body: dict) -> tuple[int, list[str]]:
    raw = json.dumps(body).encode()

    def use_case(uow):
        if endpoint == "medication-changes":
            return receive_partner_medication_change(uow, PARTNER, raw, vault=vault)
        return receive_partner_document(uow, PARTNER, raw, MODELS[endpoint], vault=vault)

    response, statements = await with_statements_counted(health.ctx.settings.database_url, "health", use_case)
    return response.status_code, statements


@pytest.mark.parametrize("endpoint", [*MODELS, "medication-changes"])
@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
async def test_a_partner_document_in_few_round_trips(health, kafka, vault, endpoint, known):
    cpr = (await known_citizen(health, kafka, vault))[1] if known else new_cpr()
    status, statements = await intake(health, vault, endpoint, message(endpoint, cpr))
    assert status == 202
    assert len(statements) <= STATEMENTS, f"{len(statements)} statements:\n\n" + "\n\n".join(statements)
