"""End to end: every SupervisionService RPC over a real socket, on the supervision process, and a
supervisor's license lapse arriving from the compliance topic through Kafka."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from continuum.supervision.v1 import supervision_service_pb2 as pb
from contracts.events import (
    EventContract,
    LicenseRecorded,
    LicenseSuspended,
    SupervisorLapseMarked,
)
from contracts.topics import SUPERVISION_EVENTS
from infra.devstack import Stack
from infra.eventstore import OutboxMessage
from infra.messaging.cloudevents import MalformedMessage, decode
from tests.e2e.support import Stubs, acting_as, as_published, invalid_field, publish, unique

pytestmark = pytest.mark.e2e

ACTOR = acting_as("coordinator-e2e")
AUSTIN, MIAMI = "site-austin", "site-miami"
TX, FL = "TX-LPC-ASSOCIATE", "FL-RMHCI"
IN_PERSON, VIDEO = pb.SESSION_MODALITY_IN_PERSON, pb.SESSION_MODALITY_VIDEO
WEEK, MONTH = pb.AGREEMENT_PERIOD_WEEK, pb.AGREEMENT_PERIOD_MONTH


def refused(call: Any, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, metadata=ACTOR, timeout=10)
    return error.value


def register(stubs: Stubs, track: str = TX, site: str = AUSTIN, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "supervisee_id": unique("see"),
        "credential_track": track,
        "license_number": "LPC-A-80412",
        "home_site_id": site,
        "registered_on": "2026-01-02",
    }
    request = pb.RegisterSuperviseeRequest(**(fields | overrides))
    reply = stubs.supervision.RegisterSupervisee(request, metadata=ACTOR, timeout=10)
    assert not reply.already_recorded
    return str(request.supervisee_id)


def sign_request(supervisee: str, supervisor: str, **overrides: Any) -> pb.SignAgreementRequest:
    fields: dict[str, Any] = {
        "agreement_id": unique("agr"),
        "supervisor_id": supervisor,
        "supervisee_id": supervisee,
        "site_id": AUSTIN,
        "start_date": "2026-01-05",
        "end_date": "2026-12-31",
        "modalities": [IN_PERSON, VIDEO],
        "sessions_per_period": 1,
        "period": WEEK,
    }
    return pb.SignAgreementRequest(**(fields | overrides))


def sign(stubs: Stubs, supervisee: str, supervisor: str, **overrides: Any) -> str:
    request = sign_request(supervisee, supervisor, **overrides)
    reply = stubs.supervision.SignAgreement(request, metadata=ACTOR, timeout=10)
    assert not reply.already_recorded
    return str(request.agreement_id)


def session_request(supervisor: str, supervisees: list[str], **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "session_id": unique("ses"),
        "kind": pb.SESSION_KIND_CLINICAL,
        "format": pb.SESSION_FORMAT_INDIVIDUAL,
        "modality": IN_PERSON,
        "date": "2026-03-02",
        "minutes": 60,
        "supervisor_id": supervisor,
        "supervisee_ids": supervisees,
        "site_id": AUSTIN,
    }
    return pb.LogSessionRequest(**(fields | overrides))


def log(stubs: Stubs, supervisor: str, supervisees: list[str], **overrides: Any) -> Any:
    return stubs.supervision.LogSession(
        session_request(supervisor, supervisees, **overrides), metadata=ACTOR, timeout=10
    )


def get(stubs: Stubs, supervisee: str) -> pb.GetSuperviseeResponse:
    return stubs.supervision.GetSupervisee(  # type: ignore[no-any-return]
        pb.GetSuperviseeRequest(supervisee_id=supervisee), metadata=ACTOR, timeout=10
    )


def supervised(stubs: Stubs, track: str = TX) -> tuple[str, str, str]:
    """A registered supervisee with an agreement with a new supervisor: (supervisee, supervisor,
    agreement)."""
    supervisee, supervisor = register(stubs, track), unique("sup")
    return supervisee, supervisor, sign(stubs, supervisee, supervisor)


# Supervisees.


def test_a_supervisee_is_registered_once_and_read_back(stubs: Stubs) -> None:
    request = pb.RegisterSuperviseeRequest(
        supervisee_id=unique("see"),
        credential_track=TX,
        license_number="LPC-A-80977",
        home_site_id=AUSTIN,
        registered_on="2026-01-02",
    )

    first = stubs.supervision.RegisterSupervisee(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.RegisterSupervisee(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    view = get(stubs, request.supervisee_id)
    assert (view.credential_track, view.license_number, view.home_site_id, view.registered_on) == (
        TX,
        "LPC-A-80977",
        AUSTIN,
        "2026-01-02",
    )
    other = pb.RegisterSuperviseeRequest()
    other.CopyFrom(request)
    other.license_number = "LPC-A-1"
    assert (
        refused(stubs.supervision.RegisterSupervisee, other).code()
        == grpc.StatusCode.ALREADY_EXISTS
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"credential_track": "XX-NOT-A-TRACK"}, "credential_track"),
        ({"license_number": ""}, "license_number"),
        ({"registered_on": "2026-02-30"}, "registered_on"),
        ({"home_site_id": "has space"}, "home_site_id"),
    ],
)
def test_an_invalid_registration_names_the_field(
    stubs: Stubs, change: dict[str, str], field: str
) -> None:
    request = pb.RegisterSuperviseeRequest(
        **{
            "supervisee_id": unique("see"),
            "credential_track": TX,
            "license_number": "LPC-A-1",
            "home_site_id": AUSTIN,
            "registered_on": "2026-01-02",
        }
        | change
    )
    assert invalid_field(refused(stubs.supervision.RegisterSupervisee, request)) == field


def test_a_supervisee_is_transferred_between_sites(stubs: Stubs) -> None:
    supervisee = register(stubs)
    request = pb.TransferSuperviseeRequest(
        supervisee_id=supervisee, to_site_id=MIAMI, effective_on="2026-06-01"
    )

    first = stubs.supervision.TransferSupervisee(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.TransferSupervisee(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    view = get(stubs, supervisee)
    assert (view.home_site_id, view.home_since) == (MIAMI, "2026-06-01")
    to_home = pb.TransferSuperviseeRequest(
        supervisee_id=supervisee, to_site_id=MIAMI, effective_on="2026-07-01"
    )
    assert (
        refused(stubs.supervision.TransferSupervisee, to_home).code()
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    unregistered = pb.TransferSuperviseeRequest(
        supervisee_id=unique("see"), to_site_id=MIAMI, effective_on="2026-07-01"
    )
    assert (
        refused(stubs.supervision.TransferSupervisee, unregistered).code()
        == grpc.StatusCode.FAILED_PRECONDITION
    )


def test_an_unknown_supervisee_is_not_found(stubs: Stubs) -> None:
    error = refused(
        stubs.supervision.GetSupervisee, pb.GetSuperviseeRequest(supervisee_id=unique("see"))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


# Agreements.


def test_an_agreement_is_signed_on_the_registered_track(stubs: Stubs) -> None:
    supervisee, supervisor = register(stubs), unique("sup")
    request = sign_request(supervisee, supervisor, credential_track=TX)

    first = stubs.supervision.SignAgreement(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.SignAgreement(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    assert not first.board_approval_required
    (agreement,) = get(stubs, supervisee).agreements
    assert (agreement.supervisor_id, agreement.credential_track, agreement.end_date) == (
        supervisor,
        TX,
        "2026-12-31",
    )
    assert list(agreement.modalities) == [IN_PERSON, VIDEO]
    assert (agreement.sessions_per_period, agreement.period) == (1, WEEK)


def test_an_agreement_needs_a_registered_supervisee_on_the_same_track(stubs: Stubs) -> None:
    unregistered = sign_request(unique("see"), unique("sup"))
    assert (
        refused(stubs.supervision.SignAgreement, unregistered).code()
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    other_track = sign_request(register(stubs), unique("sup"), credential_track="CA-AMFT")
    assert invalid_field(refused(stubs.supervision.SignAgreement, other_track)) == (
        "credential_track"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"modalities": []}, "modalities"),
        ({"modalities": [pb.SESSION_MODALITY_UNSPECIFIED]}, "modalities"),
        ({"sessions_per_period": 0}, "sessions_per_period"),
        ({"period": pb.AGREEMENT_PERIOD_UNSPECIFIED}, "period"),
        ({"end_date": "2026-01-01"}, "end_date"),
    ],
)
def test_an_invalid_agreement_names_the_field(
    stubs: Stubs, change: dict[str, Any], field: str
) -> None:
    request = sign_request(register(stubs), unique("sup"), **change)
    assert invalid_field(refused(stubs.supervision.SignAgreement, request)) == field


def test_a_third_concurrent_texas_supervisor_is_refused(stubs: Stubs) -> None:
    supervisee = register(stubs)
    sign(stubs, supervisee, unique("sup"))
    sign(stubs, supervisee, unique("sup"))

    third = sign_request(supervisee, unique("sup"))
    assert refused(stubs.supervision.SignAgreement, third).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )


def test_a_florida_agreement_is_approved_by_the_board(stubs: Stubs) -> None:
    supervisee, supervisor = register(stubs, FL, MIAMI), unique("sup")
    signed = stubs.supervision.SignAgreement(
        sign_request(supervisee, supervisor, site_id=MIAMI), metadata=ACTOR, timeout=10
    )
    assert signed.board_approval_required
    request = pb.ApproveAgreementRequest(
        supervisee_id=supervisee,
        agreement_id=signed.agreement_id,
        approved_on="2026-02-01",
        approval_reference="FL-BOARD-42",
    )

    first = stubs.supervision.ApproveAgreement(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.ApproveAgreement(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    (agreement,) = get(stubs, supervisee).agreements
    assert (agreement.approved_on, agreement.approval_reference) == ("2026-02-01", "FL-BOARD-42")
    # A session before the approval is still recorded: counting it is the compliance view's job.
    assert not log(
        stubs, supervisor, [supervisee], site_id=MIAMI, date="2026-01-20"
    ).already_recorded


def test_approving_an_agreement_no_board_approves_is_refused(stubs: Stubs) -> None:
    supervisee, _, agreement = supervised(stubs)
    request = pb.ApproveAgreementRequest(
        supervisee_id=supervisee,
        agreement_id=agreement,
        approved_on="2026-02-01",
        approval_reference="REF-1",
    )
    assert refused(stubs.supervision.ApproveAgreement, request).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    unknown = pb.ApproveAgreementRequest(
        supervisee_id=supervisee,
        agreement_id=unique("agr"),
        approved_on="2026-02-01",
        approval_reference="REF-1",
    )
    assert refused(stubs.supervision.ApproveAgreement, unknown).code() == (
        grpc.StatusCode.NOT_FOUND
    )
    no_reference = pb.ApproveAgreementRequest(
        supervisee_id=supervisee, agreement_id=agreement, approved_on="2026-02-01"
    )
    assert invalid_field(refused(stubs.supervision.ApproveAgreement, no_reference)) == (
        "approval_reference"
    )


def test_an_agreement_is_amended_with_a_reason(stubs: Stubs) -> None:
    supervisee, _, agreement = supervised(stubs)
    request = pb.AmendAgreementRequest(
        supervisee_id=supervisee,
        agreement_id=agreement,
        end_date="2027-06-30",
        modalities=[VIDEO],
        sessions_per_period=4,
        period=MONTH,
        reason="supervisor works remotely from July",
    )

    first = stubs.supervision.AmendAgreement(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.AmendAgreement(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    (view,) = get(stubs, supervisee).agreements
    assert (view.end_date, list(view.modalities), view.period, view.amendments) == (
        "2027-06-30",
        [VIDEO],
        MONTH,
        1,
    )
    no_reason = pb.AmendAgreementRequest()
    no_reason.CopyFrom(request)
    no_reason.reason = ""
    no_reason.end_date = "2027-07-31"
    assert invalid_field(refused(stubs.supervision.AmendAgreement, no_reason)) == "reason"


def test_a_terminated_agreement_covers_no_later_session(stubs: Stubs) -> None:
    supervisee, supervisor, agreement = supervised(stubs)
    request = pb.TerminateAgreementRequest(
        supervisee_id=supervisee,
        agreement_id=agreement,
        terminated_on="2026-04-30",
        reason="supervisor left the organization",
    )

    first = stubs.supervision.TerminateAgreement(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.TerminateAgreement(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    (view,) = get(stubs, supervisee).agreements
    assert (view.terminated_on, view.last_day) == ("2026-04-30", "2026-04-30")
    assert not log(stubs, supervisor, [supervisee], date="2026-04-30").already_recorded
    after = session_request(supervisor, [supervisee], date="2026-05-01")
    assert refused(stubs.supervision.LogSession, after).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    otherwise = pb.TerminateAgreementRequest()
    otherwise.CopyFrom(request)
    otherwise.terminated_on = "2026-04-15"
    error = refused(stubs.supervision.TerminateAgreement, otherwise)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "terminated" in str(error.details())


# Sessions.


def test_a_triadic_session_is_logged_with_what_happened_in_it(stubs: Stubs) -> None:
    supervisor = unique("sup")
    first, second = register(stubs), register(stubs)
    for supervisee in (first, second):
        sign(stubs, supervisee, supervisor)
    request = session_request(
        supervisor,
        [first, second],
        format=pb.SESSION_FORMAT_TRIADIC,
        modality=pb.SESSION_MODALITY_PHONE,
        start_time="16:30",
        techniques=[
            pb.SUPERVISION_TECHNIQUE_ROLE_PLAY,
            pb.SUPERVISION_TECHNIQUE_RECORDING_REVIEW,
        ],
        focus=[pb.SUPERVISION_FOCUS_PERSONALIZATION],
        wellbeing=[pb.WellbeingCheck(supervisee_id=first, burnout=4, vicarious_trauma=3)],
    )

    reply = stubs.supervision.LogSession(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.LogSession(request, metadata=ACTOR, timeout=10)

    assert (reply.already_recorded, again.already_recorded, reply.lapse_marked) == (
        False,
        True,
        False,
    )
    other = pb.LogSessionRequest()
    other.CopyFrom(request)
    other.minutes = 90
    assert refused(stubs.supervision.LogSession, other).code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": pb.SESSION_KIND_UNSPECIFIED}, "kind"),
        ({"start_time": "4pm"}, "start_time"),
        ({"techniques": [pb.SUPERVISION_TECHNIQUE_UNSPECIFIED]}, "techniques"),
        ({"focus": [pb.SUPERVISION_FOCUS_INTERVENTION] * 2}, "focus"),
        ({"format": pb.SESSION_FORMAT_TRIADIC}, "supervisee_ids"),
    ],
)
def test_an_invalid_session_names_the_field(
    stubs: Stubs, change: dict[str, Any], field: str
) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    request = session_request(supervisor, [supervisee], **change)
    assert invalid_field(refused(stubs.supervision.LogSession, request)) == field


def test_a_wellbeing_check_off_the_scale_is_refused(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    request = session_request(
        supervisor,
        [supervisee],
        wellbeing=[pb.WellbeingCheck(supervisee_id=supervisee, burnout=6, vicarious_trauma=1)],
    )
    assert invalid_field(refused(stubs.supervision.LogSession, request)) == "wellbeing"


def test_a_session_is_amended_and_then_voided_never_edited(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee]).session_id
    amend = pb.AmendSessionRequest(
        session_id=session,
        kind=pb.SESSION_KIND_CLINICAL,
        format=pb.SESSION_FORMAT_INDIVIDUAL,
        modality=VIDEO,
        date="2026-03-03",
        minutes=75,
        techniques=[pb.SUPERVISION_TECHNIQUE_CASE_REVIEW],
        reason="logged on the wrong day",
    )

    first = stubs.supervision.AmendSession(amend, metadata=ACTOR, timeout=10)
    again = stubs.supervision.AmendSession(amend, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    void = pb.VoidSessionRequest(session_id=session, reason="the session did not take place")
    voided = stubs.supervision.VoidSession(void, metadata=ACTOR, timeout=10)
    voided_again = stubs.supervision.VoidSession(void, metadata=ACTOR, timeout=10)
    assert (voided.already_recorded, voided_again.already_recorded) == (False, True)
    amend.minutes = 60
    assert refused(stubs.supervision.AmendSession, amend).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )


def test_correcting_an_unknown_session_is_not_found_and_needs_a_reason(stubs: Stubs) -> None:
    unknown = pb.VoidSessionRequest(session_id=unique("ses"), reason="duplicate")
    assert refused(stubs.supervision.VoidSession, unknown).code() == grpc.StatusCode.NOT_FOUND
    amend = pb.AmendSessionRequest(
        session_id=unique("ses"),
        kind=pb.SESSION_KIND_CLINICAL,
        format=pb.SESSION_FORMAT_INDIVIDUAL,
        modality=VIDEO,
        date="2026-03-03",
        minutes=60,
        reason="wrong day",
    )
    assert refused(stubs.supervision.AmendSession, amend).code() == grpc.StatusCode.NOT_FOUND
    no_reason = pb.VoidSessionRequest(session_id=unique("ses"))
    assert invalid_field(refused(stubs.supervision.VoidSession, no_reason)) == "reason"


# Practice hours and the monthly sign-off.


def test_practice_hours_are_recorded_per_week_and_corrected_with_a_reason(stubs: Stubs) -> None:
    supervisee = register(stubs)
    request = pb.RecordPracticeHoursRequest(
        supervisee_id=supervisee,
        site_id=AUSTIN,
        week_start="2026-03-02",
        direct_minutes=900,
        indirect_minutes=300,
    )

    first = stubs.supervision.RecordPracticeHours(request, metadata=ACTOR, timeout=10)
    again = stubs.supervision.RecordPracticeHours(request, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    request.direct_minutes = 960
    assert refused(stubs.supervision.RecordPracticeHours, request).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    request.correction = "a client session was missed"
    assert not stubs.supervision.RecordPracticeHours(
        request, metadata=ACTOR, timeout=10
    ).already_recorded
    tuesday = pb.RecordPracticeHoursRequest(
        supervisee_id=supervisee, site_id=AUSTIN, week_start="2026-03-03", direct_minutes=60
    )
    assert invalid_field(refused(stubs.supervision.RecordPracticeHours, tuesday)) == "week_start"


def test_a_signed_off_month_is_locked_until_it_is_reopened(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee], date="2026-03-10").session_id
    sign_off = pb.SignOffMonthRequest(
        supervisee_id=supervisee, month="2026-03", supervisor_id=supervisor, signed_on="2026-04-01"
    )

    first = stubs.supervision.SignOffMonth(sign_off, metadata=ACTOR, timeout=10)
    again = stubs.supervision.SignOffMonth(sign_off, metadata=ACTOR, timeout=10)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    assert [(m.month, m.supervisor_id) for m in get(stubs, supervisee).signed_months] == [
        ("2026-03", supervisor)
    ]
    locked = [
        (
            stubs.supervision.LogSession,
            session_request(supervisor, [supervisee], date="2026-03-20"),
        ),
        (stubs.supervision.VoidSession, pb.VoidSessionRequest(session_id=session, reason="x")),
        (
            stubs.supervision.RecordPracticeHours,
            pb.RecordPracticeHoursRequest(
                supervisee_id=supervisee, site_id=AUSTIN, week_start="2026-03-30", direct_minutes=60
            ),
        ),
    ]
    for call, request in locked:
        error = refused(call, request)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "2026-03" in str(error.details())

    reopen = pb.ReopenMonthRequest(
        supervisee_id=supervisee, month="2026-03", reason="a session was left out"
    )
    reopened = stubs.supervision.ReopenMonth(reopen, metadata=ACTOR, timeout=10)
    reopened_again = stubs.supervision.ReopenMonth(reopen, metadata=ACTOR, timeout=10)
    assert (reopened.already_recorded, reopened_again.already_recorded) == (False, True)
    assert list(get(stubs, supervisee).signed_months) == []
    assert not log(stubs, supervisor, [supervisee], date="2026-03-20").already_recorded


def test_retries_arriving_after_later_commands_change_nothing(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)

    def sign_off(signed_on: str) -> pb.SignOffMonthResponse:
        request = pb.SignOffMonthRequest(
            supervisee_id=supervisee, month="2026-03", supervisor_id=supervisor, signed_on=signed_on
        )
        return stubs.supervision.SignOffMonth(request, metadata=ACTOR, timeout=10)  # type: ignore[no-any-return]

    reopen = pb.ReopenMonthRequest(
        supervisee_id=supervisee,
        month="2026-03",
        reason="hours were left out",
        reopened_on="2026-04-02",
    )
    week = pb.RecordPracticeHoursRequest(
        supervisee_id=supervisee,
        site_id=AUSTIN,
        week_start="2026-03-02",
        direct_minutes=900,
        indirect_minutes=300,
    )
    corrected = pb.RecordPracticeHoursRequest()
    corrected.CopyFrom(week)
    corrected.direct_minutes, corrected.correction = 960, "a client session was missed"

    assert not stubs.supervision.RecordPracticeHours(
        week, metadata=ACTOR, timeout=10
    ).already_recorded
    assert not sign_off("2026-04-01").already_recorded
    assert not stubs.supervision.ReopenMonth(reopen, metadata=ACTOR, timeout=10).already_recorded
    assert not stubs.supervision.RecordPracticeHours(
        corrected, metadata=ACTOR, timeout=10
    ).already_recorded
    assert not sign_off("2026-04-03").already_recorded

    # Each command replayed after the later ones: recognised, and nothing changes.
    assert sign_off("2026-04-01").already_recorded
    assert stubs.supervision.ReopenMonth(reopen, metadata=ACTOR, timeout=10).already_recorded
    assert stubs.supervision.RecordPracticeHours(week, metadata=ACTOR, timeout=10).already_recorded
    assert stubs.supervision.RecordPracticeHours(
        corrected, metadata=ACTOR, timeout=10
    ).already_recorded
    assert [(m.month, m.signed_on) for m in get(stubs, supervisee).signed_months] == [
        ("2026-03", "2026-04-03")
    ]
    # A genuinely new sign-off of the signed month is still refused, naming the month.
    error = refused(
        stubs.supervision.SignOffMonth,
        pb.SignOffMonthRequest(
            supervisee_id=supervisee,
            month="2026-03",
            supervisor_id=supervisor,
            signed_on="2026-04-05",
        ),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "2026-03" in str(error.details())


def test_only_a_supervisor_of_the_month_signs_it_after_it_ends(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    stranger = pb.SignOffMonthRequest(
        supervisee_id=supervisee,
        month="2026-03",
        supervisor_id=unique("sup"),
        signed_on="2026-04-01",
    )
    assert refused(stubs.supervision.SignOffMonth, stranger).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    early = pb.SignOffMonthRequest(
        supervisee_id=supervisee, month="2026-03", supervisor_id=supervisor, signed_on="2026-03-30"
    )
    assert invalid_field(refused(stubs.supervision.SignOffMonth, early)) == "signed_on"
    bad_month = pb.SignOffMonthRequest(
        supervisee_id=supervisee, month="2026-3", supervisor_id=supervisor, signed_on="2026-04-01"
    )
    assert invalid_field(refused(stubs.supervision.SignOffMonth, bad_month)) == "month"
    open_month = pb.ReopenMonthRequest(supervisee_id=supervisee, month="2026-03", reason="x")
    assert refused(stubs.supervision.ReopenMonth, open_month).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )


# A supervisor's license lapse, from the compliance service's topic.


def _message(contract: EventContract) -> OutboxMessage:
    return as_published(
        contract,
        subject=f"license-{contract.key()}",
        correlation_id="e2e-registry",
        actor="e2e",
    )


async def _published_marks(bootstrap: str, session_ids: set[str], seconds: float) -> set[str]:
    """The sessions among `session_ids` that a published SupervisorLapseMarked names."""
    consumer = AIOKafkaConsumer(
        SUPERVISION_EVENTS.name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    found: set[str] = set()
    await consumer.start()
    try:
        async with asyncio.timeout(seconds):
            while found != session_ids:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        try:
                            event = decode(record.key, record.value, record.headers)
                        except MalformedMessage:
                            continue  # other tests put junk on the topic on purpose
                        if event.ce_type != SupervisorLapseMarked.ce_type():
                            continue
                        mark = event.contract()
                        assert isinstance(mark, SupervisorLapseMarked)
                        if mark.session_id in session_ids:
                            found.add(mark.session_id)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


def test_a_session_under_a_suspended_supervisor_is_recorded_and_marked(
    stack: Stack, stubs: Stubs
) -> None:
    assert stack.bootstrap_servers is not None
    supervisee, supervisor, _ = supervised(stubs)
    # Logged before the suspension is known: recorded, not marked (yet).
    earlier = log(stubs, supervisor, [supervisee], date="2026-03-04")
    assert not earlier.lapse_marked
    license_id = unique("lic")

    publish(
        stack,
        _message(
            LicenseRecorded(
                holder_id=supervisor,
                license_id=license_id,
                kind="LPC",
                number="LPC-70001",
                state="TX",
                issued_on=dt.date(2018, 5, 1),
                expires_on=dt.date(2028, 4, 30),
            )
        ),
        _message(
            LicenseSuspended(
                holder_id=supervisor,
                license_id=license_id,
                effective_on=dt.date(2026, 3, 1),
                reason="board order",
            )
        ),
    )

    # The lapse arrives after the session: the session is marked then, and its mark published.
    earlier_marked = {earlier.session_id}
    assert asyncio.run(_published_marks(stack.bootstrap_servers, earlier_marked, 60)) == (
        earlier_marked
    )
    # A retry is answered as the session was first recorded.
    retry = session_request(
        supervisor, [supervisee], session_id=earlier.session_id, date="2026-03-04"
    )
    again = stubs.supervision.LogSession(retry, metadata=ACTOR, timeout=10)
    assert (again.already_recorded, again.lapse_marked) == (True, False)
    # A session logged under the known lapse is recorded and marked at once, never refused.
    later = log(stubs, supervisor, [supervisee], date="2026-03-11")
    assert not later.already_recorded
    assert later.lapse_marked
    # A session before the suspension stays unmarked.
    assert not log(stubs, supervisor, [supervisee], date="2026-02-23").lapse_marked

    wanted = {earlier.session_id, later.session_id}
    assert asyncio.run(_published_marks(stack.bootstrap_servers, wanted, 60)) == wanted
