"""End to end: the credential registry's API over a real socket, on the compliance process, with
the service's clock running every second (reminders and expiries appear without a request)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from continuum.compliance.v1 import credential_service_pb2 as pb
from continuum.compliance.v1 import credential_service_pb2_grpc as pb_grpc
from contracts.events import LicenseExpired
from contracts.topics import COMPLIANCE_EVENTS
from infra.devstack import Stack
from infra.grpc.client import open_channel
from infra.messaging.cloudevents import decode
from tests.e2e.support import acting_as, eventually, invalid_field, token, unique

pytestmark = pytest.mark.e2e

METADATA = acting_as("e2e-credentialing")
ACTIVE = pb.CREDENTIAL_LICENSE_STATUS_ACTIVE
SUSPENDED = pb.CREDENTIAL_LICENSE_STATUS_SUSPENDED
EXPIRED = pb.CREDENTIAL_LICENSE_STATUS_EXPIRED
REVOKED = pb.CREDENTIAL_LICENSE_STATUS_REVOKED


@pytest.fixture(scope="module")
def registry(stack: Stack) -> Iterator[pb_grpc.CredentialServiceStub]:
    with open_channel(stack.addresses["compliance"], token=token()) as channel:
        yield pb_grpc.CredentialServiceStub(channel)


def today() -> dt.date:
    """The service's calendar day (its clock is UTC)."""
    return dt.datetime.now(dt.UTC).date()


def days(n: int) -> str:
    return (today() + dt.timedelta(days=n)).isoformat()


def record(
    registry: pb_grpc.CredentialServiceStub, holder: str | None = None, **overrides: Any
) -> pb.RecordLicenseRequest:
    fields: dict[str, Any] = {
        "license_id": unique("lic"),
        "holder_id": holder or unique("sup"),
        "kind": "LPC",
        "number": unique("n").upper(),
        "state": "TX",
        "issued_on": days(-700),
        "expires_on": days(400),
    }
    request = pb.RecordLicenseRequest(**(fields | overrides))
    response = registry.RecordLicense(request, metadata=METADATA, timeout=10)
    assert response.license_id == request.license_id
    assert not response.already_recorded
    return request


def license_of(
    registry: pb_grpc.CredentialServiceStub, holder: str, license_id: str
) -> pb.CredentialLicense:
    view = registry.GetCredentials(pb.GetCredentialsRequest(holder_id=holder), timeout=10)
    found: list[pb.CredentialLicense] = [
        lic for lic in view.licenses if lic.license_id == license_id
    ]
    assert len(found) == 1, view
    return found[0]


def refused(call: Any, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, metadata=METADATA, timeout=10)
    return error.value


def test_record_license_then_get_credentials(registry: pb_grpc.CredentialServiceStub) -> None:
    request = record(registry, kind="lpc-associate", state="tx")

    again = registry.RecordLicense(request, metadata=METADATA, timeout=10)

    assert again.already_recorded and again.status == ACTIVE
    lic = license_of(registry, request.holder_id, request.license_id)
    assert (lic.kind, lic.state, lic.number, lic.status) == (
        "LPC-ASSOCIATE",
        "TX",
        request.number,
        ACTIVE,
    )
    assert (lic.issued_on, lic.expires_on, lic.status_since) == (
        request.issued_on,
        request.expires_on,
        request.issued_on,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "XX"}, "state"),
        ({"expires_on": days(-700)}, "expires_on"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
        ({"number": "has space"}, "number"),
        ({"holder_id": ""}, "holder_id"),
    ],
)
def test_record_license_invalid_argument_names_the_field(
    registry: pb_grpc.CredentialServiceStub, change: dict[str, str], field: str
) -> None:
    valid = {
        "license_id": unique("lic"),
        "holder_id": unique("sup"),
        "kind": "LPC",
        "number": unique("n").upper(),
        "state": "TX",
        "issued_on": days(-700),
        "expires_on": days(400),
    }
    request = pb.RecordLicenseRequest(**(valid | change))
    assert invalid_field(refused(registry.RecordLicense, request)) == field


def test_record_license_with_a_number_already_recorded_is_already_exists(
    registry: pb_grpc.CredentialServiceStub,
) -> None:
    first = record(registry)
    second = pb.RecordLicenseRequest()
    second.CopyFrom(first)
    second.license_id, second.holder_id = unique("lic"), unique("sup")

    error = refused(registry.RecordLicense, second)

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.license_id in str(error.details())


def test_renew_license(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    renewal = pb.RenewLicenseRequest(
        license_id=lic.license_id, renewed_on=days(0), expires_on=days(1100)
    )

    renewed = registry.RenewLicense(renewal, metadata=METADATA, timeout=10)
    again = registry.RenewLicense(renewal, metadata=METADATA, timeout=10)

    assert (renewed.status, renewed.expires_on, renewed.already_recorded) == (
        ACTIVE,
        days(1100),
        False,
    )
    assert again.already_recorded
    view = license_of(registry, lic.holder_id, lic.license_id)
    assert view.expires_on == days(1100)
    assert [(r.renewed_on, r.expires_on) for r in view.renewals] == [(days(0), days(1100))]

    earlier = pb.RenewLicenseRequest(
        license_id=lic.license_id, renewed_on=days(0), expires_on=days(500)
    )
    error = refused(registry.RenewLicense, earlier)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is active" in str(error.details())


def test_renew_an_unknown_license_is_not_found(registry: pb_grpc.CredentialServiceStub) -> None:
    request = pb.RenewLicenseRequest(
        license_id=unique("lic"), renewed_on=days(0), expires_on=days(100)
    )
    assert refused(registry.RenewLicense, request).code() == grpc.StatusCode.NOT_FOUND


def test_suspend_license(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    suspension = pb.SuspendLicenseRequest(
        license_id=lic.license_id, effective_on=days(-3), reason="board order 26-14"
    )

    suspended = registry.SuspendLicense(suspension, metadata=METADATA, timeout=10)

    assert (suspended.status, suspended.already_recorded) == (SUSPENDED, False)
    assert registry.SuspendLicense(suspension, metadata=METADATA, timeout=10).already_recorded
    view = license_of(registry, lic.holder_id, lic.license_id)
    assert (view.status, view.status_since) == (SUSPENDED, days(-3))
    assert [(c.action, c.reason) for c in view.changes] == [("suspended", "board order 26-14")]

    another = pb.SuspendLicenseRequest(
        license_id=lic.license_id, effective_on=days(-1), reason="another order"
    )
    error = refused(registry.SuspendLicense, another)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"license {lic.license_id} is suspended" in str(error.details())

    no_reason = pb.SuspendLicenseRequest(license_id=lic.license_id, effective_on=days(0))
    assert invalid_field(refused(registry.SuspendLicense, no_reason)) == "reason"


def test_reinstate_license(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    reinstatement = pb.ReinstateLicenseRequest(license_id=lic.license_id, effective_on=days(0))
    error = refused(registry.ReinstateLicense, reinstatement)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is active; only a suspended license can be reinstated" in str(error.details())

    registry.SuspendLicense(
        pb.SuspendLicenseRequest(license_id=lic.license_id, effective_on=days(-5), reason="order"),
        metadata=METADATA,
        timeout=10,
    )
    reinstated = registry.ReinstateLicense(reinstatement, metadata=METADATA, timeout=10)

    assert (reinstated.status, reinstated.already_recorded) == (ACTIVE, False)
    view = license_of(registry, lic.holder_id, lic.license_id)
    assert (view.status, view.status_since) == (ACTIVE, days(0))
    assert [c.action for c in view.changes] == ["suspended", "reinstated"]


def test_revoke_license_is_final(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    revocation = pb.RevokeLicenseRequest(
        license_id=lic.license_id, effective_on=days(-1), reason="board order 26-20"
    )

    revoked = registry.RevokeLicense(revocation, metadata=METADATA, timeout=10)

    assert (revoked.status, revoked.already_recorded) == (REVOKED, False)
    assert registry.RevokeLicense(revocation, metadata=METADATA, timeout=10).already_recorded
    renewal = pb.RenewLicenseRequest(
        license_id=lic.license_id, renewed_on=days(0), expires_on=days(1500)
    )
    error = refused(registry.RenewLicense, renewal)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert str(error.details()) == (
        f"license {lic.license_id} is revoked; a revoked license cannot be renewed"
    )
    assert license_of(registry, lic.holder_id, lic.license_id).status == REVOKED


def test_expire_license_on_a_board_notice(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    notice = pb.ExpireLicenseRequest(license_id=lic.license_id, expired_on=days(-2))

    expired = registry.ExpireLicense(notice, metadata=METADATA, timeout=10)

    assert (expired.status, expired.expired_on, expired.already_recorded) == (
        EXPIRED,
        days(-2),
        False,
    )
    assert registry.ExpireLicense(notice, metadata=METADATA, timeout=10).already_recorded
    assert license_of(registry, lic.holder_id, lic.license_id).status == EXPIRED

    other = record(registry)
    future = pb.ExpireLicenseRequest(license_id=other.license_id, expired_on=days(3))
    assert invalid_field(refused(registry.ExpireLicense, future)) == "expired_on"
    registry.SuspendLicense(
        pb.SuspendLicenseRequest(license_id=other.license_id, effective_on=days(0), reason="x"),
        metadata=METADATA,
        timeout=10,
    )
    error = refused(registry.ExpireLicense, pb.ExpireLicenseRequest(license_id=other.license_id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is suspended" in str(error.details())


def test_record_supervisor_designation(registry: pb_grpc.CredentialServiceStub) -> None:
    lic = record(registry)
    designation = pb.RecordSupervisorDesignationRequest(
        designation_id=unique("des"),
        holder_id=lic.holder_id,
        designation="LPC-S",
        state="TX",
        granted_on=days(-30),
        training_hours=40,
        training_completed_on=days(-60),
    )

    recorded = registry.RecordSupervisorDesignation(designation, metadata=METADATA, timeout=10)
    again = registry.RecordSupervisorDesignation(designation, metadata=METADATA, timeout=10)

    assert (recorded.designation_id, recorded.already_recorded) == (
        designation.designation_id,
        False,
    )
    assert again.already_recorded
    view = registry.GetCredentials(pb.GetCredentialsRequest(holder_id=lic.holder_id), timeout=10)
    (shown,) = view.designations
    assert (shown.designation, shown.state, shown.training_hours, shown.expires_on) == (
        "LPC-S",
        "TX",
        40,
        "",
    )

    short = pb.RecordSupervisorDesignationRequest()
    short.CopyFrom(designation)
    short.designation_id, short.training_hours = unique("des"), 30
    assert invalid_field(refused(registry.RecordSupervisorDesignation, short)) == "training_hours"

    unlicensed = pb.RecordSupervisorDesignationRequest()
    unlicensed.CopyFrom(designation)
    unlicensed.designation_id, unlicensed.holder_id = unique("des"), unique("sup")
    error = refused(registry.RecordSupervisorDesignation, unlicensed)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "has no active LPC license in TX" in str(error.details())


def test_get_credentials(registry: pb_grpc.CredentialServiceStub) -> None:
    holder = unique("sup")
    first = record(registry, holder)
    second = record(registry, holder, kind="LMFT", state="CA")

    view = registry.GetCredentials(pb.GetCredentialsRequest(holder_id=holder), timeout=10)

    assert view.holder_id == holder
    assert [lic.license_id for lic in view.licenses] == [first.license_id, second.license_id]
    nobody = registry.GetCredentials(pb.GetCredentialsRequest(holder_id=unique("sup")), timeout=10)
    assert (list(nobody.licenses), list(nobody.designations)) == ([], [])
    bad = pb.GetCredentialsRequest(holder_id="has spaces")
    assert invalid_field(refused(registry.GetCredentials, bad)) == "holder_id"


def test_the_clock_records_the_30_day_reminder_and_the_day_reminder(
    registry: pb_grpc.CredentialServiceStub,
) -> None:
    in_30 = record(registry, expires_on=days(30))
    on_the_day = record(registry, expires_on=days(0))

    month = eventually(
        lambda: license_of(registry, in_30.holder_id, in_30.license_id),
        lambda lic: len(lic.reminders) > 0,
    )
    day = eventually(
        lambda: license_of(registry, on_the_day.holder_id, on_the_day.license_id),
        lambda lic: len(lic.reminders) > 0,
    )

    assert [(r.days_before, r.due_on, r.expires_on) for r in month.reminders] == [
        (30, days(0), days(30))
    ]
    assert [(r.days_before, r.due_on) for r in day.reminders] == [(0, days(0))]
    assert day.status == ACTIVE  # its last valid day is today


def test_the_clock_expires_a_license_whose_last_valid_day_was_yesterday(
    stack: Stack, registry: pb_grpc.CredentialServiceStub
) -> None:
    lic = record(registry, expires_on=days(-1))

    view = eventually(
        lambda: license_of(registry, lic.holder_id, lic.license_id),
        lambda found: found.status == EXPIRED,
    )

    assert view.status_since == days(0)
    assert [(c.action, c.effective_on) for c in view.changes] == [("expired", days(0))]
    assert stack.bootstrap_servers is not None
    published = asyncio.run(_license_expired(stack.bootstrap_servers, lic.license_id, 60))
    assert (published.holder_id, published.expired_on) == (lic.holder_id, today())


async def _license_expired(bootstrap: str, license_id: str, seconds: float) -> LicenseExpired:
    consumer = AIOKafkaConsumer(
        COMPLIANCE_EVENTS.name,
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
                    for message in records:
                        incoming = decode(message.key, message.value, message.headers)
                        event = incoming.contract()
                        if isinstance(event, LicenseExpired) and event.license_id == license_id:
                            assert incoming.key == event.holder_id
                            assert incoming.source == COMPLIANCE_EVENTS.source
                            return event
    finally:
        await consumer.stop()
