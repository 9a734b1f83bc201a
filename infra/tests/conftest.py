"""Telemetry kept in memory, for the tests of infra that look at spans and metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infra.telemetry import TelemetryHandle, setup_telemetry

TEST_SERVICE_NAME = "continuum-test"


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def telemetry(
    span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> Iterator[TelemetryHandle]:
    handle = setup_telemetry(
        TEST_SERVICE_NAME,
        span_exporter=span_exporter,
        metric_reader=metric_reader,
        set_global=False,
    )
    yield handle
    handle.shutdown()
