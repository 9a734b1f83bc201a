"""Competency evaluations: given the supervisee's record and the evaluation's stream, when
RecordEvaluation or AcknowledgeEvaluation, then events or the named error."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts.events import CompetencyEvaluated, EvaluationAcknowledged, parse
from infra.ddd import DomainEvent, InvalidInput
from infra.eventstore import EventMetadata, RecordedEvent
from supervision.adapters.publishing_development import translate_development
from supervision.domain import evaluation, supervisee
from supervision.domain.evaluation import EvaluationState, decide_acknowledge, decide_record
from supervision.domain.evaluation_commands import (
    MAX_TEXT_CHARACTERS,
    AcknowledgeEvaluation,
    RecordEvaluation,
)
from supervision.domain.evaluation_errors import (
    AcknowledgementMustNotBeDatedInTheFuture,
    AcknowledgementMustNotPrecedeTheSignature,
    EvaluationIdMustNotBeReused,
    EvaluationIsAcknowledgedOnce,
    EvaluationMustBeRecorded,
    EvaluationMustCiteEvidence,
    EvaluationMustNotBeSignedBeforeItsPeriodEnds,
    EvaluationMustNotBeSignedInTheFuture,
    EvaluationPeriodMustEndAfterItStarts,
    EvaluationPeriodMustNotEndInTheFuture,
    EvaluationTextMustBeWritten,
    EvaluationTextMustFit,
    EveryFrameworkDomainMustBeScored,
    EvidenceMustBeListedOnce,
    EvidenceMustBeSupervisionTheSuperviseeReceived,
    EvidenceMustFallWithinThePeriod,
    EvidenceMustNotBeAVoidedSession,
    FrameworkMustBeKnown,
    FrameworkVersionMustBeKnown,
    OnlyTheEvaluatedSuperviseeMayAcknowledge,
    RemediationPlanMustAnswerADomainBelowExpectations,
    RemediationPlanMustBeGivenBelowExpectations,
    ScoreMustBeForAFrameworkDomain,
    ScoreMustBeGivenOncePerDomain,
    ScoreMustBeWithinTheScale,
    SuperviseeMustBeOnRecord,
    SupervisorMustHoldAnAgreementCoveringThePeriod,
    SupervisorMustNotEvaluateThemself,
)
from supervision.domain.evaluation_events import EvaluationSigned
from supervision.domain.evaluation_frameworks import FRAMEWORKS
from supervision.domain.events import (
    AgreementSigned,
    AgreementTerminated,
    SuperviseeRegistered,
    SupervisionReceived,
    SupervisionVoided,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-04-15")
APA = ("professionalism", "relational", "science", "application", "education", "systems")


# Given: the supervisee's own stream, as the supervision core records it.


def agreement(**overrides: Any) -> AgreementSigned:
    fields: dict[str, Any] = {
        "agreement_id": "agr-1",
        "supervisor_id": "sup-1",
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "credential_track": "TX-LPC-ASSOCIATE",
        "start_date": D("2026-01-01"),
        "end_date": D("2026-12-31"),
    }
    return AgreementSigned(**(fields | overrides))


def received(session_id: str, day: str, **overrides: Any) -> SupervisionReceived:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "date": D(day),
        "minutes": 60,
        "format": "individual",
        "modality": "in_person",
        "supervisor_id": "sup-1",
        "site_id": "site-a",
    }
    return SupervisionReceived(**(fields | overrides))


REGISTERED = SuperviseeRegistered(
    supervisee_id="see-1",
    credential_track="TX-LPC-ASSOCIATE",
    license_number="LPC-A-1",
    home_site_id="site-a",
    registered_on=D("2025-06-01"),
)


def record(*events: DomainEvent) -> supervisee.SuperviseeState:
    """A registered supervisee's state after these events."""
    return supervisee.fold([REGISTERED, *events])


# A supervisee under agreement with sup-1 all year, with two sessions in the first quarter and
# one in the second.
SEE_1 = record(
    agreement(),
    received("ses-jan", "2026-01-12"),
    received("ses-mar", "2026-03-09"),
    received("ses-apr", "2026-04-06"),
)


def scores(**overrides: int) -> list[dict[str, Any]]:
    return [{"domain": d, "score": overrides.get(d, 3)} for d in APA]


def command(**overrides: Any) -> RecordEvaluation:
    fields: dict[str, Any] = {
        "evaluation_id": "ev-1",
        "supervisee_id": "see-1",
        "supervisor_id": "sup-1",
        "framework": "apa-benchmarks",
        "framework_version": "2011",
        "trigger": "quarterly",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "scores": scores(),
        "evidence_session_ids": ["ses-jan", "ses-mar"],
        "strengths": "Builds alliance quickly; seeks feedback.",
        "limitations": "Case conceptualization still tentative.",
        "signed_on": "2026-04-02",
    }
    return RecordEvaluation(**(fields | overrides))


def invalid(field: str, **overrides: Any) -> InvalidInput:
    """The InvalidInput a command with these fields is refused with, checked to name `field`."""
    with pytest.raises(InvalidInput) as refused:
        command(**overrides)
    assert refused.value.field == field, refused.value
    return refused.value


def signed(**overrides: Any) -> EvaluationState:
    """The evaluation's state once the command was decided and its events applied."""
    return evaluation.fold(decide_record(evaluation.INITIAL, SEE_1, command(**overrides), TODAY))


def acknowledge(**overrides: Any) -> AcknowledgeEvaluation:
    fields: dict[str, Any] = {
        "evaluation_id": "ev-1",
        "supervisee_id": "see-1",
        "acknowledged_on": "2026-04-03",
    }
    return AcknowledgeEvaluation(**(fields | overrides))


# Recording a signed evaluation.


def test_signing_records_the_scores_in_framework_order_with_the_scale_it_was_signed_on() -> None:
    reordered = list(reversed(scores(systems=4)))

    (event,) = decide_record(evaluation.INITIAL, SEE_1, command(scores=reordered), TODAY)

    assert isinstance(event, EvaluationSigned)
    assert [(s.domain, s.score) for s in event.scores] == [
        (d, 4 if d == "systems" else 3) for d in APA
    ]
    assert (event.scale_min, event.scale_max, event.expected_min) == (0, 4, 3)
    assert event.below_expectations == ()
    assert not event.remediation_required
    assert event.remediation_plan is None
    assert event.evidence_session_ids == ("ses-jan", "ses-mar")
    assert evaluation.fold([event]).status == "signed"


def test_a_domain_below_expectations_requires_remediation_and_the_plan_is_kept() -> None:
    low = scores(science=2, professionalism=1)

    state = signed(scores=low, remediation_plan="Weekly case-formulation review.")

    assert state.signed is not None
    assert state.signed.below_expectations == ("professionalism", "science")
    assert state.signed.remediation_required
    assert state.signed.remediation_plan == "Weekly case-formulation review."


def test_a_retry_with_the_same_content_in_another_order_records_nothing() -> None:
    state = signed()
    retry = command(scores=list(reversed(scores())), evidence_session_ids=["ses-mar", "ses-jan"])

    assert decide_record(state, SEE_1, retry, TODAY) == []


def test_reusing_an_evaluation_id_with_other_content_is_refused() -> None:
    state = signed()

    with pytest.raises(EvaluationIdMustNotBeReused):
        decide_record(state, SEE_1, command(scores=scores(systems=4)), TODAY)


def test_the_organization_rubric_scores_its_own_domains_on_its_own_scale() -> None:
    rubric = ["intervention", "conceptualization", "personalization", "ethics_and_law"]
    rubric_scores = [{"domain": d, "score": 5} for d in [*rubric, "professional_identity"]]

    (event,) = decide_record(
        evaluation.INITIAL,
        SEE_1,
        command(framework="continuum-clinical", framework_version="2026.1", scores=rubric_scores),
        TODAY,
    )

    assert isinstance(event, EvaluationSigned)
    assert (event.scale_min, event.scale_max, event.expected_min) == (1, 5, 3)


def test_every_framework_expects_a_minimum_within_its_scale_and_names_each_domain_once() -> None:
    for rated_against in FRAMEWORKS.values():
        assert rated_against.scale_min < rated_against.expected_min <= rated_against.scale_max
        assert len(set(rated_against.domains)) == len(rated_against.domains)
        assert rated_against.sources


# Malformed evaluations: InvalidInput naming the field.


def test_an_unknown_framework_is_refused() -> None:
    error = invalid("framework", framework="benchmarks")
    assert isinstance(error, FrameworkMustBeKnown)


def test_an_unknown_version_of_a_known_framework_is_refused() -> None:
    error = invalid("framework_version", framework_version="2009")
    assert isinstance(error, FrameworkVersionMustBeKnown)


def test_an_unknown_trigger_is_refused() -> None:
    invalid("trigger", trigger="monthly")


def test_a_supervisor_cannot_evaluate_themself() -> None:
    error = invalid("supervisee_id", supervisee_id="sup-1")
    assert isinstance(error, SupervisorMustNotEvaluateThemself)


@pytest.mark.parametrize("period_end", ["2026-01-01", "2025-12-31"])
def test_the_period_must_end_after_it_starts(period_end: str) -> None:
    error = invalid("period_end", period_end=period_end)
    assert isinstance(error, EvaluationPeriodMustEndAfterItStarts)


def test_an_evaluation_is_not_signed_before_its_period_ends() -> None:
    error = invalid("signed_on", signed_on="2026-03-30")
    assert isinstance(error, EvaluationMustNotBeSignedBeforeItsPeriodEnds)


def test_a_score_for_a_domain_the_framework_does_not_have_is_refused() -> None:
    error = invalid("scores[empathy]", scores=[*scores(), {"domain": "empathy", "score": 3}])
    assert isinstance(error, ScoreMustBeForAFrameworkDomain)


def test_a_domain_scored_twice_is_refused() -> None:
    error = invalid("scores[relational]", scores=[*scores(), {"domain": "relational", "score": 4}])
    assert isinstance(error, ScoreMustBeGivenOncePerDomain)


def test_every_domain_of_the_framework_must_be_scored() -> None:
    error = invalid("scores[systems]", scores=scores()[:-1])
    assert isinstance(error, EveryFrameworkDomainMustBeScored)


@pytest.mark.parametrize("score", [-1, 5])
def test_a_score_outside_the_framework_scale_is_refused(score: int) -> None:
    error = invalid(
        "scores[professionalism]",
        scores=scores(professionalism=score),
        remediation_plan="Plan.",
    )
    assert isinstance(error, ScoreMustBeWithinTheScale)


def test_the_organization_rubric_refuses_a_zero_the_apa_scale_allows() -> None:
    rubric = ["intervention", "conceptualization", "personalization", "ethics_and_law"]
    rubric_scores = [{"domain": d, "score": 3} for d in rubric]
    error = invalid(
        "scores[professional_identity]",
        framework="continuum-clinical",
        framework_version="2026.1",
        scores=[*rubric_scores, {"domain": "professional_identity", "score": 0}],
        remediation_plan="Plan.",
    )
    assert isinstance(error, ScoreMustBeWithinTheScale)


def test_an_evaluation_cites_at_least_one_session_as_evidence() -> None:
    error = invalid("evidence_session_ids", evidence_session_ids=[])
    assert isinstance(error, EvaluationMustCiteEvidence)


def test_evidence_is_listed_once() -> None:
    error = invalid("evidence_session_ids", evidence_session_ids=["ses-jan", "ses-jan"])
    assert isinstance(error, EvidenceMustBeListedOnce)


@pytest.mark.parametrize("field", ["strengths", "limitations"])
def test_strengths_and_limitations_are_written(field: str) -> None:
    error = invalid(field, **{field: "  "})
    assert isinstance(error, EvaluationTextMustBeWritten)


def test_the_narrative_fits_a_page() -> None:
    error = invalid("limitations", limitations="x" * (MAX_TEXT_CHARACTERS + 1))
    assert isinstance(error, EvaluationTextMustFit)


def test_a_domain_below_expectations_without_a_remediation_plan_is_refused() -> None:
    error = invalid("remediation_plan", scores=scores(science=2))
    assert isinstance(error, RemediationPlanMustBeGivenBelowExpectations)
    assert "science" in error.reason


def test_a_remediation_plan_with_no_domain_below_expectations_is_refused() -> None:
    error = invalid("remediation_plan", remediation_plan="Read more.")
    assert isinstance(error, RemediationPlanMustAnswerADomainBelowExpectations)


def test_a_period_that_has_not_ended_cannot_be_evaluated() -> None:
    with pytest.raises(EvaluationPeriodMustNotEndInTheFuture) as refused:
        decide_record(
            evaluation.INITIAL,
            SEE_1,
            command(period_end="2026-06-30", signed_on="2026-06-30"),
            TODAY,
        )
    assert refused.value.field == "period_end"


def test_an_evaluation_is_not_signed_in_the_future() -> None:
    with pytest.raises(EvaluationMustNotBeSignedInTheFuture) as refused:
        decide_record(evaluation.INITIAL, SEE_1, command(signed_on="2026-04-16"), TODAY)
    assert refused.value.field == "signed_on"


# Rules about the supervisee's record.


def test_a_supervisee_with_no_record_cannot_be_evaluated() -> None:
    with pytest.raises(SuperviseeMustBeOnRecord) as refused:
        decide_record(evaluation.INITIAL, supervisee.INITIAL, command(), TODAY)
    assert refused.value.supervisee_id == "see-1"


def test_a_supervisor_without_an_agreement_with_the_supervisee_cannot_evaluate() -> None:
    other = record(
        agreement(),
        agreement(agreement_id="agr-2", supervisor_id="sup-2"),
        received("ses-jan", "2026-01-12"),
    )

    with pytest.raises(SupervisorMustHoldAnAgreementCoveringThePeriod) as refused:
        decide_record(
            evaluation.INITIAL,
            other,
            command(supervisor_id="sup-3", evidence_session_ids=["ses-jan"]),
            TODAY,
        )
    assert "sup-3" in refused.value.message


def test_the_supervisors_agreement_must_be_in_force_during_the_period() -> None:
    ended = record(
        agreement(start_date=D("2025-01-01"), end_date=D("2025-12-31")),
        received("ses-old", "2025-11-03"),
    )

    with pytest.raises(SupervisorMustHoldAnAgreementCoveringThePeriod):
        decide_record(evaluation.INITIAL, ended, command(), TODAY)


def test_an_agreement_terminated_before_the_period_does_not_cover_it() -> None:
    terminated = record(
        agreement(),
        received("ses-jan", "2026-01-12"),
        AgreementTerminated(
            supervisee_id="see-1",
            agreement_id="agr-1",
            terminated_on=D("2026-01-31"),
            reason="supervisor left",
            terminated_by="coordinator",
        ),
    )

    with pytest.raises(SupervisorMustHoldAnAgreementCoveringThePeriod):
        decide_record(
            evaluation.INITIAL,
            terminated,
            command(period_start="2026-02-01", evidence_session_ids=["ses-jan"]),
            TODAY,
        )


def test_an_agreement_overlapping_part_of_the_period_is_enough() -> None:
    began_in_march = record(
        agreement(start_date=D("2026-03-01")), received("ses-mar", "2026-03-09")
    )

    events = decide_record(
        evaluation.INITIAL, began_in_march, command(evidence_session_ids=["ses-mar"]), TODAY
    )

    assert len(events) == 1


def test_evidence_must_be_a_session_the_supervisee_received() -> None:
    with pytest.raises(EvidenceMustBeSupervisionTheSuperviseeReceived) as refused:
        decide_record(
            evaluation.INITIAL,
            SEE_1,
            command(evidence_session_ids=["ses-jan", "ses-someone-elses"]),
            TODAY,
        )
    assert refused.value.session_id == "ses-someone-elses"


def test_a_voided_session_is_no_evidence() -> None:
    voided = record(
        agreement(),
        received("ses-jan", "2026-01-12"),
        received("ses-mar", "2026-03-09"),
        SupervisionVoided(
            session_id="ses-mar", supervisee_id="see-1", reason="logged twice", voided_by="sup-1"
        ),
    )

    with pytest.raises(EvidenceMustNotBeAVoidedSession) as refused:
        decide_record(evaluation.INITIAL, voided, command(), TODAY)
    assert refused.value.session_id == "ses-mar"


def test_evidence_must_fall_within_the_period() -> None:
    with pytest.raises(EvidenceMustFallWithinThePeriod) as refused:
        decide_record(evaluation.INITIAL, SEE_1, command(evidence_session_ids=["ses-apr"]), TODAY)
    assert refused.value.session_id == "ses-apr"


# Acknowledgement by the supervisee.


def test_the_evaluated_supervisee_acknowledges_a_signed_evaluation() -> None:
    events = decide_acknowledge(signed(), acknowledge(), TODAY)

    assert [type(e).__name__ for e in events] == ["EvaluationAcknowledged"]
    state = evaluation.fold(events, signed())
    assert (state.status, state.acknowledged_on) == ("acknowledged", D("2026-04-03"))


def test_the_day_of_signing_is_a_valid_acknowledgement_day() -> None:
    assert decide_acknowledge(signed(), acknowledge(acknowledged_on="2026-04-02"), TODAY)


def test_an_evaluation_that_is_not_recorded_cannot_be_acknowledged() -> None:
    with pytest.raises(EvaluationMustBeRecorded):
        decide_acknowledge(evaluation.INITIAL, acknowledge(), TODAY)


def test_only_the_evaluated_supervisee_acknowledges() -> None:
    with pytest.raises(OnlyTheEvaluatedSuperviseeMayAcknowledge):
        decide_acknowledge(signed(), acknowledge(supervisee_id="see-2"), TODAY)


def test_an_acknowledgement_does_not_precede_the_signature() -> None:
    with pytest.raises(AcknowledgementMustNotPrecedeTheSignature) as refused:
        decide_acknowledge(signed(), acknowledge(acknowledged_on="2026-04-01"), TODAY)
    assert refused.value.field == "acknowledged_on"


def test_an_acknowledgement_is_not_dated_in_the_future() -> None:
    with pytest.raises(AcknowledgementMustNotBeDatedInTheFuture) as refused:
        decide_acknowledge(signed(), acknowledge(acknowledged_on="2026-04-16"), TODAY)
    assert refused.value.field == "acknowledged_on"


def test_acknowledging_again_on_the_same_day_records_nothing() -> None:
    acknowledged = evaluation.fold(decide_acknowledge(signed(), acknowledge(), TODAY), signed())

    assert decide_acknowledge(acknowledged, acknowledge(), TODAY) == []


def test_an_evaluation_is_acknowledged_once() -> None:
    acknowledged = evaluation.fold(decide_acknowledge(signed(), acknowledge(), TODAY), signed())

    with pytest.raises(EvaluationIsAcknowledgedOnce) as refused:
        decide_acknowledge(acknowledged, acknowledge(acknowledged_on="2026-04-10"), TODAY)
    assert "is acknowledged (on 2026-04-03)" in refused.value.message


# What is published: the figures and the evidence, never the narrative.


def recorded(stream_id: str, event: DomainEvent) -> RecordedEvent:
    now = dt.datetime(2026, 4, 2, 12, tzinfo=dt.UTC)
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream_id=stream_id,
        version=1,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=now,
        recorded_at=now,
        data=event.to_data(),
        metadata=EventMetadata(correlation_id="c-1", actor="sup-1"),
        position=1,
    )


def test_a_signed_evaluation_publishes_competency_evaluated_without_the_narrative() -> None:
    state = signed(scores=scores(science=2), remediation_plan="Weekly formulation review.")
    assert state.signed is not None

    message = translate_development(recorded("evaluation-ev-1", state.signed))

    assert message is not None
    assert (message.key, message.ce_type) == ("see-1", CompetencyEvaluated.ce_type())
    public = parse(message.ce_type, message.data)
    assert isinstance(public, CompetencyEvaluated)
    assert public.below_expectations == ("science",)
    assert public.remediation_required
    assert public.evidence_session_ids == ("ses-jan", "ses-mar")
    assert [s.domain for s in public.scores] == list(APA)
    published_text = str(message.data)
    for narrative in ("alliance", "conceptualization still", "formulation review"):
        assert narrative not in published_text


def test_an_acknowledgement_publishes_evaluation_acknowledged() -> None:
    (event,) = decide_acknowledge(signed(), acknowledge(), TODAY)

    message = translate_development(recorded("evaluation-ev-1", event))

    assert message is not None
    public = parse(message.ce_type, message.data)
    assert isinstance(public, EvaluationAcknowledged)
    assert (public.evaluation_id, public.acknowledged_on) == ("ev-1", D("2026-04-03"))


def test_events_of_other_streams_are_left_to_the_supervision_translator() -> None:
    assert translate_development(recorded("supervisee-see-1", agreement())) is None
