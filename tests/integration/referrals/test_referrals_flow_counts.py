"""The flow report counted by PostgreSQL (``repository.flow_counts``) is the report the domain counts
from the cases' facts (``report.counts_of``): the same figures for every period, on cases made to sit
on the edges — evenings in UTC that are the next day (and month) in Copenhagen, a refusal reopened and
granted, move-outs of every cause and destination, cases with no offer."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.referrals import repository
from services.referrals.domain.report import assemble, flow_report
from tovholder import clock

pytestmark = pytest.mark.integration

CASES = 2_000


async def _cases(referrals) -> None:
    async with referrals.ctx.sessions() as s, s.begin():
        await s.execute(text(
            """INSERT INTO citizen (id, cpr_hash, cpr_encrypted, name, municipality)
               SELECT md5('flow-citizen-' || (g % 1500))::uuid, md5('flow-a' || (g % 1500)) || md5('flow-b' || (g % 1500)),
                      'test', 'Flowborger ' || g, 'København'
               FROM generate_series(1, 1500) AS g"""))
        # Received on the last evening of a month in UTC (the first of the next in Copenhagen) every
        # seventh case; the others spread over two years.
        await s.execute(text(
            """INSERT INTO referral (id, citizen_id, status, channel, municipality, reason, received_at, offer_id,
                                     botilbud_id, decision, moved_in_on, ended_on, end_cause, end_destination)
               SELECT md5('flow-referral-' || g)::uuid, md5('flow-citizen-' || (g % 1500))::uuid,
                      (ARRAY['received','refused','granted','placed','ended','withdrawn'])[1 + g % 6],
                      CASE WHEN g % 3 = 0 THEN 'partner' ELSE 'staff' END, 'København', 'Flow ' || g, r.at,
                      CASE WHEN g % 6 IN (2, 3, 4) THEN (ARRAY['orion', 'cirklen', NULL])[1 + g % 3] END,
                      NULL,
                      CASE WHEN g % 6 IN (2, 3, 4) THEN 'granted' WHEN g % 6 = 1 THEN 'refused' END,
                      CASE WHEN g % 6 IN (3, 4) THEN (timezone('Europe/Copenhagen', r.at))::date + (g % 90) END,
                      CASE WHEN g % 6 = 4 THEN (timezone('Europe/Copenhagen', r.at))::date + 90 + (g % 300) END,
                      CASE WHEN g % 6 = 4 THEN (ARRAY['stepped_down', 'moved_out', 'transferred', 'died', 'other', NULL])[1 + (g / 6) % 6] END,
                      CASE WHEN g % 6 = 4 THEN (ARRAY['own_home', 'offer', 'other', NULL])[1 + (g / 6) % 4] END
               FROM generate_series(1, :n) AS g,
                    LATERAL (SELECT CASE WHEN g % 7 = 0
                                         THEN date_trunc('month', now() - (g % 24) * interval '1 month') - interval '30 minutes'
                                         ELSE now() - (g % 730) * interval '1 day' - (g % 1440) * interval '1 minute'
                                    END AS at) AS r"""), {"n": CASES})
        # Decisions: each decided case's, and for every fifth a refusal before it (reopened, decided again);
        # some at 23:30 UTC.
        await s.execute(text(
            """INSERT INTO referral_status_change (referral_id, status, from_status, action, at, by)
               SELECT id, status, 'screening', decision, received_at + interval '20 days', 'v' FROM referral
               WHERE reason LIKE 'Flow %' AND decision IS NOT NULL
               UNION ALL
               SELECT id, 'refused', 'screening', 'refused',
                      date_trunc('day', received_at + interval '5 days') + interval '23 hours 30 minutes', 'v'
               FROM referral WHERE reason LIKE 'Flow %' AND decision = 'granted' AND (hashtext(id::text) % 5) = 0"""))


async def test_postgresql_counts_the_report_the_domain_counts(referrals):
    await _cases(referrals)
    today = clock.today()
    first_of_month = today.replace(day=1)
    periods = [
        (today.replace(month=1, day=1), today.replace(month=12, day=31)),  # this year
        (today - timedelta(days=730), today),  # everything
        (first_of_month, today),  # a month so far
        (first_of_month, first_of_month),  # one day: the evening-in-UTC referrals land here
        (date(1990, 1, 1), date(1990, 12, 31)),  # nothing
    ]
    for period_from, period_to in periods:
        start = datetime.combine(period_from, datetime.min.time(), clock.COPENHAGEN)
        end = datetime.combine(period_to + timedelta(days=1), datetime.min.time(), clock.COPENHAGEN)
        async with referrals.ctx.uow() as uow:
            facts = await repository.flow_facts(uow, period_from, period_to, start, end, clock.COPENHAGEN)
            counted = assemble(await repository.flow_counts(uow, period_from, period_to, start, end),
                               period_from, period_to)
        assert counted == flow_report(facts, period_from, period_to), (period_from, period_to)
    year = assemble(await _counts(referrals, *periods[1]), *periods[1])
    # The data reaches every part of the report (so equality above is not two empty reports).
    assert year.referrals_received > 1000 and year.decisions_refused > 0 and year.decisions_granted > 0
    assert year.step_downs > 0 and year.move_outs_to_own_home > 0 and year.move_outs_to_other_offer > 0
    assert year.waiting_days_p90 is not None and len(year.by_offer) == 2
    assert assemble(await _counts(referrals, *periods[3]), *periods[3]).referrals_received > 0


async def _counts(referrals, period_from: date, period_to: date):
    start = datetime.combine(period_from, datetime.min.time(), clock.COPENHAGEN)
    end = datetime.combine(period_to + timedelta(days=1), datetime.min.time(), clock.COPENHAGEN)
    async with referrals.ctx.uow() as uow:
        return await repository.flow_counts(uow, period_from, period_to, start, end)
