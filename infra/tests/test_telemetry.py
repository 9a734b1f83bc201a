"""Telemetry set-up and the W3C trace-context helpers, in memory."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_span_id, format_trace_id

from infra.telemetry import (
    COMMANDS_HANDLED,
    OTLP_ENDPOINT_ENV,
    OTLP_METRICS_ENDPOINT_ENV,
    OTLP_TRACES_ENDPOINT_ENV,
    TelemetryHandle,
    context_from,
    current_trace_headers,
    setup_telemetry,
)

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (OTLP_ENDPOINT_ENV, OTLP_TRACES_ENDPOINT_ENV, OTLP_METRICS_ENDPOINT_ENV):
        monkeypatch.delenv(variable, raising=False)


def test_spans_carry_the_service_name_as_resource(
    telemetry: TelemetryHandle, span_exporter: InMemorySpanExporter
) -> None:
    with telemetry.tracer.start_as_current_span("accept referral"):
        pass

    (span,) = span_exporter.get_finished_spans()
    assert span.resource.attributes["service.name"] == "continuum-test"


def test_nothing_is_exported_over_otlp_without_an_endpoint(telemetry: TelemetryHandle) -> None:
    assert not telemetry.exports_traces
    assert not telemetry.exports_metrics


def test_a_signal_specific_endpoint_turns_on_that_signal_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Constructing the exporter opens no connection; nothing is recorded, so nothing is sent.
    monkeypatch.setenv(OTLP_TRACES_ENDPOINT_ENV, "http://127.0.0.1:4317")

    handle = setup_telemetry("referral", set_global=False)
    try:
        assert handle.exports_traces
        assert not handle.exports_metrics
    finally:
        handle.shutdown()


def test_commands_handled_counter_reaches_the_metric_reader(
    telemetry: TelemetryHandle, metric_reader: InMemoryMetricReader
) -> None:
    telemetry.commands_handled.add(1, {"rpc.method": "AcceptReferral"})
    telemetry.commands_handled.add(1, {"rpc.method": "AcceptReferral"})

    data = metric_reader.get_metrics_data()
    assert data is not None
    (metric,) = [
        metric
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == COMMANDS_HANDLED
    ]
    (point,) = metric.data.data_points
    assert point.value == 2
    assert data.resource_metrics[0].resource.attributes["service.name"] == "continuum-test"


def test_there_are_no_trace_headers_outside_a_span() -> None:
    assert current_trace_headers() == (None, None)


def test_trace_headers_name_the_active_span(telemetry: TelemetryHandle) -> None:
    with telemetry.tracer.start_as_current_span("log session") as span:
        traceparent, tracestate = current_trace_headers()

    context = span.get_span_context()
    assert traceparent is not None
    version, trace_id, span_id, _flags = traceparent.split("-")
    assert (version, trace_id, span_id) == (
        "00",
        format_trace_id(context.trace_id),
        format_span_id(context.span_id),
    )
    assert tracestate is None


def test_a_span_started_from_stored_headers_continues_the_same_trace(
    telemetry: TelemetryHandle, span_exporter: InMemorySpanExporter
) -> None:
    with telemetry.tracer.start_as_current_span("log session"):
        traceparent, tracestate = current_trace_headers()

    # Later, elsewhere (a consumer reading the event): no span is active any more.
    with telemetry.tracer.start_as_current_span(
        "project session", context=context_from(traceparent, tracestate)
    ):
        pass

    producer, consumer = span_exporter.get_finished_spans()
    assert consumer.context.trace_id == producer.context.trace_id
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id
    assert consumer.parent.is_remote


def test_tracestate_survives_the_round_trip() -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    assert current_trace_headers(context_from(traceparent, "vendor=abc")) == (
        traceparent,
        "vendor=abc",
    )


@pytest.mark.parametrize("traceparent", [None, "", "not-a-traceparent"])
def test_without_a_valid_traceparent_a_span_starts_a_new_trace(
    telemetry: TelemetryHandle, span_exporter: InMemorySpanExporter, traceparent: str | None
) -> None:
    with (
        telemetry.tracer.start_as_current_span("outer"),
        telemetry.tracer.start_as_current_span("consume", context=context_from(traceparent)),
    ):
        pass

    consume, outer = span_exporter.get_finished_spans()
    assert consume.parent is None
    assert consume.context.trace_id != outer.context.trace_id


def test_setup_leaves_the_global_providers_alone_when_asked(
    telemetry: TelemetryHandle,
) -> None:
    from opentelemetry import trace

    assert trace.get_tracer_provider() is not telemetry.tracer_provider
