"""What the supervision service reacts to: the credential registry's license facts about a
supervisor (the license holder) become the supervisor's standing, and a lapse marks the sessions
held in it.

Each fact is recorded once however often it is delivered: the consumer's inbox drops a redelivered
message, and a message re-published under a new id is the same command (known by the fact it
reports), which the supervisor's stream also holds already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import (
    EventContract,
    LicenseExpired,
    LicenseRecorded,
    LicenseReinstated,
    LicenseRenewed,
    LicenseRevoked,
    LicenseSuspended,
)
from contracts.topics import COMPLIANCE_EVENTS, Topic
from infra.commands import CommandRunner
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import Handler, PermanentError
from infra.runtime import reaction_context
from supervision.application.handlers import RecordLicenseChange, Supervision
from supervision.domain import LicenseChange

ACTOR = "service:supervision"
CONSUMER_GROUP = "continuum.supervision"
TOPICS: tuple[Topic, ...] = (COMPLIANCE_EVENTS,)

LICENSE_EVENTS: tuple[type[EventContract], ...] = (
    LicenseRecorded,
    LicenseRenewed,
    LicenseSuspended,
    LicenseReinstated,
    LicenseRevoked,
    LicenseExpired,
)


def license_change(fact: EventContract) -> LicenseChange:
    """The supervisor's license change a registry event reports."""
    match fact:
        case LicenseRecorded():
            return _change(
                fact.holder_id, fact.license_id, "recorded", fact.issued_on, fact.expires_on
            )
        case LicenseRenewed():
            return _change(
                fact.holder_id, fact.license_id, "renewed", fact.renewed_on, fact.expires_on
            )
        case LicenseSuspended():
            return _change(fact.holder_id, fact.license_id, "suspended", fact.effective_on)
        case LicenseReinstated():
            return _change(fact.holder_id, fact.license_id, "reinstated", fact.effective_on)
        case LicenseRevoked():
            return _change(fact.holder_id, fact.license_id, "revoked", fact.effective_on)
        case LicenseExpired():
            return _change(fact.holder_id, fact.license_id, "expired", fact.expired_on)
        case _:
            raise PermanentError(f"{type(fact).__name__} is not a license fact")


def _change(
    holder_id: str,
    license_id: str,
    change: str,
    effective_on: dt.date,
    expires_on: dt.date | None = None,
) -> LicenseChange:
    return LicenseChange.model_validate(
        {
            "supervisor_id": holder_id,
            "license_id": license_id,
            "change": change,
            "effective_on": effective_on,
            "expires_on": expires_on,
        }
    )


class LicenseConsumer:
    def __init__(
        self, runner: CommandRunner, supervision: Supervision, clock: Callable[[], dt.datetime]
    ) -> None:
        self._runner = runner
        self._supervision = supervision
        self._clock = clock

    async def on_license_event(self, conn: AsyncConnection, event: IncomingEvent) -> None:
        change = RecordLicenseChange(change=license_change(event.contract()))
        ctx = reaction_context(event, ACTOR, self._clock())
        use_case = self._supervision.record_license_change
        await self._runner.run(use_case, change, ctx, within=conn)

    def handlers(self) -> Mapping[str, Handler]:
        """The handler of each license event type, for the subscription."""
        return {schema.ce_type(): self.on_license_event for schema in LICENSE_EVENTS}
