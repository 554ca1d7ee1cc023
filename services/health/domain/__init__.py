"""Pure rules of the health service (the tovholder role): no I/O, no SQLAlchemy, FastAPI or Kafka.

Modules:
- ``hospital_notices``: MedCom-style hospital notification codes, validation, admission state;
- ``health_check``: the annual sundhedstjek cycle (Tangkær), day planning, minutes and reminders;
- ``medication``: FMK references and changes, the alert for a change during an admission;
- ``forensic``: behandlingsdom, weekly depot-medication visits, the coercion-considered log;
- ``tovholder``: the citizen's choice of nurse consultant and the external-contact timeline;
- ``access``: who may read or write a citizen's health data.
"""

from services.health.domain.errors import HealthRuleViolation, NoticeConflict, NoticeInvalid

__all__ = ["HealthRuleViolation", "NoticeConflict", "NoticeInvalid"]
