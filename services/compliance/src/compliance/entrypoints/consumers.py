"""The compliance projector: other services' events into the read model, each applied once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.adapters import read_model
from contracts.events import ReferralRaised, SessionLogged
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError


async def on_session_logged(conn: AsyncConnection, event: IncomingEvent) -> None:
    logged = event.contract()
    if not isinstance(logged, SessionLogged):
        raise PermanentError(f"{event.ce_type} is not a logged session")
    await read_model.project_session_logged(conn, logged, event.event_id)


async def on_referral_raised(conn: AsyncConnection, event: IncomingEvent) -> None:
    raised = event.contract()
    if not isinstance(raised, ReferralRaised):
        raise PermanentError(f"{event.ce_type} is not a raised referral")
    await read_model.project_referral_raised(conn, raised, event.event_id)
