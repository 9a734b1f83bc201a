"""End to end: real broker, the four services as processes, gRPC over real sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time
import uuid

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import credential_service_pb2 as credential
from continuum.supervision.v1 import supervision_service_pb2 as pb
from contracts.events import LicenseRecorded, SessionLogged, SessionVoided
from contracts.topics import COMPLIANCE_EVENTS, SUPERVISION_EVENTS, dead_letter_topic
from infra.devstack import Stack
from infra.eventstore import EventMetadata, OutboxMessage
from infra.messaging.authenticity import EventSigner
from infra.messaging.cloudevents import encode
from tests.e2e.support import (
    as_published,
    eventually,
    put_on_topics,
    signed,
    unique,
    unsigned,
)
from tests.scenarios.demo import AUSTIN, GROUP, StaffApp

pytestmark = pytest.mark.e2e

TRACK = "TX-LPC-ASSOCIATE"


@pytest.fixture(scope="module", autouse=True)
def qualified_supervisors(app: StaffApp) -> None:
    """The supervisors here hold what the Texas board asks for hours to count (TX3, TX4): an LPC
    for over five years and the LPC-S designation."""
    for supervisor in ("sup-e2e", "sup-crash"):
        app.credentials.RecordLicense(
            credential.RecordLicenseRequest(
                license_id=f"lic-{supervisor}",
                holder_id=supervisor,
                kind="LPC",
                number=f"LPC-{supervisor}",
                state="TX",
                issued_on="2015-01-05",
                expires_on="2030-12-31",
            ),
            metadata=app.metadata,
            timeout=10,
        )
        app.credentials.RecordSupervisorDesignation(
            credential.RecordSupervisorDesignationRequest(
                designation_id=f"des-{supervisor}",
                holder_id=supervisor,
                designation="LPC-S",
                state="TX",
                granted_on="2016-01-04",
                training_hours=40,
                training_completed_on="2015-12-01",
            ),
            metadata=app.metadata,
            timeout=10,
        )


def recorded_minutes(view: compliance.GetSuperviseeHoursResponse) -> int:
    """Every minute on the record, counted or not."""
    return sum(k.counted_minutes + k.excluded_minutes for k in view.by_kind)


def supervisee_with_agreement(app: StaffApp, supervisor: str = "sup-e2e") -> str:
    supervisee = unique("see")
    assert app.register(supervisee, TRACK, "LPC-A-1", AUSTIN)
    assert app.sign(unique("agr"), supervisor, supervisee, AUSTIN, TRACK)
    return supervisee


def test_session_hours_and_a_referral_reach_the_compliance_view(app: StaffApp) -> None:
    supervisee = supervisee_with_agreement(app)
    app.log(unique("ses"), "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 6), 60)
    app.log(
        unique("ses"),
        "sup-e2e",
        [supervisee],
        AUSTIN,
        dt.date(2026, 10, 13),
        45,
        modality=pb.SESSION_MODALITY_VIDEO,
    )
    before = {r.referral_id for r in app.open_referrals(AUSTIN).referrals}
    engagement, concern = unique("eng"), unique("concern")
    app.open_engagement(engagement, unique("client"), "coach-e2e", AUSTIN, "2026-09-01")
    app.raise_concern(engagement, concern, "2026-11-02")

    view = eventually(lambda: app.hours(supervisee), lambda v: len(v.sessions) == 2)
    assert view.total_minutes == 105
    by = {(b.format, b.modality): b.minutes for b in view.by_format_and_modality}
    assert by[("individual", "in_person")] == 60
    assert by[("individual", "video")] == 45
    assert all(uuid.UUID(s.source_event_id) for s in view.sessions)
    # As of a date before the second session, only the first counts.
    assert app.hours(supervisee, as_of="2026-10-10").total_minutes == 60

    referrals = eventually(
        lambda: [r for r in app.open_referrals(AUSTIN).referrals if r.referral_id not in before],
        lambda new: len(new) == 1,
    )
    (referral,) = referrals
    assert (referral.to_service, referral.urgency, referral.raised_on) == (
        "therapy",
        "urgent",
        "2026-11-02",
    )
    assert len(referral.source_event_ids) == 1
    # The day before it was raised, the referral was not open.
    earlier = app.open_referrals(AUSTIN, as_of="2026-11-01").referrals
    assert referral.referral_id not in {r.referral_id for r in earlier}


def test_a_retried_command_changes_nothing(app: StaffApp) -> None:
    supervisee = supervisee_with_agreement(app)
    session = unique("ses")

    assert app.log(session, "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 6), 60) is True
    assert app.log(session, "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 6), 60) is False

    eventually(lambda: app.hours(supervisee), lambda v: len(v.sessions) == 1)
    time.sleep(1)
    assert app.hours(supervisee).total_minutes == 60


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"minutes": 5}, "minutes"),
        ({"date": "2026-13-40"}, "date"),
        ({"date": ""}, "date"),
        ({"format": pb.SESSION_FORMAT_UNSPECIFIED}, "format"),
        ({"supervisee_ids": []}, "supervisee_ids"),
        ({"session_id": "has spaces"}, "session_id"),
        ({"date": "2999-01-01"}, "date"),
    ],
)
def test_an_invalid_session_is_invalid_argument_naming_the_field_and_records_nothing(
    app: StaffApp, change: dict[str, object], field: str
) -> None:
    supervisee = supervisee_with_agreement(app)
    valid = {
        "session_id": unique("ses"),
        "kind": pb.SESSION_KIND_CLINICAL,
        "format": pb.SESSION_FORMAT_INDIVIDUAL,
        "modality": pb.SESSION_MODALITY_IN_PERSON,
        "date": "2026-10-06",
        "minutes": 60,
        "supervisor_id": "sup-e2e",
        "supervisee_ids": [supervisee],
        "site_id": AUSTIN,
    }

    with pytest.raises(grpc.RpcError) as refused:
        app.supervision.LogSession(pb.LogSessionRequest(**{**valid, **change}), timeout=10)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith(f"{field}:")
    # Nothing was recorded: the same session id, now valid, is recorded as new.
    if "session_id" not in change:
        assert not app.supervision.LogSession(pb.LogSessionRequest(**valid)).already_recorded


def test_a_session_no_agreement_covers_is_failed_precondition(app: StaffApp) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        app.log(unique("ses"), "sup-e2e", [unique("see")], AUSTIN, dt.date(2026, 10, 6), 60)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_an_unknown_credential_track_is_invalid_argument(app: StaffApp) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        app.sign(unique("agr"), "sup-e2e", unique("see"), AUSTIN, "XX-NOT-A-TRACK")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("credential_track:")


def test_killing_compliance_while_events_flow_loses_nothing_and_counts_nothing_twice(
    stack: Stack, app: StaffApp
) -> None:
    supervisees = [supervisee_with_agreement(app, "sup-crash") for _ in range(3)]
    sessions = 30
    logged = threading.Event()

    def staff_keep_logging() -> None:
        for i in range(sessions):
            day = dt.date(2026, 1, 5) + dt.timedelta(days=i)
            app.log(unique("ses"), "sup-crash", supervisees, AUSTIN, day, 90, fmt=GROUP)
        logged.set()

    writer = threading.Thread(target=staff_keep_logging)
    writer.start()
    time.sleep(0.5)
    stack.kill("compliance")  # SIGKILL, mid-flow
    writer.join(timeout=120)
    assert logged.is_set()
    stack.start_service("compliance")
    stack.wait_until_serving("compliance")

    # Group supervision alone counts for no more than half of what counts (TX1): the minutes
    # are on the record, counted or withheld, each once.
    for supervisee in supervisees:
        view = eventually(
            lambda s=supervisee: app.hours(s),
            lambda v: len(v.sessions) + len(v.excluded) >= sessions,
            timeout=90,
        )
        assert recorded_minutes(view) == sessions * 90
    time.sleep(2)  # anything redelivered after the restart has arrived by now
    assert [recorded_minutes(app.hours(s)) for s in supervisees] == [sessions * 90] * 3


def _session_message(event_id: uuid.UUID, supervisee: str, session_id: str) -> OutboxMessage:
    event = SessionLogged(
        session_id=session_id,
        kind="clinical",
        start_time=None,
        techniques=(),
        focus=(),
        format="individual",
        modality="in_person",
        date=dt.date(2026, 10, 7),
        minutes=50,
        supervisor_id="sup-e2e",
        supervisee_ids=(supervisee,),
        site_id=AUSTIN,
    )
    return OutboxMessage(
        event_id=event_id,
        topic=SUPERVISION_EVENTS.name,
        key=event.key(),
        ce_type=SessionLogged.ce_type(),
        source=SUPERVISION_EVENTS.source or "",
        subject=f"session-{session_id}",
        occurred_at=dt.datetime.now(dt.UTC),
        data=event.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="e2e"),
    )


def test_the_same_event_delivered_twice_is_counted_once(stack: Stack, app: StaffApp) -> None:
    supervisee = unique("see")
    record = signed(stack, _session_message(uuid.uuid4(), supervisee, unique("ses")))

    put_on_topics(stack, [record] * 2)

    eventually(lambda: app.hours(supervisee), lambda v: len(v.sessions) == 1)
    time.sleep(1.5)
    assert app.hours(supervisee).total_minutes == 50


async def _dead_letters(
    bootstrap: str, group: str, marker: bytes, seconds: float
) -> dict[str, bytes]:
    consumer = AIOKafkaConsumer(
        dead_letter_topic(group).name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(seconds):
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        if record.value == marker:
                            return {k: v for k, v in record.headers}
    finally:
        await consumer.stop()


def test_a_malformed_message_is_dead_lettered_and_the_consumer_goes_on(
    stack: Stack, app: StaffApp
) -> None:
    assert stack.bootstrap_servers is not None
    marker = f"not a cloudevent {uuid.uuid4()}".encode()

    put_on_topics(stack, [(SUPERVISION_EVENTS.name, b"junk", marker, [])])

    headers = asyncio.run(
        _dead_letters(stack.bootstrap_servers, "continuum.compliance", marker, 60)
    )
    assert headers["dlt.reason"]
    assert headers["dlt.original.topic"] == SUPERVISION_EVENTS.name.encode()
    # The compliance consumer carries on with the next message.
    supervisee = supervisee_with_agreement(app)
    app.log(unique("ses"), "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 8), 60)
    eventually(lambda: app.hours(supervisee), lambda v: v.total_minutes == 60)


def test_an_event_compliance_cannot_read_leaves_its_typed_text_out_of_logs_and_dead_letters(
    stack: Stack,
) -> None:
    assert stack.bootstrap_servers is not None
    typed = f"disclosed a relapse {uuid.uuid4().hex[:8]}"
    session = unique("ses")
    void = OutboxMessage(
        event_id=uuid.uuid4(),
        topic=SUPERVISION_EVENTS.name,
        key=session,
        ce_type=SessionVoided.ce_type(),
        source=SUPERVISION_EVENTS.source or "",
        subject=f"session-{session}",
        occurred_at=dt.datetime.now(dt.UTC),
        # Its date is not a date: compliance cannot read it by its contract.
        data={"session_id": session, "supervisee_ids": ["see-1"], "date": "soon", "reason": typed},
        metadata=EventMetadata(correlation_id="e2e"),
    )
    topic, key, value, headers = signed(stack, void)  # its producer's, unreadable

    put_on_topics(stack, [(topic, key, value, headers)])

    dead = asyncio.run(_dead_letters(stack.bootstrap_servers, "continuum.compliance", value, 60))
    assert dead["dlt.reason"]
    assert all(typed.encode() not in header for header in dead.values())
    log = stack.data_dir / "compliance.log"
    eventually(log.read_text, lambda text: str(void.event_id) in text)
    assert typed not in log.read_text()


def test_forged_events_appear_nowhere_and_mark_nothing_while_genuine_ones_flow(
    stack: Stack, app: StaffApp
) -> None:
    """A process that can write to the topics, without the producers' keys: a license compliance
    never recorded, sessions supervision never logged, are refused by every consumer, and no
    view says it lacks them."""
    supervisee = supervisee_with_agreement(app)
    holder, license_id = unique("sup"), unique("lic")
    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
    forged_license = as_published(
        LicenseRecorded(
            holder_id=holder,
            license_id=license_id,
            kind="LPC",
            number="LPC-FORGED",
            state="TX",
            issued_on=soon - dt.timedelta(days=3000),
            expires_on=soon,
        ),
        subject=f"credential-holder-{holder}",
    )
    # Signed by a service's genuine key, but not supervision's: a key taken from compliance.
    compliance_key = stack.event_keys().keys[COMPLIANCE_EVENTS.source or ""]
    as_compliance = EventSigner.of(SUPERVISION_EVENTS.source or "", compliance_key)
    forged_session = _session_message(uuid.uuid4(), supervisee, unique("ses"))
    unreadable = dataclasses.replace(
        _session_message(uuid.uuid4(), supervisee, unique("ses")),
        data={"supervisee_ids": [supervisee]},  # would mark the view if it were believed
    )

    put_on_topics(
        stack,
        [
            unsigned(forged_license),
            signed(stack, forged_session, as_compliance),
            unsigned(unreadable),
        ],
    )
    app.log(unique("ses"), "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 8), 60)

    assert stack.bootstrap_servers is not None
    for group, message, reason in [
        ("continuum.compliance", forged_license, b"unsigned"),
        ("continuum.supervision", forged_license, b"unsigned"),
        ("continuum.compliance", forged_session, b"signed by a key of another producer"),
        ("continuum.compliance", unreadable, b"unsigned"),
    ]:
        dead = asyncio.run(_dead_letters(stack.bootstrap_servers, group, encode(message)[1], 60))
        assert dead["dlt.reason"].startswith(reason), (group, message.ce_type)
        assert dead["dlt.error.type"] == b"infra.messaging.authenticity.InauthenticEvent"
    hours = eventually(lambda: app.hours(supervisee), lambda v: v.total_minutes == 60)
    assert [s.minutes for s in hours.sessions] == [60]
    assert not hours.incomplete and not hours.unapplied_events
    expiring = app.compliance.ListLicensesExpiring(
        compliance.ListLicensesExpiringRequest(within_days=90), metadata=app.metadata, timeout=10
    )
    assert license_id not in {x.license_id for x in expiring.licenses}
    forged_ids = {str(m.event_id) for m in (forged_license, forged_session, unreadable)}
    assert not forged_ids & {u.event_id for u in expiring.unapplied_events}


def test_restarting_a_producer_republishes_its_log_and_nothing_counts_twice(
    stack: Stack, app: StaffApp
) -> None:
    supervisee = supervisee_with_agreement(app)
    app.log(unique("ses"), "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 9), 60)
    eventually(lambda: app.hours(supervisee), lambda v: v.total_minutes == 60)

    # On the embedded broker a restarted service re-publishes its whole log (see infra.devstack).
    assert stack.stop_service("supervision") == 0
    stack.start_service("supervision")
    stack.wait_until_serving("supervision")
    app.log(unique("ses"), "sup-e2e", [supervisee], AUSTIN, dt.date(2026, 10, 10), 30)

    eventually(lambda: app.hours(supervisee), lambda v: v.total_minutes == 90)
    time.sleep(1.5)
    assert app.hours(supervisee).total_minutes == 90
