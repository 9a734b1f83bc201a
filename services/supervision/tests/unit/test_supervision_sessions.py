"""Logging sessions: given the supervisees' agreements, when LogSession, then events per stream."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import InvalidInput, RuleViolated
from supervision.domain import (
    EVENT_TYPES,
    AgreementSigned,
    LogSession,
    SessionLogged,
    SessionState,
    SupervisionReceived,
    decide_log_session,
    session,
    supervisee,
)
from supervision.domain.errors import (
    SessionIdMustNotBeReused,
    SessionMustNotBeDatedInTheFuture,
    SessionSizeMustFitItsFormat,
    SuperviseeMustBeCoveredByAnAgreement,
)

pytestmark = pytest.mark.unit

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


def supervisees(*events: AgreementSigned) -> dict[str, supervisee.SuperviseeState]:
    by_id: dict[str, list[AgreementSigned]] = {}
    for event in events:
        by_id.setdefault(event.supervisee_id, []).append(event)
    return {sid: supervisee.fold(stream) for sid, stream in by_id.items()}


def log(**overrides: Any) -> LogSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
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
            ),
        ),
    }
    assert not decision.already_recorded


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
    assert [e.type for e in decision.events()] == ["SessionLogged"] + ["SupervisionReceived"] * 3


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
    assert [(r.session_id, r.agreement_id, r.minutes) for r in supervisee_state.supervision] == [
        ("ses-1", "agr-see-1", 60)
    ]


def test_logging_the_same_session_again_records_nothing() -> None:
    ids, states = group_of(3)
    command = log(format="group", supervisee_ids=ids)
    state = logged(states, command)

    retry = log(format="group", supervisee_ids=list(reversed(ids)))
    decision = decide_log_session(state, states, retry, TODAY)

    assert decision.already_recorded
    assert decision.events() == []


def test_a_retry_is_recognised_even_after_the_agreement_has_ended() -> None:
    states = supervisees(agreement("see-1"))
    state = logged(states, log())

    decision = decide_log_session(state, {}, log(), D("2027-05-01"))

    assert decision.already_recorded


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


def test_an_individual_session_with_two_supervisees_is_accepted() -> None:
    ids, states = group_of(2)

    decision = decide_log_session(session.INITIAL, states, log(supervisee_ids=ids), TODAY)

    assert len(decision.events_by_stream) == 3


def test_an_individual_session_with_three_supervisees_is_refused() -> None:
    ids, states = group_of(3)

    with pytest.raises(SessionSizeMustFitItsFormat) as refused:
        decide_log_session(session.INITIAL, states, log(supervisee_ids=ids), TODAY)
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


def test_session_events_survive_a_round_trip_through_storage() -> None:
    decision = decide_log_session(session.INITIAL, supervisees(agreement("see-1")), log(), TODAY)

    for event in decision.events():
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


def test_a_session_stream_refuses_events_it_does_not_hold() -> None:
    with pytest.raises(TypeError):
        session.evolve(session.INITIAL, agreement("see-1"))
