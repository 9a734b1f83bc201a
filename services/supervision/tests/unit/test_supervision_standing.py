"""A supervisor's standing from the credential registry, and the sessions a lapse marks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import DomainEvent
from supervision.domain import (
    EVENT_TYPES,
    LicenseChange,
    SessionLogged,
    SessionVoided,
    SupervisedSessionNoted,
    SupervisorLapseMarked,
    SupervisorLicenseChanged,
    SupervisorState,
    session,
    standing,
    supervisor,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def change(kind: str, day: str, license_id: str = "lic-1", **more: Any) -> LicenseChange:
    return LicenseChange(
        supervisor_id="sup-1", license_id=license_id, change=kind, effective_on=D(day), **more
    )


def changed(kind: str, day: str, license_id: str = "lic-1", **more: Any) -> DomainEvent:
    return SupervisorLicenseChanged(**change(kind, day, license_id, **more).model_dump())


def recorded(
    license_id: str = "lic-1", issued: str = "2019-06-01", expires: str = "2027-06-30"
) -> DomainEvent:
    return changed("recorded", issued, license_id, expires_on=D(expires))


def noted(session_id: str, day: str) -> tuple[str, dt.date]:
    """A session logged under the supervisor: a row of the service's sessions index."""
    return (session_id, D(day))


def given(*facts: DomainEvent | tuple[str, dt.date]) -> SupervisorState:
    """The supervisor's stream: the license facts (the sessions are not on it)."""
    return supervisor.fold(fact for fact in facts if isinstance(fact, DomainEvent))


def index(*facts: DomainEvent | tuple[str, dt.date]) -> dict[str, dt.date]:
    """The supervisor's sessions, as the sessions index holds them."""
    return dict(fact for fact in facts if isinstance(fact, tuple))


def logged_session(session_id: str, day: str) -> session.SessionState:
    return session.fold(
        [
            SessionLogged(
                session_id=session_id,
                format="individual",
                modality="in_person",
                date=D(day),
                minutes=60,
                supervisor_id="sup-1",
                supervisee_ids=("see-1",),
                site_id="site-a",
            )
        ]
    )


def mark(session_id: str, day: str, lapse: str, since: str, license_id: str = "lic-1") -> Any:
    return SupervisorLapseMarked(
        session_id=session_id,
        supervisor_id="sup-1",
        date=D(day),
        license_id=license_id,
        lapse=lapse,
        lapsed_since=D(since),
    )


# Standing on a day.


def test_a_supervisor_with_a_valid_license_is_in_good_standing() -> None:
    assert given(recorded()).lapse_on(D("2026-03-02")) is None


def test_unknown_standing_is_not_a_lapse() -> None:
    assert given().lapse_on(D("2026-03-02")) is None


@pytest.mark.parametrize("kind", ["suspended", "revoked", "expired"])
def test_a_suspended_revoked_or_expired_license_is_a_lapse_from_its_effective_day(
    kind: str,
) -> None:
    state = given(recorded(), changed(kind, "2026-03-01"))

    assert state.lapse_on(D("2026-02-28")) is None
    lapse = state.lapse_on(D("2026-03-01"))
    assert lapse is not None
    assert (lapse.license_id, lapse.lapse, lapse.since) == ("lic-1", kind, D("2026-03-01"))


def test_a_reinstatement_ends_a_suspension_the_day_before() -> None:
    state = given(
        recorded(), changed("suspended", "2026-03-01"), changed("reinstated", "2026-03-15")
    )

    assert state.lapse_on(D("2026-03-14")) is not None
    assert state.lapse_on(D("2026-03-15")) is None


def test_a_reinstatement_does_not_end_a_revocation() -> None:
    state = given(recorded(), changed("revoked", "2026-03-01"), changed("reinstated", "2026-03-15"))

    assert state.lapse_on(D("2026-04-01")) is not None


def test_a_renewal_ends_an_expiry() -> None:
    state = given(
        recorded(expires="2026-02-28"),
        changed("expired", "2026-03-01"),
        changed("renewed", "2026-03-10", expires_on=D("2028-02-29")),
    )

    assert state.lapse_on(D("2026-03-09")) is not None
    assert state.lapse_on(D("2026-03-10")) is None


def test_a_lapse_of_a_license_never_recorded_is_still_a_lapse() -> None:
    assert given(changed("suspended", "2026-03-01")).lapse_on(D("2026-03-02")) is not None


def test_another_license_in_good_standing_covers_the_day() -> None:
    state = given(
        recorded("lic-old", issued="2015-01-01", expires="2026-01-31"),
        changed("expired", "2026-02-01", "lic-old"),
        recorded("lic-new", issued="2020-01-01", expires="2027-12-31"),
    )

    assert state.lapse_on(D("2026-03-02")) is None


# A lapse learnt after the sessions.


def test_a_suspension_learnt_later_marks_the_sessions_on_and_after_its_day() -> None:
    facts = (
        recorded(),
        noted("ses-before", "2026-02-27"),
        noted("ses-on", "2026-03-01"),
        noted("ses-after", "2026-03-05"),
    )
    state, sessions = given(*facts), index(*facts)
    suspension = change("suspended", "2026-03-01")

    to_review = standing.sessions_to_review(state, suspension, sessions)
    decision = standing.decide(
        state,
        suspension,
        sessions,
        {
            sid: logged_session(sid, day)
            for sid, day in [("ses-on", "2026-03-01"), ("ses-after", "2026-03-05")]
        },
    )

    assert to_review == ["ses-on", "ses-after"]
    assert decision.events_by_stream == {
        "supervisor-sup-1": (changed("suspended", "2026-03-01"),),
        "session-ses-on": (mark("ses-on", "2026-03-01", "suspended", "2026-03-01"),),
        "session-ses-after": (mark("ses-after", "2026-03-05", "suspended", "2026-03-01"),),
    }


def test_a_suspension_already_reinstated_marks_only_the_days_between() -> None:
    facts = (
        recorded(),
        changed("suspended", "2026-03-01"),
        noted("ses-during", "2026-03-03"),
        noted("ses-after", "2026-03-20"),
    )
    state, sessions = given(*facts), index(*facts)
    reinstated = change("reinstated", "2026-03-10")

    assert standing.sessions_to_review(state, reinstated, sessions) == []
    assert [e.type for e in standing.decide(state, reinstated, sessions, {}).events()] == [
        "SupervisorLicenseChanged"
    ]


def test_the_same_fact_delivered_again_records_nothing() -> None:
    facts = (recorded(), changed("suspended", "2026-03-01"), noted("ses-1", "2026-03-02"))
    state, sessions = given(*facts), index(*facts)

    assert standing.sessions_to_review(state, change("suspended", "2026-03-01"), sessions) == []
    assert standing.decide(state, change("suspended", "2026-03-01"), sessions, {}).already_recorded
    recorded_again = change("recorded", "2019-06-01", expires_on=D("2027-06-30"))
    assert standing.decide(state, recorded_again, sessions, {}).already_recorded


def test_a_session_already_marked_is_not_marked_again() -> None:
    facts = (recorded(), changed("suspended", "2026-03-01"), noted("ses-1", "2026-03-05"))
    state, sessions = given(*facts), index(*facts)
    marked = session.fold(
        [mark("ses-1", "2026-03-05", "suspended", "2026-03-01")],
        logged_session("ses-1", "2026-03-05"),
    )
    revocation = change("revoked", "2026-03-04")

    # The day was already a lapse: the revocation reviews nothing ...
    assert standing.sessions_to_review(state, revocation, sessions) == []
    # ... and a session handed in anyway keeps its one mark.
    decision = standing.decide(state, revocation, sessions, {"ses-1": marked})
    assert list(decision.events_by_stream) == ["supervisor-sup-1"]
    assert session.lapse_mark(marked, supervisor.fold(decision.events(), state)) is None


def test_a_voided_session_is_not_marked() -> None:
    facts = (recorded(), noted("ses-1", "2026-03-05"))
    state, sessions = given(*facts), index(*facts)
    voided = session.fold(
        [
            SessionVoided(
                session_id="ses-1",
                supervisee_ids=("see-1",),
                date=D("2026-03-05"),
                reason="duplicate",
                voided_by="c-1",
            )
        ],
        logged_session("ses-1", "2026-03-05"),
    )

    decision = standing.decide(
        state, change("suspended", "2026-03-01"), sessions, {"ses-1": voided}
    )

    assert list(decision.events_by_stream) == ["supervisor-sup-1"]


def test_a_lapse_while_another_license_is_good_marks_nothing() -> None:
    facts = (
        recorded("lic-old", issued="2015-01-01", expires="2026-01-31"),
        recorded("lic-new", issued="2020-01-01", expires="2027-12-31"),
        noted("ses-1", "2026-03-05"),
    )
    state, sessions = given(*facts), index(*facts)

    expiry = change("expired", "2026-02-01", "lic-old")
    assert standing.sessions_to_review(state, expiry, sessions) == []


def test_a_fact_about_another_supervisor_is_a_programming_error() -> None:
    state = given(recorded())
    other = LicenseChange(
        supervisor_id="sup-2", license_id="lic-9", change="revoked", effective_on=D("2026-01-01")
    )
    with pytest.raises(ValueError, match="sup-2"):
        supervisor.decide_license_change(state, other)


def test_a_supervisor_stream_refuses_events_it_does_not_hold() -> None:
    with pytest.raises(TypeError):
        supervisor.evolve(supervisor.INITIAL, mark("ses-1", "2026-03-05", "revoked", "2026-03-01"))


# Recorded by earlier versions of the service on the supervisor's stream; still read.
OLD_NOTE = SupervisedSessionNoted(supervisor_id="sup-1", session_id="ses-1", date=D("2026-03-02"))


def test_supervisor_events_survive_a_round_trip_through_storage() -> None:
    for event in (recorded(), changed("suspended", "2026-03-01"), OLD_NOTE):
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


def test_a_stream_with_the_notes_of_earlier_versions_folds_to_the_same_standing() -> None:
    with_notes = given(recorded(), OLD_NOTE, changed("suspended", "2026-03-01"))
    assert with_notes == given(recorded(), changed("suspended", "2026-03-01"))
