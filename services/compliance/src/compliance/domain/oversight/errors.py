"""The rules of what compliance officers record, each named as a sentence and raised with what
was wrong."""

from __future__ import annotations

import datetime as dt

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class ReasonMustBeWritten(InvalidInput):
    """A resolution or a leave is recorded with the officer's reason, as they write it."""

    def __init__(self, length: int, longest: int) -> None:
        super().__init__(
            "reason",
            "is required" if length == 0 else f"{length} characters; at most {longest}",
        )
        self.length = length


class DateMustBeWithinTheRecord(InvalidInput):
    """A date typed by a person, outside any span the record can hold (a mistyped year)."""

    def __init__(self, field: str, date: dt.date, earliest: dt.date, latest: dt.date) -> None:
        super().__init__(field, f"{date} is outside {earliest}..{latest}")
        self.date = date


class LeaveMustEndOnOrAfterItStarts(InvalidInput):
    def __init__(self, start: dt.date, end: dt.date) -> None:
        super().__init__("end", f"{end} is before start {start}")
        self.start = start
        self.end = end


class LeaveMustNotExceedTheLongestLeave(InvalidInput):
    """A leave longer than this is not a leave from a supervision in progress: it is a record to
    end, or a mistyped date."""

    def __init__(self, start: dt.date, end: dt.date, longest_days: int) -> None:
        days = (end - start).days + 1
        super().__init__(
            "end", f"a leave from {start} to {end} is {days} days; at most {longest_days}"
        )
        self.start = start
        self.end = end
        self.days = days


class ResolutionMustNotBeInTheFuture(InvalidInput):
    """A resolution is made on a day that has come: a verdict of a day to come may yet change."""

    def __init__(self, date: dt.date, today: dt.date) -> None:
        super().__init__("on", f"{date} is after today ({today})")
        self.date = date
        self.today = today


# The command names something compliance does not hold (gRPC NOT_FOUND).


class VerdictMustBeShownForTheSupervisee(NotFound):
    """A resolution names a verdict the supervisee's evaluation shows on the resolution's day:
    a verdict id from another supervisee, another day or a mistyped one resolves nothing."""

    def __init__(self, verdict_id: str, supervisee_id: str, on: dt.date, lacking: int) -> None:
        incomplete = (
            f" (the evaluation lacks {lacking} events compliance could not apply)"
            if lacking
            else ""
        )
        super().__init__(
            f"supervisee {supervisee_id} has no verdict {verdict_id} on {on}{incomplete}"
        )
        self.verdict_id = verdict_id
        self.supervisee_id = supervisee_id
        self.on = on


# Rules about the record as it stands (gRPC FAILED_PRECONDITION).


class VerdictMustBeResolvedOnce(RuleViolated):
    """A resolution is final: a verdict resolved stays resolved by the first officer's decision,
    which the evaluation shows; a second one would leave two accounts of the same verdict."""

    def __init__(self, verdict_id: str, resolution_id: str, resolved_by: str, on: dt.date) -> None:
        super().__init__(
            f"verdict {verdict_id} is already resolved by {resolved_by} on {on}"
            f" (resolution {resolution_id})"
        )
        self.verdict_id = verdict_id
        self.resolution_id = resolution_id
        self.resolved_by = resolved_by
        self.on = on


class LeavesMustNotOverlap(RuleViolated):
    """A day is on leave once: two leaves over the same days would each suspend the rules for
    them, and correcting one would leave the other standing."""

    def __init__(
        self, supervisee_id: str, leave_id: str, start: dt.date, end: dt.date, recorded_by: str
    ) -> None:
        super().__init__(
            f"supervisee {supervisee_id} is already on leave {leave_id} from {start} to {end}"
            f" (recorded by {recorded_by})"
        )
        self.supervisee_id = supervisee_id
        self.leave_id = leave_id
        self.start = start
        self.end = end


# Client-chosen ids (gRPC ALREADY_EXISTS): a retry with the same content is not an error.


class ResolutionIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, resolution_id: str) -> None:
        super().__init__(f"resolution {resolution_id} is already recorded with other content")
        self.resolution_id = resolution_id


class LeaveIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, leave_id: str) -> None:
        super().__init__(f"leave {leave_id} is already recorded with other content")
        self.leave_id = leave_id
