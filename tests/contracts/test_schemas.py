"""A change to a published event that would break a consumer fails here, before it ships."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints

from contracts.fields import Label, LicenseNumber, SealedText, Text
from contracts.schemas import breaking_changes, review, stale

pytestmark = pytest.mark.unit


def test_every_event_version_matches_its_released_snapshot() -> None:
    breaks, missing, gone = review()
    assert breaks == {}, "incompatible event changes: publish a new version with an upcaster"
    assert gone == [], "a released event version was removed"
    assert missing == [], "new event versions without a snapshot: run `make contracts`"
    assert stale() == [], "snapshots out of date: run `make contracts` and commit them"


class Released(BaseModel):
    session_id: str
    format: Literal["individual", "group"]
    date: dt.date
    minutes: int
    note: str | None = None


def _breaks(new: type[BaseModel]) -> list[str]:
    return breaking_changes(
        Released.model_json_schema(mode="serialization"),
        new.model_json_schema(mode="serialization"),
    )


def test_adding_an_optional_field_is_compatible() -> None:
    class WithOptional(Released):
        room: str | None = None

    assert _breaks(WithOptional) == []


def test_removing_a_field_breaks_consumers() -> None:
    class WithoutMinutes(BaseModel):
        session_id: str
        format: Literal["individual", "group"]
        date: dt.date
        note: str | None = None

    assert _breaks(WithoutMinutes) == ["field 'minutes' was removed"]


def test_a_new_required_field_breaks_reading_old_events() -> None:
    class WithRequired(Released):
        kind: str

    assert _breaks(WithRequired) == ["new field 'kind' is required (give it a default)"]


def test_a_changed_type_breaks_consumers() -> None:
    class MinutesAsText(BaseModel):
        session_id: str
        format: Literal["individual", "group"]
        date: dt.date
        minutes: str
        note: str | None = None

    assert _breaks(MinutesAsText) == [
        "field 'minutes' changed from {'type': 'integer'} to {'type': 'string'}"
    ]


def test_a_date_becoming_a_timestamp_is_a_changed_format() -> None:
    class DateTime(BaseModel):
        session_id: str
        format: Literal["individual", "group"]
        date: dt.datetime
        minutes: int
        note: str | None = None

    (problem,) = _breaks(DateTime)
    assert problem.startswith("field 'date' changed")


def test_a_new_enumeration_value_breaks_consumers_that_validate_the_old_set() -> None:
    class Triadic(BaseModel):
        session_id: str
        format: Literal["individual", "triadic", "group"]
        date: dt.date
        minutes: int
        note: str | None = None

    (problem,) = _breaks(Triadic)
    assert problem.startswith("field 'format' changed")


def test_a_required_field_becoming_optional_breaks_consumers_that_rely_on_it() -> None:
    class OptionalMinutes(BaseModel):
        session_id: str
        format: Literal["individual", "group"]
        date: dt.date
        minutes: int | None = None
        note: str | None = None

    problems = _breaks(OptionalMinutes)
    assert "field 'minutes' is no longer required" in problems


def test_a_bound_added_to_a_field_is_compatible() -> None:
    class Bounded(BaseModel):
        session_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z0-9-]+$")]
        format: Literal["individual", "group"]
        date: dt.date
        minutes: Annotated[int, Field(ge=0, le=2**31 - 1)]
        note: Annotated[str, StringConstraints(max_length=2000)] | None = None

    assert _breaks(Bounded) == []


def test_a_bound_loosened_or_removed_breaks_consumers_that_relied_on_it() -> None:
    class Tight(BaseModel):
        session_id: Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z]+$")]
        minutes: Annotated[int, Field(ge=0)]

    class Loose(BaseModel):
        session_id: Annotated[str, StringConstraints(max_length=200)]
        minutes: int

    problems = breaking_changes(
        Tight.model_json_schema(mode="serialization"), Loose.model_json_schema(mode="serialization")
    )

    assert problems == [
        "field 'minutes': minimum 0 was removed",
        "field 'session_id': maxLength loosened from 64 to 200",
        "field 'session_id': pattern '^[a-z]+$' was removed",
    ]


def test_a_sensitive_field_coming_to_admit_its_sealed_envelope_is_compatible() -> None:
    # given: a released text and license number
    class Plain(BaseModel):
        reason: Text
        number: Label
        correction: Text | None = None

    class Sealable(BaseModel):
        reason: SealedText
        number: LicenseNumber
        correction: SealedText | None = None

    # when / then
    assert (
        breaking_changes(
            Plain.model_json_schema(mode="serialization"),
            Sealable.model_json_schema(mode="serialization"),
        )
        == []
    )


def test_a_sealable_field_still_keeps_its_plain_bounds_and_its_envelope() -> None:
    # given
    class Sealable(BaseModel):
        reason: SealedText

    class Loosened(BaseModel):
        reason: Annotated[str, StringConstraints(max_length=20_000)]

    class Plain(BaseModel):
        reason: Text

    sealable = Sealable.model_json_schema(mode="serialization")
    # when: the plain form loosened, or the envelope dropped again
    loosened = breaking_changes(
        Plain.model_json_schema(mode="serialization"),
        Loosened.model_json_schema(mode="serialization"),
    )
    dropped = breaking_changes(sealable, Plain.model_json_schema(mode="serialization"))
    # then
    assert loosened == ["field 'reason': maxLength loosened from 2000 to 20000"]
    assert len(dropped) == 1 and dropped[0].startswith("field 'reason' changed from")
