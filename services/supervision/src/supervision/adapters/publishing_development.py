"""Translation of the evaluation and consultation events into the contracts they publish.

Chained in front of `publishing.translate` by the composition root: this translator answers for
the `evaluation-<id>` and `consultation-<id>` streams and returns None for every other event.
"""

from __future__ import annotations

from contracts.events import EventContract
from contracts.events import supervision as contract
from infra.application import published
from infra.ddd import EventTypes
from infra.eventstore import OutboxMessage, RecordedEvent
from supervision.domain import consultation, evaluation
from supervision.domain.consultation import CONSULTATION_EVENTS, ConsultationLogged
from supervision.domain.evaluation_events import (
    EVALUATION_EVENTS,
    EvaluationAcknowledged,
    EvaluationSigned,
)

DEVELOPMENT_EVENT_TYPES = EventTypes([*EVALUATION_EVENTS, *CONSULTATION_EVENTS])
"""Every private event of the evaluation and consultation streams."""

_STREAM_PREFIXES = (evaluation.stream_id(""), consultation.stream_id(""))


def is_development_event(recorded: RecordedEvent) -> bool:
    """Whether the event belongs to an evaluation or a consultation stream."""
    return recorded.stream_id.startswith(_STREAM_PREFIXES)


def translate_development(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message an evaluation or consultation event publishes; None for any other event."""
    if not is_development_event(recorded):
        return None
    event = DEVELOPMENT_EVENT_TYPES.load(recorded.type, recorded.data)
    match event:
        case EvaluationSigned():
            # Scores, evidence and whether remediation is required; never the narrative
            # (strengths, limitations, the remediation plan's text).
            public: EventContract = contract.CompetencyEvaluated(
                evaluation_id=event.evaluation_id,
                supervisee_id=event.supervisee_id,
                supervisor_id=event.supervisor_id,
                framework=event.framework,
                framework_version=event.framework_version,
                scale_min=event.scale_min,
                scale_max=event.scale_max,
                expected_min=event.expected_min,
                trigger=event.trigger,
                period_start=event.period_start,
                period_end=event.period_end,
                scores=tuple(
                    contract.DomainScore(domain=s.domain, score=s.score) for s in event.scores
                ),
                below_expectations=event.below_expectations,
                remediation_required=event.remediation_required,
                evidence_session_ids=event.evidence_session_ids,
                signed_on=event.signed_on,
            )
        case EvaluationAcknowledged():
            public = contract.EvaluationAcknowledged(
                supervisee_id=event.supervisee_id,
                evaluation_id=event.evaluation_id,
                acknowledged_on=event.acknowledged_on,
            )
        case ConsultationLogged():
            public = contract.ConsultationLogged(**event.to_data())
        case _:
            return None
    return published(recorded, public)
