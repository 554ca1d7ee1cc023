"""Spans are recorded only while an exporter takes them; the trace context flows either way."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from tovholder.telemetry import RecordOnlyWhenExported


def test_without_an_exporter_spans_are_not_built_but_their_context_still_travels():
    sampler = RecordOnlyWhenExported()
    tracer = TracerProvider(sampler=sampler).get_tracer("test")
    with tracer.start_as_current_span("consume") as span:
        assert not span.is_recording()
        context = span.get_span_context()
        assert context.is_valid  # the logs' trace id and the outbox's traceparent need it
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        assert carrier["traceparent"].split("-")[1] == format(context.trace_id, "032x")
        with tracer.start_as_current_span("db") as child:
            assert child.get_span_context().trace_id == context.trace_id


def test_once_an_exporter_is_attached_spans_are_recorded_and_exported():
    sampler = RecordOnlyWhenExported()
    provider = TracerProvider(sampler=sampler)
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    sampler.exporting = True
    with provider.get_tracer("test").start_as_current_span("consume", attributes={"messaging.system": "kafka"}) as span:
        assert span.is_recording()
    assert [s.name for s in exported.get_finished_spans()] == ["consume"]
