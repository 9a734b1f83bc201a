"""Logging sessions: given the supervisees' agreements, when LogSession, then events per stream."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import DomainEvent, InvalidInput, RuleViolated
from services.supervision.tests.conftest import Service
from supervision.domain import (
    EVENT_TYPES,
    AgreementAmended,
    AgreementSigned,
    AgreementTerminated,
    LicenseChange,
    LogSession,
    MonthReopened,
    MonthSignedOff,
    RegisterSupervisee,
    SessionLogged,
    SessionState,
    SignAgreement,
    SupervisionReceived,
    SupervisorLapseMarked,
    SupervisorLicenseChanged,
    SupervisorState,
    Tracks,
    WellbeingCheck,
    session,
    supervisee,
    supervisor,
)
from supervision.domain.decision import Decision
from supervision.domain.errors import (
    MonthMustBeOpenToChange,
    SessionIdMustNotBeReused,
    SessionMustNotBeDatedInTheFuture,
    SessionSizeMustFitItsFormat,
    SuperviseeMustBeCoveredByAnAgreement,
)
from tests.contracts.rulepacks import PACK_CHANGE_DIR, PACK_CHANGE_TRACK

pytestmark = pytest.mark.unit

# The credential tracks as the service runs them: read from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())

D = dt.date.fromisoformat
TODAY = D("2026-03-10")


def agreement(supervisee_id: str, **overrides: Any) -> AgreementSigned:
    fields: dict[str, Any] = {
        "agreement_id": f"agr-{supervisee_id}",
        "supervisor_id": "sup-1",
        "supervisee_id": supervisee_id,
        "site_id": "site-a",
        "credential_track": "TX-LPC-ASSOCIATE",
        "start_date": D("2026-01-01"),
        "end_date": D("2026-12-31"),
    }
    return AgreementSigned(**(fields | overrides))


def supervisees(*events: DomainEvent) -> dict[str, supervisee.SuperviseeState]:
    by_id: dict[str, list[DomainEvent]] = {}
    for event in events:
        by_id.setdefault(getattr(event, "supervisee_id"), []).append(event)  # noqa: B009
    return {sid: supervisee.fold(stream) for sid, stream in by_id.items()}


NO_STANDING = supervisor.INITIAL


def decide_log_session(
    state: SessionState,
    states: dict[str, supervisee.SuperviseeState],
    command: LogSession,
    today: dt.date,
    standing: SupervisorState = NO_STANDING,
) -> Decision:
    return session.decide_log_session(state, states, standing, command, today, TRACKS)


def log(**overrides: Any) -> LogSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "kind": "clinical",
        "format": "individual",
        "modality": "in_person",
        "date": "2026-03-02",
        "minutes": 60,
        "supervisor_id": "sup-1",
        "supervisee_ids": ["see-1"],
        "site_id": "site-a",
    }
    return LogSession(**(fields | overrides))


def logged(states: dict[str, supervisee.SuperviseeState], command: LogSession) -> SessionState:
    """The session state after the command was decided and its session events applied."""
    decision = decide_log_session(session.INITIAL, states, command, TODAY)
    return session.fold(decision.events_by_stream[session.stream_id(command.session_id)])


def group_of(n: int, track: str = "TX-LPC-ASSOCIATE") -> tuple[list[str], dict[str, Any]]:
    ids = [f"see-{i}" for i in range(1, n + 1)]
    return ids, supervisees(*(agreement(sid, credential_track=track) for sid in ids))


def test_logging_an_individual_session_records_it_on_the_session_and_the_supervisee() -> None:
    decision = decide_log_session(session.INITIAL, supervisees(agreement("see-1")), log(), TODAY)

    assert decision.events_by_stream == {
        "session-ses-1": (
            SessionLogged(
                session_id="ses-1",
                kind="clinical",
                format="individual",
                modality="in_person",
                date=D("2026-03-02"),
                minutes=60,
                supervisor_id="sup-1",
                supervisee_ids=("see-1",),
                site_id="site-a",
            ),
        ),
        "supervisee-see-1": (
            SupervisionReceived(
                session_id="ses-1",
                supervisee_id="see-1",
                agreement_id="agr-see-1",
                date=D("2026-03-02"),
                minutes=60,
                format="individual",
                modality="in_person",
                supervisor_id="sup-1",
                site_id="site-a",
                kind="clinical",
            ),
        ),
    }
    assert not decision.already_recorded
    assert not decision.lapse_marked


def test_what_happened_in_a_session_is_recorded_with_it() -> None:
    command = log(
        kind="administrative",
        modality="phone",
        start_time="08:15",
        techniques=["corrective_feedback", "recording_review"],
        focus=["conceptualization", "personalization"],
    )

    decision = decide_log_session(session.INITIAL, supervisees(agreement("see-1")), command, TODAY)

    (logged_event,) = decision.events_by_stream["session-ses-1"]
    assert isinstance(logged_event, SessionLogged)
    assert logged_event.kind == "administrative"
    assert logged_event.modality == "phone"
    assert logged_event.start_time == dt.time(8, 15)
    assert logged_event.techniques == ("corrective_feedback", "recording_review")
    assert logged_event.focus == ("conceptualization", "personalization")


def test_the_wellbeing_check_goes_to_the_supervisees_own_record_only() -> None:
    ids, states = group_of(3)
    command = log(
        format="group",
        supervisee_ids=ids,
        wellbeing=[{"supervisee_id": "see-2", "burnout": 4, "vicarious_trauma": 2}],
    )

    decision = decide_log_session(session.INITIAL, states, command, TODAY)

    by_stream = decision.events_by_stream
    (see_2,) = by_stream["supervisee-see-2"]
    (see_1,) = by_stream["supervisee-see-1"]
    assert isinstance(see_2, SupervisionReceived)
    assert isinstance(see_1, SupervisionReceived)
    assert see_2.wellbeing == WellbeingCheck(burnout=4, vicarious_trauma=2)
    assert see_1.wellbeing is None
    assert all("wellbeing" not in e.to_data() for e in by_stream["session-ses-1"])


def test_a_group_session_gives_every_supervisee_a_record_of_it() -> None:
    ids, states = group_of(3)

    decision = decide_log_session(
        session.INITIAL,
        states,
        log(format="group", modality="video", supervisee_ids=ids),
        TODAY,
    )

    assert list(decision.events_by_stream) == [
        "session-ses-1",
        "supervisee-see-1",
        "supervisee-see-2",
        "supervisee-see-3",
    ]
    assert [e.type for e in decision.events()] == ["SessionLogged", *["SupervisionReceived"] * 3]


def test_logged_events_fold_into_the_session_and_supervisee_states() -> None:
    states = supervisees(agreement("see-1"))
    decision = decide_log_session(session.INITIAL, states, log(), TODAY)

    session_state = session.fold(decision.events_by_stream["session-ses-1"])
    supervisee_state = supervisee.fold(
        decision.events_by_stream["supervisee-see-1"], states["see-1"]
    )

    assert session_state.status == "logged"
    assert session_state.session is not None
    assert session_state.session.minutes == 60
    assert [
        (r.session_id, r.agreement_id, r.minutes) for r in supervisee_state.supervision.values()
    ] == [("ses-1", "agr-see-1", 60)]
    # The supervisor's stream is read, never written: the sessions index finds their sessions.
    assert "supervisor-sup-1" not in decision.events_by_stream


async def on_record(service: Service, *supervisee_ids: str) -> None:
    """Registered supervisees with agreements with sup-1 at site-a for 2026."""
    for sid in supervisee_ids:
        await service.run(
            RegisterSupervisee(
                supervisee_id=sid,
                credential_track="TX-LPC-ASSOCIATE",
                license_number=f"LPC-{sid}",
                home_site_id="site-a",
                registered_on="2026-01-01",
            )
        )
        await service.run(
            SignAgreement(
                agreement_id=f"agr-{sid}",
                supervisor_id="sup-1",
                supervisee_id=sid,
                site_id="site-a",
                start_date="2026-01-01",
                end_date="2026-12-31",
                modalities=["in_person", "video"],
                sessions_per_period=1,
                period="week",
            )
        )


async def test_logging_the_same_session_again_records_nothing(service: Service) -> None:
    ids = ["see-1", "see-2", "see-3"]
    await on_record(service, *ids)
    await service.run(log(format="group", supervisee_ids=ids))

    retry = await service.run(log(format="group", supervisee_ids=list(reversed(ids))))

    assert retry.already_recorded
    assert await service.types("session-ses-1") == ["SessionLogged"]


async def test_a_retry_is_recognised_even_after_the_agreement_has_ended(service: Service) -> None:
    await on_record(service, "see-1")
    await service.run(log())

    retry = await service.run(log(), now=dt.datetime(2027, 5, 1, tzinfo=dt.UTC))

    assert retry.already_recorded


async def test_a_logged_session_is_found_in_its_supervisors_sessions_index(
    service: Service,
) -> None:
    await on_record(service, "see-1")

    await service.run(log())

    assert service.sessions_index() == [("sup-1", "ses-1", D("2026-03-02"))]
    assert await service.types("supervisor-sup-1") == []


def test_reusing_a_session_id_for_another_session_is_refused() -> None:
    states = supervisees(agreement("see-1"))
    state = logged(states, log())

    with pytest.raises(SessionIdMustNotBeReused) as refused:
        decide_log_session(state, states, log(minutes=90), TODAY)
    assert refused.value.session_id == "ses-1"


def test_a_session_dated_after_today_is_refused() -> None:
    with pytest.raises(SessionMustNotBeDatedInTheFuture) as refused:
        decide_log_session(
            session.INITIAL, supervisees(agreement("see-1")), log(date="2026-03-11"), TODAY
        )
    assert refused.value.field == "date"


def test_a_session_dated_today_is_accepted() -> None:
    decision = decide_log_session(
        session.INITIAL, supervisees(agreement("see-1")), log(date=TODAY), TODAY
    )
    assert not decision.already_recorded


def test_a_supervisee_without_any_agreement_is_refused_by_name() -> None:
    states = supervisees(agreement("see-1"), agreement("see-3"))

    with pytest.raises(SuperviseeMustBeCoveredByAnAgreement) as refused:
        decide_log_session(
            session.INITIAL,
            states,
            log(format="group", supervisee_ids=["see-1", "see-2", "see-3"]),
            TODAY,
        )
    assert refused.value.supervisee_id == "see-2"
    assert isinstance(refused.value, RuleViolated)


@pytest.mark.parametrize(
    "overrides",
    [
        {"supervisor_id": "sup-2"},
        {"site_id": "site-b"},
        {"start_date": D("2026-03-03")},
        {"end_date": D("2026-03-01")},
    ],
    ids=["other supervisor", "other site", "not yet in force", "already ended"],
)
def test_an_agreement_that_does_not_cover_the_session_does_not_count(
    overrides: dict[str, Any],
) -> None:
    states = supervisees(agreement("see-1", **overrides))

    with pytest.raises(SuperviseeMustBeCoveredByAnAgreement) as refused:
        decide_log_session(session.INITIAL, states, log(), TODAY)
    assert refused.value.supervisee_id == "see-1"


def test_a_session_on_the_last_day_of_an_agreement_is_covered() -> None:
    states = supervisees(agreement("see-1", end_date=D("2026-03-02")))

    decision = decide_log_session(session.INITIAL, states, log(), TODAY)

    assert not decision.already_recorded


def test_the_supervision_is_credited_to_the_agreement_that_covers_it() -> None:
    states = supervisees(
        agreement("see-1", agreement_id="agr-site-b", site_id="site-b"),
        agreement("see-1", agreement_id="agr-site-a"),
    )

    decision = decide_log_session(session.INITIAL, states, log(), TODAY)

    (received,) = decision.events_by_stream["supervisee-see-1"]
    assert isinstance(received, SupervisionReceived)
    assert received.agreement_id == "agr-site-a"


def test_a_triadic_session_has_exactly_two_supervisees() -> None:
    ids, states = group_of(2)

    decision = decide_log_session(
        session.INITIAL, states, log(format="triadic", supervisee_ids=ids), TODAY
    )

    assert len(decision.events_by_stream) == 3


@pytest.mark.parametrize(
    ("session_format", "size"), [("individual", 2), ("triadic", 1), ("triadic", 3)]
)
def test_an_individual_or_triadic_session_of_another_size_is_refused(
    session_format: str, size: int
) -> None:
    ids, states = group_of(size)

    with pytest.raises(SessionSizeMustFitItsFormat) as refused:
        decide_log_session(
            session.INITIAL, states, log(format=session_format, supervisee_ids=ids), TODAY
        )
    assert refused.value.field == "supervisee_ids"
    assert isinstance(refused.value, InvalidInput)


@pytest.mark.parametrize(
    ("track", "size"),
    [
        ("TX-LPC-ASSOCIATE", 2),
        ("TX-LPC-ASSOCIATE", 7),
        ("TX-LMSW-TO-LCSW", 7),
        ("FL-RMHCI", 7),
        ("CA-AMFT", 9),
    ],
)
def test_a_group_outside_the_tracks_size_limits_is_refused(track: str, size: int) -> None:
    ids, states = group_of(size, track)

    with pytest.raises(SessionSizeMustFitItsFormat) as refused:
        decide_log_session(session.INITIAL, states, log(format="group", supervisee_ids=ids), TODAY)
    assert refused.value.field == "supervisee_ids"
    assert refused.value.track_id == track


@pytest.mark.parametrize(
    ("track", "size"),
    [
        ("TX-LPC-ASSOCIATE", 3),
        ("TX-LPC-ASSOCIATE", 6),
        ("TX-LMSW-TO-LCSW", 2),
        ("FL-RMHCI", 6),
        ("CA-ASW", 8),
    ],
)
def test_a_group_within_the_tracks_size_limits_is_accepted(track: str, size: int) -> None:
    ids, states = group_of(size, track)

    decision = decide_log_session(
        session.INITIAL, states, log(format="group", supervisee_ids=ids), TODAY
    )

    assert len(decision.events_by_stream) == size + 1


def test_each_supervisee_judges_the_group_size_by_their_own_track() -> None:
    states = supervisees(
        agreement("see-1", credential_track="TX-LMSW-TO-LCSW"),
        agreement("see-2", credential_track="TX-LPC-ASSOCIATE"),
    )

    with pytest.raises(SessionSizeMustFitItsFormat) as refused:
        decide_log_session(
            session.INITIAL,
            states,
            log(format="group", supervisee_ids=["see-1", "see-2"]),
            TODAY,
        )
    assert refused.value.track_id == "TX-LPC-ASSOCIATE"


def test_a_group_is_sized_by_the_rule_pack_version_in_force_on_the_sessions_date() -> None:
    # The test pack caps a TX-LPC-ASSOCIATE group at 6 until 2026-02-28 and at 4 from 2026-03-01.
    changing = Tracks(load_rule_packs(PACK_CHANGE_DIR))
    ids, states = group_of(5, PACK_CHANGE_TRACK)

    def log_group_on(day: str) -> Decision:
        command = log(format="group", supervisee_ids=ids, date=day)
        return session.decide_log_session(
            session.INITIAL, states, NO_STANDING, command, TODAY, changing
        )

    assert len(log_group_on("2026-02-27").events_by_stream) == 5 + 1
    with pytest.raises(SessionSizeMustFitItsFormat) as refused:
        log_group_on("2026-03-02")
    assert refused.value.track_id == PACK_CHANGE_TRACK
    assert "3..4 supervisees, not 5" in refused.value.reason


def test_session_events_survive_a_round_trip_through_storage() -> None:
    decision = decide_log_session(session.INITIAL, supervisees(agreement("see-1")), log(), TODAY)

    for event in decision.events():
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


def test_a_session_stream_refuses_events_it_does_not_hold() -> None:
    with pytest.raises(TypeError):
        session.evolve(session.INITIAL, agreement("see-1"))


async def test_a_retry_with_another_wellbeing_check_is_another_session(service: Service) -> None:
    command = log(wellbeing=[{"supervisee_id": "see-1", "burnout": 2, "vicarious_trauma": 2}])
    await on_record(service, "see-1")
    await service.run(command)

    assert (await service.run(command)).already_recorded
    with pytest.raises(SessionIdMustNotBeReused):
        await service.run(log())


def test_a_session_after_the_agreement_was_terminated_is_not_covered() -> None:
    states = supervisees(
        agreement("see-1"),
        AgreementTerminated(
            supervisee_id="see-1",
            agreement_id="agr-see-1",
            terminated_on=D("2026-03-01"),
            reason="supervisor left",
            terminated_by="c-1",
        ),
    )

    with pytest.raises(SuperviseeMustBeCoveredByAnAgreement):
        decide_log_session(session.INITIAL, states, log(), TODAY)
    assert not decide_log_session(
        session.INITIAL, states, log(date="2026-03-01"), TODAY
    ).already_recorded


def test_a_session_after_an_amended_end_date_is_not_covered() -> None:
    states = supervisees(
        agreement("see-1"),
        AgreementAmended(
            supervisee_id="see-1",
            agreement_id="agr-see-1",
            end_date=D("2026-02-28"),
            modalities=("video",),
            sessions_per_period=1,
            period="week",
            reason="shortened",
            amended_by="c-1",
        ),
    )

    with pytest.raises(SuperviseeMustBeCoveredByAnAgreement):
        decide_log_session(session.INITIAL, states, log(), TODAY)


def test_a_session_under_an_agreement_awaiting_board_approval_is_still_recorded() -> None:
    states = supervisees(
        agreement("see-1", credential_track="FL-RMHCI", board_approval_required=True)
    )

    decision = decide_log_session(session.INITIAL, states, log(), TODAY)

    assert not decision.already_recorded


def signed_off(supervisee_id: str, month: str) -> MonthSignedOff:
    return MonthSignedOff(
        supervisee_id=supervisee_id, month=month, supervisor_id="sup-1", signed_on=D("2026-04-01")
    )


def test_a_session_in_a_signed_off_month_is_refused_naming_the_month() -> None:
    ids, states = group_of(3)
    states["see-2"] = supervisee.fold([signed_off("see-2", "2026-03")], states["see-2"])

    with pytest.raises(MonthMustBeOpenToChange) as refused:
        decide_log_session(session.INITIAL, states, log(format="group", supervisee_ids=ids), TODAY)
    assert refused.value.month == "2026-03"
    assert refused.value.supervisee_id == "see-2"
    assert "2026-03" in refused.value.message
    assert isinstance(refused.value, RuleViolated)


def test_a_session_in_a_reopened_month_is_recorded() -> None:
    reopened = MonthReopened(
        supervisee_id="see-1",
        month="2026-03",
        reopened_by="c-1",
        reason="late session",
        reopened_on=D("2026-04-02"),
    )
    states = supervisees(agreement("see-1"), signed_off("see-1", "2026-03"), reopened)

    assert not decide_log_session(session.INITIAL, states, log(), TODAY).already_recorded


def test_a_signed_off_other_month_does_not_lock_this_one() -> None:
    states = supervisees(agreement("see-1"), signed_off("see-1", "2026-02"))

    assert not decide_log_session(session.INITIAL, states, log(), TODAY).already_recorded


def license_changed(change: str, day: str, **more: Any) -> SupervisorLicenseChanged:
    return SupervisorLicenseChanged(
        supervisor_id="sup-1",
        license_id="lic-1",
        change=change,
        effective_on=D(day),
        **more,
    )


def test_a_session_under_a_suspended_supervisor_is_recorded_and_marked_at_once() -> None:
    standing = supervisor.fold(
        [
            license_changed("recorded", "2020-01-01", expires_on=D("2027-12-31")),
            license_changed("suspended", "2026-02-20"),
        ]
    )

    decision = decide_log_session(
        session.INITIAL, supervisees(agreement("see-1")), log(), TODAY, standing
    )

    assert decision.lapse_marked
    assert decision.events_by_stream["session-ses-1"][1] == SupervisorLapseMarked(
        session_id="ses-1",
        supervisor_id="sup-1",
        date=D("2026-03-02"),
        license_id="lic-1",
        lapse="suspended",
        lapsed_since=D("2026-02-20"),
    )
    assert session.fold(decision.events_by_stream["session-ses-1"]).lapse is not None


def test_a_session_before_the_suspension_is_not_marked() -> None:
    standing = supervisor.fold(
        [
            license_changed("recorded", "2020-01-01", expires_on=D("2027-12-31")),
            license_changed("suspended", "2026-03-03"),
        ]
    )

    decision = decide_log_session(
        session.INITIAL, supervisees(agreement("see-1")), log(), TODAY, standing
    )

    assert not decision.lapse_marked
    assert [e.type for e in decision.events_by_stream["session-ses-1"]] == ["SessionLogged"]


def test_a_supervisor_with_no_license_on_record_is_not_in_lapse() -> None:
    decision = decide_log_session(session.INITIAL, supervisees(agreement("see-1")), log(), TODAY)

    assert not decision.lapse_marked


async def test_a_retried_session_reports_its_mark(service: Service) -> None:
    await on_record(service, "see-1")
    await service.license(
        LicenseChange(
            supervisor_id="sup-1", license_id="lic-1", change="revoked", effective_on="2026-01-01"
        )
    )
    first = await service.run(log())

    retry = await service.run(log())

    assert first.outcome.lapse_marked
    assert retry.already_recorded
    assert retry.outcome.lapse_marked
