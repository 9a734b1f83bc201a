"""Errors raised by a servicer reach the client as the agreed status codes, over a real socket."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pydantic
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from continuum.supervision.v1 import supervision_service_pb2 as pb
from infra.ddd import InvalidInput
from infra.grpc.errors import (
    CONCURRENCY_DETAILS,
    DETAILS_MAX_CHARS,
    INTERNAL_ERROR_DETAILS,
    STATUS_DETAILS_KEY,
    VIOLATIONS_MAX,
    to_rpc_failure,
)

pytestmark = pytest.mark.integration

LEAKED_SECRET = "db password is hunter2"


async def _fail(stub: Any, agreement_id: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SignAgreement(pb.SignAgreementRequest(agreement_id=agreement_id), timeout=5)
    return caught.value


def _bad_request(error: grpc.aio.AioRpcError) -> error_details_pb2.BadRequest:
    trailers = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers[STATUS_DETAILS_KEY])
    assert status.code == error.code().value[0]
    assert status.message == error.details()
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    return bad_request


async def test_a_call_that_raises_nothing_succeeds(stub: Any) -> None:
    response = await stub.SignAgreement(pb.SignAgreementRequest(agreement_id="a-1"), timeout=5)

    assert response.agreement_id == "a-1"


async def test_invalid_input_is_invalid_argument_naming_the_field_and_reason(stub: Any) -> None:
    error = await _fail(stub, "invalid-input")

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "start_date: is not an ISO date"
    violations = _bad_request(error).field_violations
    assert [(v.field, v.description) for v in violations] == [("start_date", "is not an ISO date")]


async def test_pydantic_validation_error_is_invalid_argument_naming_every_field_path(
    stub: Any,
) -> None:
    error = await _fail(stub, "invalid-model")

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "minutes: Input should be greater than 0; "
        "supervisee_ids[1]: String should have at least 3 characters"
    )
    fields = [v.field for v in _bad_request(error).field_violations]
    assert fields == ["minutes", "supervisee_ids[1]"]


@pytest.mark.parametrize(
    ("agreement_id", "code", "details"),
    [
        ("not-found", grpc.StatusCode.NOT_FOUND, "supervisor sup-9 is not registered"),
        (
            "already-recorded",
            grpc.StatusCode.ALREADY_EXISTS,
            "agreement a-1 was signed with other terms",
        ),
        (
            "rule-violated",
            grpc.StatusCode.FAILED_PRECONDITION,
            "the agreement ends before it starts",
        ),
        ("concurrency", grpc.StatusCode.ABORTED, CONCURRENCY_DETAILS),
    ],
)
async def test_domain_errors_map_to_their_status_code(
    stub: Any, agreement_id: str, code: grpc.StatusCode, details: str
) -> None:
    error = await _fail(stub, agreement_id)

    assert error.code() is code
    assert error.details() == details
    assert STATUS_DETAILS_KEY not in dict(error.trailing_metadata() or ())


async def test_unexpected_error_is_internal_and_leaks_nothing(
    stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    error = await _fail(stub, "unexpected")

    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == INTERNAL_ERROR_DETAILS
    assert LEAKED_SECRET not in (error.debug_error_string() or "")
    assert all(LEAKED_SECRET not in str(value) for _, value in error.trailing_metadata() or ())
    # ...nor to the server's log, where the operator finds the method, the error's kind and
    # where it was raised: its message may quote what the request or a statement held.
    [logged] = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert "SignAgreement" in logged.getMessage()
    assert "RuntimeError" in logged.getMessage() and "conftest.py" in logged.getMessage()
    assert LEAKED_SECRET not in caplog.text


async def test_status_chosen_by_the_servicer_itself_is_kept(stub: Any) -> None:
    error = await _fail(stub, "self-aborted")

    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == "not your site"


async def test_every_handled_rpc_is_counted_by_method_and_status_code(
    stub: Any, metric_reader: InMemoryMetricReader
) -> None:
    await stub.SignAgreement(pb.SignAgreementRequest(agreement_id="a-1"), timeout=5)
    await stub.SignAgreement(pb.SignAgreementRequest(agreement_id="a-2"), timeout=5)
    for agreement_id in ("not-found", "self-aborted"):
        await _fail(stub, agreement_id)

    method = ("continuum.supervision.v1.SupervisionService", "SignAgreement")
    expected = {
        (*method, grpc.StatusCode.OK.value[0]): 2,
        (*method, grpc.StatusCode.NOT_FOUND.value[0]): 1,
        (*method, grpc.StatusCode.PERMISSION_DENIED.value[0]): 1,
    }
    # An aborted call is counted as its status leaves, so the client can be a moment ahead.
    for _ in range(100):
        if _counts(metric_reader) == expected:
            break
        await asyncio.sleep(0.01)
    assert _counts(metric_reader) == expected


def _counts(reader: InMemoryMetricReader) -> dict[tuple[str, str, int], int]:
    data = reader.get_metrics_data()
    assert data is not None
    counts: dict[tuple[str, str, int], int] = {}
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name != "continuum.commands.handled":
                    continue
                for point in metric.data.data_points:
                    attributes = point.attributes
                    key = (
                        attributes["rpc.service"],
                        attributes["rpc.method"],
                        attributes["rpc.grpc.status_code"],
                    )
                    counts[key] = point.value
    return counts


def test_a_reason_quoting_a_long_value_is_told_in_part() -> None:
    failure = to_rpc_failure(InvalidInput("severity", f"{'x' * 10_240!r} is not void or finding"))

    assert failure.details.startswith("severity: 'xxx")
    assert len(failure.details) <= len("severity: ") + DETAILS_MAX_CHARS
    assert failure.violations[0].field == "severity"


def test_an_invalid_argument_lists_a_bounded_number_of_fields() -> None:
    class Many(pydantic.BaseModel):
        values: list[int]

    with pytest.raises(pydantic.ValidationError) as invalid:
        Many.model_validate({"values": ["x"] * 1000})

    failure = to_rpc_failure(invalid.value)

    assert [v.field for v in failure.violations] == [
        *(f"values[{n}]" for n in range(VIOLATIONS_MAX - 1)),
        "",
    ]
    assert (
        failure.violations[-1].description == f"and {1000 - VIOLATIONS_MAX + 1} more invalid fields"
    )
    assert len(b"".join(value for _, value in failure.trailing_metadata())) < 4096
