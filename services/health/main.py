"""Composition root of the health service."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.health import api, handlers, jobs
from services.health.fhir.capability import Messaging
from tovholder.service import ServiceSpec, entry_points


class HealthSettings(BaseSettings):
    """Health's own settings (``TOVHOLDER_HEALTH_*``), next to the kit's ``Settings``."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_HEALTH_", extra="ignore")

    # How often the depot watch looks for missed depot-medication visits.
    depot_scan_interval_s: float = 300.0
    # MedCom reliable messaging: a sender resends after 30 minutes without an acknowledgement (at most
    # three times); a MessageHeader.id seen within the duplicate window gets the same acknowledgement.
    # The window must be at least the resend timeout plus a minute (checked at start).
    medcom_sender_resend_timeout_s: int = 1800
    medcom_duplicate_window_s: int = 24 * 3600
    medcom_prune_interval_s: float = 3600.0


def build_spec(settings: HealthSettings | None = None) -> ServiceSpec:
    settings = settings or HealthSettings()
    messaging = Messaging(duplicate_window_s=settings.medcom_duplicate_window_s,
                          sender_resend_timeout_s=settings.medcom_sender_resend_timeout_s)
    return ServiceSpec(
        name="health",
        title="Tovholder · health coordination",
        description="The nurse consultant as tovholder: hospital notices, the annual health check, medication, forensic psychiatry.",
        routers=api.routers,
        events=handlers.events,
        background=[jobs.depot_watch(settings.depot_scan_interval_s),
                    jobs.acknowledgement_pruning(messaging, settings.medcom_prune_interval_s)],
        extras={"medcom": messaging},
    )


create_app, __getattr__ = entry_points(build_spec)  # the environment is read when the app is made
