"""Case consultations: given the consultation's stream, when LogConsultation, then events or the
named error. A consultation is never supervision: nothing in its record or its contract says
supervisor, supervisee or format."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.events import ConsultationLogged as PublishedConsultation
from contracts.events import SessionLogged, parse
from infra.ddd import InvalidInput
from infra.eventstore import EventMetadata, RecordedEvent
from supervision.adapters.publishing_development import translate_development
from supervision.domain import consultation
from supervision.domain.consultation import (
    MAX_CONSULTATION_MINUTES,
    MIN_CONSULTATION_MINUTES,
    ClinicianMustNotConsultThemself,
    ConsultationIdMustNotBeReused,
    ConsultationLengthMustBeWithinBounds,
    ConsultationLogged,
    ConsultationMustNotBeDatedInTheFuture,
    LogConsultation,
    decide,
)

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 4, 15)


def log(**overrides: Any) -> LogConsultation:
    fields: dict[str, Any] = {
        "consultation_id": "con-1",
        "clinician_id": "see-1",
        "consultant_id": "dr-expert",
        "consultant_kind": "expert",
        "site_id": "site-a",
        "date": "2026-04-14",
        "minutes": 30,
    }
    return LogConsultation(**(fields | overrides))


def invalid(field: str, **overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        log(**overrides)
    assert refused.value.field == field, refused.value
    return refused.value


def logged(**overrides: Any) -> consultation.ConsultationState:
    return consultation.fold(decide(consultation.INITIAL, log(**overrides), TODAY))


def test_logging_a_consultation_records_it_on_its_own_stream() -> None:
    (event,) = decide(consultation.INITIAL, log(), TODAY)

    assert event == ConsultationLogged(
        consultation_id="con-1",
        clinician_id="see-1",
        consultant_id="dr-expert",
        consultant_kind="expert",
        site_id="site-a",
        date=dt.date(2026, 4, 14),
        minutes=30,
    )
    assert consultation.stream_id("con-1") == "consultation-con-1"


def test_a_peer_consultation_today_is_logged() -> None:
    assert logged(consultant_kind="peer", date=TODAY.isoformat()).logged is not None


def test_a_retry_with_the_same_content_records_nothing() -> None:
    assert decide(logged(), log(), TODAY) == []


def test_reusing_a_consultation_id_with_other_content_is_refused() -> None:
    with pytest.raises(ConsultationIdMustNotBeReused):
        decide(logged(), log(minutes=45), TODAY)


def test_a_clinician_does_not_consult_themself() -> None:
    error = invalid("consultant_id", consultant_id="see-1")
    assert isinstance(error, ClinicianMustNotConsultThemself)


@pytest.mark.parametrize("minutes", [MIN_CONSULTATION_MINUTES - 1, MAX_CONSULTATION_MINUTES + 1])
def test_a_consultation_length_outside_the_bounds_is_refused(minutes: int) -> None:
    error = invalid("minutes", minutes=minutes)
    assert isinstance(error, ConsultationLengthMustBeWithinBounds)


@pytest.mark.parametrize("minutes", [MIN_CONSULTATION_MINUTES, MAX_CONSULTATION_MINUTES])
def test_the_length_bounds_are_inclusive(minutes: int) -> None:
    assert logged(minutes=minutes).logged is not None


def test_an_unknown_consultant_kind_is_refused() -> None:
    invalid("consultant_kind", consultant_kind="supervisor")


def test_a_consultation_is_not_dated_in_the_future() -> None:
    with pytest.raises(ConsultationMustNotBeDatedInTheFuture) as refused:
        decide(consultation.INITIAL, log(date="2026-04-16"), TODAY)
    assert refused.value.field == "date"


def test_a_consultation_publishes_consultation_logged_and_nothing_that_reads_as_supervision() -> (
    None
):
    (event,) = decide(consultation.INITIAL, log(), TODAY)
    now = dt.datetime(2026, 4, 14, 12, tzinfo=dt.UTC)
    recorded = RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id=consultation.stream_id("con-1"),
        version=1,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=now,
        recorded_at=now,
        data=event.to_data(),
        metadata=EventMetadata(correlation_id="c-1"),
        position=1,
    )

    message = translate_development(recorded)

    assert message is not None
    assert message.key == "con-1"
    assert message.ce_type == PublishedConsultation.ce_type() != SessionLogged.ce_type()
    public = parse(message.ce_type, message.data)
    assert isinstance(public, PublishedConsultation)
    for supervision_field in ("supervisor_id", "supervisee_ids", "supervisee_id", "format"):
        assert supervision_field not in message.data
        assert supervision_field not in PublishedConsultation.model_fields
