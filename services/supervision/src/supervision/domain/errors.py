"""The supervision rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class CredentialTrackMustBeKnown(InvalidInput):
    def __init__(self, track_id: str, known: Iterable[str]) -> None:
        super().__init__(
            "credential_track", f"unknown track {track_id!r}; known: {', '.join(sorted(known))}"
        )
        self.track_id = track_id


class SupervisorMustNotSuperviseThemself(InvalidInput):
    def __init__(self, person_id: str) -> None:
        super().__init__("supervisee_id", f"{person_id} cannot be their own supervisor")
        self.person_id = person_id


class AgreementMustEndAfterItStarts(InvalidInput):
    def __init__(self, start_date: dt.date, end_date: dt.date) -> None:
        super().__init__("end_date", f"{end_date} is not after start_date {start_date}")
        self.start_date = start_date
        self.end_date = end_date


class SessionLengthMustBeWithinBounds(InvalidInput):
    def __init__(self, minutes: int, lowest: int, highest: int) -> None:
        super().__init__("minutes", f"{minutes} is outside {lowest}..{highest}")
        self.minutes = minutes


class SessionMustHaveASupervisee(InvalidInput):
    def __init__(self) -> None:
        super().__init__("supervisee_ids", "at least one supervisee is required")


class SuperviseesMustBeListedOnce(InvalidInput):
    def __init__(self, duplicates: Iterable[str]) -> None:
        self.duplicates = tuple(sorted(duplicates))
        super().__init__("supervisee_ids", f"listed more than once: {', '.join(self.duplicates)}")


class SupervisorMustNotBeAmongSupervisees(InvalidInput):
    def __init__(self, supervisor_id: str) -> None:
        super().__init__("supervisee_ids", f"includes the supervisor {supervisor_id}")
        self.supervisor_id = supervisor_id


class SessionMustNotBeDatedInTheFuture(InvalidInput):
    def __init__(self, date: dt.date, today: dt.date) -> None:
        super().__init__("date", f"{date} is after today ({today})")
        self.date = date


class SessionSizeMustFitItsFormat(InvalidInput):
    def __init__(
        self, track_id: str, session_format: str, size: int, lowest: int, highest: int
    ) -> None:
        super().__init__(
            "supervisee_ids",
            f"{session_format} sessions under {track_id} have {lowest}..{highest} supervisees,"
            f" not {size}",
        )
        self.track_id = track_id
        self.size = size


# Rules about the record as it stands (gRPC FAILED_PRECONDITION).


class SuperviseeMustBeCoveredByAnAgreement(RuleViolated):
    """Boards count no supervision given outside a signed agreement with that supervisor at that
    site, so such a session cannot be recorded as supervision."""

    def __init__(self, supervisee_id: str, supervisor_id: str, site_id: str, date: dt.date) -> None:
        super().__init__(
            f"supervisee {supervisee_id} has no agreement with supervisor {supervisor_id}"
            f" at site {site_id} in force on {date}"
        )
        self.supervisee_id = supervisee_id
        self.supervisor_id = supervisor_id
        self.site_id = site_id
        self.date = date


class ConcurrentSupervisorsMustStayWithinTrackLimit(RuleViolated):
    def __init__(
        self, supervisee_id: str, track_id: str, limit: int, on: dt.date, supervisors: Iterable[str]
    ) -> None:
        self.supervisors = tuple(sorted(supervisors))
        super().__init__(
            f"{track_id} allows {limit} concurrent supervisors; on {on} supervisee {supervisee_id}"
            f" would have {len(self.supervisors)}: {', '.join(self.supervisors)}"
        )
        self.supervisee_id = supervisee_id
        self.track_id = track_id
        self.limit = limit
        self.on = on


# Client-chosen ids (gRPC ALREADY_EXISTS): a retry with the same content is not an error.


class AgreementIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, agreement_id: str) -> None:
        super().__init__(f"agreement {agreement_id} is already recorded with other content")
        self.agreement_id = agreement_id


class SessionIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is already recorded with other content")
        self.session_id = session_id
