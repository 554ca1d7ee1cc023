"""The plans service's pure rules: no I/O, no SQLAlchemy, no FastAPI, no Kafka.

- ``plan``: Borgerens Plan (goals, sub-goals, actions, entries) as immutable versions with a diff;
- ``cadence`` and ``followup``: follow-up rhythms and due computation;
- ``network``: the citizen-chosen network of 1–14 staff;
- ``safety``: tryghedsplan, LA2 ratings, learning plans, BVC;
- ``fit``: ORS/SRS sessions and trends;
- ``consent``: the consent registry and ``may_receive`` (imported by other services' read models);
- ``access``: who may read and write what about a citizen (relation × action, consent for partners).
"""

from services.plans.domain.errors import PlanRuleViolation, UnknownCategory

__all__ = ["PlanRuleViolation", "UnknownCategory"]
