"""Use cases of the coaching service: load the engagement, decide, record.

Every command, whether a coach sent it or another service's fact caused it, is decided on the
engagement's own stream, so the one use case serves both; the command runner commits it (with
the consumer's inbox row, for a fact) and answers a retry from its record.
"""

from __future__ import annotations

from coaching.domain import (
    EVENT_TYPES,
    EngagementCommand,
    EngagementState,
    OpenEngagement,
    OpenEngagementForReferral,
    engagement,
)
from coaching.domain.errors import EngagementMustExist
from infra.commands import Aggregate, CommandRunner, Done, UnitOfWork, UseCase
from infra.ddd import Command, Id

# What a coach and a client write is the client's: sealed for them (`Aggregate.subject`).
ENGAGEMENT = Aggregate(
    "engagement",
    engagement.INITIAL,
    engagement.fold,
    EVENT_TYPES,
    subject=lambda state: state.engagement.client_id if state.engagement else None,
)
_OPENING = (OpenEngagement, OpenEngagementForReferral)


class EngagementLookup(Command):
    """A read of one engagement, by an id that must be well formed."""

    engagement_id: Id


async def _record(uow: UnitOfWork, command: EngagementCommand) -> Done:
    state = await uow.get(ENGAGEMENT, command.engagement_id, new=isinstance(command, _OPENING))
    uow.record(ENGAGEMENT, command.engagement_id, engagement.decide(state, command, uow.today))
    return Done()


RECORD = UseCase(Done, _record)
"""Records any engagement command."""


async def get_engagement(query: EngagementLookup, runner: CommandRunner) -> EngagementState:
    """The engagement as it stands; raises EngagementMustExist when it was never opened."""
    state, _ = await runner.state(ENGAGEMENT, query.engagement_id)
    if state.engagement is None:
        raise EngagementMustExist(query.engagement_id)
    return state
