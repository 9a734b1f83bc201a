"""With an OTLP endpoint configured, spans and metrics reach a collector over gRPC."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from infra.telemetry import OTLP_ENDPOINT_ENV, setup_telemetry

pytestmark = pytest.mark.integration


class _Collector(
    trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer
):
    def __init__(self) -> None:
        self.traces: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = []

    def Export(self, request: Any, context: Any) -> Any:
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            self.traces.append(request)
            return trace_service_pb2.ExportTraceServiceResponse()
        self.metrics.append(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Collector]:
    received = _Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(received, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(received, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    monkeypatch.setenv(OTLP_ENDPOINT_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    yield received
    server.stop(grace=None)


def test_spans_and_metrics_reach_the_collector_on_shutdown(collector: _Collector) -> None:
    handle = setup_telemetry("coaching", set_global=False)
    with handle.tracer.start_as_current_span("open engagement"):
        handle.commands_handled.add(1, {"rpc.method": "OpenEngagement"})

    handle.shutdown()

    assert handle.exports_traces and handle.exports_metrics
    spans = [
        (resource_spans.resource, span)
        for request in collector.traces
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    assert [span.name for _, span in spans] == ["open engagement"]
    resource_attributes = {a.key: a.value.string_value for a in spans[0][0].attributes}
    assert resource_attributes["service.name"] == "coaching"
    metric_names = {
        metric.name
        for request in collector.metrics
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    }
    assert "continuum.commands.handled" in metric_names
