"""The shared kit of Tovholder's four services, and the `tovholder` command.

Everything the services have in common lives here once: settings, database and unit of work,
transactional outbox and its relay, idempotent inbox, retries and dead letters, CloudEvents over
Kafka, telemetry, auth, audit, receipts for partner messages, CPR handling. See tovholder/README.md.
"""
