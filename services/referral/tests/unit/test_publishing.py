"""What the referral service publishes: the contracts, minimum necessary."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts import events as contract
from contracts.events import parse
from infra.ddd import DomainEvent
from infra.eventstore import EventMetadata, RecordedEvent
from referral.adapters.publishing import translate
from referral.domain import (
    ContactAttemptRecorded,
    ReferralAccepted,
    ReferralCancelled,
    ReferralClosedUnableToEngage,
    ReferralCompleted,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ServiceLevelBreached,
)

pytestmark = pytest.mark.unit

AT = dt.datetime(2026, 5, 19, 14, 30, tzinfo=dt.UTC)
DAY = AT.date()
NOTE = "client said the panic attacks are back"
FEEDBACK = "Seen six times; mood stable; ok to resume coaching."


def recorded(event: DomainEvent) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id="referral-ref-1",
        version=1,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=AT,
        recorded_at=AT,
        data=event.to_data(),
        metadata=EventMetadata(correlation_id="c-1", actor="coordinator-1"),
        position=1,
    )


def published(event: DomainEvent) -> contract.EventContract:
    message = translate(recorded(event))
    assert message is not None
    assert message.key == "ref-1"
    assert NOTE not in json.dumps(message.data) and FEEDBACK not in json.dumps(message.data)
    return parse(message.ce_type, message.data)


RAISED = ReferralRaised(
    referral_id="ref-1",
    client_id="client-1",
    site_id="site-a",
    from_service="coaching",
    to_service="therapy",
    urgency="urgent",
    raised_on=DAY,
    source="coaching-concern/con-1",
    raised_at=AT,
    origin="coaching-engagement/eng-1",
    reason="other",
    note=NOTE,
    raised_by="coach-1",
    substance_use_record=True,
    consent_reference="consent/c-1",
    acknowledgement_due_at=AT,
    scheduling_due_at=AT,
)


def test_a_raised_referral_publishes_its_time_origin_reason_code_and_consent_not_its_note() -> None:
    public = published(RAISED)

    assert isinstance(public, contract.ReferralRaised)
    assert (public.raised_at, public.origin, public.reason, public.raised_by) == (
        AT,
        "coaching-engagement/eng-1",
        "other",
        "coach-1",
    )
    assert (public.substance_use_record, public.consent_reference) == (True, "consent/c-1")


def test_an_acceptance_publishes_who_took_the_client_on_and_where_the_client_came_from() -> None:
    public = published(
        ReferralAccepted(
            referral_id="ref-1",
            client_id="client-1",
            site_id="site-a",
            from_service="therapy",
            to_service="coaching",
            source="therapy-episode/ep-1",
            origin=None,
            accepted_by="coach-7",
            accepted_on=DAY,
        )
    )

    assert isinstance(public, contract.ReferralAccepted)
    assert (public.client_id, public.site_id, public.to_service, public.accepted_by) == (
        "client-1",
        "site-a",
        "coaching",
        "coach-7",
    )


def test_a_completion_publishes_where_the_feedback_is_read_never_its_words() -> None:
    public = published(
        ReferralCompleted(
            referral_id="ref-1",
            client_id="client-1",
            from_service="coaching",
            to_service="therapy",
            source="coaching-concern/con-1",
            origin="coaching-engagement/eng-1",
            completed_by="therapist-1",
            completed_on=DAY,
            outcome="care_completed",
            feedback=FEEDBACK,
            recommendation="resume_coaching",
        )
    )

    assert isinstance(public, contract.ReferralCompleted)
    assert public.feedback == "referral-feedback/ref-1"
    assert (public.origin, public.recommendation, public.outcome) == (
        "coaching-engagement/eng-1",
        "resume_coaching",
        "care_completed",
    )


@pytest.mark.parametrize(
    ("event", "schema"),
    [
        (
            ReferralDeclined(
                referral_id="ref-1", declined_by="c", declined_on=DAY, reason="other", note=NOTE
            ),
            contract.ReferralDeclined,
        ),
        (
            ReferralRedirected(
                referral_id="ref-1",
                from_to_service="therapy",
                to_service="psychiatry",
                redirected_by="c",
                redirected_on=DAY,
                reason="other",
                note=NOTE,
                consent_reference="consent/c-2",
            ),
            contract.ReferralRedirected,
        ),
        (
            ReferralScheduled(
                referral_id="ref-1", appointment_on=DAY, scheduled_by="c", scheduled_on=DAY
            ),
            contract.ReferralScheduled,
        ),
        (
            ReferralClosedUnableToEngage(
                referral_id="ref-1", attempts=(DAY, DAY, DAY), closed_by="c", closed_on=DAY
            ),
            contract.ReferralClosedUnableToEngage,
        ),
        (
            ReferralCancelled(
                referral_id="ref-1", cancelled_by="c", cancelled_on=DAY, reason="other", note=NOTE
            ),
            contract.ReferralCancelled,
        ),
        (
            ServiceLevelBreached(
                referral_id="ref-1",
                site_id="site-a",
                to_service="therapy",
                urgency="urgent",
                target="acknowledgement",
                due_at=AT,
                detected_at=AT,
            ),
            contract.ReferralServiceLevelBreached,
        ),
    ],
)
def test_every_step_of_the_loop_is_published_as_its_contract(
    event: DomainEvent, schema: type[contract.EventContract]
) -> None:
    assert isinstance(published(event), schema)


def test_contact_attempts_stay_inside_the_service() -> None:
    attempt = ContactAttemptRecorded(
        referral_id="ref-1",
        attempt_id="att-1",
        attempted_on=DAY,
        channel="phone",
        recorded_by="c",
    )

    assert translate(recorded(attempt)) is None
