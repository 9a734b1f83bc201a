"""What a supervisor and a supervisee ask to record about a competency evaluation. Each command
checks its own fields; what depends on the record is decided in `evaluation`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, model_validator

from contracts.fields import check_text
from infra.ddd import Command, Id
from supervision.domain.evaluation_errors import (
    EvaluationMustCiteEvidence,
    EvaluationMustNotBeSignedBeforeItsPeriodEnds,
    EvaluationPeriodMustEndAfterItStarts,
    EvaluationTextMustBeWritten,
    EvaluationTextMustFit,
    EveryFrameworkDomainMustBeScored,
    EvidenceMustBeListedOnce,
    FrameworkMustBeKnown,
    FrameworkVersionMustBeKnown,
    RemediationPlanMustAnswerADomainBelowExpectations,
    RemediationPlanMustBeGivenBelowExpectations,
    ScoreMustBeForAFrameworkDomain,
    ScoreMustBeGivenOncePerDomain,
    ScoreMustBeWithinTheScale,
    SupervisorMustNotEvaluateThemself,
)
from supervision.domain.evaluation_frameworks import (
    KNOWN_FRAMEWORKS,
    CompetencyFramework,
    DomainScore,
    framework,
    known_versions,
)

# What set off the evaluation: the cadence the board or the organization sets (quarterly in NC
# and OH, annual and at termination in CA), a training milestone, or a supervisor's concern.
EvaluationTrigger = Literal["quarterly", "annual", "midterm", "final", "termination", "ad_hoc"]

# A page of narrative per field; longer belongs in a document the evaluation refers to.
MAX_TEXT_CHARACTERS = 4000


# Free text of the evaluation: its characters are checked here, its length by the rules below.
Narrative = Annotated[str, AfterValidator(check_text)]


class RecordEvaluation(Command):
    """The supervisor's signed evaluation of a supervisee's competency over a period."""

    key_fields: ClassVar[tuple[str, ...]] = ("evaluation_id",)

    evaluation_id: Id
    supervisee_id: Id
    supervisor_id: Id
    framework: str
    framework_version: str
    trigger: EvaluationTrigger
    period_start: dt.date
    # The last day the evaluation covers (inclusive).
    period_end: dt.date
    scores: tuple[DomainScore, ...]
    evidence_session_ids: tuple[Id, ...]
    # About the supervisee's practice; never published.
    strengths: Narrative
    limitations: Narrative
    remediation_plan: Narrative | None = None
    signed_on: dt.date

    @property
    def rated_against(self) -> CompetencyFramework:
        """The framework the scores are on (known once the command exists)."""
        known = framework(self.framework, self.framework_version)
        if known is None:  # unreachable: the command refuses an unknown framework
            raise LookupError(f"{self.framework} {self.framework_version}")
        return known

    @model_validator(mode="after")
    def _check(self) -> Self:
        rated_against = self._check_framework()
        if self.supervisor_id == self.supervisee_id:
            raise SupervisorMustNotEvaluateThemself(self.supervisor_id)
        if self.period_end <= self.period_start:
            raise EvaluationPeriodMustEndAfterItStarts(self.period_start, self.period_end)
        if self.signed_on < self.period_end:
            raise EvaluationMustNotBeSignedBeforeItsPeriodEnds(self.signed_on, self.period_end)
        self._check_scores(rated_against)
        if not self.evidence_session_ids:
            raise EvaluationMustCiteEvidence()
        duplicates = [sid for sid, n in Counter(self.evidence_session_ids).items() if n > 1]
        if duplicates:
            raise EvidenceMustBeListedOnce(duplicates)
        _check_text("strengths", self.strengths, required=True)
        _check_text("limitations", self.limitations, required=True)
        _check_text("remediation_plan", self.remediation_plan or "", required=False)
        below = rated_against.below_expectations(self.scores)
        has_plan = bool((self.remediation_plan or "").strip())
        if below and not has_plan:
            raise RemediationPlanMustBeGivenBelowExpectations(below, rated_against.expected_min)
        if has_plan and not below:
            raise RemediationPlanMustAnswerADomainBelowExpectations(rated_against.expected_min)
        return self

    def _check_framework(self) -> CompetencyFramework:
        if self.framework not in KNOWN_FRAMEWORKS:
            raise FrameworkMustBeKnown(self.framework, KNOWN_FRAMEWORKS)
        rated_against = framework(self.framework, self.framework_version)
        if rated_against is None:
            raise FrameworkVersionMustBeKnown(
                self.framework, self.framework_version, known_versions(self.framework)
            )
        return rated_against

    def _check_scores(self, rated_against: CompetencyFramework) -> None:
        name = f"{rated_against.framework_id} {rated_against.version}"
        seen: set[str] = set()
        for score in self.scores:
            if score.domain not in rated_against.domains:
                raise ScoreMustBeForAFrameworkDomain(score.domain, name, rated_against.domains)
            if score.domain in seen:
                raise ScoreMustBeGivenOncePerDomain(score.domain)
            seen.add(score.domain)
            if not rated_against.scale_min <= score.score <= rated_against.scale_max:
                raise ScoreMustBeWithinTheScale(
                    score.domain, score.score, rated_against.scale_min, rated_against.scale_max
                )
        for domain in rated_against.domains:
            if domain not in seen:
                raise EveryFrameworkDomainMustBeScored(domain, name)


class AcknowledgeEvaluation(Command):
    """The evaluated supervisee's acknowledgement (not necessarily agreement) of a signed
    evaluation."""

    key_fields: ClassVar[tuple[str, ...]] = ("evaluation_id",)

    evaluation_id: Id
    supervisee_id: Id
    acknowledged_on: dt.date


def _check_text(field: str, text: str, *, required: bool) -> None:
    if required and not text.strip():
        raise EvaluationTextMustBeWritten(field)
    if len(text) > MAX_TEXT_CHARACTERS:
        raise EvaluationTextMustFit(field, len(text), MAX_TEXT_CHARACTERS)
