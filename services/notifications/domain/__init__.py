"""The notifications service's pure rules: tasks and their state machine, the event → task rules,
reminders and escalation, the work-queue filters, access, the consent gate and partner delivery.

No I/O here: no database, web framework, Kafka or HTTP. See the module docstrings."""
