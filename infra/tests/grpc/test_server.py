"""The server bootstrap over a real socket: health, reflection, spans, graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.grpc.client import open_aio_channel
from infra.grpc.metadata import outgoing_metadata
from infra.grpc.server import (
    HEALTH_SERVICE_NAME,
    REFLECTION_SERVICE_NAME,
    SHUTDOWN_DETAILS,
    GrpcServer,
    ServiceBinding,
)
from infra.security.guard import Guard
from infra.security.policy import Role, UnguardedRpc
from infra.security.tokens import SigningKey
from infra.telemetry import setup_telemetry

pytestmark = pytest.mark.integration

SERVICE = "continuum.supervision.v1.SupervisionService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _reflect(
    channel: grpc.aio.Channel, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([request]), timeout=5
    )
    responses = [response async for response in call]
    assert len(responses) == 1
    return responses[0]


async def _sign(stub: Any, agreement_id: str, deadline: float = 5) -> Any:
    return await stub.SignAgreement(
        pb.SignAgreementRequest(agreement_id=agreement_id), timeout=deadline
    )


async def test_binding_port_zero_exposes_the_chosen_port(started_server: GrpcServer) -> None:
    assert started_server.port > 0


async def test_health_reports_serving_for_each_service_and_the_server(
    channel: grpc.aio.Channel, health_status: Any
) -> None:
    assert await health_status(channel, SERVICE) == SERVING
    assert await health_status(channel, "") == SERVING


async def test_health_reports_not_found_for_an_unknown_service(
    channel: grpc.aio.Channel, health_status: Any
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health_status(channel, "continuum.nothing.v1.NothingService")

    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services_health_and_reflection(
    channel: grpc.aio.Channel,
) -> None:
    response = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))

    names = {service.name for service in response.list_services_response.service}
    assert names == {SERVICE, HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAME}


async def test_reflection_serves_the_proto_of_a_service(channel: grpc.aio.Channel) -> None:
    response = await _reflect(
        channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE)
    )

    descriptors = response.file_descriptor_response.file_descriptor_proto
    assert descriptors, response.error_response.error_message
    assert any(b"SupervisionService" in descriptor for descriptor in descriptors)


async def test_a_server_span_covers_each_call_and_continues_the_callers_trace(
    stub: Any, span_exporter: InMemorySpanExporter
) -> None:
    caller_trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    caller = f"00-{caller_trace_id}-00f067aa0ba902b7-01"
    metadata = (("traceparent", caller),)

    response = await stub.LogSession(pb.LogSessionRequest(), metadata=metadata, timeout=5)

    (span,) = await _finished_spans(span_exporter, 1)
    assert span.name == f"/{SERVICE}/LogSession"
    assert span.kind is SpanKind.SERVER
    assert format_trace_id(span.context.trace_id) == caller_trace_id
    assert span.resource.attributes["service.name"] == "continuum-test"
    # The handler runs inside the server span: what it would store with its events is that span.
    handler_traceparent = response.session_id.split("|")[3]
    assert handler_traceparent.split("-")[1:3] == [caller_trace_id, f"{span.context.span_id:016x}"]


async def test_a_failed_call_marks_its_span_with_the_status_code(
    stub: Any, span_exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await _sign(stub, "not-found")

    (span,) = await _finished_spans(span_exporter, 1)
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]


async def test_health_checks_and_reflection_record_no_spans(
    channel: grpc.aio.Channel, health_status: Any, span_exporter: InMemorySpanExporter
) -> None:
    await health_status(channel, SERVICE)
    await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    await pb_grpc.SupervisionServiceStub(channel).LogSession(pb.LogSessionRequest(), timeout=5)

    spans = await _finished_spans(span_exporter, 1)
    assert [span.name for span in spans] == [f"/{SERVICE}/LogSession"]


@pytest.fixture
async def spanless_stub(
    servicer: Any, access_guard: Guard, caller_token: str
) -> AsyncIterator[Any]:
    """A server whose telemetry keeps no span (no exporter, no sink), and a stub to it."""
    quiet = setup_telemetry("continuum-quiet", set_global=False)
    server = GrpcServer(
        "127.0.0.1:0",
        [ServiceBinding(SERVICE, servicer, pb_grpc.add_SupervisionServiceServicer_to_server)],
        telemetry=quiet,
        guard=access_guard,
    )
    await server.start()
    try:
        async with open_aio_channel(f"127.0.0.1:{server.port}", token=caller_token) as channel:
            yield pb_grpc.SupervisionServiceStub(channel)
    finally:
        await server.stop(grace=0)
        quiet.shutdown()


async def test_where_no_span_is_kept_the_handler_runs_in_the_callers_trace(
    spanless_stub: Any,
) -> None:
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    metadata = (("traceparent", caller),)

    response = await spanless_stub.LogSession(pb.LogSessionRequest(), metadata=metadata, timeout=5)

    # No server span in between: what the handler would store names the caller's own span.
    assert response.session_id.split("|")[3] == caller


async def test_where_no_span_is_kept_a_call_without_trace_context_starts_none(
    spanless_stub: Any,
) -> None:
    response = await spanless_stub.LogSession(pb.LogSessionRequest(), metadata=(), timeout=5)

    assert response.session_id.split("|")[3] == ""


async def test_where_no_span_is_kept_errors_are_still_mapped_to_status_codes(
    spanless_stub: Any,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _sign(spanless_stub, "not-found")

    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    assert refused.value.details() == "supervisor sup-9 is not registered"


async def test_the_call_context_travels_in_the_metadata(stub: Any) -> None:
    metadata = outgoing_metadata(correlation_id="corr-7", site_id="site-austin")

    response = await stub.LogSession(pb.LogSessionRequest(), metadata=metadata, timeout=5)

    assert response.session_id.split("|")[:3] == ["sup-1", "corr-7", "site-austin"]


async def test_stop_drains_in_flight_calls_while_health_says_not_serving(
    started_server: GrpcServer,
    channel: grpc.aio.Channel,
    stub: Any,
    servicer: Any,
    health_status: Any,
) -> None:
    slow_call = asyncio.create_task(_sign(stub, "slow"))
    await asyncio.wait_for(servicer.slow.entered.wait(), 5)

    started = time.monotonic()
    stopping = asyncio.create_task(started_server.stop(grace=5))

    # During the grace: probes see NOT_SERVING, new calls are turned away, the slow one runs on.
    assert await _eventually_not_serving(channel, health_status)
    assert await health_status(channel, "") == NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _sign(stub, "a-new-one")
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert refused.value.details() == SHUTDOWN_DETAILS
    assert not slow_call.done() and not stopping.done()

    servicer.slow.release.set()
    response = await asyncio.wait_for(slow_call, 5)
    await asyncio.wait_for(stopping, 5)

    assert response.agreement_id == "slow"
    assert time.monotonic() - started < 4, "stop should not wait out the grace once drained"
    with pytest.raises(grpc.aio.AioRpcError) as after:
        await _sign(stub, "after-stop", deadline=2)
    assert after.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_stop_cancels_calls_still_running_when_the_grace_ends(
    started_server: GrpcServer, stub: Any, servicer: Any
) -> None:
    slow_call = asyncio.create_task(_sign(stub, "slow"))
    await asyncio.wait_for(servicer.slow.entered.wait(), 5)

    started = time.monotonic()
    await asyncio.wait_for(started_server.stop(grace=0.5), 5)

    assert 0.4 < time.monotonic() - started < 3
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(slow_call, 5)
    assert caught.value.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)


async def test_a_call_the_client_abandoned_does_not_hold_up_stop(
    started_server: GrpcServer, stub: Any, servicer: Any
) -> None:
    slow_call = asyncio.create_task(_sign(stub, "slow"))
    await asyncio.wait_for(servicer.slow.entered.wait(), 5)
    slow_call.cancel()
    await asyncio.sleep(0.1)

    started = time.monotonic()
    await started_server.stop(grace=5)

    assert time.monotonic() - started < 2


async def test_stop_does_not_wait_for_open_health_watches(
    started_server: GrpcServer, channel: grpc.aio.Channel
) -> None:
    from grpc_health.v1 import health_pb2_grpc

    watch = health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service=SERVICE)
    )
    first = await watch.read()
    assert first.status == SERVING

    started = time.monotonic()
    await started_server.stop(grace=5)

    assert time.monotonic() - started < 2
    # The watcher hears NOT_SERVING if it arrives before the stream is cut; either way it
    # never hears SERVING again.
    heard = []
    with pytest.raises(grpc.aio.AioRpcError) as cut:
        while True:
            heard.append((await watch.read()).status)
    assert cut.value.code() is grpc.StatusCode.UNAVAILABLE
    assert set(heard) <= {NOT_SERVING}


async def test_sigterm_stops_a_server_run_until_signal(
    grpc_server: GrpcServer, health_status: Any
) -> None:
    running = asyncio.create_task(grpc_server.run_until_signal(grace=2))
    port = await _wait_for_port(grpc_server)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await _eventually_serving(channel, health_status)

        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 5)

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health_status(channel, "")
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    # The process-wide handler is gone again: pytest's own SIGTERM handling is back.
    assert asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM) is False


async def test_two_servers_cannot_share_a_port(started_server: GrpcServer, servicer: Any) -> None:
    second = GrpcServer(
        f"127.0.0.1:{started_server.port}",
        [ServiceBinding(SERVICE, servicer, pb_grpc.add_SupervisionServiceServicer_to_server)],
    )

    with pytest.raises(RuntimeError):
        await second.start()


async def _finished_spans(exporter: InMemorySpanExporter, count: int) -> tuple[Any, ...]:
    # An aborted call's status reaches the client before the server span has closed.
    for _ in range(100):
        spans = exporter.get_finished_spans()
        if len(spans) >= count:
            return tuple(spans)
        await asyncio.sleep(0.01)
    return tuple(exporter.get_finished_spans())


async def _eventually_not_serving(channel: grpc.aio.Channel, health_status: Any) -> bool:
    for _ in range(100):
        if await health_status(channel, SERVICE) == NOT_SERVING:
            return True
        await asyncio.sleep(0.01)
    return False


async def _eventually_serving(channel: grpc.aio.Channel, health_status: Any) -> None:
    for _ in range(200):
        try:
            if await health_status(channel, "") == SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.01)
    raise AssertionError("the server never reported SERVING")


async def _wait_for_port(server: GrpcServer) -> int:
    for _ in range(200):
        try:
            return server.port
        except RuntimeError:
            await asyncio.sleep(0.01)
    raise AssertionError("the server never bound its port")


async def test_a_server_whose_policy_misses_an_rpc_refuses_to_start(
    servicer: Any, access_guard: Guard
) -> None:
    without_void = {
        method: rule
        for method, rule in access_guard.policy.items()
        if not method.endswith("/VoidSession")
    }
    server = GrpcServer(
        "127.0.0.1:0",
        [ServiceBinding(SERVICE, servicer, pb_grpc.add_SupervisionServiceServicer_to_server)],
        guard=Guard(access_guard.verifier, without_void),
    )

    with pytest.raises(UnguardedRpc, match="VoidSession has no access rule"):
        await server.start()


async def test_a_call_refused_by_the_policy_never_reaches_the_servicer(
    started_server: GrpcServer, signing_key: SigningKey
) -> None:
    supervisee = signing_key.mint("see-1", (Role.SUPERVISEE,))
    async with open_aio_channel(f"127.0.0.1:{started_server.port}", token=supervisee) as chan:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.SupervisionServiceStub(chan).SignAgreement(
                pb.SignAgreementRequest(agreement_id="unexpected"), timeout=5
            )

    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "SignAgreement needs one of the roles" in str(refused.value.details())
