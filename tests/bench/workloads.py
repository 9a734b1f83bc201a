"""What a load client sends: one named workload per measured phase, over the public gRPC API.

A workload is a class that the load client instantiates once per process with its channels and
the phase's parameters (plain JSON: the ids the set-up created); each closed-loop worker then
runs `iteration(worker, seq, call)` again and again. `call(rpc, start)` times one call and
counts its status; it answers the reply, or None when the call failed (the workload then moves
on: nothing is retried).

Workers own disjoint slices of the set-up's supervisees (worker w takes every `workers`-th one),
so two calls in flight never touch the same supervisee unless a phase means them to (the
contention phase shares supervisors, never supervisees).

A compliance view the query phase measures is one entry of `QUERIES`: a function from (stub,
parameters, random) to a call, with the issue's target for its p99 where it sets one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc

from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from continuum.referral.v1 import referral_service_pb2 as referral
from continuum.referral.v1 import referral_service_pb2_grpc as referral_grpc
from continuum.supervision.v1 import supervision_service_pb2 as supervision
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc
from infra.grpc.client import bearer_metadata
from infra.security.policy import Role
from infra.security.tokens import SigningKey

T = TypeVar("T")

# The bench's stacks verify tokens with this key's JWKS. It is derived from a fixed seed so the
# load clients, each its own process, mint tokens the stack accepts without being handed one;
# it signs nothing outside the bench's own throw-away stacks.
BENCH_SIGNING_KEY = SigningKey(
    "bench-1", Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"continuum-bench").digest())
)
# One token for the whole run: the services verify it once and then find it in their cache.
METADATA = bearer_metadata(
    BENCH_SIGNING_KEY.mint(
        "bench-staff-app", (Role.ADMINISTRATOR,), lifetime=dt.timedelta(hours=24)
    )
)
# A call that takes longer than this is counted as DEADLINE_EXCEEDED.
CALL_TIMEOUT_S = 30.0
TRACK = "TX-LPC-ASSOCIATE"
SITE = "site-bench"
# Registrations and agreements start this long before today, so every session the bench logs
# (dated up to DATE_SPREAD_DAYS in the past) falls under an agreement in force.
HISTORY_DAYS = 400
DATE_SPREAD_DAYS = 300

Call = Callable[[str, Callable[[], Awaitable[T]]], Awaitable[T | None]]


def today() -> dt.date:
    """The services' calendar day (UTC)."""
    return dt.datetime.now(dt.UTC).date()


def history_start() -> dt.date:
    return today() - dt.timedelta(days=HISTORY_DAYS)


def session_date(seq: int) -> dt.date:
    """A past day for the seq-th session of a worker: spread, so no month or day piles up."""
    return today() - dt.timedelta(days=1 + seq % DATE_SPREAD_DAYS)


class Workload(Protocol):
    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None: ...

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None: ...


def owned(items: Sequence[T], worker: int, workers: int) -> Sequence[T]:
    """The worker's own slice: every `workers`-th item, starting at its index."""
    mine = items[worker::workers]
    if not mine:
        raise ValueError(f"{len(items)} items cannot give each of {workers} workers its own")
    return mine


def log_session_request(
    session_id: str, supervisee_id: str, supervisor_id: str, day: dt.date
) -> supervision.LogSessionRequest:
    return supervision.LogSessionRequest(
        session_id=session_id,
        kind=supervision.SESSION_KIND_CLINICAL,
        format=supervision.SESSION_FORMAT_INDIVIDUAL,
        modality=supervision.SESSION_MODALITY_IN_PERSON,
        date=day.isoformat(),
        minutes=60,
        supervisor_id=supervisor_id,
        supervisee_ids=[supervisee_id],
        site_id=SITE,
    )


def register_request(supervisee_id: str) -> supervision.RegisterSuperviseeRequest:
    return supervision.RegisterSuperviseeRequest(
        supervisee_id=supervisee_id,
        credential_track=TRACK,
        license_number=f"LPC-A-{supervisee_id}",
        home_site_id=SITE,
        registered_on=history_start().isoformat(),
    )


def agreement_request(
    agreement_id: str, supervisee_id: str, supervisor_id: str
) -> supervision.SignAgreementRequest:
    return supervision.SignAgreementRequest(
        agreement_id=agreement_id,
        supervisor_id=supervisor_id,
        supervisee_id=supervisee_id,
        site_id=SITE,
        credential_track=TRACK,
        start_date=history_start().isoformat(),
        end_date=(today() + dt.timedelta(days=365)).isoformat(),
        modalities=[supervision.SESSION_MODALITY_IN_PERSON, supervision.SESSION_MODALITY_VIDEO],
        sessions_per_period=1,
        period=supervision.AGREEMENT_PERIOD_WEEK,
    )


def raise_request(referral_id: str) -> referral.RaiseReferralRequest:
    # Therapy to psychiatry: a referral no other service reacts to, so the phase measures the
    # referral service alone.
    return referral.RaiseReferralRequest(
        referral_id=referral_id,
        client_id=f"client-{referral_id}",
        site_id=SITE,
        from_service=referral.SERVICE_THERAPY,
        to_service=referral.SERVICE_PSYCHIATRY,
        urgency=referral.URGENCY_ROUTINE,
        reason=referral.REFERRAL_REASON_MEDICATION_EVALUATION,
        source=f"therapy-episode/{referral_id}",
    )


def accept_request(referral_id: str) -> referral.AcceptReferralRequest:
    return referral.AcceptReferralRequest(
        referral_id=referral_id, accepted_by="prescriber-bench", accepted_on=today().isoformat()
    )


class HealthCheck:
    """The no-op ceiling: the standard gRPC health check, answered by the same server."""

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._stub = health_pb2_grpc.HealthStub(channels[params["service"]])
        self._request = health_pb2.HealthCheckRequest(service=params["grpc_service"])

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        await call(
            "Health.Check",
            lambda: self._stub.Check(self._request, timeout=CALL_TIMEOUT_S),
        )


class LogSession:
    """Individual sessions, each worker logging into its own supervisees in turn."""

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._stub = supervision_grpc.SupervisionServiceStub(channels["supervision"])
        self._pairs: list[tuple[str, str]] = [tuple(p) for p in params["pairs"]]  # type: ignore[misc]
        self._tag = params["tag"]
        self._workers = workers

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        mine = owned(self._pairs, worker, self._workers)
        supervisee_id, supervisor_id = mine[seq % len(mine)]
        request = log_session_request(
            f"{self._tag}-w{worker}-{seq}", supervisee_id, supervisor_id, session_date(seq)
        )
        await call(
            "LogSession",
            lambda: self._stub.LogSession(request, metadata=METADATA, timeout=CALL_TIMEOUT_S),
        )


class RegisterSupervisee:
    """A new supervisee per call."""

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._stub = supervision_grpc.SupervisionServiceStub(channels["supervision"])
        self._tag = params["tag"]

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        request = register_request(f"{self._tag}-w{worker}-{seq}")
        await call(
            "RegisterSupervisee",
            lambda: self._stub.RegisterSupervisee(
                request, metadata=METADATA, timeout=CALL_TIMEOUT_S
            ),
        )


async def raise_and_accept(
    stub: referral_grpc.ReferralServiceStub, referral_id: str, call: Call[Any]
) -> None:
    """A referral raised, then accepted; the accept is only sent when the raise succeeded."""
    raised = await call(
        "RaiseReferral",
        lambda: stub.RaiseReferral(
            raise_request(referral_id), metadata=METADATA, timeout=CALL_TIMEOUT_S
        ),
    )
    if raised is None:
        return
    await call(
        "AcceptReferral",
        lambda: stub.AcceptReferral(
            accept_request(referral_id), metadata=METADATA, timeout=CALL_TIMEOUT_S
        ),
    )


class ReferralStep:
    """A referral raised, then accepted: the accept is one command on an existing referral.
    Both are measured, each under its own name."""

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._stub = referral_grpc.ReferralServiceStub(channels["referral"])
        self._tag = params["tag"]

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        await raise_and_accept(self._stub, f"{self._tag}-w{worker}-{seq}", call)


class OrganizationDay:
    """The long run's mixed load, with no stream growing without bound: each iteration
    registers a supervisee, signs their agreement with the worker's own supervisor, logs a few
    sessions, and raises and accepts a referral."""

    SESSIONS: ClassVar[int] = 5

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._supervision = supervision_grpc.SupervisionServiceStub(channels["supervision"])
        self._referral = referral_grpc.ReferralServiceStub(channels["referral"])
        self._supervisors: list[str] = list(params["supervisors"])
        self._tag = params["tag"]
        self._workers = workers

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        stub = self._supervision
        supervisor_id = owned(self._supervisors, worker, self._workers)[0]
        supervisee_id = f"{self._tag}-w{worker}-{seq}"
        registered = await call(
            "RegisterSupervisee",
            lambda: stub.RegisterSupervisee(
                register_request(supervisee_id), metadata=METADATA, timeout=CALL_TIMEOUT_S
            ),
        )
        signed = registered and await call(
            "SignAgreement",
            lambda: stub.SignAgreement(
                agreement_request(f"agr-{supervisee_id}", supervisee_id, supervisor_id),
                metadata=METADATA,
                timeout=CALL_TIMEOUT_S,
            ),
        )
        for n in range(self.SESSIONS if signed else 0):
            request = log_session_request(
                f"{supervisee_id}-s{n}", supervisee_id, supervisor_id, session_date(n * 7)
            )
            await call(
                "LogSession",
                lambda request=request: stub.LogSession(  # type: ignore[misc]
                    request, metadata=METADATA, timeout=CALL_TIMEOUT_S
                ),
            )
        await raise_and_accept(self._referral, f"ref-{supervisee_id}", call)


Query = Callable[
    [compliance_grpc.ComplianceServiceStub, Mapping[str, Any], random.Random], Awaitable[Any]
]


def _hours(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    request = compliance.GetSuperviseeHoursRequest(supervisee_id=rng.choice(params["supervisees"]))
    return stub.GetSuperviseeHours(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _record(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    request = compliance.GetSuperviseeRecordRequest(supervisee_id=rng.choice(params["supervisees"]))
    return stub.GetSuperviseeRecord(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _standing(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    request = compliance.GetSuperviseeStandingRequest(
        supervisee_id=rng.choice(params["supervisees"])
    )
    return stub.GetSuperviseeStanding(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _site(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    """A whole site on one page, today."""
    request = compliance.ListSiteSuperviseesRequest(
        site_id=rng.choice(params["sites"]), page_size=params["site_page_size"]
    )
    return stub.ListSiteSupervisees(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _site_in_the_past(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    """A whole site as it stood on a past date, as known at a past moment: the report issued
    then, reproduced."""
    request = compliance.ListSiteSuperviseesRequest(
        site_id=rng.choice(params["sites"]),
        as_of=params["past_as_of"],
        known_at=params["past_known_at"],
        page_size=params["site_page_size"],
    )
    return stub.ListSiteSupervisees(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _organization(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    request = compliance.GetOrganizationOverviewRequest()
    return stub.GetOrganizationOverview(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


def _verdicts(
    stub: compliance_grpc.ComplianceServiceStub, params: Mapping[str, Any], rng: random.Random
) -> Awaitable[Any]:
    """A site's first page of open verdicts, today."""
    request = compliance.ListVerdictsRequest(site_id=rng.choice(params["sites"]), resolution="open")
    return stub.ListVerdicts(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)


@dataclass(frozen=True)
class View:
    """A compliance view the bench measures: the call, what it asks, and the issue's target for
    its p99 at the full organization's size (None: the issue sets none)."""

    query: Query
    what: str
    target_p99_ms: float | None = None


# The compliance views measured at the organization's scale, by the name each is reported
# under. A view is one more entry (its parameters come from `organization.Organization`).
QUERIES: dict[str, View] = {
    "GetSuperviseeHours": View(_hours, "one supervisee's hours, today"),
    "GetSuperviseeRecord": View(_record, "one supervisee's record, today"),
    "GetSuperviseeStanding": View(_standing, "one supervisee judged by the rules, today"),
    "ListSiteSupervisees": View(_site, "a whole site, today", 50),
    "ListSiteSupervisees(past)": View(
        _site_in_the_past, "a whole site as of a past date, known at a past moment", 2_000
    ),
    "GetOrganizationOverview": View(_organization, "the organization, today", 200),
    "ListVerdicts": View(_verdicts, "a site's first page of open verdicts, today"),
}


class ComplianceQuery:
    """One compliance view (params["query"], a key of QUERIES) over random supervisees."""

    def __init__(
        self, channels: Mapping[str, grpc.aio.Channel], params: Mapping[str, Any], workers: int
    ) -> None:
        self._stub = compliance_grpc.ComplianceServiceStub(channels["compliance"])
        self._name = params["query"]
        self._query = QUERIES[self._name].query
        self._params = params
        self._rng = random.Random(params.get("seed", 8))

    async def iteration(self, worker: int, seq: int, call: Call[Any]) -> None:
        await call(self._name, lambda: self._query(self._stub, self._params, self._rng))


WORKLOADS: dict[str, type[Workload]] = {
    "health": HealthCheck,
    "log_session": LogSession,
    "register_supervisee": RegisterSupervisee,
    "referral_step": ReferralStep,
    "organization_day": OrganizationDay,
    "compliance_query": ComplianceQuery,
}
