"""Who read what: a supervisor's read of their supervisee's record is recorded by supervision
before the reply, and a compliance officer of the site lists it by subject and by actor; a
refused read is recorded too, and an officer of another site sees none of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import grpc
import pytest

from continuum.audit.v1 import access_log_service_pb2 as audit
from continuum.audit.v1 import access_log_service_pb2_grpc as audit_grpc
from continuum.supervision.v1 import supervision_service_pb2 as pb
from infra.devstack import Stack
from infra.grpc.client import open_channel
from infra.grpc.metadata import outgoing_metadata
from infra.security.policy import Role
from tests.e2e.support import Stubs, acting_as, stubs_for, token, unique
from tests.e2e.test_supervision_api import AUSTIN, supervised

pytestmark = pytest.mark.e2e

GET_SUPERVISEE = "/continuum.supervision.v1.SupervisionService/GetSupervisee"


@pytest.fixture(scope="module")
def stubs(backend_stack: Stack) -> Iterator[Stubs]:
    with stubs_for(backend_stack.addresses) as service_stubs:
        yield service_stubs


def access_log(
    stack: Stack, officer_sites: tuple[str, ...], request: audit.ListAccessRequest
) -> audit.ListAccessResponse:
    """Supervision's access log, as a compliance officer of `officer_sites` lists it."""
    officer = token(unique("off"), (Role.COMPLIANCE_OFFICER,), officer_sites)
    with open_channel(stack.addresses["supervision"], token=officer) as channel:
        reply: audit.ListAccessResponse = audit_grpc.AccessLogServiceStub(channel).ListAccess(
            request, timeout=10
        )
        return reply


def test_an_officer_sees_who_read_a_supervisees_record_by_subject_and_by_actor(
    backend_stack: Stack, stubs: Stubs
) -> None:
    # given: a supervisor reads their supervisee's record
    supervisee, supervisor, _ = supervised(stubs)
    before = dt.datetime.now(dt.UTC)
    stubs.supervision.GetSupervisee(
        pb.GetSuperviseeRequest(supervisee_id=supervisee),
        metadata=(
            *acting_as(supervisor, (Role.SUPERVISOR,), (AUSTIN,)),
            *outgoing_metadata(correlation_id="corr-read-1"),
        ),
        timeout=10,
    )

    # when
    by_subject = access_log(
        backend_stack, (AUSTIN,), audit.ListAccessRequest(subject_id=supervisee)
    )
    by_actor = access_log(backend_stack, (AUSTIN,), audit.ListAccessRequest(actor=supervisor))

    # then
    (read,) = [e for e in by_subject.entries if e.actor == supervisor]
    assert list(read.roles) == [Role.SUPERVISOR]
    assert read.rpc == GET_SUPERVISEE
    assert [(s.kind, s.id) for s in read.subjects] == [("supervisee", supervisee)]
    assert read.outcome == "answered"
    assert read.peer.startswith(("ipv4:127.0.0.1:", "ipv6:[::1]:"))
    assert read.correlation_id == "corr-read-1"
    assert read.site_id == AUSTIN
    assert before <= dt.datetime.fromisoformat(read.at) <= dt.datetime.now(dt.UTC)
    assert [e.access_id for e in by_actor.entries] == [read.access_id]


def test_a_refused_read_is_recorded_and_another_sites_officer_sees_none_of_it(
    backend_stack: Stack, stubs: Stubs
) -> None:
    # given: a supervisor who holds no agreement with the supervisee tries to read them
    supervisee, _, _ = supervised(stubs)
    stranger = unique("sup-stranger")
    with pytest.raises(grpc.RpcError) as refused:
        stubs.supervision.GetSupervisee(
            pb.GetSuperviseeRequest(supervisee_id=supervisee),
            metadata=acting_as(stranger, (Role.SUPERVISOR,), (AUSTIN,)),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # when
    here = access_log(backend_stack, (AUSTIN,), audit.ListAccessRequest(actor=stranger))
    elsewhere = access_log(
        backend_stack, ("site-elsewhere",), audit.ListAccessRequest(actor=stranger)
    )

    # then
    assert [(e.outcome, e.subjects[0].id) for e in here.entries] == [("refused", supervisee)]
    assert list(elsewhere.entries) == []


def test_the_access_log_is_not_for_supervisors(backend_stack: Stack) -> None:
    supervisor = token(unique("sup"), (Role.SUPERVISOR,), (AUSTIN,))
    with open_channel(backend_stack.addresses["supervision"], token=supervisor) as channel:
        stub = audit_grpc.AccessLogServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListAccess(audit.ListAccessRequest(subject_id="see-anyone"), timeout=10)

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "ListAccess needs one of the roles" in str(refused.value.details())
