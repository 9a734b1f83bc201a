"""End to end: the CompetencyService and the ConsultationService, served by the supervision
process next to SupervisionService, over a real socket; what they publish read back from Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from continuum.supervision.v1 import competency_service_pb2 as competency
from continuum.supervision.v1 import competency_service_pb2_grpc as competency_grpc
from continuum.supervision.v1 import consultation_service_pb2 as consultation
from continuum.supervision.v1 import consultation_service_pb2_grpc as consultation_grpc
from continuum.supervision.v1 import supervision_service_pb2 as supervision
from contracts.events import CompetencyEvaluated, ConsultationLogged, EvaluationAcknowledged
from contracts.topics import SUPERVISION_EVENTS
from infra.devstack import Stack
from infra.grpc.client import open_channel
from infra.messaging.cloudevents import IncomingEvent, decode
from infra.security.policy import Role
from tests.e2e.support import acting_as, invalid_field, token, unique
from tests.scenarios.demo import AUSTIN, StaffApp

pytestmark = pytest.mark.e2e

TRACK = "TX-LPC-ASSOCIATE"
SUPERVISOR = "sup-eval-e2e"
APA = ("professionalism", "relational", "science", "application", "education", "systems")
METADATA = acting_as(SUPERVISOR)


@pytest.fixture(scope="module")
def channel(stack: Stack) -> Iterator[grpc.Channel]:
    with open_channel(stack.addresses["supervision"], token=token()) as chan:
        yield chan


@pytest.fixture
def evaluations(channel: grpc.Channel) -> competency_grpc.CompetencyServiceStub:
    return competency_grpc.CompetencyServiceStub(channel)


@pytest.fixture
def consultations(channel: grpc.Channel) -> consultation_grpc.ConsultationServiceStub:
    return consultation_grpc.ConsultationServiceStub(channel)


def supervisee_with_sessions(app: StaffApp) -> tuple[str, list[str]]:
    """A registered supervisee under agreement with SUPERVISOR, with two clinical sessions in
    the third quarter of 2026: the record an evaluation reads (SupervisionService)."""
    supervisee, sessions = unique("see"), [unique("ses"), unique("ses")]
    app.supervision.RegisterSupervisee(
        supervision.RegisterSuperviseeRequest(
            supervisee_id=supervisee,
            credential_track=TRACK,
            license_number="LPC-A-E2E",
            home_site_id=AUSTIN,
            registered_on="2025-12-01",
        ),
        metadata=app.metadata,
        timeout=10,
    )
    app.supervision.SignAgreement(
        supervision.SignAgreementRequest(
            agreement_id=unique("agr"),
            supervisor_id=SUPERVISOR,
            supervisee_id=supervisee,
            site_id=AUSTIN,
            start_date="2026-01-01",
            end_date="2026-12-31",
            modalities=[supervision.SESSION_MODALITY_IN_PERSON],
            sessions_per_period=1,
            period=supervision.AGREEMENT_PERIOD_WEEK,
        ),
        metadata=app.metadata,
        timeout=10,
    )
    for session_id, day in zip(sessions, ("2026-08-03", "2026-09-14"), strict=True):
        app.supervision.LogSession(
            supervision.LogSessionRequest(
                session_id=session_id,
                kind=supervision.SESSION_KIND_CLINICAL,
                format=supervision.SESSION_FORMAT_INDIVIDUAL,
                modality=supervision.SESSION_MODALITY_IN_PERSON,
                date=day,
                minutes=60,
                supervisor_id=SUPERVISOR,
                supervisee_ids=[supervisee],
                site_id=AUSTIN,
            ),
            metadata=app.metadata,
            timeout=10,
        )
    return supervisee, sessions


def evaluation_request(
    supervisee: str, evidence: list[str], **overrides: Any
) -> competency.RecordEvaluationRequest:
    scores = {domain: 3 for domain in APA} | overrides.pop("scores", {})
    fields: dict[str, Any] = {
        "evaluation_id": unique("ev"),
        "supervisee_id": supervisee,
        "supervisor_id": SUPERVISOR,
        "framework": "apa-benchmarks",
        "framework_version": "2011",
        "trigger": competency.EVALUATION_TRIGGER_QUARTERLY,
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "scores": [competency.EvaluationScore(domain=d, score=s) for d, s in scores.items()],
        "evidence_session_ids": evidence,
        "strengths": "Steady alliance under pressure.",
        "limitations": "Treatment plans stay generic.",
        "signed_on": "2026-10-02",
    }
    return competency.RecordEvaluationRequest(**(fields | overrides))


def refused(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


async def _first_published(
    bootstrap: str, wanted: Callable[[IncomingEvent], bool], seconds: float
) -> IncomingEvent:
    consumer = AIOKafkaConsumer(
        SUPERVISION_EVENTS.name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(seconds):
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        event = decode(record.key, record.value, record.headers)
                        if wanted(event):
                            return event
    finally:
        await consumer.stop()


def published(stack: Stack, ce_type: str, **data: str) -> IncomingEvent:
    """The first message on the supervision topic of this type whose data has these values."""
    assert stack.bootstrap_servers is not None

    def wanted(event: IncomingEvent) -> bool:
        return event.ce_type == ce_type and all(event.data.get(k) == v for k, v in data.items())

    return asyncio.run(_first_published(stack.bootstrap_servers, wanted, 60))


# CompetencyService.


def test_an_evaluation_is_signed_acknowledged_read_and_published_without_its_narrative(
    stack: Stack, app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(
        supervisee, sessions, scores={"systems": 2}, remediation_plan="Monthly systems review."
    )

    first = evaluations.RecordEvaluation(request, metadata=METADATA, timeout=10)
    retry = evaluations.RecordEvaluation(request, metadata=METADATA, timeout=10)
    acknowledged = evaluations.AcknowledgeEvaluation(
        competency.AcknowledgeEvaluationRequest(
            evaluation_id=request.evaluation_id,
            supervisee_id=supervisee,
            acknowledged_on="2026-10-05",
        ),
        metadata=acting_as(supervisee),
        timeout=10,
    )
    read = evaluations.GetEvaluation(
        competency.GetEvaluationRequest(evaluation_id=request.evaluation_id), timeout=10
    ).evaluation

    assert (first.already_recorded, retry.already_recorded) == (False, True)
    assert list(first.below_expectations) == ["systems"]
    assert not acknowledged.already_recorded
    assert read.status == competency.EVALUATION_STATUS_ACKNOWLEDGED
    assert (read.acknowledged_on, read.signed_on) == ("2026-10-05", "2026-10-02")
    assert read.remediation_required
    assert read.limitations == "Treatment plans stay generic."
    assert list(read.evidence_session_ids) == sessions

    evaluated = published(stack, CompetencyEvaluated.ce_type(), evaluation_id=request.evaluation_id)
    contract = evaluated.contract()
    assert isinstance(contract, CompetencyEvaluated)
    assert (evaluated.key, contract.below_expectations) == (supervisee, ("systems",))
    assert contract.remediation_required
    for narrative in ("alliance", "generic", "Monthly systems review"):
        assert narrative not in str(evaluated.data)
    acknowledgement = published(
        stack, EvaluationAcknowledged.ce_type(), evaluation_id=request.evaluation_id
    )
    assert acknowledgement.data["acknowledged_on"] == "2026-10-05"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scores": {"professionalism": 7}}, "scores[professionalism]"),
        ({"framework": "not-a-framework"}, "framework"),
        ({"trigger": competency.EVALUATION_TRIGGER_UNSPECIFIED}, "trigger"),
        ({"period_end": "2026-06-30"}, "period_end"),
        ({"scores": {"science": 1}}, "remediation_plan"),
        ({"signed_on": "2999-01-01"}, "signed_on"),
    ],
)
def test_a_malformed_evaluation_is_invalid_argument_naming_the_field(
    evaluations: competency_grpc.CompetencyServiceStub, change: dict[str, Any], field: str
) -> None:
    request = evaluation_request(unique("see"), [unique("ses")], **change)

    error = refused(lambda: evaluations.RecordEvaluation(request, timeout=10))

    assert invalid_field(error) == field


def test_evidence_the_supervisee_did_not_receive_is_failed_precondition(
    app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(supervisee, [sessions[0], unique("ses-not-theirs")])

    error = refused(lambda: evaluations.RecordEvaluation(request, timeout=10))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_supervisor_without_an_agreement_is_failed_precondition(
    app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(supervisee, sessions, supervisor_id=unique("sup"))

    error = refused(lambda: evaluations.RecordEvaluation(request, timeout=10))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_reusing_an_evaluation_id_with_other_scores_is_already_exists(
    app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(supervisee, sessions)
    evaluations.RecordEvaluation(request, timeout=10)
    changed = evaluation_request(
        supervisee, sessions, evaluation_id=request.evaluation_id, scores={"relational": 4}
    )

    error = refused(lambda: evaluations.RecordEvaluation(changed, timeout=10))

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


def test_acknowledgement_rules_answer_with_their_status(
    app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(supervisee, sessions)
    evaluations.RecordEvaluation(request, timeout=10)

    def acknowledge(by: str, on: str) -> Any:
        return evaluations.AcknowledgeEvaluation(
            competency.AcknowledgeEvaluationRequest(
                evaluation_id=request.evaluation_id, supervisee_id=by, acknowledged_on=on
            ),
            timeout=10,
        )

    by_another = refused(lambda: acknowledge(unique("see"), "2026-10-05"))
    before_signing = refused(lambda: acknowledge(supervisee, "2026-10-01"))
    acknowledge(supervisee, "2026-10-05")
    again_same_day = acknowledge(supervisee, "2026-10-05")
    again_later = refused(lambda: acknowledge(supervisee, "2026-10-06"))

    assert by_another.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert invalid_field(before_signing) == "acknowledged_on"
    assert again_same_day.already_recorded
    assert again_later.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is acknowledged" in str(again_later.details())


def test_an_unknown_evaluation_is_not_found(
    evaluations: competency_grpc.CompetencyServiceStub,
) -> None:
    missing = unique("ev")

    read = refused(
        lambda: evaluations.GetEvaluation(
            competency.GetEvaluationRequest(evaluation_id=missing), timeout=10
        )
    )
    acknowledged = refused(
        lambda: evaluations.AcknowledgeEvaluation(
            competency.AcknowledgeEvaluationRequest(
                evaluation_id=missing, supervisee_id="see-1", acknowledged_on="2026-10-05"
            ),
            timeout=10,
        )
    )

    assert read.code() == acknowledged.code() == grpc.StatusCode.NOT_FOUND


# ConsultationService.


def consultation_request(**overrides: Any) -> consultation.LogConsultationRequest:
    fields: dict[str, Any] = {
        "consultation_id": unique("con"),
        "clinician_id": unique("clin"),
        "consultant_id": "dr-trauma-expert",
        "consultant_kind": consultation.CONSULTANT_KIND_EXPERT,
        "site_id": AUSTIN,
        "date": "2026-10-07",
        "minutes": 25,
    }
    return consultation.LogConsultationRequest(**(fields | overrides))


def test_a_consultation_is_logged_once_read_and_published_as_a_consultation(
    stack: Stack, consultations: consultation_grpc.ConsultationServiceStub
) -> None:
    request = consultation_request()

    first = consultations.LogConsultation(request, metadata=METADATA, timeout=10)
    retry = consultations.LogConsultation(request, metadata=METADATA, timeout=10)
    read = consultations.GetConsultation(
        consultation.GetConsultationRequest(consultation_id=request.consultation_id), timeout=10
    ).consultation

    assert (first.already_recorded, retry.already_recorded) == (False, True)
    assert (read.clinician_id, read.consultant_kind, read.minutes, read.date) == (
        request.clinician_id,
        consultation.CONSULTANT_KIND_EXPERT,
        25,
        "2026-10-07",
    )
    logged = published(stack, ConsultationLogged.ce_type(), consultation_id=request.consultation_id)
    assert logged.key == request.consultation_id
    assert not {"supervisor_id", "supervisee_id", "supervisee_ids", "format"} & set(logged.data)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consultant_id": "same-person", "clinician_id": "same-person"}, "consultant_id"),
        ({"minutes": 500}, "minutes"),
        ({"date": "2999-01-01"}, "date"),
        ({"consultant_kind": consultation.CONSULTANT_KIND_UNSPECIFIED}, "consultant_kind"),
    ],
)
def test_a_malformed_consultation_is_invalid_argument_naming_the_field(
    consultations: consultation_grpc.ConsultationServiceStub, change: dict[str, Any], field: str
) -> None:
    request = consultation_request(**change)

    error = refused(lambda: consultations.LogConsultation(request, timeout=10))

    assert invalid_field(error) == field


def test_reusing_a_consultation_id_with_other_content_is_already_exists(
    consultations: consultation_grpc.ConsultationServiceStub,
) -> None:
    request = consultation_request()
    consultations.LogConsultation(request, timeout=10)
    changed = consultation_request(consultation_id=request.consultation_id, minutes=40)

    error = refused(lambda: consultations.LogConsultation(changed, timeout=10))

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


def test_an_unknown_consultation_is_not_found(
    consultations: consultation_grpc.ConsultationServiceStub,
) -> None:
    error = refused(
        lambda: consultations.GetConsultation(
            consultation.GetConsultationRequest(consultation_id=unique("con")), timeout=10
        )
    )

    assert error.code() == grpc.StatusCode.NOT_FOUND


# Who may read them: the people party to the record, and the officers of its site.


def test_an_evaluation_is_read_by_its_supervisee_and_supervisor_and_refused_to_others(
    app: StaffApp, evaluations: competency_grpc.CompetencyServiceStub
) -> None:
    supervisee, sessions = supervisee_with_sessions(app)
    request = evaluation_request(supervisee, sessions)
    evaluations.RecordEvaluation(request, metadata=METADATA, timeout=10)
    get = competency.GetEvaluationRequest(evaluation_id=request.evaluation_id)

    def read_as(caller: str, role: str, site: str = AUSTIN) -> competency.GetEvaluationResponse:
        metadata = acting_as(caller, (role,), (site,))
        return evaluations.GetEvaluation(get, metadata=metadata, timeout=10)

    own = read_as(supervisee, Role.SUPERVISEE)
    signer = read_as(SUPERVISOR, Role.SUPERVISOR)
    officer = read_as("off-austin", Role.COMPLIANCE_OFFICER)
    another_supervisee = refused(lambda: read_as(unique("see"), Role.SUPERVISEE))
    another_supervisor = refused(lambda: read_as(unique("sup"), Role.SUPERVISOR))
    officer_elsewhere = refused(lambda: read_as("off-dallas", Role.COMPLIANCE_OFFICER, "dallas"))

    assert own.evaluation.evaluation_id == signer.evaluation.evaluation_id == request.evaluation_id
    assert officer.evaluation.supervisee_id == supervisee
    for denied in (another_supervisee, another_supervisor):
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert f"not a party to evaluation '{request.evaluation_id}'" in str(denied.details())
    assert officer_elsewhere.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"the site '{AUSTIN}' of evaluation" in str(officer_elsewhere.details())


def test_a_consultation_is_read_by_its_clinicians_and_refused_to_others(
    consultations: consultation_grpc.ConsultationServiceStub,
) -> None:
    request = consultation_request()
    consultations.LogConsultation(request, metadata=METADATA, timeout=10)
    get = consultation.GetConsultationRequest(consultation_id=request.consultation_id)

    def read_as(caller: str, role: str, site: str = AUSTIN) -> object:
        metadata = acting_as(caller, (role,), (site,))
        return consultations.GetConsultation(get, metadata=metadata, timeout=10)

    read_as(request.clinician_id, Role.SUPERVISEE)
    read_as(request.consultant_id, Role.SUPERVISOR)
    stranger = refused(lambda: read_as(unique("clin"), Role.SUPERVISEE))
    elsewhere = refused(lambda: read_as(request.clinician_id, Role.SUPERVISEE, "dallas"))

    assert stranger.code() == elsewhere.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"not a party to consultation '{request.consultation_id}'" in str(stranger.details())
    assert f"the site '{AUSTIN}' of consultation" in str(elsewhere.details())
