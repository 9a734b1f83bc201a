"""The requests that generated testing once answered with INTERNAL, or that a producer accepted
and its consumers could not store, each sent again to the service composed as it runs, on each
storage backend: now refused with INVALID_ARGUMENT naming the field (or answered correctly), and
nothing recorded."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import credential_service_pb2 as credential
from continuum.referral.v1 import referral_service_pb2 as referral
from continuum.supervision.v1 import competency_service_pb2 as competency
from continuum.supervision.v1 import consultation_service_pb2 as consultation
from continuum.supervision.v1 import supervision_service_pb2 as supervision
from infra.grpc.errors import STATUS_DETAILS_KEY
from infra.security.policy import Role
from tests.security.served import KEY, Served

pytestmark = pytest.mark.integration

RECORDS = ("events", "outbox", "commands")
TEN_KB_ID = "i" * 10_240


async def call(served: Served, method: Any, request: Message, token: str | None = None) -> Any:
    """The reply to the request, or the error the service answered with."""
    rpc = served.channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=message_factory.GetMessageClass(method.output_type).FromString,
    )
    metadata = None if token is None else (("authorization", f"Bearer {token}"),)
    try:
        return await rpc(request, timeout=30, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        return error


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields an INVALID_ARGUMENT names, from its google.rpc.BadRequest."""
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY:
            status = status_pb2.Status.FromString(value)
            fields = []
            for detail in status.details:
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                fields += [violation.field for violation in bad_request.field_violations]
            return fields
    raise AssertionError(f"no field named in {error.details()!r}")


async def records(served: Served) -> dict[str, int]:
    counts = await served.service.rows()
    return {table: counts[table] for table in RECORDS}


def method(module: Any, service: str, name: str) -> Any:
    return module.DESCRIPTOR.services_by_name[service].methods_by_name[name]


LIST_LICENSES_EXPIRING = method(compliance, "ComplianceService", "ListLicensesExpiring")
RECORD_LICENSE = method(credential, "CredentialService", "RecordLicense")
RAISE_REFERRAL = method(referral, "ReferralService", "RaiseReferral")
VOID_SESSION = method(supervision, "SupervisionService", "VoidSession")
GET_SUPERVISEE = method(supervision, "SupervisionService", "GetSupervisee")

# Each Get (and the list) that once failed on an id no store could hold: service, RPC, request
# field, request type.
GETS = [
    ("supervision", GET_SUPERVISEE, "supervisee_id"),
    ("supervision", method(competency, "CompetencyService", "GetEvaluation"), "evaluation_id"),
    (
        "supervision",
        method(consultation, "ConsultationService", "GetConsultation"),
        "consultation_id",
    ),
    ("referral", method(referral, "ReferralService", "GetReferral"), "referral_id"),
    ("referral", method(referral, "ReferralService", "ListReferrals"), "site_id"),
]
GET_IDS = [f"{rpc.name}.{field}" for _, rpc, field in GETS]


def request_of(rpc: Any, **fields: Any) -> Message:
    return message_factory.GetMessageClass(rpc.input_type)(**fields)


@pytest.mark.parametrize("service", ["compliance"])
async def test_licenses_expiring_from_the_last_day_of_the_calendar_are_refused_naming_as_of(
    service: str, served: Served
) -> None:
    # when a view is asked from a day whose window leaves the calendar
    answer = await call(
        served,
        LIST_LICENSES_EXPIRING,
        request_of(LIST_LICENSES_EXPIRING, as_of="9999-12-31", within_days=90),
    )

    # then it is refused, naming the day
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert "as_of" in violations(answer)


@pytest.mark.parametrize("within_days", [-1, 3661, 2**31 - 1])
@pytest.mark.parametrize("service", ["compliance"])
async def test_licenses_expiring_within_a_window_out_of_range_are_refused_naming_it(
    service: str, served: Served, within_days: int
) -> None:
    answer = await call(
        served,
        LIST_LICENSES_EXPIRING,
        request_of(LIST_LICENSES_EXPIRING, as_of="2026-06-01", within_days=within_days),
    )

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["within_days"]


@pytest.mark.parametrize("service", ["compliance"])
async def test_licenses_expiring_within_ninety_days_of_an_ordinary_day_are_listed(
    service: str, served: Served
) -> None:
    answer = await call(
        served,
        LIST_LICENSES_EXPIRING,
        request_of(LIST_LICENSES_EXPIRING, as_of="2026-06-01", within_days=90),
    )

    assert not isinstance(answer, grpc.aio.AioRpcError), answer.details()


@pytest.mark.parametrize("service", ["compliance"])
async def test_a_license_issued_in_year_one_is_refused_naming_its_days_and_not_recorded(
    service: str, served: Served
) -> None:
    # given the records as they stand
    before = await records(served)

    # when a license of the first days of the calendar is recorded
    answer = await call(
        served,
        RECORD_LICENSE,
        request_of(
            RECORD_LICENSE,
            license_id="lic-year-one",
            holder_id="sup-1",
            kind="LPC",
            number="N-1",
            state="TX",
            issued_on="0001-01-01",
            expires_on="0001-01-15",
        ),
    )

    # then it is refused, naming the days, and nothing is recorded
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert "issued_on" in violations(answer)
    assert await records(served) == before


@pytest.mark.parametrize("service", ["referral"])
async def test_a_referral_raised_at_the_first_moment_at_plus_fourteen_hours_is_refused_naming_it(
    service: str, served: Served
) -> None:
    before = await records(served)

    answer = await call(
        served,
        RAISE_REFERRAL,
        request_of(
            RAISE_REFERRAL,
            referral_id="ref-year-one",
            client_id="client-1",
            site_id="site-a",
            from_service=referral.SERVICE_COACHING,
            to_service=referral.SERVICE_THERAPY,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_SYMPTOMS_RESURFACED,
            source="coach",
            raised_at="0001-01-01T00:00:00+14:00",
        ),
    )

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["raised_at"]
    assert await records(served) == before


@pytest.mark.parametrize(("service", "rpc", "field"), GETS, ids=GET_IDS)
async def test_an_id_with_a_nul_character_is_refused_naming_its_field(
    service: str, rpc: Any, field: str, served: Served
) -> None:
    answer = await call(served, rpc, request_of(rpc, **{field: "see\u00001"}))

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == [field]


@pytest.mark.parametrize(("service", "rpc", "field"), GETS, ids=GET_IDS)
async def test_a_ten_kilobyte_id_is_refused_naming_its_field_without_echoing_it(
    service: str, rpc: Any, field: str, served: Served
) -> None:
    answer = await call(served, rpc, request_of(rpc, **{field: TEN_KB_ID}))

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == [field]
    assert "i" * 100 not in (answer.details() or "")
    assert all("i" * 100 not in repr(value) for _, value in answer.trailing_metadata() or ())


@pytest.mark.parametrize("service", ["supervision"])
async def test_a_void_whose_reason_holds_a_nul_character_is_refused_naming_it(
    service: str, served: Served
) -> None:
    before = await records(served)

    answer = await call(
        served, VOID_SESSION, request_of(VOID_SESSION, session_id="ses-1", reason="x\u0000z")
    )

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["reason"]
    assert await records(served) == before


@pytest.mark.parametrize("service", ["supervision"])
async def test_a_reason_quoting_a_sealed_value_is_refused_so_no_reply_opens_anothers_text(
    service: str, served: Served
) -> None:
    # given an envelope copied from a topic or a store (another subject's sealed reason)
    copied = "sealed:1:see-someone-else:1:" + "A" * 60
    before = await records(served)

    # when a caller types it into a reason of their own
    answer = await call(
        served,
        VOID_SESSION,
        request_of(VOID_SESSION, session_id="ses-1", reason=f"see {copied}"),
    )

    # then it is refused, naming the field: nothing would later open it in their reply
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["reason"]
    assert await records(served) == before


@pytest.mark.parametrize("service", ["supervision"])
async def test_a_caller_whose_token_names_a_subject_longer_than_an_id_is_refused(
    service: str, served: Served
) -> None:
    # given a token whose subject (the actor every event would record) is no id
    token = KEY.mint("a" * 65, (Role.ADMINISTRATOR,), ())
    before = await records(served)

    # when it voids a session, and reads a record
    void = await call(
        served,
        VOID_SESSION,
        request_of(VOID_SESSION, session_id="ses-1", reason="logged twice"),
        token=token,
    )
    read = await call(
        served, GET_SUPERVISEE, request_of(GET_SUPERVISEE, supervisee_id="see-1"), token=token
    )

    # then both are refused, and nothing is recorded
    for answer in (void, read):
        assert isinstance(answer, grpc.aio.AioRpcError)
        assert answer.code() in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.INVALID_ARGUMENT,
        ), answer.details()
    assert await records(served) == before


@pytest.mark.parametrize("record_id", ["see\u00001", TEN_KB_ID])
@pytest.mark.parametrize("service", ["supervision"])
async def test_a_record_the_policy_looks_up_for_a_supervisor_is_refused_when_its_id_is_no_id(
    service: str, served: Served, record_id: str
) -> None:
    # given a supervisor, whom the policy admits to their own supervisees' records only
    supervisor = KEY.mint("sup-1", (Role.SUPERVISOR,), ("site-a",))

    # when they ask for a record by something that is no id
    answer = await call(
        served,
        GET_SUPERVISEE,
        request_of(GET_SUPERVISEE, supervisee_id=record_id),
        token=supervisor,
    )

    # then the id is refused before the record is looked up
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["supervisee_id"]


@pytest.mark.parametrize("service", ["supervision"])
async def test_a_read_by_a_caller_whose_token_lists_roles_the_policy_does_not_know_is_answered(
    service: str, served: Served
) -> None:
    # given a token from an identity provider that lists other systems' roles too, a long one
    token = KEY.mint("admin-2", (Role.ADMINISTRATOR, "r" * 500, "reports\u0000viewer"), ())

    # when the caller reads a record (which the access log records, with the caller's roles)
    answer = await call(
        served, GET_SUPERVISEE, request_of(GET_SUPERVISEE, supervisee_id="see-1"), token=token
    )

    # then it is answered (there is no such supervisee), and the access logged
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert answer.code() is grpc.StatusCode.NOT_FOUND, answer.details()
    assert (await served.service.rows())["access_log"] == 1


@pytest.mark.parametrize("service", ["compliance"])
async def test_a_ten_kilobyte_choice_in_a_list_is_refused_naming_it_without_echoing_it(
    service: str, served: Served
) -> None:
    list_verdicts = method(compliance, "ComplianceService", "ListVerdicts")

    answer = await call(served, list_verdicts, request_of(list_verdicts, severity="x" * 10_240))

    assert isinstance(answer, grpc.aio.AioRpcError)
    assert violations(answer) == ["severity"]
    assert "x" * 100 not in (answer.details() or "")
