"""The error-to-status table itself, for the cases the wire tests do not reach."""

from __future__ import annotations

import grpc
import pydantic
import pytest

from infra.ddd import DomainError
from infra.grpc.errors import INTERNAL_ERROR_DETAILS, FieldViolation, to_rpc_failure

pytestmark = pytest.mark.unit


class _Window(pydantic.BaseModel):
    start: int
    end: int

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


def test_a_domain_error_without_a_more_specific_kind_is_failed_precondition() -> None:
    failure = to_rpc_failure(DomainError("the referral is closed"))

    assert (failure.code, failure.details) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "the referral is closed",
    )


def test_a_model_level_validation_error_is_invalid_argument_without_a_field() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _Window(start=5, end=1)

    failure = to_rpc_failure(caught.value)

    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure.details == "Value error, end is before start"
    assert failure.violations == (FieldViolation("", "Value error, end is before start"),)


@pytest.mark.parametrize("error", [KeyError("agreements"), ValueError("bad row 17"), Exception()])
def test_errors_that_are_not_the_callers_fault_are_internal(error: Exception) -> None:
    failure = to_rpc_failure(error)

    assert (failure.code, failure.details) == (grpc.StatusCode.INTERNAL, INTERNAL_ERROR_DETAILS)
    assert failure.trailing_metadata() == ()
