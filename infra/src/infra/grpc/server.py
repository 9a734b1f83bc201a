"""The gRPC server every service runs: its own services plus health checking and reflection,
errors mapped to status codes, a server span per RPC where spans are kept, TLS (mutual TLS
when a client authority is given: `infra.grpc.tls`), and a graceful shutdown.

What every call of the services goes through (refusal during shutdown, error mapping, the
caller's trace context) wraps each method's behavior once, when it is registered: an
interceptor would cost a coroutine and a new handler per call. The OpenTelemetry interceptor is
installed only where spans are kept (`TelemetryHandle.records_spans`); elsewhere the caller's
`traceparent` is made the current context as it arrived, so what a command records still names
the caller's trace.

Shutdown, on `stop(grace)` or SIGTERM:
1. health turns NOT_SERVING for every service, so probes and load balancers stop routing here;
2. new calls to the services are refused with UNAVAILABLE (clients retry another replica) while
   health checks keep answering;
3. calls already in flight finish, for at most `grace` seconds;
4. the server closes; whatever is still running then is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from infra.grpc._handlers import UnaryBehavior, service_of, wrap_unary_response
from infra.grpc.errors import map_errors
from infra.grpc.tls import ServerTls
from infra.security.guard import Guard
from infra.telemetry import TelemetryHandle, context_from

logger = logging.getLogger(__name__)

HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
REFLECTION_SERVICE_NAME: str = reflection.SERVICE_NAME
SHUTDOWN_DETAILS = "the server is shutting down; retry"

DEFAULT_GRACE_SECONDS = 10.0

_S = TypeVar("_S")


@dataclass(frozen=True, slots=True)
class ServiceBinding(Generic[_S]):
    """One service to serve: its full proto name, its servicer, and the generated
    `add_<Service>Servicer_to_server` function that registers it."""

    name: str
    servicer: _S
    add_to_server: Callable[[_S, Any], None]


class GrpcServer:
    """A grpc.aio server for `services`, bound to `address` (port 0 picks a free port).

    Nothing is created before `start`, so constructing one in a composition root does no I/O.
    """

    def __init__(
        self,
        address: str,
        services: Sequence[ServiceBinding[Any]],
        *,
        telemetry: TelemetryHandle | None = None,
        interceptors: Sequence[Any] = (),
        options: Sequence[tuple[str, Any]] = (),
        guard: Guard | None = None,
        tls: ServerTls | None = None,
        responses: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        if not services:
            raise ValueError("a GrpcServer needs at least one service")
        names = [binding.name for binding in services]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique: {names}")
        self._address = address
        self._services = tuple(services)
        self._service_names = frozenset(names)
        self._telemetry = telemetry
        self._extra_interceptors = tuple(interceptors)
        self._options = tuple(options)
        self._guard = guard
        self._tls = tls
        # What every response of the services passes through before it is sent: the opening
        # of sealed values (`infra.grpc.sealed.ResponseOpener`).
        self._responses = responses
        self._server: Any = None
        self._health: HealthServicer | None = None
        self._drain: _Drain | None = None
        self._port: int | None = None
        self._stop_task: asyncio.Task[None] | None = None

    @property
    def service_names(self) -> tuple[str, ...]:
        """Every service the server answers for, health and reflection included."""
        return (
            *(binding.name for binding in self._services),
            HEALTH_SERVICE_NAME,
            REFLECTION_SERVICE_NAME,
        )

    @property
    def port(self) -> int:
        """The bound port; known once `start` has returned."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    async def start(self) -> None:
        """Binds the address, starts serving, and reports every service SERVING."""
        if self._server is not None:
            raise RuntimeError("the server was already started")
        self._drain = _Drain()
        self._health = HealthServicer()
        server = grpc.aio.server(
            interceptors=self._interceptors(),
            # gRPC enables SO_REUSEPORT by default, which lets a second process bind the same
            # port silently and steal half the calls.
            options=[("grpc.so_reuseport", 0), *self._options],
        )
        registrar = _Registrar(server, self._wrap)
        for binding in self._services:
            binding.add_to_server(binding.servicer, registrar)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(self.service_names, server)
        port: int = (
            server.add_insecure_port(self._address)
            if self._tls is None
            else server.add_secure_port(self._address, self._tls.credentials())
        )
        if port == 0:
            raise RuntimeError(f"could not bind {self._address}")
        self._server = server
        self._port = port
        await server.start()
        for name in ("", *sorted(self._service_names)):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        logger.info(
            "gRPC server listening on port %d (%s): %s",
            port,
            "plaintext" if self._tls is None else "mutual TLS" if self._tls.mutual else "TLS",
            ", ".join(self.service_names),
        )

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Shuts down gracefully (see the module docstring); calling it again waits for the
        first shutdown to finish."""
        if self._server is None:
            return
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self._shut_down(grace))
        await asyncio.shield(self._stop_task)

    async def wait_for_termination(self) -> None:
        """Waits until the server has stopped (bound it with `asyncio.timeout` if needed)."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        await self._server.wait_for_termination()

    async def run_until_signal(
        self,
        grace: float = DEFAULT_GRACE_SECONDS,
        signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    ) -> None:
        """Starts the server, serves until one of `signals` arrives, then stops it gracefully:
        the body of a service's main."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        # Installed before starting, so a signal that arrives once the server reports SERVING
        # always finds its handler.
        uninstall = install_signal_handlers(loop, stop_requested.set, signals)
        try:
            await self.start()
            await stop_requested.wait()
            logger.info("stop requested; draining for up to %.1f s", grace)
        finally:
            uninstall()
            await self.stop(grace)

    @property
    def _records_spans(self) -> bool:
        return self._telemetry is not None and self._telemetry.records_spans

    def _interceptors(self) -> list[Any]:
        interceptors: list[Any] = []
        if self._records_spans:
            assert self._telemetry is not None
            names = self._service_names
            # Outermost, so the span covers the whole call and sees the final status. Probes
            # and reflection are left out: they would bury the service's own spans.
            interceptors.append(
                aio_server_interceptor(  # type: ignore[no-untyped-call]
                    tracer_provider=self._telemetry.tracer_provider,
                    filter_=lambda details: service_of(details.method) in names,
                )
            )
        return [*interceptors, *self._extra_interceptors]

    def _wrap(self, method: str, handler: Any) -> Any:
        """A method handler of the services with what each of their calls goes through."""
        assert self._drain is not None
        drain = self._drain
        commands_handled = None if self._telemetry is None else self._telemetry.commands_handled
        adopt = not self._records_spans

        guard = self._guard
        responses = self._responses

        def wrap(behavior: UnaryBehavior) -> UnaryBehavior:
            if responses is not None:
                behavior = _answering_through(behavior, responses)
            # The caller is verified and the policy applied before the servicer runs; a method
            # the policy has no rule for raises here, at registration: the server does not start.
            if guard is not None:
                behavior = guard.around(method, behavior)
            inner = _in_callers_trace(behavior) if adopt else behavior
            # Error mapping outside the drain, so calls refused during shutdown are counted too.
            return map_errors(method, drain.guarded(inner), commands_handled)

        return wrap_unary_response(handler, wrap)

    async def _shut_down(self, grace: float) -> None:
        assert self._health is not None and self._drain is not None
        await self._health.enter_graceful_shutdown()
        self._drain.close()
        try:
            async with asyncio.timeout(grace):
                await self._drain.wait_idle()
        except TimeoutError:
            logger.warning("calls still running after %.1f s of grace are cancelled", grace)
        # Every call of the services has finished or the grace is spent. What remains, health
        # watches and reflection streams that never end by themselves included, is cut now.
        await self._server.stop(0)
        logger.info("gRPC server stopped")


def install_signal_handlers(
    loop: asyncio.AbstractEventLoop,
    stop_callback: Callable[[], object],
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> Callable[[], None]:
    """Calls `stop_callback` on the loop when one of `signals` arrives; returns the function
    that restores the previous handling."""
    installed: list[signal.Signals] = []
    for sig in signals:
        loop.add_signal_handler(sig, stop_callback)
        installed.append(sig)

    def uninstall() -> None:
        for sig in installed:
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)

    return uninstall


class _Registrar:
    """What a generated `add_<Service>Servicer_to_server` is given as the server: it registers
    each method's handler as `wrap(method path, handler)` makes it."""

    def __init__(self, server: Any, wrap: Callable[[str, Any], Any]) -> None:
        self._server = server
        self._wrap = wrap

    def add_generic_rpc_handlers(self, handlers: Sequence[Any]) -> None:
        self._server.add_generic_rpc_handlers(
            tuple(_WrappedGeneric(handler, self._wrap) for handler in handlers)
        )

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self._server.add_registered_method_handlers(
            service, {name: self._wrap(f"/{service}/{name}", h) for name, h in handlers.items()}
        )


class _WrappedGeneric(grpc.GenericRpcHandler):  # type: ignore[misc]
    """A generic handler whose method handlers are wrapped, each once."""

    def __init__(self, inner: Any, wrap: Callable[[str, Any], Any]) -> None:
        self._inner = inner
        self._wrap = wrap
        self._wrapped: dict[str, tuple[Any, Any]] = {}

    def service(self, handler_call_details: Any) -> Any:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        known = self._wrapped.get(method)
        if known is None or known[0] is not handler:
            known = self._wrapped[method] = (handler, self._wrap(method, handler))
        return known[1]


def _answering_through(
    behavior: UnaryBehavior, responses: Callable[[Any], Awaitable[Any]]
) -> UnaryBehavior:
    async def answered(request: Any, context: Any) -> Any:
        return await responses(await behavior(request, context))

    return answered


def _in_callers_trace(behavior: UnaryBehavior) -> UnaryBehavior:
    """The behavior run with the caller's W3C trace context (if it sent one) as the current one."""

    async def traced(request: Any, context: Any) -> Any:
        traceparent = tracestate = None
        for key, value in context.invocation_metadata() or ():
            if key == "traceparent":
                traceparent = value
            elif key == "tracestate":
                tracestate = value
        if traceparent is None:
            return await behavior(request, context)
        token = otel_context.attach(context_from(traceparent, tracestate))
        try:
            return await behavior(request, context)
        finally:
            otel_context.detach(token)

    return traced


class _Drain:
    """Counts the services' calls in flight and, once closed, refuses new ones."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def close(self) -> None:
        self._closed = True

    async def wait_idle(self) -> None:
        """Waits until no call is in flight."""
        await self._idle.wait()

    def guarded(self, behavior: UnaryBehavior) -> UnaryBehavior:
        async def guarded(request: Any, context: Any) -> Any:
            if self._closed:
                await context.abort(grpc.StatusCode.UNAVAILABLE, SHUTDOWN_DETAILS)
            self._enter()
            # Left only once the response has been sent, not when the handler returns, so
            # closing the server right after idle cannot cut a response short.
            context.add_done_callback(lambda _: self._leave())
            return await behavior(request, context)

        return guarded

    def _enter(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _leave(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()
