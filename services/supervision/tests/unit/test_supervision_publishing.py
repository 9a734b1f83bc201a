"""What supervision publishes: each recorded fact as its contract, the minimum necessary, and
nothing of what stays inside (a supervisee's wellbeing, the supervisor stream)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts import events as contract
from infra.ddd import DomainEvent
from infra.eventstore import EventMetadata, OutboxMessage, RecordedEvent
from supervision.adapters.publishing import chain, translate, translate_core
from supervision.domain import (
    AgreementAmended,
    AgreementApproved,
    AgreementSigned,
    AgreementTerminated,
    MonthReopened,
    MonthSignedOff,
    PracticeHoursRecorded,
    SessionAmended,
    SessionLogged,
    SessionVoided,
    SupervisedSessionNoted,
    SuperviseeRegistered,
    SuperviseeTransferred,
    SupervisionAmended,
    SupervisionReceived,
    SupervisionVoided,
    SupervisorLapseMarked,
    SupervisorLicenseChanged,
    WellbeingCheck,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def recorded(event: DomainEvent, stream_id: str = "stream-1") -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id=stream_id,
        version=1,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=NOW,
        recorded_at=NOW,
        data=event.to_data(),
        metadata=EventMetadata(correlation_id="c-1", actor="coordinator-1"),
        position=1,
    )


PUBLISHED: list[tuple[DomainEvent, type[contract.EventContract], str]] = [
    (
        SuperviseeRegistered(
            supervisee_id="see-1",
            credential_track="TX-LPC-ASSOCIATE",
            license_number="LPC-A-1",
            home_site_id="site-a",
            registered_on=D("2026-01-02"),
        ),
        contract.SuperviseeRegistered,
        "see-1",
    ),
    (
        SuperviseeTransferred(
            supervisee_id="see-1",
            from_site_id="site-a",
            to_site_id="site-b",
            effective_on=D("2026-03-01"),
        ),
        contract.SuperviseeTransferred,
        "see-1",
    ),
    (
        AgreementSigned(
            agreement_id="agr-1",
            supervisor_id="sup-1",
            supervisee_id="see-1",
            site_id="site-a",
            credential_track="FL-RMHCI",
            start_date=D("2026-01-01"),
            end_date=D("2026-12-31"),
            modalities=("in_person",),
            sessions_per_period=1,
            period="two_weeks",
            board_approval_required=True,
        ),
        contract.AgreementSigned,
        "see-1",
    ),
    (
        AgreementApproved(
            supervisee_id="see-1",
            agreement_id="agr-1",
            approved_on=D("2026-02-01"),
            approval_reference="FL-1",
        ),
        contract.AgreementApproved,
        "see-1",
    ),
    (
        AgreementAmended(
            supervisee_id="see-1",
            agreement_id="agr-1",
            end_date=D("2027-01-31"),
            modalities=("video",),
            sessions_per_period=2,
            period="month",
            reason="remote",
            amended_by="coordinator-1",
        ),
        contract.AgreementAmended,
        "see-1",
    ),
    (
        AgreementTerminated(
            supervisee_id="see-1",
            agreement_id="agr-1",
            terminated_on=D("2026-06-30"),
            reason="left",
            terminated_by="coordinator-1",
        ),
        contract.AgreementTerminated,
        "see-1",
    ),
    (
        SessionLogged(
            session_id="ses-1",
            kind="administrative",
            format="triadic",
            modality="phone",
            date=D("2026-03-02"),
            start_time=dt.time(9, 0),
            minutes=60,
            supervisor_id="sup-1",
            supervisee_ids=("see-1", "see-2"),
            site_id="site-a",
            techniques=("case_review",),
            focus=("intervention",),
        ),
        contract.SessionLogged,
        "ses-1",
    ),
    (
        SessionAmended(
            session_id="ses-1",
            supervisee_ids=("see-1", "see-2"),
            kind="clinical",
            format="triadic",
            modality="video",
            date=D("2026-03-03"),
            start_time=None,
            minutes=90,
            techniques=(),
            focus=(),
            reason="wrong day",
            amended_by="coordinator-1",
        ),
        contract.SessionAmended,
        "ses-1",
    ),
    (
        SessionVoided(
            session_id="ses-1",
            supervisee_ids=("see-1",),
            date=D("2026-03-02"),
            reason="duplicate",
            voided_by="coordinator-1",
        ),
        contract.SessionVoided,
        "ses-1",
    ),
    (
        SupervisorLapseMarked(
            session_id="ses-1",
            supervisor_id="sup-1",
            date=D("2026-03-02"),
            license_id="lic-1",
            lapse="suspended",
            lapsed_since=D("2026-03-01"),
        ),
        contract.SupervisorLapseMarked,
        "ses-1",
    ),
    (
        PracticeHoursRecorded(
            supervisee_id="see-1",
            site_id="site-a",
            week_start=D("2026-03-02"),
            direct_minutes=600,
            indirect_minutes=120,
            correction="missed one",
        ),
        contract.PracticeHoursRecorded,
        "see-1",
    ),
    (
        MonthSignedOff(
            supervisee_id="see-1", month="2026-03", supervisor_id="sup-1", signed_on=D("2026-04-01")
        ),
        contract.MonthSignedOff,
        "see-1",
    ),
    (
        MonthReopened(
            supervisee_id="see-1",
            month="2026-03",
            reopened_by="coordinator-1",
            reason="late session",
            reopened_on=D("2026-04-03"),
        ),
        contract.MonthReopened,
        "see-1",
    ),
]


@pytest.mark.parametrize(
    ("event", "schema", "key"), PUBLISHED, ids=[event.type for event, _, _ in PUBLISHED]
)
def test_each_fact_is_published_as_its_contract_keyed_by_its_aggregate(
    event: DomainEvent, schema: type[contract.EventContract], key: str
) -> None:
    source = recorded(event)

    message = translate(source)

    assert isinstance(message, OutboxMessage)
    assert message.ce_type == schema.ce_type()
    assert message.key == key
    assert message.event_id == source.event_id
    parsed = contract.parse(message.ce_type, message.data)
    assert isinstance(parsed, schema)
    assert parsed.model_dump(mode="json") == {
        name: value for name, value in event.to_data().items() if name in schema.model_fields
    }


PRIVATE: list[DomainEvent] = [
    SupervisionReceived(
        session_id="ses-1",
        supervisee_id="see-1",
        agreement_id="agr-1",
        date=D("2026-03-02"),
        minutes=60,
        format="individual",
        modality="in_person",
        supervisor_id="sup-1",
        site_id="site-a",
        wellbeing=WellbeingCheck(burnout=5, vicarious_trauma=4),
    ),
    SupervisionAmended(
        session_id="ses-1",
        supervisee_id="see-1",
        agreement_id="agr-1",
        date=D("2026-03-02"),
        minutes=60,
        format="individual",
        modality="in_person",
        kind="clinical",
        reason="r",
        amended_by="c",
    ),
    SupervisionVoided(session_id="ses-1", supervisee_id="see-1", reason="r", voided_by="c"),
    SupervisorLicenseChanged(
        supervisor_id="sup-1", license_id="lic-1", change="suspended", effective_on=D("2026-03-01")
    ),
    SupervisedSessionNoted(supervisor_id="sup-1", session_id="ses-1", date=D("2026-03-02")),
]


@pytest.mark.parametrize("event", PRIVATE, ids=[event.type for event in PRIVATE])
def test_what_stays_inside_is_not_published(event: DomainEvent) -> None:
    assert translate(recorded(event)) is None


def test_no_published_message_carries_a_wellbeing_score() -> None:
    for event, _, _ in PUBLISHED:
        message = translate(recorded(event))
        assert message is not None
        text = json.dumps(dict(message.data))
        assert "wellbeing" not in text
        assert "burnout" not in text


def test_an_event_of_another_part_of_the_service_is_left_to_its_translator() -> None:
    foreign = RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id="evaluation-ev-1",
        version=1,
        type="EvaluationSigned",
        schema_version=1,
        occurred_at=NOW,
        recorded_at=NOW,
        data={"evaluation_id": "ev-1"},
        metadata=EventMetadata(correlation_id="c-1"),
        position=1,
    )
    sentinel = translate_core(recorded(PUBLISHED[0][0]))
    assert sentinel is not None

    assert translate_core(foreign) is None
    assert chain([translate_core, lambda _: sentinel])(foreign) is sentinel
    assert chain([translate_core])(foreign) is None
