"""What compliance officers record of a supervisee, in the stream of the supervisee's oversight.
Private to the service; each is published as the contract of the same name
(contracts.events.compliance), keyed by the supervisee, and read back into the read model from
the compliance topic like every other fact."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from infra.ddd import DomainEvent, EventTypes, TypedText

# A waiver: the rule is set aside for this verdict (for instance by the board). A documented
# exception: the rule's own exception applies and is on file.
ResolutionKind = Literal["waiver", "documented_exception"]


class VerdictResolved(DomainEvent):
    type = "VerdictResolved"

    supervisee_id: str
    resolution_id: str
    verdict_id: str
    kind: ResolutionKind
    reason: TypedText
    # The officer who resolved it (the caller).
    resolved_by: str
    # The day the resolution stands from.
    on: dt.date


class LeaveApproved(DomainEvent):
    type = "LeaveApproved"

    supervisee_id: str
    leave_id: str
    # First and last day, inclusive.
    start: dt.date
    end: dt.date
    # Who approved it in writing.
    approved_by: str
    reason: TypedText
    # The officer who recorded it (the caller).
    recorded_by: str


OVERSIGHT_EVENT_TYPES = EventTypes([VerdictResolved, LeaveApproved])
