"""The supervision service's use cases on the command runner, in memory: what the runner-level
tests (retries, the sessions index, lapses learnt later) drive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.application import CommandContext
from infra.commands import CommandRunner, InMemoryUnitStore, Ran
from infra.ddd import Command
from infra.eventstore import EventMetadata
from infra.security.crypto import memory_keyring
from supervision.adapters.publishing import translate
from supervision.adapters.sessions_index import SqlSessionsIndex
from supervision.application.handlers import RecordLicenseChange, Supervision
from supervision.domain import AmendSession, LicenseChange, LogSession, Tracks, VoidSession

NOW = dt.datetime(2026, 5, 10, 12, tzinfo=dt.UTC)
# The credential tracks as the service runs them, read once from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())


class MemorySessionsIndex(SqlSessionsIndex):
    """The sessions index kept by the in-memory unit store (same rows, same checks)."""

    def __init__(self, units: InMemoryUnitStore) -> None:
        self._units = units

    async def sessions_of(self, supervisor_id: str) -> Mapping[str, dt.date]:
        return {
            row["session_id"]: row["date"]
            for row in self._units.rows("supervisor_sessions")
            if row["supervisor_id"] == supervisor_id
        }


class Service:
    """The supervision use cases, their runner and an in-memory store."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.units = InMemoryUnitStore(translate, now=lambda: now)
        self.runner = CommandRunner(self.units, memory_keyring())
        self.supervision = Supervision(TRACKS, MemorySessionsIndex(self.units))
        self.now = now

    def context(
        self, actor: str = "coordinator-1", now: dt.datetime | None = None
    ) -> CommandContext:
        return CommandContext(
            now=now or self.now, metadata=EventMetadata(correlation_id="test", actor=actor)
        )

    async def run(self, command: Command, now: dt.datetime | None = None) -> Ran[Any]:
        use_case: Any
        match command:
            case LogSession():
                use_case = self.supervision.log_session
            case AmendSession():
                use_case = self.supervision.amend_session
            case VoidSession():
                use_case = self.supervision.void_session
            case RecordLicenseChange():
                use_case = self.supervision.record_license_change
            case _:
                use_case = self.supervision.for_supervisee
        return await self.runner.run(use_case, command, self.context(now=now))

    async def license(self, change: LicenseChange) -> Ran[Any]:
        return await self.run(RecordLicenseChange(change=change))

    async def types(self, stream_id: str) -> list[str]:
        return [e.type for e in await self.units.read(stream_id)]

    def sessions_index(self) -> list[tuple[str, str, dt.date]]:
        rows = self.units.rows("supervisor_sessions")
        return sorted((r["supervisor_id"], r["session_id"], r["date"]) for r in rows)


@pytest.fixture
def service() -> Service:
    return Service()
