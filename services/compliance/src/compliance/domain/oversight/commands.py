"""What compliance officers ask to record of a supervisee. Each command checks its own fields;
what the record as it stands allows is decided in `oversight.decide`.

Each is known by its client-chosen `command_id`: a retry with the same id and content is
answered with the first outcome, the same id with other content is refused. The officer
(`resolved_by`, `recorded_by`) is the caller, as the call names them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BeforeValidator, model_validator

from compliance.domain.oversight.errors import (
    DateMustBeWithinTheRecord,
    LeaveMustEndOnOrAfterItStarts,
    LeaveMustNotExceedTheLongestLeave,
    ReasonMustBeWritten,
)
from compliance.domain.oversight.events import ResolutionKind
from contracts.fields import check_text
from infra.ddd import Command, Id

REASON_MAX_CHARS = 2000
# Two years and a day: a leave longer than that is not a pause in a supervision.
LONGEST_LEAVE_DAYS = 731
# Sanity bounds on a date typed by a person, not a board's rule.
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2099, 12, 31)


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Reason = Annotated[str, BeforeValidator(_trimmed), AfterValidator(check_text)]


def _check_reason(reason: str) -> None:
    if not reason or len(reason) > REASON_MAX_CHARS:
        raise ReasonMustBeWritten(len(reason), REASON_MAX_CHARS)


def _check_day(field: str, day: dt.date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DateMustBeWithinTheRecord(field, day, EARLIEST_DAY, LATEST_DAY)


class ResolveVerdict(Command):
    """Resolves one of the supervisee's verdicts, a void or a finding, from `on`."""

    key_fields: ClassVar[tuple[str, ...]] = ("command_id",)

    command_id: Id
    supervisee_id: Id
    verdict_id: Id
    kind: ResolutionKind
    reason: Reason
    resolved_by: Id
    # None: today, on the service's clock.
    on: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason(self.reason)
        if self.on is not None:
            _check_day("on", self.on)
        return self


class RecordApprovedLeave(Command):
    """Records a supervisee's leave from `start` to `end` (inclusive), approved in writing by
    `approved_by`."""

    key_fields: ClassVar[tuple[str, ...]] = ("command_id",)

    command_id: Id
    supervisee_id: Id
    start: dt.date
    end: dt.date
    approved_by: Id
    reason: Reason
    recorded_by: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_day("start", self.start)
        _check_day("end", self.end)
        if self.end < self.start:
            raise LeaveMustEndOnOrAfterItStarts(self.start, self.end)
        if (self.end - self.start).days + 1 > LONGEST_LEAVE_DAYS:
            raise LeaveMustNotExceedTheLongestLeave(self.start, self.end, LONGEST_LEAVE_DAYS)
        _check_reason(self.reason)
        return self


OversightCommand = ResolveVerdict | RecordApprovedLeave
