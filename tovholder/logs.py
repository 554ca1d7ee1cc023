"""JSON structured logs carrying the trace id, so a log line can be found from a trace and back."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from tovholder.settings import Settings
from tovholder.telemetry import current_trace_id


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        for key in ("event_id", "event_type", "topic", "consumer", "attempt"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class BrokerOutageFilter(logging.Filter):
    """aiokafka logs an unreachable broker (and the group rejoin after a broker restart) at ERROR,
    many times a second, while it reconnects by itself. That is an ordinary outage: WARNING, and at
    most one line per message kind every ``every_s`` seconds, the next one saying how many like it
    were left out, so the log shows the outage without burying everything else."""

    OUTAGE_MARKERS = ("Unable connect to", "Unable to update metadata", "NodeNotReadyError", "KafkaConnectionError",
                      "Connect call failed", "Connection at", "Heartbeat session expired", "UnknownMemberIdError",
                      "will rejoin", "Error sending", "Group Coordinator Request failed", "RequestTimedOutError",
                      "not found in cluster metadata")

    def __init__(self, every_s: float = 10.0) -> None:
        super().__init__()
        self.every_s = every_s
        self._last: dict[tuple[str, str], float] = {}
        self._left_out: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka") or record.levelno != logging.ERROR or record.exc_info:
            return True
        text = record.getMessage()
        if not any(marker in text for marker in self.OUTAGE_MARKERS):
            return True
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        kind = (record.name, str(record.msg))
        last = self._last.get(kind)
        if last is not None and record.created - last < self.every_s:
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return False
        self._last[kind] = record.created
        left_out = self._left_out.pop(kind, 0)
        if left_out:
            record.msg, record.args = f"{text} (and {left_out} more like it in the last {self.every_s:.0f}s)", None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(BrokerOutageFilter())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(settings.service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {settings.service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # httpx logs every request's whole URL, query included (the portal forwards partners' FHIR searches):
    # what a caller puts in a query (even a CPR number it should not) stays out of the log.
    for noisy in ("aiokafka", "faststream", "uvicorn.access", "sqlalchemy.engine", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
