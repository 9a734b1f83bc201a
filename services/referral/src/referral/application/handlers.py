"""Use cases of the referral service: load the referral, decide, record it with its index row.

The command runner commits each (events, outbox, the referral's row of the service's index and
the command's own record in one transaction), decides again when another command moved the
referral first, and answers a retry with the first outcome. A consumed concern's referral is
recorded in the consumer's transaction; the clock's checks are decided like any command.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from infra.application import CommandContext
from infra.commands import Aggregate, CommandRunner, IndexRow, UnitOfWork, UseCase
from infra.ddd import Command, DomainEvent, Id
from infra.eventstore import ConcurrencyError, EventMetadata
from referral.domain import (
    DEFAULT_SERVICE_LEVELS,
    EVENT_TYPES,
    CoachingConcern,
    RaiseReferral,
    ReferralCommand,
    ReferralState,
    ServiceLevelPolicy,
    already_raised,
    breaches_due,
    decide,
    fold,
    referral_for_concern,
)
from referral.domain.errors import ReferralMustExist
from referral.domain.referral import INITIAL
from referral.domain.values import ReferralStatus

log = logging.getLogger(__name__)

# Who the service's clock records its findings as.
CLOCK_ACTOR = "service:referral-clock"

# A referral's notes, feedback and consent reference are the client's.
REFERRAL = Aggregate(
    "referral",
    INITIAL,
    fold,
    EVENT_TYPES,
    subject=lambda state: state.referral.client_id if state.referral else None,
)


class ReferralIndex(Protocol):
    """The service's own index of referrals (site, status and the next deadline), written in
    the transaction of their events."""

    def row(self, state: ReferralState) -> IndexRow:
        """The index row of a raised referral as it stands."""
        ...

    async def due(self, now: dt.datetime, limit: int) -> list[str]:
        """Referrals with a deadline still pending that has passed by `now`, oldest first."""
        ...

    async def listed(self, site_id: str, status: ReferralStatus | None, limit: int) -> list[str]:
        """A site's referrals (with the status, if given), oldest first."""
        ...


class ReferralRecorded(BaseModel):
    """What a step answers: the referral's deadlines and how many contact attempts it holds."""

    model_config = ConfigDict(frozen=True)

    acknowledgement_due_at: dt.datetime | None = None
    scheduling_due_at: dt.datetime | None = None
    attempts_recorded: int = 0

    @classmethod
    def of(cls, state: ReferralState) -> ReferralRecorded:
        if state.referral is None:
            return cls()
        return cls(
            acknowledgement_due_at=state.referral.due_at("acknowledgement"),
            scheduling_due_at=state.referral.due_at("scheduling"),
            attempts_recorded=len(state.attempts),
        )


class ReferConcernToTherapy(Command):
    """A coaching concern, to be referred back to therapy: known by the concern it is."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "concern_id")

    concern: CoachingConcern

    @property
    def engagement_id(self) -> str:
        return self.concern.engagement_id

    @property
    def concern_id(self) -> str:
        return self.concern.concern_id


class BreachesRecorded(BaseModel):
    model_config = ConfigDict(frozen=True)

    recorded: int


class CheckServiceLevels(Command):
    """The clock's look at one referral; not recorded (it records each breach once itself)."""

    referral_id: Id


class Referrals:
    """The referral service's use cases, with the index they keep and the targets in force."""

    def __init__(
        self, index: ReferralIndex, policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS
    ) -> None:
        self.index = index
        self.policy = policy
        self.step = UseCase(ReferralRecorded, self._step)
        self.refer_concern = UseCase(ReferralRecorded, self._refer_concern)
        self.check = UseCase(BreachesRecorded, self._check)

    async def _step(self, uow: UnitOfWork, command: ReferralCommand) -> ReferralRecorded:
        """A staff command on one referral."""
        raising = isinstance(command, RaiseReferral)
        state = await uow.get(REFERRAL, command.referral_id, new=raising)
        events = decide(state, command, uow.now, self.policy)
        return self._recorded(uow, command.referral_id, events)

    async def _refer_concern(
        self, uow: UnitOfWork, command: ReferConcernToTherapy
    ) -> ReferralRecorded:
        """The concern's referral, once: its id is derived from the concern, so a referral from
        the same source already on record is it, whatever a later policy would put in it."""
        raising = referral_for_concern(command.concern)
        state = await uow.get(REFERRAL, raising.referral_id, new=True)
        if already_raised(state, raising):
            return ReferralRecorded.of(state)
        events = decide(state, raising, uow.now, self.policy)
        return self._recorded(uow, raising.referral_id, events)

    async def _check(self, uow: UnitOfWork, command: CheckServiceLevels) -> BreachesRecorded:
        state = await uow.get(REFERRAL, command.referral_id)
        breaches = breaches_due(state, uow.now)
        after = uow.record(REFERRAL, command.referral_id, breaches)
        if after.referral is not None:
            # Also with no breach: the index then learns the referral needs no more watching.
            uow.write(self.index.row(after))
        return BreachesRecorded(recorded=len(breaches))

    def _recorded(
        self, uow: UnitOfWork, referral_id: str, events: Sequence[DomainEvent]
    ) -> ReferralRecorded:
        after = uow.record(REFERRAL, referral_id, events)
        if events and after.referral is not None:
            uow.write(self.index.row(after))
        return ReferralRecorded.of(after)


async def check_service_levels(
    now: dt.datetime, runner: CommandRunner, referrals: Referrals, *, batch: int = 500
) -> int:
    """The service's clock: records every service-level breach that is due by `now` and not
    yet on record; returns how many it recorded. Deterministic in `now`: run twice with the
    same `now` it records nothing the second time.

    Candidates come from the service's index (`ReferralIndex.due`): only referrals whose next
    pending deadline has passed are read, so a tick costs nothing when nothing is late.
    """
    recorded = 0
    ctx = CommandContext(
        now=now,
        metadata=EventMetadata(
            correlation_id=f"service-levels/{now.isoformat()}", actor=CLOCK_ACTOR
        ),
    )
    for referral_id in await referrals.index.due(now, batch):
        check = CheckServiceLevels(referral_id=referral_id)
        try:
            ran = await runner.run(referrals.check, check, ctx)
        except ConcurrencyError:
            log.info(
                "referral %s kept changing while checked; next tick decides again", referral_id
            )
            continue
        recorded += ran.outcome.recorded
    return recorded


async def get_referral(referral_id: str, runner: CommandRunner) -> ReferralState:
    state, _ = await runner.state(REFERRAL, referral_id)
    if state.referral is None:
        raise ReferralMustExist(referral_id)
    return state


async def list_referrals(
    site_id: str,
    status: ReferralStatus | None,
    limit: int,
    runner: CommandRunner,
    index: ReferralIndex,
) -> list[ReferralState]:
    states = [
        (await runner.state(REFERRAL, rid))[0] for rid in await index.listed(site_id, status, limit)
    ]
    return [s for s in states if s.referral is not None]
