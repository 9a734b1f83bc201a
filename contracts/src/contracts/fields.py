"""The kinds of field every request, command and published event is made of, defined once.

A value a producer accepts must be one every consumer can store: on PostgreSQL a text column
refuses the NUL character and a `VARCHAR(64)` anything longer, an `INTEGER` anything beyond 32
bits, and Python's date arithmetic overflows outside the years 1 to 9999. So each kind is
bounded, and the published event schemas (`contracts.events`), the services' commands and the
gRPC field readers (`infra.grpc.fields`) all use these:

| kind        | what it admits                                                                 |
| ----------- | ------------------------------------------------------------------------------ |
| `Id`        | 1 to 64 of A-Z, a-z, 0-9, `.`, `_`, `:`, `-` (stream ids, Kafka keys, actors)  |
| `Label`     | a short name or code on one line: 1 to 64 characters, no control characters   |
| `Reference` | a record elsewhere or a board's reference: 1 to 200 characters on one line    |
| `Month`     | a calendar month, "YYYY-MM", within the date bounds                            |
| `Text`      | free text a person typed: at most 2,000 characters, no NUL, no control         |
|             | characters but newline and tab                                                 |
| `Date`      | a calendar day from 1900-01-01 to 2199-12-31                                   |
| `Instant`   | a timezone-aware moment within the same days (in its offset and in UTC)       |
| `Int32`     | a whole number a 32-bit database column holds                                  |

The date bounds leave room for the arithmetic the services do: the longest window any rule or
query adds to a date (`MAX_WINDOW_DAYS`) cannot leave Python's calendar from inside them.

A field marked `Sensitive` holds what must not travel or rest in clear: free text a person
typed (every `Text`), and what identifies a person or their records elsewhere (`LicenseNumber`,
a board's approval reference, a consent reference). `sensitive_fields` lists them for any
schema, read from the annotations; such a value is sealed under its subject's key by the service
it is typed into (`infra.commands.sealing`), so that destroying the key erases it from every
copy. A published sensitive field is therefore `sealable`: its plain kind, or the sealed
envelope (`SealedText`, `LicenseNumber`, `ApprovalReference`, `ConsentReference`).

Pure: the standard library and pydantic only, so that domains may use it.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    WithJsonSchema,
)

ID_MAX_LENGTH = 64
LABEL_MAX_LENGTH = 64
REFERENCE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 2000

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
# The longest span any query or rule adds to (or takes from) a date: ten years of days. From
# any day within the bounds this stays inside Python's calendar (years 1 to 9999).
MAX_WINDOW_DAYS = 3660

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
_ID = re.compile(ID_PATTERN)
# Newline and tab are how people lay text out; every other control character (and an unpaired
# surrogate, which no encoding can store) is refused.
_LAYOUT = frozenset("\n\t")


@dataclass(frozen=True, slots=True)
class Kind:
    """Names the kind of a field in its annotation, for the event catalogue and for the tests that
    generate values of each kind; validation does not read it."""

    name: str


@dataclass(frozen=True, slots=True)
class Sensitive:
    """Marks a field, in its annotation, whose value must not travel or rest in clear: it is
    to be sealed under its subject's key. `why` says what makes it so; validation does not
    read it."""

    why: str


# What every Text is; a field of another kind is marked with its own reason.
TYPED_BY_A_PERSON = Sensitive("free text a person typed")
IDENTIFIES_LICENSE_HOLDER = Sensitive("a license number identifies its holder")
IDENTIFIES_PERSON_APPROVED = Sensitive(
    "a board's approval reference identifies the person approved"
)
LEADS_TO_CONSENT = Sensitive("a consent reference leads to the client's consent and records")

# A sensitive value as it travels and rests once sealed (`infra.security.crypto.sealing`):
# `sealed:<version>:<subject>:<key id>:<base64url>`. A 2,000-character text of four-byte
# characters seals to 10,720 characters; the bound leaves room for a subject id of 64.
SEALED_MAX_LENGTH = 10_800
SEALED_PATTERN = r"^sealed:[0-9]+:[A-Za-z0-9._:-]{1,64}:[1-9][0-9]{0,9}:[A-Za-z0-9_-]+$"
_SEALED = re.compile(SEALED_PATTERN)
SEALED_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": SEALED_PATTERN,
    "maxLength": SEALED_MAX_LENGTH,
}


def check_id(value: str) -> str:
    """The value, if it is a well-formed id; ValueError saying what an id is otherwise."""
    if not _ID.fullmatch(value):
        raise ValueError(
            f"must be 1 to {ID_MAX_LENGTH} characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'"
        )
    return value


def _unwanted(value: str, allowed: frozenset[str]) -> str | None:
    """The first character of `value` no store keeps safely, if any."""
    for character in value:
        if character in allowed:
            continue
        if unicodedata.category(character) in ("Cc", "Cs"):
            return character
    return None


# What opens as a sealed value where a person reads it: a plain value must not hold one, or a
# caller who copied another subject's envelope (from a topic, a backup) into a reason would have
# it opened in their own reply.
_ENVELOPE_IN_PLAIN = re.compile(r"sealed:[0-9]+:")


def _refuse_envelope(value: str) -> None:
    if _ENVELOPE_IN_PLAIN.search(value):
        raise ValueError("must not contain a sealed value ('sealed:<version>:...')")


def check_text(value: str) -> str:
    """Free text without NUL or control characters (newline and tab are kept), and without a
    sealed value in it."""
    character = _unwanted(value, _LAYOUT)
    if character is not None:
        raise ValueError(
            f"must not contain the control character U+{ord(character):04X} "
            "(only newline and tab are allowed)"
        )
    _refuse_envelope(value)
    return value


def check_label(value: str) -> str:
    """A name or code on one line: no control character at all, no sealed value."""
    character = _unwanted(value, frozenset())
    if character is not None:
        raise ValueError(f"must not contain the control character U+{ord(character):04X}")
    _refuse_envelope(value)
    return value


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def check_month(value: str) -> str:
    """A calendar month as "YYYY-MM" whose days are within the date bounds."""
    match = _MONTH.fullmatch(value)
    if match is None or not EARLIEST_DATE.year <= int(match[1]) <= LATEST_DATE.year:
        raise ValueError(
            f"{value[:20]!r} is not a month (YYYY-MM) from "
            f"{EARLIEST_DATE.year} to {LATEST_DATE.year}"
        )
    return value


def check_date(value: dt.date) -> dt.date:
    """A day within the bounds every store and the services' date arithmetic survive."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"{value.isoformat()} is outside {EARLIEST_DATE.isoformat()}..{LATEST_DATE.isoformat()}"
        )
    return value


def check_instant(value: dt.datetime) -> dt.datetime:
    """A timezone-aware moment whose day, in its own offset and in UTC, is within the date
    bounds; kept in its own offset (the day a caller meant is read from it). The local day is
    checked first, so that converting cannot overflow (1 January of year 1 at +14:00 does)."""
    if value.tzinfo is None:
        raise ValueError("has no UTC offset (add Z or +HH:MM)")
    check_date(value.date())
    check_date(value.astimezone(dt.UTC).date())
    return value


# Ids are chosen by clients (a retry reuses them) and become part of stream ids and Kafka keys;
# the actor who recorded an event is one too.
Id = Annotated[
    str,
    Field(json_schema_extra={"pattern": ID_PATTERN, "maxLength": ID_MAX_LENGTH}),
    AfterValidator(check_id),
    Kind("Id"),
]

# A credential track, a license kind, a framework's name: a short code or name on one line.
Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LABEL_MAX_LENGTH),
    AfterValidator(check_label),
    Kind("Label"),
]

# Where to find a record elsewhere ("coaching-concern/<id>"), or a board's reference for an
# approval: a longer label.
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REFERENCE_MAX_LENGTH),
    AfterValidator(check_label),
    Kind("Reference"),
]

Month = Annotated[
    str,
    Field(json_schema_extra={"pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}),
    AfterValidator(check_month),
    Kind("Month"),
]

# What a person typed: a reason, a note, a correction. Services bound their own fields tighter
# (with `check_text` after their bounds); a published event holds at most this.
Text = Annotated[
    str,
    StringConstraints(max_length=TEXT_MAX_LENGTH),
    AfterValidator(check_text),
    Kind("Text"),
    TYPED_BY_A_PERSON,
]


def sealable(kind: str, *, min_length: int, max_length: int, check: Any, mark: Sensitive) -> Any:
    """A published sensitive field: the plain value within its kind's bounds, or that value
    sealed (an envelope up to SEALED_MAX_LENGTH). Producers publish it sealed; a consumer stores
    it as it came and opens it only where a person reads it."""

    def admit(value: str) -> str:
        if value.startswith("sealed:"):
            if len(value) > SEALED_MAX_LENGTH or not _SEALED.fullmatch(value):
                raise ValueError(
                    f"is not a sealed value (sealed:<version>:<subject>:<key id>:<base64url>, "
                    f"at most {SEALED_MAX_LENGTH} characters)"
                )
            return value
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters, or sealed")
        return str(check(value))

    plain = {"type": "string", "maxLength": max_length}
    if min_length:
        plain["minLength"] = min_length
    return Annotated[
        str,
        AfterValidator(admit),
        WithJsonSchema({"anyOf": [plain, SEALED_ENVELOPE_SCHEMA]}),
        Kind(kind),
        mark,
    ]


# A published Text: what a person typed, sealed by its producer.
SealedText = sealable(
    "Text", min_length=0, max_length=TEXT_MAX_LENGTH, check=check_text, mark=TYPED_BY_A_PERSON
)

# A license, registration or permit number a board issued: public registers list it with its
# holder's name, so it identifies the person.
LicenseNumber = sealable(
    "Label",
    min_length=1,
    max_length=LABEL_MAX_LENGTH,
    check=check_label,
    mark=IDENTIFIES_LICENSE_HOLDER,
)

# A board's reference for an approval (a letter or portal number): it finds the approval, and
# the person approved, in the board's records.
ApprovalReference = sealable(
    "Reference",
    min_length=1,
    max_length=REFERENCE_MAX_LENGTH,
    check=check_label,
    mark=IDENTIFIES_PERSON_APPROVED,
)

# Where a client's signed consent is filed (42 CFR Part 2): it leads to the client's records.
ConsentReference = sealable(
    "Reference",
    min_length=1,
    max_length=REFERENCE_MAX_LENGTH,
    check=check_label,
    mark=LEADS_TO_CONSENT,
)

Date = Annotated[dt.date, AfterValidator(check_date), Kind("Date")]

Instant = Annotated[AwareDatetime, AfterValidator(check_instant), Kind("Instant")]

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX), Kind("Int32")]


def sensitivity(annotation: Any) -> Sensitive | None:
    """The Sensitive mark of a field's type, looking through optional values and lists."""
    if get_origin(annotation) is Annotated:
        marks = [m for m in annotation.__metadata__ if isinstance(m, Sensitive)]
        return marks[0] if marks else sensitivity(get_args(annotation)[0])
    if get_origin(annotation) in (types.UnionType, typing.Union, tuple, list):
        marks = [m for m in map(sensitivity, get_args(annotation)) if m is not None]
        return marks[0] if marks else None
    return None


def sensitive_fields(schema: type[BaseModel]) -> dict[str, Sensitive]:
    """Every sensitive field of `schema` by its path (`reason`; `scores[].note` inside a list
    of models), in declaration order."""
    found: dict[str, Sensitive] = {}
    for name, field in schema.model_fields.items():
        mark = next((m for m in field.metadata if isinstance(m, Sensitive)), None)
        mark = mark or sensitivity(field.annotation)
        if mark is not None:
            found[name] = mark
        for model, suffix in _models_in(field.annotation):
            for path, inner in sensitive_fields(model).items():
                found[f"{name}{suffix}.{path}"] = inner
    return found


def _models_in(annotation: Any, suffix: str = "") -> list[tuple[type[BaseModel], str]]:
    """The models a field's type holds, with the path suffix that reaches into each."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, suffix)]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0], suffix)
    inner = f"{suffix}[]" if origin in (tuple, list) else suffix
    if origin in (types.UnionType, typing.Union, tuple, list):
        return [m for arg in get_args(annotation) for m in _models_in(arg, inner)]
    return []
