"""Corrections never edit: amending and voiding a session are new events, on the session and on
each supervisee's record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import DomainEvent, NotFound, RuleViolated
from services.supervision.tests.conftest import Service
from supervision.domain import (
    EVENT_TYPES,
    AgreementSigned,
    AmendSession,
    LogSession,
    MonthSignedOff,
    RegisterSupervisee,
    SessionAmended,
    SessionVoided,
    SignAgreement,
    SupervisionAmended,
    SupervisionVoided,
    SupervisorLapseMarked,
    SupervisorLicenseChanged,
    SupervisorState,
    Tracks,
    VoidSession,
    session,
    supervisee,
    supervisor,
)
from supervision.domain.decision import Decision
from supervision.domain.errors import (
    MonthMustBeOpenToChange,
    SessionMustExist,
    SessionMustNotBeDatedInTheFuture,
    SessionMustStandToBeChanged,
    SessionSizeMustFitItsFormat,
    SuperviseeMustBeCoveredByAnAgreement,
)

pytestmark = pytest.mark.unit

# The credential tracks as the service runs them: read from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())

D = dt.date.fromisoformat
TODAY = D("2026-03-10")
IDS = ("see-1", "see-2")


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


class World:
    """The streams a triadic session touches, advanced by applying decisions."""

    def __init__(self, *more: DomainEvent, standing: SupervisorState = supervisor.INITIAL) -> None:
        self.supervisees = {
            sid: supervisee.fold(
                [agreement(sid), *(e for e in more if getattr(e, "supervisee_id", None) == sid)]
            )
            for sid in IDS
        }
        self.session = session.INITIAL
        self.standing = standing
        self.apply(
            session.decide_log_session(
                self.session, self.supervisees, self.standing, logged_command(), TODAY, TRACKS
            )
        )

    def apply(self, decision: Decision) -> None:
        for stream, events in decision.events_by_stream.items():
            if stream.startswith("session-"):
                self.session = session.fold(events, self.session)
            elif stream.startswith("supervisor-"):
                self.standing = supervisor.fold(events, self.standing)
            else:
                sid = stream.removeprefix("supervisee-")
                self.supervisees[sid] = supervisee.fold(events, self.supervisees[sid])

    def amend(self, command: AmendSession, today: dt.date = TODAY) -> Decision:
        return session.decide_amend_session(
            self.session, self.supervisees, self.standing, command, today, TRACKS
        )

    def void(self, command: VoidSession) -> Decision:
        return session.decide_void_session(self.session, self.supervisees, command)


def logged_command() -> LogSession:
    return LogSession(
        session_id="ses-1",
        kind="clinical",
        format="triadic",
        modality="in_person",
        date="2026-03-02",
        minutes=60,
        supervisor_id="sup-1",
        supervisee_ids=IDS,
        site_id="site-a",
        techniques=["case_review"],
        focus=["intervention"],
    )


def amend(**overrides: Any) -> AmendSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "kind": "clinical",
        "format": "triadic",
        "modality": "video",
        "date": "2026-03-03",
        "start_time": "14:00",
        "minutes": 90,
        "techniques": ["case_review", "role_play"],
        "focus": ["intervention"],
        "reason": "logged with the wrong day and length",
        "actor": "coordinator-1",
    }
    return AmendSession(**(fields | overrides))


def void(**overrides: Any) -> VoidSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "reason": "logged twice",
        "actor": "coordinator-1",
    }
    return VoidSession(**(fields | overrides))


# Amending.


def test_amending_a_session_records_it_as_it_now_stands_and_follows_on_each_record() -> None:
    world = World()

    decision = world.amend(amend())

    assert decision.events_by_stream["session-ses-1"] == (
        SessionAmended(
            session_id="ses-1",
            supervisee_ids=IDS,
            kind="clinical",
            format="triadic",
            modality="video",
            date=D("2026-03-03"),
            start_time=dt.time(14, 0),
            minutes=90,
            techniques=("case_review", "role_play"),
            focus=("intervention",),
            reason="logged with the wrong day and length",
            amended_by="coordinator-1",
        ),
    )
    for sid in IDS:
        (followed,) = decision.events_by_stream[f"supervisee-{sid}"]
        assert isinstance(followed, SupervisionAmended)
        assert (followed.date, followed.minutes, followed.amended_by) == (
            D("2026-03-03"),
            90,
            "coordinator-1",
        )
    # The supervisor's stream is read, never written (the sessions index follows the move).
    assert "supervisor-sup-1" not in decision.events_by_stream


async def on_record(service: Service) -> None:
    """The triadic session logged, through the runner, for two registered supervisees."""
    for sid in IDS:
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
    assert not (await service.run(logged_command())).already_recorded


def test_an_amended_session_stands_as_amended() -> None:
    world = World()
    world.apply(world.amend(amend()))

    assert world.session.session is not None
    assert world.session.session.minutes == 90
    assert world.session.amendments == 1
    assert world.supervisees["see-1"].supervision["ses-1"].date == D("2026-03-03")


async def test_an_amended_session_keeps_what_it_was_logged_as_on_its_stream(
    service: Service,
) -> None:
    await on_record(service)

    await service.run(amend())

    assert await service.types("session-ses-1") == ["SessionLogged", "SessionAmended"]
    (logged, _) = await service.units.read("session-ses-1")
    assert logged.data["minutes"] == 60
    # The sessions index follows the session to its new day.
    assert service.sessions_index() == [("sup-1", "ses-1", D("2026-03-03"))]


def test_an_amendment_on_the_same_day_leaves_the_supervisor_stream_alone() -> None:
    decision = World().amend(amend(date="2026-03-02"))

    assert "supervisor-sup-1" not in decision.events_by_stream


def test_an_amendment_to_the_session_as_it_stands_records_nothing() -> None:
    world = World()
    world.apply(world.amend(amend()))

    assert (
        world.amend(amend(reason="retry", techniques=["role_play", "case_review"])).events() == []
    )


async def test_a_retried_log_is_still_recognised_after_an_amendment(service: Service) -> None:
    await on_record(service)
    await service.run(amend())

    retry = await service.run(logged_command())

    assert (retry.retry, retry.already_recorded) == (True, True)


def test_amending_an_unknown_session_is_not_found() -> None:
    with pytest.raises(SessionMustExist) as refused:
        session.decide_amend_session(
            session.INITIAL, {}, supervisor.INITIAL, amend(session_id="ses-9"), TODAY, TRACKS
        )
    assert refused.value.session_id == "ses-9"
    assert isinstance(refused.value, NotFound)


def test_amending_a_voided_session_is_refused_naming_its_state() -> None:
    world = World()
    world.apply(world.void(void()))

    with pytest.raises(SessionMustStandToBeChanged) as refused:
        world.amend(amend())
    assert "is voided" in refused.value.message


def test_an_amendment_into_the_future_is_refused() -> None:
    with pytest.raises(SessionMustNotBeDatedInTheFuture):
        World().amend(amend(date="2026-03-11"))


def test_an_amendment_to_a_day_no_agreement_covers_is_refused() -> None:
    with pytest.raises(SuperviseeMustBeCoveredByAnAgreement):
        World().amend(amend(date="2025-12-31"))


def test_an_amendment_to_a_format_the_people_do_not_fit_is_refused() -> None:
    with pytest.raises(SessionSizeMustFitItsFormat):
        World().amend(amend(format="individual"))


def signed_off(supervisee_id: str, month: str) -> MonthSignedOff:
    return MonthSignedOff(
        supervisee_id=supervisee_id, month=month, supervisor_id="sup-1", signed_on=D("2026-03-31")
    )


def test_a_session_in_a_signed_off_month_cannot_be_amended() -> None:
    world = World()
    world.apply(Decision({"supervisee-see-2": (signed_off("see-2", "2026-03"),)}))

    with pytest.raises(MonthMustBeOpenToChange) as refused:
        world.amend(amend())
    assert (refused.value.supervisee_id, refused.value.month) == ("see-2", "2026-03")


def test_a_session_cannot_be_moved_into_a_signed_off_month() -> None:
    world = World()
    world.apply(Decision({"supervisee-see-1": (signed_off("see-1", "2026-02"),)}))

    with pytest.raises(MonthMustBeOpenToChange) as refused:
        world.amend(amend(date="2026-02-27"))
    assert refused.value.month == "2026-02"


def test_moving_a_session_onto_a_lapsed_day_marks_it() -> None:
    suspended = SupervisorLicenseChanged(
        supervisor_id="sup-1", license_id="lic-1", change="suspended", effective_on=D("2026-03-03")
    )
    world = World(standing=supervisor.fold([suspended]))
    assert world.session.lapse is None

    decision = world.amend(amend())

    assert decision.lapse_marked
    assert isinstance(decision.events_by_stream["session-ses-1"][-1], SupervisorLapseMarked)


# Voiding.


def test_voiding_a_session_keeps_it_and_makes_it_count_for_no_one() -> None:
    world = World()

    decision = world.void(void())

    assert decision.events_by_stream == {
        "session-ses-1": (
            SessionVoided(
                session_id="ses-1",
                supervisee_ids=IDS,
                date=D("2026-03-02"),
                reason="logged twice",
                voided_by="coordinator-1",
            ),
        ),
        **{
            f"supervisee-{sid}": (
                SupervisionVoided(
                    session_id="ses-1",
                    supervisee_id=sid,
                    reason="logged twice",
                    voided_by="coordinator-1",
                ),
            )
            for sid in IDS
        },
    }
    world.apply(decision)
    assert world.session.status == "voided"
    assert world.session.session is not None
    assert world.supervisees["see-1"].supervision["ses-1"].voided


async def test_the_same_voiding_retried_records_nothing(service: Service) -> None:
    await on_record(service)
    await service.run(void())

    assert (await service.run(void(actor="coordinator-2"))).already_recorded
    assert await service.types("session-ses-1") == ["SessionLogged", "SessionVoided"]


def test_voiding_a_voided_session_again_for_another_reason_is_refused() -> None:
    world = World()
    world.apply(world.void(void()))

    with pytest.raises(SessionMustStandToBeChanged) as refused:
        world.void(void(reason="other"))
    assert isinstance(refused.value, RuleViolated)


def test_voiding_an_unknown_session_is_not_found() -> None:
    with pytest.raises(SessionMustExist):
        session.decide_void_session(session.INITIAL, {}, void())


def test_a_session_in_a_signed_off_month_cannot_be_voided() -> None:
    world = World()
    world.apply(Decision({"supervisee-see-1": (signed_off("see-1", "2026-03"),)}))

    with pytest.raises(MonthMustBeOpenToChange) as refused:
        world.void(void())
    assert refused.value.month == "2026-03"


def test_correction_events_survive_a_round_trip_through_storage() -> None:
    world = World()
    for event in [*world.amend(amend()).events(), *world.void(void()).events()]:
        assert EVENT_TYPES.load(event.type, event.to_data()) == event
