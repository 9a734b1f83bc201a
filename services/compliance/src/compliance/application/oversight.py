"""Use cases of what compliance officers record: each loads the supervisee's oversight stream,
reads what the decision needs from the read model, decides, and records the events with their
outbox messages and the command's record in one transaction (the command runner).

A resolution names a verdict, which only the engine knows: the supervisee is evaluated on the
resolution's day from what the read model holds now (`supervisee_evaluation`), and the decision
is given the verdicts that evaluation shows. The recorded events come back into the read model
from the compliance topic, and every view then shows them on both time axes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from compliance.application.queries import ProjectedFacts, supervisee_evaluation
from compliance.domain.oversight import decisions as oversight
from compliance.domain.oversight.commands import RecordApprovedLeave, ResolveVerdict
from compliance.domain.oversight.decisions import ShownVerdicts
from compliance.domain.oversight.events import OVERSIGHT_EVENT_TYPES
from compliance.domain.record import UnknownSupervisee
from contracts.rulepacks.model import RulePacks
from infra.application import CommandContext
from infra.commands import Aggregate, CommandRunner, Ran, UnitOfWork, UseCase

OVERSIGHT = Aggregate(
    "oversight",
    oversight.INITIAL,
    oversight.fold,
    OVERSIGHT_EVENT_TYPES,
    subject=lambda state: state.supervisee_id,
)

R = TypeVar("R", bound=BaseModel)


class VerdictResolution(BaseModel):
    """What ResolveVerdict answers."""

    model_config = ConfigDict(frozen=True)

    resolution_id: str
    verdict_id: str


class LeaveRecording(BaseModel):
    """What RecordApprovedLeave answers."""

    model_config = ConfigDict(frozen=True)

    leave_id: str


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What a command answered, and whether it recorded anything (a retry records nothing)."""

    answer: R
    recorded: bool

    @classmethod
    def of(cls, ran: Ran[R]) -> Outcome[R]:
        return cls(answer=ran.outcome, recorded=not ran.already_recorded)


class Oversight:
    def __init__(self, runner: CommandRunner, facts: ProjectedFacts, packs: RulePacks) -> None:
        self._runner = runner
        self._facts = facts
        self._packs = packs
        self._resolve = UseCase(VerdictResolution, self._decide_resolution)
        self._record_leave = UseCase(LeaveRecording, self._decide_leave)

    async def resolve_verdict(
        self, command: ResolveVerdict, ctx: CommandContext
    ) -> Outcome[VerdictResolution]:
        return Outcome.of(await self._runner.run(self._resolve, command, ctx))

    async def record_approved_leave(
        self, command: RecordApprovedLeave, ctx: CommandContext
    ) -> Outcome[LeaveRecording]:
        return Outcome.of(await self._runner.run(self._record_leave, command, ctx))

    # --- the use cases ---------------------------------------------------------------------

    async def _decide_resolution(
        self, uow: UnitOfWork, command: ResolveVerdict
    ) -> VerdictResolution:
        state = await uow.get(OVERSIGHT, command.supervisee_id)
        on = oversight.resolution_day(command, uow.today)
        view = await supervisee_evaluation(
            self._facts, self._packs, command.supervisee_id, on, uow.now
        )
        shown = ShownVerdicts(
            on=on,
            verdict_ids=frozenset(v.verdict_id for v in view.shown.verdicts),
            lacking=len(view.unapplied),
        )
        events = oversight.decide(state, command, uow.today, shown)
        uow.record(OVERSIGHT, command.supervisee_id, events)
        return VerdictResolution(
            resolution_id=oversight.resolution_id_of(command.command_id),
            verdict_id=command.verdict_id,
        )

    async def _decide_leave(self, uow: UnitOfWork, command: RecordApprovedLeave) -> LeaveRecording:
        state = await uow.get(OVERSIGHT, command.supervisee_id)
        if state.supervisee_id is None:
            await self._check_known(command.supervisee_id, uow.now)
        events = oversight.decide(state, command, uow.today)
        uow.record(OVERSIGHT, command.supervisee_id, events)
        return LeaveRecording(leave_id=oversight.leave_id_of(command.command_id))

    async def _check_known(self, supervisee_id: str, now: dt.datetime) -> None:
        """A leave is recorded of a supervisee compliance has heard of: a mistyped id would
        otherwise hold a leave nobody's evaluation reads."""
        async with self._facts.snapshot() as read:
            known = await read.supervisee_facts(supervisee_id, now)
        if not known.heard_of:
            raise UnknownSupervisee(supervisee_id, now)
