"""What the supervision service records about competency evaluations (stream
`evaluation-<id>`). Private to the service: published as CompetencyEvaluated and
EvaluationAcknowledged, without the narrative."""

from __future__ import annotations

import datetime as dt

from infra.ddd import DomainEvent, EventTypes, TypedText
from supervision.domain.evaluation_commands import EvaluationTrigger
from supervision.domain.evaluation_frameworks import DomainScore


class EvaluationSigned(DomainEvent):
    """A supervisor signed a competency evaluation of a supervisee for a period.

    The framework's scale and expected minimum are recorded as they were when it was signed, so
    the evaluation reads the same whatever the framework table says later.
    """

    type = "EvaluationSigned"

    evaluation_id: str
    supervisee_id: str
    supervisor_id: str
    framework: str
    framework_version: str
    scale_min: int
    scale_max: int
    expected_min: int
    trigger: EvaluationTrigger
    period_start: dt.date
    period_end: dt.date
    # One per framework domain, in the framework's order.
    scores: tuple[DomainScore, ...]
    below_expectations: tuple[str, ...]
    evidence_session_ids: tuple[str, ...]
    # The narrative about the supervisee: stays in supervision, never published.
    strengths: TypedText
    limitations: TypedText
    remediation_plan: TypedText | None
    signed_on: dt.date

    @property
    def remediation_required(self) -> bool:
        return bool(self.below_expectations)


class EvaluationAcknowledged(DomainEvent):
    """The evaluated supervisee acknowledged a signed evaluation."""

    type = "EvaluationAcknowledged"

    evaluation_id: str
    supervisee_id: str
    acknowledged_on: dt.date


EVALUATION_EVENTS: tuple[type[DomainEvent], ...] = (EvaluationSigned, EvaluationAcknowledged)
EVALUATION_EVENT_TYPES = EventTypes(EVALUATION_EVENTS)
