"""What an error may say outside the process: its kind, its invalid fields, the sentences of
errors written without values; never the values it was given."""

from __future__ import annotations

import io
import logging

import pydantic
import pytest

from contracts.events import SessionVoided, UnknownEventType
from infra.ddd import InvalidInput, NotFound
from infra.messaging.cloudevents import MalformedMessage
from infra.messaging.consumer import PermanentError
from infra.redaction import RedactingFormatter, describe, redacted_traceback

pytestmark = pytest.mark.unit

TYPED = "used again"


def _invalid_void() -> pydantic.ValidationError:
    try:
        SessionVoided.model_validate(
            {"session_id": "s-1", "supervisee_ids": ["see-1"], "date": "soon", "reason": TYPED}
        )
    except pydantic.ValidationError as error:
        return error
    raise AssertionError("the void was valid")


def test_a_validation_error_is_described_by_its_fields_and_faults_without_the_input() -> None:
    error = _invalid_void()
    assert TYPED in str(error)  # what pydantic itself says

    described = describe(error)

    assert TYPED not in described
    assert described.startswith("ValidationError: ")
    assert "date: date_from_datetime_parsing" in described
    assert "voided_by: missing" in described


def test_an_error_of_any_other_kind_is_named_by_its_kind_and_its_causes_kinds() -> None:
    try:
        try:
            raise KeyError(TYPED)
        except KeyError as inner:
            raise RuntimeError(f"while applying {TYPED}") from inner
    except RuntimeError as error:
        described = describe(error)

    assert described == "RuntimeError; caused by KeyError"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (PermanentError("no such session"), "no such session"),
        (MalformedMessage("invalid CloudEvent: missing id"), "invalid CloudEvent: missing id"),
        (UnknownEventType("continuum.x.Happened.v9"), "continuum.x.Happened.v9"),
        (ConnectionRefusedError("database unreachable"), "database unreachable"),
    ],
    ids=["permanent-error", "malformed-message", "unknown-type", "os-error"],
)
def test_an_error_that_states_its_reason_without_values_is_said_in_full(
    error: Exception, said: str
) -> None:
    assert describe(error) == said


def test_a_refused_reaction_is_named_by_the_rule_it_broke_and_the_field_not_its_sentence() -> None:
    refusals = [
        PermanentError.refusal(NotFound(f"no engagement for {TYPED}")),
        PermanentError.refusal(InvalidInput("reason", f"{TYPED!r} is too long")),
    ]

    assert [describe(refusal) for refusal in refusals] == ["NotFound", "InvalidInput (reason)"]
    assert all(isinstance(refusal.__cause__, Exception) for refusal in refusals)


def test_a_logged_traceback_shows_where_each_error_was_raised_and_describes_it() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            try:
                _invalid_void()
                raise ValueError(f"cannot store {TYPED}")
            except ValueError as inner:
                raise RuntimeError(TYPED) from inner
        except RuntimeError:
            logger.exception("applying the void failed")
    finally:
        logger.removeHandler(handler)

    logged = stream.getvalue()
    assert TYPED not in logged
    assert "ERROR applying the void failed" in logged
    assert "test_redaction.py" in logged and "Traceback (most recent call last)" in logged
    assert logged.index("ValueError") < logged.index("which caused") < logged.index("RuntimeError")


def test_the_traceback_of_an_error_never_raised_is_its_description() -> None:
    assert redacted_traceback(PermanentError("no such session")) == (
        "PermanentError: no such session"
    )
