"""Every event compliance records is published as the contract of the same name on the compliance
topic: a credential event keyed by the holder, an officer's decision keyed by the supervisee; the
contract parses back to the same facts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from compliance.adapters.publishing import translate
from compliance.domain.credentials import events as private
from compliance.domain.oversight import events as oversight_events
from contracts.events import compliance as published_compliance
from contracts.events import parse
from contracts.topics import COMPLIANCE_EVENTS
from infra.ddd import DomainEvent
from infra.eventstore import EventMetadata, RecordedEvent

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
H, L, SEE = "sup-1", "lic-1", "see-1"

EVENTS: list[DomainEvent] = [
    private.LicenseRecorded(
        holder_id=H,
        license_id=L,
        kind="LPC",
        number="12345",
        state="TX",
        issued_on=D("2025-01-31"),
        expires_on=D("2027-01-31"),
    ),
    private.LicenseRenewed(
        holder_id=H, license_id=L, renewed_on=D("2027-01-10"), expires_on=D("2029-01-31")
    ),
    private.LicenseSuspended(holder_id=H, license_id=L, effective_on=D("2027-03-01"), reason="x"),
    private.LicenseReinstated(holder_id=H, license_id=L, effective_on=D("2027-04-01")),
    private.LicenseRevoked(holder_id=H, license_id=L, effective_on=D("2027-05-01"), reason="y"),
    private.LicenseExpired(holder_id=H, license_id=L, expired_on=D("2029-02-01")),
    private.LicenseExpiryReminderDue(
        holder_id=H,
        license_id=L,
        expires_on=D("2029-01-31"),
        days_before=30,
        due_on=D("2029-01-01"),
    ),
    private.SupervisorDesignationRecorded(
        holder_id=H,
        designation_id="des-1",
        designation="LPC-S",
        state="TX",
        granted_on=D("2026-06-01"),
        expires_on=None,
        training_hours=40,
        training_completed_on=D("2026-04-15"),
    ),
]


OVERSIGHT_EVENTS: list[DomainEvent] = [
    oversight_events.VerdictResolved(
        supervisee_id=SEE,
        resolution_id="9a2c2d1e-5b7f-5c3a-8e4d-1f2a3b4c5d6e",
        verdict_id="6b0e3f5c-0d1e-5a2b-9c3d-4e5f60718293",
        kind="documented_exception",
        reason="extended leave approved in writing (TX1)",
        resolved_by="officer-1",
        on=D("2026-04-15"),
    ),
    oversight_events.LeaveApproved(
        supervisee_id=SEE,
        leave_id="0d4b6f8a-2c3e-5d7f-9a1b-3c5d7e9f1a2b",
        start=D("2026-05-01"),
        end=D("2026-06-30"),
        approved_by="sup-1",
        reason="medical leave",
        recorded_by="officer-1",
    ),
]


def as_recorded(event: DomainEvent, stream_id: str = f"credential-holder-{H}") -> RecordedEvent:
    now = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id=stream_id,
        version=1,
        type=event.type,
        schema_version=1,
        occurred_at=now,
        recorded_at=now,
        data=event.to_data(),
        metadata=EventMetadata(correlation_id="c-1", actor="staff-1"),
        position=1,
    )


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_each_credential_event_is_published_as_its_contract_keyed_by_the_holder(
    event: DomainEvent,
) -> None:
    recorded = as_recorded(event)

    message = translate(recorded)

    assert message is not None
    assert (message.topic, message.key, message.source) == (
        COMPLIANCE_EVENTS.name,
        H,
        COMPLIANCE_EVENTS.source,
    )
    assert message.ce_type == f"continuum.compliance.{event.type}.v1"
    assert message.event_id == recorded.event_id
    contract = parse(message.ce_type, message.data)
    assert contract.model_dump() == event.model_dump()


@pytest.mark.parametrize("event", OVERSIGHT_EVENTS, ids=lambda e: e.type)
def test_each_officers_decision_is_published_as_its_contract_keyed_by_the_supervisee(
    event: DomainEvent,
) -> None:
    recorded = as_recorded(event, f"oversight-{SEE}")

    message = translate(recorded)

    assert message is not None
    assert (message.topic, message.key, message.source) == (
        COMPLIANCE_EVENTS.name,
        SEE,
        COMPLIANCE_EVENTS.source,
    )
    assert message.ce_type == f"continuum.compliance.{event.type}.v1"
    contract = parse(message.ce_type, message.data)
    assert contract.model_dump() == event.model_dump()


def test_every_contract_of_the_compliance_topic_has_an_event_that_produces_it() -> None:
    assert {e.type for e in [*EVENTS, *OVERSIGHT_EVENTS]} == set(published_compliance.__all__)
