"""A supervisor's standing meets the sessions logged under them: a license fact from the
credential registry is recorded on the supervisor's stream, and when it makes a lapse of days
that sessions were already logged on, each of those sessions is marked, once.

Two steps, because the sessions to mark are known only from the service's index of sessions by
supervisor (`sessions`: each session's id and date): the handler asks `sessions_to_review` which
session streams to load, then `decide` with their states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from infra.ddd import DomainEvent
from supervision.domain import session, supervisor
from supervision.domain.decision import Decision
from supervision.domain.session import SessionState
from supervision.domain.supervisor import LicenseChange, SupervisorState


def sessions_to_review(
    state: SupervisorState, change: LicenseChange, sessions: Mapping[str, dt.date]
) -> list[str]:
    """The sessions whose day the change turns into a lapse (none for a fact already known)."""
    events = supervisor.decide_license_change(state, change)
    if not events:
        return []
    return supervisor.newly_lapsed(state, supervisor.fold(events, state), sessions)


def decide(
    state: SupervisorState,
    change: LicenseChange,
    sessions: Mapping[str, dt.date],
    reviewed: Mapping[str, SessionState],
) -> Decision:
    """Records the change and marks every standing session it puts in lapse that is not marked
    yet. `reviewed` holds the states of `sessions_to_review(state, change, sessions)`."""
    events = supervisor.decide_license_change(state, change)
    if not events:
        return Decision()
    after = supervisor.fold(events, state)
    by_stream: dict[str, tuple[DomainEvent, ...]] = {
        supervisor.stream_id(change.supervisor_id): tuple(events)
    }
    for session_id in supervisor.newly_lapsed(state, after, sessions):
        mark = session.lapse_mark(reviewed.get(session_id, session.INITIAL), after)
        if mark is not None:
            by_stream[session.stream_id(session_id)] = (mark,)
    return Decision(by_stream)
