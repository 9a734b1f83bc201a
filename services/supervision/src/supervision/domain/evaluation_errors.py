"""The competency evaluation rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class FrameworkMustBeKnown(InvalidInput):
    def __init__(self, framework_id: str, known: Iterable[str]) -> None:
        super().__init__(
            "framework", f"unknown framework {framework_id!r}; known: {', '.join(sorted(known))}"
        )
        self.framework_id = framework_id


class FrameworkVersionMustBeKnown(InvalidInput):
    def __init__(self, framework_id: str, version: str, known: Iterable[str]) -> None:
        super().__init__(
            "framework_version",
            f"{framework_id} has no version {version!r}; known: {', '.join(sorted(known))}",
        )
        self.framework_id = framework_id
        self.version = version


class SupervisorMustNotEvaluateThemself(InvalidInput):
    def __init__(self, person_id: str) -> None:
        super().__init__("supervisee_id", f"{person_id} cannot evaluate themself")
        self.person_id = person_id


class EvaluationPeriodMustEndAfterItStarts(InvalidInput):
    def __init__(self, period_start: dt.date, period_end: dt.date) -> None:
        super().__init__("period_end", f"{period_end} is not after period_start {period_start}")
        self.period_start = period_start
        self.period_end = period_end


class EvaluationMustNotBeSignedBeforeItsPeriodEnds(InvalidInput):
    """A supervisor evaluates a period that is over: a midterm evaluation's period ends at the
    midterm."""

    def __init__(self, signed_on: dt.date, period_end: dt.date) -> None:
        super().__init__("signed_on", f"{signed_on} is before period_end {period_end}")
        self.signed_on = signed_on
        self.period_end = period_end


class ScoreMustBeForAFrameworkDomain(InvalidInput):
    def __init__(self, domain: str, framework: str, domains: Iterable[str]) -> None:
        super().__init__(
            f"scores[{domain}]",
            f"not a domain of {framework}; its domains: {', '.join(domains)}",
        )
        self.domain = domain


class ScoreMustBeGivenOncePerDomain(InvalidInput):
    def __init__(self, domain: str) -> None:
        super().__init__(f"scores[{domain}]", "scored more than once")
        self.domain = domain


class EveryFrameworkDomainMustBeScored(InvalidInput):
    def __init__(self, domain: str, framework: str) -> None:
        super().__init__(f"scores[{domain}]", f"is missing: {framework} scores every domain")
        self.domain = domain


class ScoreMustBeWithinTheScale(InvalidInput):
    def __init__(self, domain: str, score: int, lowest: int, highest: int) -> None:
        super().__init__(f"scores[{domain}]", f"{score} is outside the scale {lowest}..{highest}")
        self.domain = domain
        self.score = score


class EvaluationMustCiteEvidence(InvalidInput):
    def __init__(self) -> None:
        super().__init__("evidence_session_ids", "at least one session is required as evidence")


class EvidenceMustBeListedOnce(InvalidInput):
    def __init__(self, duplicates: Iterable[str]) -> None:
        self.duplicates = tuple(sorted(duplicates))
        super().__init__(
            "evidence_session_ids", f"listed more than once: {', '.join(self.duplicates)}"
        )


class EvaluationTextMustBeWritten(InvalidInput):
    """Strengths and limitations are the narrative an evaluation exists for."""

    def __init__(self, field: str) -> None:
        super().__init__(field, "is required")


class EvaluationTextMustFit(InvalidInput):
    def __init__(self, field: str, length: int, limit: int) -> None:
        super().__init__(field, f"{length} characters; at most {limit}")
        self.length = length


class RemediationPlanMustBeGivenBelowExpectations(InvalidInput):
    def __init__(self, below: Iterable[str], expected_min: int) -> None:
        self.below = tuple(below)
        super().__init__(
            "remediation_plan",
            f"is required: {', '.join(self.below)} scored below the expected minimum"
            f" {expected_min}",
        )


class RemediationPlanMustAnswerADomainBelowExpectations(InvalidInput):
    """A remediation plan is the formal answer to a domain below expectations; with none below,
    goals for growth belong in the limitations, so `remediation_required` always means what it
    says."""

    def __init__(self, expected_min: int) -> None:
        super().__init__(
            "remediation_plan",
            f"no domain scored below the expected minimum {expected_min}, so there is nothing"
            " to remediate",
        )


class EvaluationPeriodMustNotEndInTheFuture(InvalidInput):
    def __init__(self, period_end: dt.date, today: dt.date) -> None:
        super().__init__("period_end", f"{period_end} is after today ({today})")
        self.period_end = period_end


class EvaluationMustNotBeSignedInTheFuture(InvalidInput):
    def __init__(self, signed_on: dt.date, today: dt.date) -> None:
        super().__init__("signed_on", f"{signed_on} is after today ({today})")
        self.signed_on = signed_on


class AcknowledgementMustNotBeDatedInTheFuture(InvalidInput):
    def __init__(self, acknowledged_on: dt.date, today: dt.date) -> None:
        super().__init__("acknowledged_on", f"{acknowledged_on} is after today ({today})")
        self.acknowledged_on = acknowledged_on


class AcknowledgementMustNotPrecedeTheSignature(InvalidInput):
    def __init__(self, acknowledged_on: dt.date, signed_on: dt.date) -> None:
        super().__init__(
            "acknowledged_on",
            f"{acknowledged_on} is before the supervisor signed the evaluation on {signed_on}",
        )
        self.acknowledged_on = acknowledged_on
        self.signed_on = signed_on


# Records that must exist (gRPC NOT_FOUND).


class SuperviseeMustBeOnRecord(NotFound):
    def __init__(self, supervisee_id: str) -> None:
        super().__init__(f"supervisee {supervisee_id} has no supervision record")
        self.supervisee_id = supervisee_id


class EvaluationMustBeRecorded(NotFound):
    def __init__(self, evaluation_id: str) -> None:
        super().__init__(f"evaluation {evaluation_id} is not recorded")
        self.evaluation_id = evaluation_id


# Rules about the record as it stands (gRPC FAILED_PRECONDITION).


class SupervisorMustHoldAnAgreementCoveringThePeriod(RuleViolated):
    """Only a supervisor who supervised the supervisee during the period can evaluate it: an
    agreement between them must be in force on at least one day of the period."""

    def __init__(
        self, supervisor_id: str, supervisee_id: str, period_start: dt.date, period_end: dt.date
    ) -> None:
        super().__init__(
            f"supervisor {supervisor_id} holds no agreement with supervisee {supervisee_id}"
            f" in force during {period_start}..{period_end}"
        )
        self.supervisor_id = supervisor_id
        self.supervisee_id = supervisee_id


class EvidenceMustBeSupervisionTheSuperviseeReceived(RuleViolated):
    def __init__(self, session_id: str, supervisee_id: str) -> None:
        super().__init__(
            f"session {session_id} is not supervision on supervisee {supervisee_id}'s record"
        )
        self.session_id = session_id
        self.supervisee_id = supervisee_id


class EvidenceMustNotBeAVoidedSession(RuleViolated):
    """A voided session stays on the record but counts for no one, as evidence neither."""

    def __init__(self, session_id: str, supervisee_id: str) -> None:
        super().__init__(
            f"session {session_id} on supervisee {supervisee_id}'s record is voided; a voided"
            " session is no evidence"
        )
        self.session_id = session_id
        self.supervisee_id = supervisee_id


class EvidenceMustFallWithinThePeriod(RuleViolated):
    def __init__(
        self, session_id: str, date: dt.date, period_start: dt.date, period_end: dt.date
    ) -> None:
        super().__init__(
            f"session {session_id} on {date} is outside the evaluated period"
            f" {period_start}..{period_end}"
        )
        self.session_id = session_id
        self.date = date


class OnlyTheEvaluatedSuperviseeMayAcknowledge(RuleViolated):
    def __init__(self, evaluation_id: str, evaluated: str, acknowledging: str) -> None:
        super().__init__(
            f"evaluation {evaluation_id} evaluated supervisee {evaluated}; {acknowledging}"
            " cannot acknowledge it"
        )
        self.evaluation_id = evaluation_id


class EvaluationIsAcknowledgedOnce(RuleViolated):
    def __init__(self, evaluation_id: str, acknowledged_on: dt.date) -> None:
        super().__init__(
            f"evaluation {evaluation_id} is acknowledged (on {acknowledged_on}); an evaluation"
            " is acknowledged once"
        )
        self.evaluation_id = evaluation_id
        self.acknowledged_on = acknowledged_on


# Client-chosen ids (gRPC ALREADY_EXISTS): a retry with the same content is not an error.


class EvaluationIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, evaluation_id: str) -> None:
        super().__init__(f"evaluation {evaluation_id} is already recorded with other content")
        self.evaluation_id = evaluation_id
