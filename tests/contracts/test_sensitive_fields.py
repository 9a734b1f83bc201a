"""What published events must not carry in clear, read from their annotations: every field a
person types freely (Text) is sensitive, and every other free-form string field (Label,
Reference) is either marked sensitive or reviewed here as fit to travel in clear. A new field
of these kinds fails this test until someone decided which it is."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter

from contracts.events import REGISTRY, sensitive_event_fields
from contracts.fields import (
    SEALED_ENVELOPE_SCHEMA,
    SEALED_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ApprovalReference,
    ConsentReference,
    Id,
    Kind,
    Label,
    LicenseNumber,
    Reference,
    SealedText,
    Sensitive,
    Text,
    sensitive_fields,
)

pytestmark = pytest.mark.unit

# The kinds whose values are strings a person chooses, rather than ids, dates or numbers.
FREE_FORM = frozenset({"Text", "Label", "Reference"})

# Reviewed: every sensitive field of every published event version.
SENSITIVE = {
    "continuum.compliance.LeaveApproved.v1": ("reason",),
    "continuum.compliance.LicenseRecorded.v1": ("number",),
    "continuum.compliance.LicenseRevoked.v1": ("reason",),
    "continuum.compliance.LicenseSuspended.v1": ("reason",),
    "continuum.compliance.VerdictResolved.v1": ("reason",),
    "continuum.referral.ReferralRaised.v1": ("consent_reference",),
    "continuum.supervision.AgreementAmended.v1": ("reason",),
    "continuum.supervision.AgreementApproved.v1": ("approval_reference",),
    "continuum.supervision.AgreementTerminated.v1": ("reason",),
    "continuum.supervision.MonthReopened.v1": ("reason",),
    "continuum.supervision.PracticeHoursRecorded.v1": ("correction",),
    "continuum.supervision.SessionAmended.v1": ("reason",),
    "continuum.supervision.SessionVoided.v1": ("reason",),
    "continuum.supervision.SuperviseeRegistered.v1": ("license_number",),
}

CODE = "a code from a fixed list the service checks, never words a person typed"
RECORD = "where a record is found: a kind of record and its id"
BOARD_CODE = "a credential or a state as a board names it, the same for everyone who holds it"

# Reviewed: every free-form field that travels in clear, and why that is fine.
IN_CLEAR = {
    "continuum.compliance.LicenseRecorded.v1": {"kind": BOARD_CODE, "state": BOARD_CODE},
    "continuum.compliance.SupervisorDesignationRecorded.v1": {
        "designation": BOARD_CODE,
        "state": BOARD_CODE,
    },
    "continuum.referral.ReferralAccepted.v1": {"source": RECORD, "origin": RECORD},
    "continuum.referral.ReferralCancelled.v1": {"reason": CODE},
    "continuum.referral.ReferralCompleted.v1": {
        "source": RECORD,
        "origin": RECORD,
        "outcome": CODE,
        # "referral-feedback/<referral id>": where the referrer reads the words, which stay in
        # the referral service; it repeats the event's key and says nothing of the client.
        "feedback": RECORD,
    },
    "continuum.referral.ReferralDeclined.v1": {"reason": CODE},
    "continuum.referral.ReferralRaised.v1": {"source": RECORD, "origin": RECORD, "reason": CODE},
    "continuum.referral.ReferralRedirected.v1": {"reason": CODE},
    "continuum.supervision.AgreementSigned.v1": {"credential_track": BOARD_CODE},
    "continuum.supervision.CompetencyEvaluated.v1": {
        "framework": "the name of a published competency framework",
        "framework_version": "the version of that framework",
        "scores[].domain": "a domain of that framework",
        "below_expectations": "domains of that framework",
    },
    "continuum.supervision.SuperviseeRegistered.v1": {"credential_track": BOARD_CODE},
}


def kinds(annotation: Any, metadata: list[Any] | tuple[Any, ...] = ()) -> set[str]:
    """The kinds of `contracts.fields` a field's type is made of (through optional and lists)."""
    found = {m.name for m in metadata if isinstance(m, Kind)}
    origin = get_origin(annotation)
    if origin is Annotated:
        return found | kinds(get_args(annotation)[0], annotation.__metadata__)
    if origin in (types.UnionType, typing.Union, tuple, list):
        return found.union(*(kinds(arg) for arg in get_args(annotation)))
    return found


def free_form_fields(schema: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, kinds) of every field of a free-form kind, reaching into lists of models."""
    for name, field in schema.model_fields.items():
        found = kinds(field.annotation, field.metadata)
        if found & FREE_FORM:
            yield f"{prefix}{name}", found
        many = get_origin(field.annotation) in (tuple, list)
        for arg in (field.annotation, *get_args(field.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from free_form_fields(arg, f"{prefix}{name}{'[]' if many else ''}.")


def test_the_sensitive_fields_of_every_published_event_are_the_reviewed_ones() -> None:
    assert sensitive_event_fields() == SENSITIVE


def test_every_text_field_of_every_published_event_is_sensitive() -> None:
    unmarked = [
        f"{ce_type} {path}"
        for ce_type, schema in sorted(REGISTRY.items())
        for path, found in free_form_fields(schema)
        if "Text" in found and path not in sensitive_fields(schema)
    ]
    assert unmarked == []


def test_every_free_form_field_is_sensitive_or_reviewed_as_fit_to_travel_in_clear() -> None:
    # given every free-form field that is not marked sensitive
    in_clear = {
        ce_type: {path for path, _ in free_form_fields(schema)} - set(sensitive_fields(schema))
        for ce_type, schema in sorted(REGISTRY.items())
    }
    # then it is one this test reviewed
    assert {t: paths for t, paths in in_clear.items() if paths} == {
        t: set(fields) for t, fields in IN_CLEAR.items()
    }


def test_a_mark_is_found_through_optional_values_lists_and_nested_models() -> None:
    # given
    class Note(BaseModel):
        text: Text
        tag: Label

    class Record(BaseModel):
        record_id: Id
        reason: Text
        correction: Text | None = None
        numbers: tuple[LicenseNumber, ...] = ()
        notes: tuple[Note, ...] = ()
        latest: Note | None = None
        label: Label = "x"

    # when
    found = sensitive_fields(Record)
    # then
    assert list(found) == ["reason", "correction", "numbers", "notes[].text", "latest.text"]
    assert found["numbers"] == Sensitive("a license number identifies its holder")


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        (LicenseNumber, Label),
        (ApprovalReference, Reference),
        (ConsentReference, Reference),
        (SealedText, Text),
    ],
)
def test_a_published_sensitive_field_admits_its_plain_kind_or_a_sealed_envelope(
    marked: Any, plain: Any
) -> None:
    # given
    envelope = "sealed:1:see-1:1:" + "A" * 40
    # then: the schema is the plain kind's, or the envelope's
    schema = TypeAdapter(marked).json_schema()
    plain_schema = {k: v for k, v in TypeAdapter(plain).json_schema().items() if k != "pattern"}
    assert schema == {"anyOf": [plain_schema, SEALED_ENVELOPE_SCHEMA]}
    # and what it admits: an envelope, a plain value its kind admits, nothing else
    assert TypeAdapter(marked).validate_python(envelope) == envelope
    assert TypeAdapter(marked).validate_python("LPC-1") == "LPC-1"
    with pytest.raises(ValueError):
        TypeAdapter(marked).validate_python("line\x00break")
    with pytest.raises(ValueError):
        TypeAdapter(marked).validate_python("x" * (TEXT_MAX_LENGTH + 1))
    with pytest.raises(ValueError):
        TypeAdapter(marked).validate_python("sealed:1:see-1:1:not base64!")
    with pytest.raises(ValueError):
        TypeAdapter(marked).validate_python("sealed:1:see-1:1:" + "A" * SEALED_MAX_LENGTH)
