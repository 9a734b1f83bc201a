"""The CompetencyService and ConsultationService servicers on a real gRPC server (a free local
port) over a real event store on each storage backend: commands in, events and outbox rows
recorded, errors as status codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from conftest import DatabaseFactory
from continuum.supervision.v1 import competency_service_pb2 as competency
from continuum.supervision.v1 import competency_service_pb2_grpc as competency_grpc
from continuum.supervision.v1 import consultation_service_pb2 as consultation
from continuum.supervision.v1 import consultation_service_pb2_grpc as consultation_grpc
from contracts.events import CompetencyEvaluated, ConsultationLogged, EvaluationAcknowledged
from infra.application import to_new_events
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.eventstore import EventMetadata, SqlEventStore, StreamAppend
from infra.grpc.client import bearer_metadata, open_aio_channel
from infra.grpc.metadata import outgoing_metadata
from infra.grpc.server import GrpcServer
from infra.schema import outbox
from infra.security.crypto import memory_keyring
from infra.security.guard import Guard
from infra.security.policy import Role
from infra.security.tokens import SigningKey, verifier_for
from supervision.adapters.publishing_development import translate_development
from supervision.domain import supervisee
from supervision.domain.events import AgreementSigned, SuperviseeRegistered, SupervisionReceived
from supervision.entrypoints.grpc_competency import competency_binding
from supervision.entrypoints.grpc_consultation import consultation_binding

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 4, 15, 12, 0, tzinfo=dt.UTC)
D = dt.date.fromisoformat
APA = ("professionalism", "relational", "science", "application", "education", "systems")
SIGNING_KEY = SigningKey.generate(kid="supervision-grpc")
# The supervisor calls with their own token; the supervisee acknowledges with theirs.
SUPERVISOR_TOKEN = SIGNING_KEY.mint("sup-1", (Role.SUPERVISOR,), ("site-a",))
METADATA = (*bearer_metadata(SUPERVISOR_TOKEN), *outgoing_metadata(correlation_id="corr-eval"))


@dataclass
class Served:
    db: Database
    store: SqlEventStore
    competency: Any
    consultation: Any


@pytest.fixture
async def served(make_database: DatabaseFactory) -> AsyncIterator[Served]:
    db = await make_database(())
    store = SqlEventStore(db)
    runner = CommandRunner(SqlUnitStore(db, translate_development), memory_keyring())
    server = GrpcServer(
        "127.0.0.1:0",
        [
            competency_binding(runner, lambda: NOW),
            consultation_binding(runner, lambda: NOW),
        ],
        guard=Guard(verifier_for(SIGNING_KEY)),
    )
    await server.start()
    try:
        address = f"127.0.0.1:{server.port}"
        async with open_aio_channel(address, token=SUPERVISOR_TOKEN) as channel:
            yield Served(
                db,
                store,
                competency_grpc.CompetencyServiceStub(channel),
                consultation_grpc.ConsultationServiceStub(channel),
            )
    finally:
        await server.stop(grace=0)


async def given_supervisee_with_sessions(store: SqlEventStore, supervisee_id: str) -> None:
    """The supervisee's stream as the supervision core records it: registered, under agreement
    with sup-1 for the year, two sessions received in the first quarter."""
    events = [
        SuperviseeRegistered(
            supervisee_id=supervisee_id,
            credential_track="TX-LPC-ASSOCIATE",
            license_number="LPC-A-1",
            home_site_id="site-a",
            registered_on=D("2025-12-01"),
        ),
        AgreementSigned(
            agreement_id="agr-1",
            supervisor_id="sup-1",
            supervisee_id=supervisee_id,
            site_id="site-a",
            credential_track="TX-LPC-ASSOCIATE",
            start_date=D("2026-01-01"),
            end_date=D("2026-12-31"),
        ),
        *(
            SupervisionReceived(
                session_id=session_id,
                supervisee_id=supervisee_id,
                agreement_id="agr-1",
                date=D(day),
                minutes=60,
                format="individual",
                modality="in_person",
                supervisor_id="sup-1",
                site_id="site-a",
            )
            for session_id, day in (("ses-jan", "2026-01-12"), ("ses-mar", "2026-03-09"))
        ),
    ]
    await store.append(
        [StreamAppend(supervisee.stream_id(supervisee_id), 0, to_new_events(events, NOW))],
        EventMetadata(correlation_id="seed"),
    )


def evaluation_request(**overrides: Any) -> competency.RecordEvaluationRequest:
    scores = {domain: 3 for domain in APA} | overrides.pop("scores", {})
    fields: dict[str, Any] = {
        "evaluation_id": "ev-1",
        "supervisee_id": "see-1",
        "supervisor_id": "sup-1",
        "framework": "apa-benchmarks",
        "framework_version": "2011",
        "trigger": competency.EVALUATION_TRIGGER_QUARTERLY,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "scores": [competency.EvaluationScore(domain=d, score=s) for d, s in scores.items()],
        "evidence_session_ids": ["ses-jan", "ses-mar"],
        "strengths": "Warm, steady alliance.",
        "limitations": "Formulations stay descriptive.",
        "signed_on": "2026-04-02",
    }
    return competency.RecordEvaluationRequest(**(fields | overrides))


async def published(db: Database) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """The outbox rows: (ce_type, key, data, metadata), in order."""
    async with db.read() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
    return [(r.ce_type, r.message_key, dict(r.data), dict(r.metadata)) for r in rows]


async def test_an_evaluation_is_signed_read_acknowledged_and_published_without_its_narrative(
    served: Served,
) -> None:
    await given_supervisee_with_sessions(served.store, "see-1")
    request = evaluation_request(
        scores={"science": 2}, remediation_plan="Fortnightly formulation practice."
    )

    first = await served.competency.RecordEvaluation(request, metadata=METADATA, timeout=10)
    retry = await served.competency.RecordEvaluation(request, metadata=METADATA, timeout=10)
    acknowledged = await served.competency.AcknowledgeEvaluation(
        competency.AcknowledgeEvaluationRequest(
            evaluation_id="ev-1", supervisee_id="see-1", acknowledged_on="2026-04-03"
        ),
        metadata=bearer_metadata(SIGNING_KEY.mint("see-1", (Role.SUPERVISEE,), ("site-a",))),
        timeout=10,
    )
    read = await served.competency.GetEvaluation(
        competency.GetEvaluationRequest(evaluation_id="ev-1"), timeout=10
    )

    assert (first.already_recorded, retry.already_recorded) == (False, True)
    assert list(first.below_expectations) == ["science"]
    assert not acknowledged.already_recorded
    evaluation = read.evaluation
    assert [(s.domain, s.score) for s in evaluation.scores] == [
        (d, 2 if d == "science" else 3) for d in APA
    ]
    assert (evaluation.scale_min, evaluation.scale_max, evaluation.expected_min) == (0, 4, 3)
    assert evaluation.remediation_required
    assert evaluation.remediation_plan == "Fortnightly formulation practice."
    assert evaluation.strengths == "Warm, steady alliance."
    assert evaluation.status == competency.EVALUATION_STATUS_ACKNOWLEDGED
    assert evaluation.acknowledged_on == "2026-04-03"
    assert evaluation.trigger == competency.EVALUATION_TRIGGER_QUARTERLY

    rows = await published(served.db)
    assert [(ce_type, key) for ce_type, key, _, _ in rows] == [
        (CompetencyEvaluated.ce_type(), "see-1"),
        (EvaluationAcknowledged.ce_type(), "see-1"),
    ]
    evaluated = CompetencyEvaluated.model_validate(rows[0][2])
    assert evaluated.below_expectations == ("science",)
    assert evaluated.evidence_session_ids == ("ses-jan", "ses-mar")
    assert "Warm" not in str(rows[0][2]) and "Fortnightly" not in str(rows[0][2])
    assert (rows[0][3]["actor"], rows[0][3]["correlation_id"]) == ("sup-1", "corr-eval")
    assert rows[1][3]["actor"] == "see-1"


async def _refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_refused_evaluations_answer_with_the_status_and_the_field(served: Served) -> None:
    await given_supervisee_with_sessions(served.store, "see-1")
    record = served.competency.RecordEvaluation

    out_of_scale = await _refused(record(evaluation_request(scores={"systems": 5}), timeout=10))
    no_trigger = await _refused(
        record(evaluation_request(trigger=competency.EVALUATION_TRIGGER_UNSPECIFIED), timeout=10)
    )
    not_received = await _refused(
        record(evaluation_request(evidence_session_ids=["ses-other"]), timeout=10)
    )
    no_record = await _refused(record(evaluation_request(supervisee_id="see-9"), timeout=10))
    await record(evaluation_request(), timeout=10)
    reused = await _refused(record(evaluation_request(strengths="Other."), timeout=10))
    missing = await _refused(
        served.competency.GetEvaluation(
            competency.GetEvaluationRequest(evaluation_id="ev-none"), timeout=10
        )
    )
    wrong_supervisee = await _refused(
        served.competency.AcknowledgeEvaluation(
            competency.AcknowledgeEvaluationRequest(
                evaluation_id="ev-1", supervisee_id="see-2", acknowledged_on="2026-04-03"
            ),
            metadata=bearer_metadata(SIGNING_KEY.mint("see-2", (Role.SUPERVISEE,))),
            timeout=10,
        )
    )

    assert out_of_scale.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(out_of_scale.details()).startswith("scores[systems]:")
    assert no_trigger.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(no_trigger.details()).startswith("trigger:")
    assert not_received.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "ses-other" in str(not_received.details())
    assert no_record.code() == grpc.StatusCode.NOT_FOUND
    assert reused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert wrong_supervisee.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_consultation_is_logged_once_read_and_published(served: Served) -> None:
    request = consultation.LogConsultationRequest(
        consultation_id="con-1",
        clinician_id="see-1",
        consultant_id="dr-peer",
        consultant_kind=consultation.CONSULTANT_KIND_PEER,
        site_id="site-a",
        date="2026-04-14",
        minutes=20,
    )

    first = await served.consultation.LogConsultation(request, metadata=METADATA, timeout=10)
    retry = await served.consultation.LogConsultation(request, metadata=METADATA, timeout=10)
    read = await served.consultation.GetConsultation(
        consultation.GetConsultationRequest(consultation_id="con-1"), timeout=10
    )
    self_consulted = await _refused(
        served.consultation.LogConsultation(
            consultation.LogConsultationRequest(
                consultation_id="con-2",
                clinician_id="see-1",
                consultant_id="see-1",
                consultant_kind=consultation.CONSULTANT_KIND_PEER,
                site_id="site-a",
                date="2026-04-14",
                minutes=20,
            ),
            timeout=10,
        )
    )
    missing = await _refused(
        served.consultation.GetConsultation(
            consultation.GetConsultationRequest(consultation_id="con-none"), timeout=10
        )
    )

    assert (first.already_recorded, retry.already_recorded) == (False, True)
    assert (read.consultation.consultant_kind, read.consultation.minutes) == (
        consultation.CONSULTANT_KIND_PEER,
        20,
    )
    assert read.consultation.date == "2026-04-14"
    assert self_consulted.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(self_consulted.details()).startswith("consultant_id:")
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    rows = await published(served.db)
    assert [(ce_type, key) for ce_type, key, _, _ in rows] == [
        (ConsultationLogged.ce_type(), "con-1")
    ]
