"""Composition root of the health service."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.health import api, handlers, jobs
from tovholder.service import ServiceSpec, create_service


class HealthSettings(BaseSettings):
    """Health's own settings (``TOVHOLDER_HEALTH_*``), next to the kit's ``Settings``."""

    model_config = SettingsConfigDict(env_prefix="TOVHOLDER_HEALTH_", extra="ignore")

    # How often the depot watch looks for missed depot-medication visits.
    depot_scan_interval_s: float = 300.0


def build_spec(settings: HealthSettings | None = None) -> ServiceSpec:
    settings = settings or HealthSettings()
    return ServiceSpec(
        name="health",
        title="Tovholder · health coordination",
        description="The nurse consultant as tovholder: hospital notices, the annual health check, medication, forensic psychiatry.",
        routers=api.routers,
        events=handlers.events,
        background=[jobs.depot_watch(settings.depot_scan_interval_s)],
    )


spec = build_spec()


def create_app():
    return create_service(spec)
