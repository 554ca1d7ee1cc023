"""Prometheus metrics shared by every service (exposed at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

OUTBOX_BACKLOG = Gauge("tovholder_outbox_backlog", "Outbox events not yet published", ["service"])
EVENTS_PUBLISHED = Counter("tovholder_events_published_total", "Events published by the outbox relay", ["service", "event_type"])
EVENTS_CONSUMED = Counter(
    "tovholder_events_consumed_total", "Events consumed, by outcome", ["service", "event_type", "outcome"]
)
DEAD_LETTERS = Counter("tovholder_dead_letters_total", "Events sent to the dead-letter topic", ["service", "event_type"])
HANDLER_SECONDS = Histogram(
    "tovholder_handler_seconds", "Time to handle one event (incl. retries)", ["service", "event_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECEIPTS = Counter("tovholder_receipts_total", "Integration receipts given", ["service", "endpoint", "status"])


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
