"""What an error may say where others than the records' keepers read it: log lines, the headers
of a dead letter, the reason a view gives for an event it lacks, a span sent to a collector.

An exception's message is written by whoever raised it, and many carry the values they were
given: pydantic repeats the input, a database error its statement's parameters or the key it
found twice, a parser the text it could not read. Such values are behavioral-health records
(free text a person typed, license numbers). So an error is described by its kind, the kinds
that caused it, and for a validation error the path of each field and what was wrong with it;
only the messages of errors that state their reason without any value (`Disclosable`, the
contracts' unknown event type, the operating system's errors) are said in full.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Final

import pydantic
from opentelemetry.trace import Span, Status, StatusCode

from contracts.events import UnknownEventType


class Disclosable(Exception):
    """An error whose message names what was wrong and never a value it was given: it is said
    in full in logs and dead letters. Raise one only with a message written so."""


# Errors whose messages say what failed, never a record's content: the operating system's
# (paths, addresses, timeouts) and an event type this consumer cannot read (its name).
_SAID_IN_FULL: Final[tuple[type[BaseException], ...]] = (Disclosable, UnknownEventType, OSError)
_MAX_FIELDS = 20


def error_kind(error: BaseException) -> str:
    """The error's class, as `module.Qualname` (what a dead letter's error-type header says)."""
    return f"{type(error).__module__}.{type(error).__qualname__}"


def describe(error: BaseException) -> str:
    """Why `error` happened in words that hold no value it was given: the message of an error
    said in full (`no such session`); else its kind, for a validation error with its invalid
    fields (`ValidationError: reason: missing`), then the kinds it was raised from
    (`DataError; caused by UntranslatableCharacter`)."""
    if isinstance(error, _SAID_IN_FULL):
        return _own_words(error)  # a sentence that says it all
    parts = [_own_words(error)]
    parts.extend(f"caused by {type(cause).__qualname__}" for cause in _causes(error))
    return "; ".join(parts)


def _own_words(error: BaseException) -> str:
    name = type(error).__qualname__
    if isinstance(error, pydantic.ValidationError):
        return f"{name}: {invalid_fields(error)}"
    if isinstance(error, _SAID_IN_FULL):
        return str(error) or name
    return name


def _with_kind(error: BaseException) -> str:
    name = type(error).__qualname__
    words = _own_words(error)
    return words if words.startswith(name) else f"{name}: {words}"


def invalid_fields(error: pydantic.ValidationError) -> str:
    """Each invalid field's path and what was wrong with it (`reason: string_too_long`): the
    kind of error pydantic names, never the input nor a message built from it."""
    fields = [
        f"{'.'.join(str(part) for part in detail['loc']) or '(the whole value)'}: {detail['type']}"
        for detail in error.errors(include_url=False, include_context=False, include_input=False)
    ]
    more = len(fields) - _MAX_FIELDS
    return ", ".join(fields[:_MAX_FIELDS]) + (f" and {more} more" if more > 0 else "")


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The errors `error` was raised from (`raise ... from`), nearest first; not those that
    were merely being handled when it was raised."""
    seen = {id(error)}
    cause = error.__cause__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__


def redacted_traceback(error: BaseException) -> str:
    """The traceback of `error` and what caused it, each exception described (`describe`
    without its causes) rather than quoted: where it failed, in which code, without the values."""
    chain = [error, *_causes(error)]
    blocks = []
    for exception in reversed(chain):
        frames = "".join(traceback.format_tb(exception.__traceback__))
        blocks.append(
            f"Traceback (most recent call last):\n{frames}{_with_kind(exception)}"
            if frames
            else _with_kind(exception)
        )
    return "\n\nwhich caused:\n\n".join(blocks)


class RedactingFormatter(logging.Formatter):
    """A log formatter whose tracebacks describe each exception rather than quote its message
    (see `redacted_traceback`): what a service logs about an error holds no record's values."""

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        error = ei[1]
        return "" if error is None else redacted_traceback(error)


def record_failure(span: Span, error: BaseException, status: str) -> None:
    """Marks `span` failed with `error` as OpenTelemetry records an exception (type, message,
    stack trace), in the words of `describe` and `redacted_traceback`: a span sent to a
    collector holds no record's values either."""
    span.add_event(
        "exception",
        {
            "exception.type": error_kind(error),
            "exception.message": describe(error),
            "exception.stacktrace": redacted_traceback(error),
        },
    )
    span.set_status(Status(StatusCode.ERROR, f"{status}: {describe(error)}"))


def configure_logging(level: int = logging.INFO) -> None:
    """Every log line of the process through one handler on stderr, with redacted tracebacks."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
