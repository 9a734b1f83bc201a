"""The supervision rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

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


class CredentialTrackMustMatchRegistration(InvalidInput):
    """An agreement is on the supervisee's registered track; a request naming another is wrong."""

    def __init__(self, supervisee_id: str, requested: str, registered: str) -> None:
        super().__init__(
            "credential_track",
            f"{requested!r} is not the track supervisee {supervisee_id} is registered on"
            f" ({registered!r})",
        )
        self.requested = requested
        self.registered = registered


class LicenseNumberMustBeWellFormed(InvalidInput):
    def __init__(self, number: str, lowest: int, highest: int) -> None:
        super().__init__(
            "license_number",
            f"{number!r} is not {lowest} to {highest} characters of letters, digits, '-', '.'"
            " or '/'",
        )
        self.number = number


class DateMustNotBeInTheFuture(InvalidInput):
    def __init__(self, field: str, date: dt.date, today: dt.date) -> None:
        super().__init__(field, f"{date} is after today ({today})")
        self.date = date


class ChoicesMustBeListedOnce(InvalidInput):
    def __init__(self, field: str, duplicates: Iterable[str]) -> None:
        self.duplicates = tuple(sorted(duplicates))
        super().__init__(field, f"listed more than once: {', '.join(self.duplicates)}")


class AgreementMustNameItsModalities(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "modalities", "at least one modality (in person, video, phone) is required"
        )


class AgreementFrequencyMustBeWithinBounds(InvalidInput):
    def __init__(self, sessions_per_period: int, lowest: int, highest: int) -> None:
        super().__init__(
            "sessions_per_period", f"{sessions_per_period} is outside {lowest}..{highest}"
        )
        self.sessions_per_period = sessions_per_period


class ReasonMustBeGiven(InvalidInput):
    """Corrections, amendments, terminations and reopenings say why, for the auditor."""

    def __init__(self, field: str, highest: int) -> None:
        super().__init__(field, f"a reason of 1 to {highest} characters is required")


class ApprovalReferenceMustBeGiven(InvalidInput):
    def __init__(self, highest: int) -> None:
        super().__init__(
            "approval_reference", f"the board's reference (1 to {highest} characters) is required"
        )


class WellbeingMustBeOnTheScale(InvalidInput):
    def __init__(self, measure: str, score: int, lowest: int, highest: int) -> None:
        super().__init__("wellbeing", f"{measure} {score} is outside the scale {lowest}..{highest}")
        self.measure = measure
        self.score = score


class WellbeingCheckMustBeOfASuperviseeInTheSession(InvalidInput):
    def __init__(self, supervisee_id: str) -> None:
        super().__init__("wellbeing", f"{supervisee_id} is not a supervisee of this session")
        self.supervisee_id = supervisee_id


class WellbeingCheckMustBeOnePerSupervisee(InvalidInput):
    def __init__(self, duplicates: Iterable[str]) -> None:
        self.duplicates = tuple(sorted(duplicates))
        super().__init__("wellbeing", f"more than one check for {', '.join(self.duplicates)}")


class PracticeWeekMustStartOnAMonday(InvalidInput):
    def __init__(self, week_start: dt.date) -> None:
        super().__init__("week_start", f"{week_start} is a {week_start:%A}, not a Monday")
        self.week_start = week_start


class PracticeMinutesMustFitInAWeek(InvalidInput):
    def __init__(self, field: str, minutes: int, highest: int) -> None:
        super().__init__(field, f"{minutes} is outside 0..{highest} minutes")
        self.minutes = minutes


class CorrectionMustHaveARecordToCorrect(InvalidInput):
    def __init__(self, supervisee_id: str, site_id: str, week_start: dt.date) -> None:
        super().__init__(
            "correction",
            f"no hours of supervisee {supervisee_id} at {site_id} for the week of {week_start}"
            " are recorded yet; record them without a correction",
        )


class SignOffMustNotPrecedeTheMonthsEnd(InvalidInput):
    def __init__(self, month: str, signed_on: dt.date, last_day: dt.date) -> None:
        super().__init__("signed_on", f"{signed_on} is before {month} ends ({last_day})")
        self.month = month
        self.signed_on = signed_on


class ReopeningMustNotPrecedeTheSignOff(InvalidInput):
    def __init__(self, month: str, reopened_on: dt.date, signed_on: dt.date) -> None:
        super().__init__(
            "reopened_on", f"{reopened_on} is before {month} was signed off ({signed_on})"
        )
        self.month = month


# Rules about the record as it stands (gRPC FAILED_PRECONDITION).


class SuperviseeMustBeRegistered(RuleViolated):
    """Agreements, practice hours and transfers belong to a registered supervisee: the track and
    the provisional license they are earning hours under."""

    def __init__(self, supervisee_id: str, action: str) -> None:
        super().__init__(
            f"supervisee {supervisee_id} is not registered; register them before {action}"
        )
        self.supervisee_id = supervisee_id


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


class TransferMustChangeTheSite(RuleViolated):
    def __init__(self, supervisee_id: str, site_id: str) -> None:
        super().__init__(f"supervisee {supervisee_id}'s home site is already {site_id}")
        self.supervisee_id = supervisee_id
        self.site_id = site_id


class TransferMustNotPrecedeTheLastChange(RuleViolated):
    def __init__(self, supervisee_id: str, effective_on: dt.date, since: dt.date) -> None:
        super().__init__(
            f"supervisee {supervisee_id}'s home site has been set since {since};"
            f" a transfer effective {effective_on} would precede it"
        )
        self.effective_on = effective_on
        self.since = since


class AgreementMustBeInForceToChange(RuleViolated):
    def __init__(self, agreement_id: str, terminated_on: dt.date, action: str) -> None:
        super().__init__(
            f"agreement {agreement_id} is terminated (on {terminated_on});"
            f" only an agreement in force can be {action}"
        )
        self.agreement_id = agreement_id
        self.terminated_on = terminated_on


class AgreementMustStillCoverItsSessions(RuleViolated):
    """Sessions recorded under an agreement stay covered: ending it before them would leave
    supervision on the record that no agreement covers. Void or amend those sessions first."""

    def __init__(self, agreement_id: str, last_day: dt.date, session_ids: Iterable[str]) -> None:
        self.session_ids = tuple(sorted(session_ids))
        super().__init__(
            f"agreement {agreement_id} covers sessions after {last_day}:"
            f" {', '.join(self.session_ids)}"
        )
        self.agreement_id = agreement_id
        self.last_day = last_day


class TerminationMustFallWithinTheAgreement(RuleViolated):
    def __init__(
        self, agreement_id: str, terminated_on: dt.date, start: dt.date, end: dt.date
    ) -> None:
        super().__init__(
            f"agreement {agreement_id} runs from {start} to {end};"
            f" it cannot be terminated on {terminated_on}"
        )
        self.agreement_id = agreement_id
        self.terminated_on = terminated_on


class BoardApprovalMustBeRequiredByTheTrack(RuleViolated):
    def __init__(self, agreement_id: str, track_id: str) -> None:
        super().__init__(
            f"agreement {agreement_id} is under {track_id}, whose board approves no agreements"
        )
        self.agreement_id = agreement_id
        self.track_id = track_id


class AgreementMustBeApprovedOnce(RuleViolated):
    def __init__(self, agreement_id: str, approved_on: dt.date, reference: str) -> None:
        super().__init__(
            f"agreement {agreement_id} is already approved (on {approved_on}, {reference})"
        )
        self.agreement_id = agreement_id


class SessionMustStandToBeChanged(RuleViolated):
    """A voided session stays on the record as it was; it is neither amended nor voided again."""

    def __init__(self, session_id: str, action: str) -> None:
        super().__init__(f"session {session_id} is voided; only a standing session can be {action}")
        self.session_id = session_id


class MonthMustBeOpenToChange(RuleViolated):
    """A signed-off month is locked: nothing in it changes until it is reopened."""

    def __init__(self, supervisee_id: str, month: str, action: str) -> None:
        super().__init__(
            f"{month} of supervisee {supervisee_id} is signed off; reopen it before {action}"
        )
        self.supervisee_id = supervisee_id
        self.month = month


class MonthMustBeOpenToSignOff(RuleViolated):
    def __init__(
        self, supervisee_id: str, month: str, supervisor_id: str, signed_on: dt.date
    ) -> None:
        super().__init__(
            f"{month} of supervisee {supervisee_id} is signed off (by {supervisor_id} on"
            f" {signed_on}); reopen it to sign it again"
        )
        self.supervisee_id = supervisee_id
        self.month = month


class MonthMustBeSignedOffToReopen(RuleViolated):
    def __init__(self, supervisee_id: str, month: str) -> None:
        super().__init__(
            f"{month} of supervisee {supervisee_id} is open; only a signed-off month can be"
            " reopened"
        )
        self.supervisee_id = supervisee_id
        self.month = month


class SignOffMustBeByASupervisorOfTheMonth(RuleViolated):
    def __init__(self, supervisee_id: str, month: str, supervisor_id: str) -> None:
        super().__init__(
            f"supervisor {supervisor_id} holds no agreement with supervisee {supervisee_id}"
            f" in force in {month}"
        )
        self.supervisee_id = supervisee_id
        self.month = month
        self.supervisor_id = supervisor_id


class PracticeHoursCorrectionMustSayWhy(RuleViolated):
    def __init__(self, supervisee_id: str, site_id: str, week_start: dt.date) -> None:
        super().__init__(
            f"the week of {week_start} at {site_id} is already recorded for supervisee"
            f" {supervisee_id} with other figures; a correction must give its reason"
        )
        self.week_start = week_start


# What a command names does not exist (gRPC NOT_FOUND).


class SuperviseeMustBeOnRecord(NotFound):
    def __init__(self, supervisee_id: str) -> None:
        super().__init__(f"supervisee {supervisee_id} is not on record")
        self.supervisee_id = supervisee_id


class AgreementMustExist(NotFound):
    def __init__(self, supervisee_id: str, agreement_id: str) -> None:
        super().__init__(f"supervisee {supervisee_id} has no agreement {agreement_id}")
        self.agreement_id = agreement_id


class SessionMustExist(NotFound):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is not on record")
        self.session_id = session_id


# Client-chosen ids (gRPC ALREADY_EXISTS): a retry with the same content is not an error.


class AgreementIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, agreement_id: str) -> None:
        super().__init__(f"agreement {agreement_id} is already recorded with other content")
        self.agreement_id = agreement_id


class SessionIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is already recorded with other content")
        self.session_id = session_id


class SuperviseeIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, supervisee_id: str) -> None:
        super().__init__(f"supervisee {supervisee_id} is already registered with other details")
        self.supervisee_id = supervisee_id
