"""aiokafka's reconnect noise during a broker outage becomes WARNING, at most one line per kind
every few seconds, the next one counting what was left out; anything else passes untouched."""

from __future__ import annotations

import logging

from tovholder.logs import BrokerOutageFilter


def record(logger: str, level: int, msg: str, *args, created: float = 1000.0, exc_info=None) -> logging.LogRecord:
    entry = logging.LogRecord(logger, level, __file__, 1, msg, args, exc_info)
    entry.created = created
    return entry


def test_connection_errors_become_rate_limited_warnings_that_count_what_they_left_out():
    outage = BrokerOutageFilter(every_s=10)
    first = record("aiokafka", logging.ERROR, "Unable connect to node with id %s: %s", 111, "Connect call failed")
    assert outage.filter(first) and first.levelname == "WARNING" and first.levelno == logging.WARNING
    for second in range(1, 6):
        assert not outage.filter(record("aiokafka", logging.ERROR, "Unable connect to node with id %s: %s", 111,
                                        "Connect call failed", created=1000.0 + second))
    later = record("aiokafka", logging.ERROR, "Unable connect to node with id %s: %s", 111, "Connect call failed",
                   created=1011.0)
    assert outage.filter(later)
    assert later.getMessage().endswith("(and 5 more like it in the last 10s)")
    other_kind = record("aiokafka.consumer.fetcher", logging.ERROR, "Failed fetch messages from %s: %s", 111,
                        "NodeNotReadyError", created=1001.0)
    assert outage.filter(other_kind) and other_kind.levelname == "WARNING"


def test_other_records_pass_unchanged():
    outage = BrokerOutageFilter()
    ours = record("tovholder.outbox", logging.ERROR, "Unable connect to something of ours")
    unknown = record("aiokafka", logging.ERROR, "Topic %s is not authorized for this client", "x")
    with_traceback = record("aiokafka", logging.ERROR, "Unable connect to node", exc_info=(ValueError, ValueError(), None))
    for entry in (ours, unknown, with_traceback):
        assert outage.filter(entry) and entry.levelname == "ERROR"
