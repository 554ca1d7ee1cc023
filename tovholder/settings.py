"""One settings object per process, read from the environment (prefix ``TOVHOLDER_``)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tovholder.reminders import ReminderSchedule

# The portal (services/portal, the web application for people) is the sixth process; it has no events.
DEFAULT_PORTS = {"portal": 8100, "referrals": 8101, "plans": 8102, "health": 8103, "notifications": 8104}
# Every process with a database and migrations: the four event-driven services (contracts.topics.SERVICES)
# and the portal.
PROCESSES = ("referrals", "plans", "health", "notifications", "portal")
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_", extra="ignore")

    service: str = "referrals"
    environment: Literal["development", "test", "production"] = "development"
    # The municipality this installation serves. Partner messages (referrals, hospital notices)
    # arrive at one municipality's installation and belong to it (see tovholder/scopes.py).
    municipality: str | None = None
    host: str = "127.0.0.1"
    port: int | None = None
    # Where `make run` keeps PostgreSQL data, the development signing key and dev secrets.
    state_dir: Path = REPO_ROOT / ".tovholder"

    database_url: str = ""
    database_pool_size: int = 10
    database_connect_timeout_s: float = 3.0
    # Waiting for a free pooled connection is queueing behind other requests, not an outage: a burst of
    # partner messages on a busy machine waits longer than a connection attempt may take.
    database_pool_timeout_s: float = 10.0

    kafka_bootstrap: str = "127.0.0.1:19092"
    # The broker `tovholder up` starts locally (TOVHOLDER_BROKER): the embedded Tansu, or Apache Kafka.
    broker: Literal["tansu", "kafka"] = "tansu"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    # Apache Kafka (production, CI): acks=all with the idempotent producer, so a retried send never
    # duplicates or reorders within a partition. Only Tansu (the embedded local broker) refuses it;
    # `tovholder up` and the tests turn it off there. Outbox + inbox keep at-least-once either way.
    kafka_idempotent_producer: bool = True
    # Tansu (local/CI) joins a group in half the session timeout: keep these small locally.
    consumer_session_timeout_ms: int = 3000
    consumer_heartbeat_interval_ms: int = 500
    # Records per fetch; each partition's share is handled in one transaction.
    consumer_batch_size: int = 500
    # How long the broker may hold a fetch when nothing is there (data returns at once).
    consumer_fetch_max_wait_ms: int = 100

    handler_max_attempts: int = 5
    handler_backoff_initial_s: float = 0.2
    handler_backoff_max_s: float = 10.0
    outbox_batch_size: int = 500
    outbox_retention_days: int = 14
    # Min log: how long the audit log (who read or changed a citizen's data) is kept; five years.
    audit_retention_days: int = Field(default=1827, ge=1)
    outbox_poll_interval_s: float = 2.0  # safety net only: the relay is woken by NOTIFY on commit
    outbox_coalesce_s: float = 0.005

    auth_issuer: str | None = None
    auth_jwks_url: str | None = None
    auth_audience: str = "tovholder"
    # Clock skew allowed when checking a token's exp/iat/nbf.
    auth_leeway_s: int = 30

    # Larger request bodies are refused with 413 before they are read (no route needs more).
    max_request_body_bytes: int = 1_048_576

    otel_exporter: Literal["none", "console", "otlp"] = "none"
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Only referrals and health need these; in development they are generated under state_dir.
    cpr_hash_key: SecretStr | None = None
    cpr_encryption_key: SecretStr | None = None
    # Encrypts secrets a service must read back (notifications: partners' signing secrets).
    secret_box_key: SecretStr | None = None

    # One reminder schedule for every service (tovholder/reminders.py): the evening before and the
    # morning of an appointment, Copenhagen time (TOVHOLDER_REMINDER_EVENING_BEFORE=19:00, …_MORNING_OF=08:00).
    reminder_evening_before: time = time(19, 0)
    reminder_morning_of: time = time(8, 0)

    # Lets partner callbacks point at this machine (http://127.0.0.1:…) for local development and the
    # tests. Off by default, and refused in production: there a callback is an https URL of a public host.
    webhook_allow_loopback: bool = False

    @model_validator(mode="after")
    def _loopback_webhooks_are_not_for_production(self) -> "Settings":
        if self.webhook_allow_loopback and self.is_production:
            raise ValueError("TOVHOLDER_WEBHOOK_ALLOW_LOOPBACK is for local development and tests; it is refused in production")
        return self

    @property
    def http_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.service, 8080)

    @property
    def reminder_schedule(self) -> ReminderSchedule:
        return ReminderSchedule(evening_before=self.reminder_evening_before, morning_of=self.reminder_morning_of)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def dev_signing_key_file(self) -> Path:
        return self.state_dir / "dev-signing-key"


@lru_cache
def get_settings() -> Settings:
    return Settings()
