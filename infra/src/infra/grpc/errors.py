"""The one translation of errors into gRPC status codes, applied to every RPC of a service.

Servicers raise domain errors (or let pydantic's ValidationError escape) and never build a
status themselves; `map_errors` (applied by the server to each of its services' methods, or as
`ErrorMappingInterceptor`) turns what escapes into the status below:

| raised                              | status              | details                       |
| ----------------------------------- | ------------------- | ----------------------------- |
| InvalidInput(field, reason)         | INVALID_ARGUMENT    | "<field>: <reason>"           |
| pydantic ValidationError            | INVALID_ARGUMENT    | "<field path>: <reason>; ..." |
| NotFound                            | NOT_FOUND           | the error's message           |
| AlreadyRecorded                     | ALREADY_EXISTS      | the error's message           |
| RuleViolated, any other DomainError | FAILED_PRECONDITION | the error's message           |
| ConcurrencyError                    | ABORTED             | generic: reload and retry     |
| anything else                       | INTERNAL            | generic; the error is logged, |
|                                     |                     | described, never quoted       |

Invalid arguments also carry a google.rpc.BadRequest with one field violation per field in the
standard `grpc-status-details-bin` trailer, so clients can point at each field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import grpc
import pydantic
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from opentelemetry import trace
from opentelemetry.metrics import Counter

from infra.ddd import AlreadyRecorded, DomainError, InvalidInput, NotFound, RuleViolated
from infra.eventstore.model import ConcurrencyError
from infra.grpc._handlers import UnaryBehavior, service_of, wrap_unary_response
from infra.redaction import record_failure, redacted_traceback

logger = logging.getLogger(__name__)

STATUS_DETAILS_KEY = "grpc-status-details-bin"
INTERNAL_ERROR_DETAILS = "internal error"
CONCURRENCY_DETAILS = "the record was changed by another command at the same time; retry"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True, slots=True)
class RpcFailure:
    """The status an error becomes on the wire."""

    code: grpc.StatusCode
    details: str
    violations: tuple[FieldViolation, ...] = ()

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        """The google.rpc.Status trailer describing the field violations, if there are any."""
        if not self.violations:
            return ()
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=violation.field, description=violation.description
                )
                for violation in self.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status = status_pb2.Status(code=self.code.value[0], message=self.details, details=[detail])
        return ((STATUS_DETAILS_KEY, status.SerializeToString()),)


# The longest message, field path or reason an error is told in, and the most fields an
# INVALID_ARGUMENT lists: a message that quotes what it was sent (a 10 KB value) is cut, so that a
# reply stays far below gRPC's 8 KB metadata limit whatever the request held (beyond it the
# client would see RESOURCE_EXHAUSTED).
DETAILS_MAX_CHARS = 300
VIOLATIONS_MAX = 5


def to_rpc_failure(error: Exception) -> RpcFailure:
    """The status code and client-facing details for an error raised while handling an RPC."""
    match error:
        case InvalidInput():
            return _invalid((FieldViolation(_bounded(error.field), _bounded(error.reason)),))
        case pydantic.ValidationError():
            return _invalid(
                tuple(
                    FieldViolation(_bounded(_field_path(detail["loc"])), _bounded(detail["msg"]))
                    for detail in error.errors(include_url=False, include_input=False)
                )
            )
        case NotFound():
            return RpcFailure(grpc.StatusCode.NOT_FOUND, _bounded(error.message))
        case AlreadyRecorded():
            return RpcFailure(grpc.StatusCode.ALREADY_EXISTS, _bounded(error.message))
        case RuleViolated() | DomainError():
            return RpcFailure(grpc.StatusCode.FAILED_PRECONDITION, _bounded(error.message))
        case ConcurrencyError():
            # The stream id and versions stay in the server's telemetry: the caller only needs
            # to know that reloading and retrying is safe.
            return RpcFailure(grpc.StatusCode.ABORTED, CONCURRENCY_DETAILS)
        case _:
            return RpcFailure(grpc.StatusCode.INTERNAL, INTERNAL_ERROR_DETAILS)


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Applies `to_rpc_failure` to every RPC that answers with one message and counts each
    handled RPC by method and status code.

    `services` limits it to those full service names (the server leaves health checks and
    reflection out); None applies it to all. Response-streaming RPCs pass through untouched.
    """

    def __init__(
        self,
        *,
        services: Collection[str] | None = None,
        commands_handled: Counter | None = None,
    ) -> None:
        self._services = None if services is None else frozenset(services)
        self._commands_handled = commands_handled

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if self._services is not None and service_of(method) not in self._services:
            return handler
        return wrap_unary_response(
            handler, lambda behavior: map_errors(method, behavior, self._commands_handled)
        )


def map_errors(
    method: str, behavior: UnaryBehavior, commands_handled: Counter | None = None
) -> UnaryBehavior:
    """The behavior of `method` with what escapes it answered by `to_rpc_failure`'s status, and
    each call counted by method and status code (when a counter is given)."""

    async def mapped(request: Any, context: Any) -> Any:
        code = grpc.StatusCode.OK
        try:
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                # The servicer (or an inner interceptor) already chose the status.
                code = _aborted_code(context)
                raise
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception as error:
                failure = to_rpc_failure(error)
                if failure.code is grpc.StatusCode.INTERNAL:
                    # Its message may quote the request or a statement's values: described.
                    logger.error(
                        "unexpected error while handling %s\n%s", method, redacted_traceback(error)
                    )
                    record_failure(trace.get_current_span(), error, "internal error")
            code = failure.code
            # Aborting outside the except block keeps the original error out of the
            # AbortError's chain, hence out of anything that formats it.
            await context.abort(failure.code, failure.details, failure.trailing_metadata())
        finally:
            if commands_handled is not None:
                _count(commands_handled, method, code)

    return mapped


def _count(commands_handled: Counter, method: str, code: grpc.StatusCode) -> None:
    service, _, name = method.lstrip("/").rpartition("/")
    commands_handled.add(
        1, {"rpc.service": service, "rpc.method": name, "rpc.grpc.status_code": code.value[0]}
    )


def _bounded(text: str) -> str:
    return text if len(text) <= DETAILS_MAX_CHARS else text[: DETAILS_MAX_CHARS - 3] + "..."


def _invalid(violations: tuple[FieldViolation, ...]) -> RpcFailure:
    if len(violations) > VIOLATIONS_MAX:
        more = len(violations) - VIOLATIONS_MAX + 1
        violations = (
            *violations[: VIOLATIONS_MAX - 1],
            FieldViolation("", f"and {more} more invalid fields"),
        )
    details = "; ".join(
        f"{violation.field}: {violation.description}" if violation.field else violation.description
        for violation in violations
    )
    return RpcFailure(grpc.StatusCode.INVALID_ARGUMENT, details, violations)


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _aborted_code(context: Any) -> grpc.StatusCode:
    try:
        code = context.code()
    except (AttributeError, NotImplementedError):
        return grpc.StatusCode.UNKNOWN
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
