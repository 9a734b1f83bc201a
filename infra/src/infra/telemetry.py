"""OpenTelemetry set-up for one service process, and the W3C trace-context helpers that carry a
trace from a gRPC call into stored events and Kafka headers.

Nothing here runs at import time: a service calls `setup_telemetry` once in its composition root
and hands the returned `TelemetryHandle` to whatever records spans or metrics.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

INSTRUMENTATION_SCOPE = "continuum"

# The standard variables: the general endpoint covers both signals, a signal-specific one
# turns on that signal alone (the OTLP exporters read the same variables for their target).
OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTLP_TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
OTLP_METRICS_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"

COMMANDS_HANDLED = "continuum.commands.handled"


@dataclass(frozen=True, slots=True)
class TelemetryHandle:
    """The providers and instruments of one service process; `shutdown` flushes them."""

    service_name: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    tracer: Tracer
    meter: Meter
    commands_handled: Counter
    """RPCs handled, by `rpc.service`, `rpc.method` and `rpc.grpc.status_code` (numeric code)."""
    exports_traces: bool
    exports_metrics: bool
    records_spans: bool
    """Whether any span is kept (exported over OTLP or handed to an extra sink): where none is,
    the gRPC server and the command runner start no spans at all."""

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Exports whatever is buffered; False when an exporter did not finish in time."""
        traces_done = self.tracer_provider.force_flush(timeout_millis)
        metrics_done = self.meter_provider.force_flush(timeout_millis)
        return traces_done and metrics_done

    def shutdown(self) -> None:
        """Flushes and stops the providers; spans and metrics recorded afterwards are dropped."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def setup_telemetry(
    service_name: str,
    *,
    span_exporter: SpanExporter | None = None,
    metric_reader: MetricReader | None = None,
    set_global: bool = True,
) -> TelemetryHandle:
    """Creates the tracer and meter providers of a service whose resource is `service.name`.

    Spans and metrics go out over OTLP/gRPC only when an OTLP endpoint variable is set; without
    one nothing leaves the process. `span_exporter` (exported synchronously, span by span) and
    `metric_reader` are extra sinks, e.g. the SDK's in-memory ones in tests.

    With `set_global` the providers also become OpenTelemetry's global ones, which is what
    instrumentations that take no provider argument (database, Kafka) record into. The SDK lets
    a process set them once; tests pass False and use the handle's providers directly.
    """
    resource = Resource.create({SERVICE_NAME: service_name})
    exports_traces = _configured(OTLP_ENDPOINT_ENV) or _configured(OTLP_TRACES_ENDPOINT_ENV)
    exports_metrics = _configured(OTLP_ENDPOINT_ENV) or _configured(OTLP_METRICS_ENDPOINT_ENV)

    tracer_provider = TracerProvider(resource=resource)
    if exports_traces:
        # Imported here so a process that exports nothing never loads the exporter stack.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if span_exporter is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))

    readers: list[MetricReader] = []
    if exports_metrics:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if metric_reader is not None:
        readers.append(metric_reader)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)

    if set_global:
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)

    meter = meter_provider.get_meter(INSTRUMENTATION_SCOPE)
    return TelemetryHandle(
        service_name=service_name,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        tracer=tracer_provider.get_tracer(INSTRUMENTATION_SCOPE),
        meter=meter,
        commands_handled=meter.create_counter(
            COMMANDS_HANDLED,
            unit="{rpc}",
            description="gRPC commands and queries handled, by method and outcome status code",
        ),
        exports_traces=exports_traces,
        exports_metrics=exports_metrics,
        records_spans=exports_traces or span_exporter is not None,
    )


def current_trace_headers(context: Context | None = None) -> tuple[str | None, str | None]:
    """The W3C `traceparent` and `tracestate` of the active span (or of `context`), to store with
    an event or send as message headers; (None, None) when no valid span is active."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=context)
    return carrier.get("traceparent"), carrier.get("tracestate")


def context_from(traceparent: str | None, tracestate: str | None = None) -> Context:
    """An OpenTelemetry context whose parent is the remote span named by `traceparent`; pass it as
    `context=` when starting a span. An absent or malformed traceparent gives an empty context,
    so the span starts a new trace."""
    carrier: dict[str, str] = {}
    if traceparent:
        carrier["traceparent"] = traceparent
        if tracestate:
            carrier["tracestate"] = tracestate
    return TraceContextTextMapPropagator().extract(carrier, context=Context())


def _configured(variable: str) -> bool:
    return bool(os.environ.get(variable, "").strip())
