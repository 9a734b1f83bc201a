"""Use cases of the supervision service: each reads the streams a decision needs, decides, and
stages what it records; the command runner commits it all in one transaction (events, outbox,
the sessions index and the command's own record), decides again after a conflict, and answers a
retried command with its first outcome.

A session reads its supervisor's standing without writing to it: the runner checks at commit
that no license fact was recorded meanwhile (so two sessions of one supervisor never conflict,
and a session never misses a lapse recorded while it was decided). A license fact reads the
sessions index the same way: a session logged meanwhile makes it decide again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from infra.commands import (
    Aggregate,
    CommandRunner,
    IndexRow,
    RowsCheck,
    UnitOfWork,
    UseCase,
)
from infra.ddd import Command
from supervision.domain import (
    EVENT_TYPES,
    AmendSession,
    Decision,
    LicenseChange,
    LogSession,
    RegisterSupervisee,
    SignAgreement,
    SuperviseeCommand,
    SuperviseeState,
    Tracks,
    VoidSession,
    session,
    standing,
    supervisee,
    supervisor,
)
from supervision.domain.errors import SuperviseeMustBeOnRecord

SUPERVISEE = Aggregate(
    "supervisee",
    supervisee.INITIAL,
    supervisee.fold,
    EVENT_TYPES,
    subject=lambda state: state.supervisee_id,
)
# A session's reasons are sealed for its first supervisee: erasing another supervisee of a
# group session leaves them readable (their own record's copy, SupervisionAmended/Voided, is
# sealed for them).
SESSION = Aggregate(
    "session",
    session.INITIAL,
    session.fold,
    EVENT_TYPES,
    subject=lambda state: state.session.supervisee_ids[0] if state.session else None,
)
SUPERVISOR = Aggregate(
    "supervisor", supervisor.INITIAL, supervisor.fold, EVENT_TYPES, read_by_others=True
)


class SessionsIndex(Protocol):
    """The sessions of each supervisor, with their dates (see adapters.sessions_index)."""

    def row(self, supervisor_id: str, session_id: str, date: dt.date) -> IndexRow:
        """The session's row as it now stands, to write with its events."""
        ...

    def check(self, supervisor_id: str, sessions: Mapping[str, dt.date]) -> RowsCheck:
        """That the supervisor's sessions are still these at commit."""
        ...

    async def sessions_of(self, supervisor_id: str) -> Mapping[str, dt.date]:
        """The supervisor's sessions, by id, with their dates."""
        ...


class SuperviseeRecorded(BaseModel):
    """What a supervisee command answers."""

    model_config = ConfigDict(frozen=True)

    # For an agreement being signed: whether the board must approve it before hours count.
    board_approval_required: bool = False


class SessionRecorded(BaseModel):
    """What a session command answers: whether the session is marked for a supervisor lapse."""

    model_config = ConfigDict(frozen=True)

    lapse_marked: bool = False


class LicenseChangeRecorded(BaseModel):
    model_config = ConfigDict(frozen=True)

    sessions_marked: int = 0


class RecordLicenseChange(Command):
    """A license fact from the credential registry, known by what it says (the same fact
    re-published under another event id is the same command)."""

    key_fields: ClassVar[tuple[str, ...]] = ("supervisor_id", "license_id", "command_id")

    change: LicenseChange

    @property
    def supervisor_id(self) -> str:
        return self.change.supervisor_id

    @property
    def license_id(self) -> str:
        return self.change.license_id


class Supervision:
    """The supervision service's use cases, with the rule packs' tracks and the sessions index
    they need."""

    def __init__(self, tracks: Tracks, sessions: SessionsIndex) -> None:
        self.tracks = tracks
        self.sessions = sessions
        self.for_supervisee = UseCase(SuperviseeRecorded, self._for_supervisee)
        self.log_session = UseCase(SessionRecorded, self._log_session)
        self.amend_session = UseCase(SessionRecorded, self._amend_session)
        self.void_session = UseCase(SessionRecorded, self._void_session)
        self.record_license_change = UseCase(LicenseChangeRecorded, self._license_change)

    async def _for_supervisee(
        self, uow: UnitOfWork, command: SuperviseeCommand
    ) -> SuperviseeRecorded:
        """Registration, transfers, agreements, practice hours and month sign-offs: each
        decided on the supervisee's own stream."""
        state = await uow.get(
            SUPERVISEE, command.supervisee_id, new=isinstance(command, RegisterSupervisee)
        )
        events = supervisee.decide(state, command, uow.today, self.tracks)
        after = uow.record(SUPERVISEE, command.supervisee_id, events)
        if isinstance(command, SignAgreement):
            signed = after.agreement(command.agreement_id)
            return SuperviseeRecorded(
                board_approval_required=signed is not None and signed.board_approval_required
            )
        return SuperviseeRecorded()

    async def _log_session(self, uow: UnitOfWork, command: LogSession) -> SessionRecorded:
        state = await uow.get(SESSION, command.session_id, new=True)
        records = {sid: await uow.get(SUPERVISEE, sid) for sid in command.supervisee_ids}
        lead = await uow.get(SUPERVISOR, command.supervisor_id)
        uow.expect(SUPERVISOR, command.supervisor_id)
        decision = session.decide_log_session(state, records, lead, command, uow.today, self.tracks)
        _record(uow, decision)
        uow.write(self.sessions.row(command.supervisor_id, command.session_id, command.date))
        return SessionRecorded(lapse_marked=decision.lapse_marked)

    async def _amend_session(self, uow: UnitOfWork, command: AmendSession) -> SessionRecorded:
        state = await uow.get(SESSION, command.session_id)
        current = state.session
        supervisee_ids = current.supervisee_ids if current is not None else ()
        records = {sid: await uow.get(SUPERVISEE, sid) for sid in supervisee_ids}
        lead = supervisor.INITIAL
        if current is not None:
            lead = await uow.get(SUPERVISOR, current.supervisor_id)
            uow.expect(SUPERVISOR, current.supervisor_id)
        decision = session.decide_amend_session(
            state, records, lead, command, uow.today, self.tracks
        )
        _record(uow, decision)
        if current is not None and not decision.already_recorded:
            uow.write(self.sessions.row(current.supervisor_id, command.session_id, command.date))
        return SessionRecorded(lapse_marked=decision.lapse_marked)

    async def _void_session(self, uow: UnitOfWork, command: VoidSession) -> SessionRecorded:
        state = await uow.get(SESSION, command.session_id)
        current = state.session
        supervisee_ids = current.supervisee_ids if current is not None else ()
        records = {sid: await uow.get(SUPERVISEE, sid) for sid in supervisee_ids}
        decision = session.decide_void_session(state, records, command)
        _record(uow, decision)
        return SessionRecorded(lapse_marked=decision.lapse_marked)

    async def _license_change(
        self, uow: UnitOfWork, command: RecordLicenseChange
    ) -> LicenseChangeRecorded:
        """A fact from the credential registry: recorded on the supervisor's stream once, and
        every session it puts in lapse marked once, all in one transaction (the consumer's)."""
        change = command.change
        lead = await uow.get(SUPERVISOR, change.supervisor_id)
        if not supervisor.decide_license_change(lead, change):
            return LicenseChangeRecorded()  # a fact already on record
        sessions = await self.sessions.sessions_of(change.supervisor_id)
        reviewed = {
            sid: await uow.get(SESSION, sid)
            for sid in standing.sessions_to_review(lead, change, sessions)
        }
        decision = standing.decide(lead, change, sessions, reviewed)
        _record(uow, decision)
        # A session logged under them meanwhile is decided again with it.
        uow.expect_rows(self.sessions.check(change.supervisor_id, sessions))
        marked = [s for s in decision.events_by_stream if s.startswith(f"{SESSION.category}-")]
        return LicenseChangeRecorded(sessions_marked=len(marked))


_BY_CATEGORY: dict[str, Aggregate[Any]] = {
    aggregate.category: aggregate for aggregate in (SUPERVISEE, SESSION, SUPERVISOR)
}


def _record(uow: UnitOfWork, decision: Decision) -> None:
    """Stages a decision's events on each of its streams."""
    for stream_id, events in decision.events_by_stream.items():
        category, _, id = stream_id.partition("-")
        uow.record(_BY_CATEGORY[category], id, events)


async def get_supervisee(supervisee_id: str, runner: CommandRunner) -> SuperviseeState:
    state, _ = await runner.state(SUPERVISEE, supervisee_id)
    if state.supervisee_id is None:
        raise SuperviseeMustBeOnRecord(supervisee_id)
    return state
