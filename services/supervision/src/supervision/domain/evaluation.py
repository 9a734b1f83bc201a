"""The Evaluation aggregate: one stream per competency evaluation, `evaluation-<id>`.

Signed by the supervisor (RecordEvaluation), then acknowledged once by the evaluated supervisee.
Recording is decided against the evaluation's own stream and the supervisee's record (stream
`supervisee-<id>`, read and never written here): the supervisor must have supervised them under
an agreement during the period, and every session cited as evidence must be supervision on their
record (not voided) within the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain.evaluation_commands import AcknowledgeEvaluation, RecordEvaluation
from supervision.domain.evaluation_errors import (
    AcknowledgementMustNotBeDatedInTheFuture,
    AcknowledgementMustNotPrecedeTheSignature,
    EvaluationIdMustNotBeReused,
    EvaluationIsAcknowledgedOnce,
    EvaluationMustBeRecorded,
    EvaluationMustNotBeSignedInTheFuture,
    EvaluationPeriodMustNotEndInTheFuture,
    EvidenceMustBeSupervisionTheSuperviseeReceived,
    EvidenceMustFallWithinThePeriod,
    EvidenceMustNotBeAVoidedSession,
    OnlyTheEvaluatedSuperviseeMayAcknowledge,
    SuperviseeMustBeOnRecord,
    SupervisorMustHoldAnAgreementCoveringThePeriod,
)
from supervision.domain.evaluation_events import EvaluationAcknowledged, EvaluationSigned
from supervision.domain.supervisee import SuperviseeState

EvaluationStatus = Literal["not_recorded", "signed", "acknowledged"]


def stream_id(evaluation_id: str) -> str:
    return f"evaluation-{evaluation_id}"


class EvaluationState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # The evaluation as the supervisor signed it; None until then.
    signed: EvaluationSigned | None = None
    acknowledged_on: dt.date | None = None

    @property
    def status(self) -> EvaluationStatus:
        if self.signed is None:
            return "not_recorded"
        return "signed" if self.acknowledged_on is None else "acknowledged"


INITIAL = EvaluationState()


def decide_record(
    state: EvaluationState, record: SuperviseeState, command: RecordEvaluation, today: dt.date
) -> list[DomainEvent]:
    """The events signing an evaluation records; [] when the same evaluation is already
    recorded. `record` is the evaluated supervisee's state."""
    proposed = _signed(command)
    if state.signed is not None:
        if _same_content(state.signed, proposed):
            return []
        raise EvaluationIdMustNotBeReused(command.evaluation_id)
    if command.period_end > today:
        raise EvaluationPeriodMustNotEndInTheFuture(command.period_end, today)
    if command.signed_on > today:
        raise EvaluationMustNotBeSignedInTheFuture(command.signed_on, today)
    if record.supervisee_id is None:
        raise SuperviseeMustBeOnRecord(command.supervisee_id)
    if record.supervisee_id != command.supervisee_id:
        raise ValueError(f"{command.supervisee_id}'s evaluation decided on another's record")
    start, end = command.period_start, command.period_end
    if not any(
        a.supervisor_id == command.supervisor_id and a.overlaps(start, end)
        for a in record.agreements
    ):
        raise SupervisorMustHoldAnAgreementCoveringThePeriod(
            command.supervisor_id, command.supervisee_id, start, end
        )
    for session_id in command.evidence_session_ids:
        received = record.supervision.get(session_id)
        if received is None:
            raise EvidenceMustBeSupervisionTheSuperviseeReceived(session_id, command.supervisee_id)
        if received.voided:
            raise EvidenceMustNotBeAVoidedSession(session_id, command.supervisee_id)
        # The session's date as it stands, amendments included.
        if not start <= received.date <= end:
            raise EvidenceMustFallWithinThePeriod(session_id, received.date, start, end)
    return [proposed]


def decide_acknowledge(
    state: EvaluationState, command: AcknowledgeEvaluation, today: dt.date
) -> list[DomainEvent]:
    """The events acknowledging an evaluation records; [] when it is already acknowledged on
    that day."""
    signed = state.signed
    if signed is None:
        raise EvaluationMustBeRecorded(command.evaluation_id)
    if command.supervisee_id != signed.supervisee_id:
        raise OnlyTheEvaluatedSuperviseeMayAcknowledge(
            command.evaluation_id, signed.supervisee_id, command.supervisee_id
        )
    if state.acknowledged_on is not None:
        if state.acknowledged_on == command.acknowledged_on:
            return []
        raise EvaluationIsAcknowledgedOnce(command.evaluation_id, state.acknowledged_on)
    if command.acknowledged_on > today:
        raise AcknowledgementMustNotBeDatedInTheFuture(command.acknowledged_on, today)
    if command.acknowledged_on < signed.signed_on:
        raise AcknowledgementMustNotPrecedeTheSignature(command.acknowledged_on, signed.signed_on)
    return [
        EvaluationAcknowledged(
            evaluation_id=command.evaluation_id,
            supervisee_id=command.supervisee_id,
            acknowledged_on=command.acknowledged_on,
        )
    ]


def evolve(state: EvaluationState, event: DomainEvent) -> EvaluationState:
    match event:
        case EvaluationSigned():
            return EvaluationState(signed=event)
        case EvaluationAcknowledged():
            return state.model_copy(update={"acknowledged_on": event.acknowledged_on})
        case _:
            raise TypeError(f"an evaluation stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: EvaluationState = INITIAL) -> EvaluationState:
    for event in events:
        state = evolve(state, event)
    return state


def _signed(command: RecordEvaluation) -> EvaluationSigned:
    rated_against = command.rated_against
    by_domain = {s.domain: s for s in command.scores}
    return EvaluationSigned(
        evaluation_id=command.evaluation_id,
        supervisee_id=command.supervisee_id,
        supervisor_id=command.supervisor_id,
        framework=rated_against.framework_id,
        framework_version=rated_against.version,
        scale_min=rated_against.scale_min,
        scale_max=rated_against.scale_max,
        expected_min=rated_against.expected_min,
        trigger=command.trigger,
        period_start=command.period_start,
        period_end=command.period_end,
        scores=tuple(by_domain[domain] for domain in rated_against.domains),
        below_expectations=rated_against.below_expectations(command.scores),
        evidence_session_ids=command.evidence_session_ids,
        strengths=command.strengths,
        limitations=command.limitations,
        # A blank plan is no plan (the command only admits one when a domain is below).
        remediation_plan=command.remediation_plan
        if (command.remediation_plan or "").strip()
        else None,
        signed_on=command.signed_on,
    )


def _same_content(recorded: EvaluationSigned, proposed: EvaluationSigned) -> bool:
    """Whether a retry asks for exactly the recorded evaluation. The order scores and evidence
    were listed in does not matter; the scale is compared as it was recorded."""
    return recorded.model_copy(
        update={"evidence_session_ids": tuple(sorted(recorded.evidence_session_ids))}
    ) == proposed.model_copy(
        update={"evidence_session_ids": tuple(sorted(proposed.evidence_session_ids))}
    )
