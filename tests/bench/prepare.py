"""What a phase sets up before it measures, through the public gRPC API like any staff app:
supervisors' licenses (in compliance's registry, which supervision learns from its topic),
supervisees registered with a signed agreement, and sessions already on their record.

Set-up is not measured, so unlike the load client it retries a call the services refused for
a concurrency conflict (ABORTED) or answered too slowly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from continuum.compliance.v1 import credential_service_pb2 as credential
from continuum.compliance.v1 import credential_service_pb2_grpc as credential_grpc
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc
from infra.grpc.client import open_aio_channel
from tests.bench.workloads import (
    METADATA,
    agreement_request,
    log_session_request,
    register_request,
    session_date,
    today,
)

T = TypeVar("T")

SET_UP_IN_FLIGHT = 16
_RETRIED = (grpc.StatusCode.ABORTED, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
_ATTEMPTS = 10


@dataclass(frozen=True)
class Supervision:
    """Supervisees, each under one supervisor: (supervisee id, supervisor id) pairs."""

    pairs: list[tuple[str, str]]

    @property
    def supervisors(self) -> list[str]:
        return sorted({supervisor for _, supervisor in self.pairs})

    @property
    def supervisees(self) -> list[str]:
        return [supervisee for supervisee, _ in self.pairs]


def plan(tag: str, supervisees: int, supervisors: int | None = None) -> Supervision:
    """`supervisees` supervisees, spread over `supervisors` supervisors in turn (None: each
    supervisee has a supervisor of their own)."""
    count = supervisors or supervisees
    return Supervision([(f"{tag}-see{i}", f"{tag}-sup{i % count}") for i in range(supervisees)])


async def retried(send: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await send()
        except grpc.aio.AioRpcError as error:
            if error.code() not in _RETRIED or attempt == _ATTEMPTS:
                raise
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], limit: int) -> None:
    """Runs the jobs, `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def enrol(address: str, supervision: Supervision) -> None:
    """Registers every supervisee and signs their agreement with their supervisor."""
    async with open_aio_channel(address) as channel:
        stub = supervision_grpc.SupervisionServiceStub(channel)

        async def one(supervisee_id: str, supervisor_id: str) -> None:
            await retried(
                lambda: stub.RegisterSupervisee(
                    register_request(supervisee_id), metadata=METADATA, timeout=30
                )
            )
            await retried(
                lambda: stub.SignAgreement(
                    agreement_request(f"agr-{supervisee_id}", supervisee_id, supervisor_id),
                    metadata=METADATA,
                    timeout=30,
                )
            )

        await bounded(
            [lambda p=pair: one(*p) for pair in supervision.pairs],  # type: ignore[misc]
            SET_UP_IN_FLIGHT,
        )


async def record_licenses(address: str, supervisors: Sequence[str]) -> None:
    """A license in good standing for each supervisor, in compliance's credential registry."""
    async with open_aio_channel(address) as channel:
        stub = credential_grpc.CredentialServiceStub(channel)

        def record(supervisor_id: str) -> Callable[[], Awaitable[Any]]:
            request = credential.RecordLicenseRequest(
                license_id=f"lic-{supervisor_id}",
                holder_id=supervisor_id,
                kind="LPC",
                number=f"LPC-{supervisor_id}",
                state="TX",
                issued_on=(today() - dt.timedelta(days=3650)).isoformat(),
                expires_on=(today() + dt.timedelta(days=730)).isoformat(),
            )
            return lambda: retried(
                lambda: stub.RecordLicense(request, metadata=METADATA, timeout=30)
            )

        await bounded([record(s) for s in supervisors], SET_UP_IN_FLIGHT)


async def prefill_sessions(
    address: str, supervision: Supervision, sessions: int, tag: str, in_flight: int
) -> None:
    """`sessions` sessions on each supervisee's record, one supervisee's after the other's."""
    async with open_aio_channel(address) as channel:
        stub = supervision_grpc.SupervisionServiceStub(channel)

        async def fill(supervisee_id: str, supervisor_id: str) -> None:
            for n in range(sessions):
                request = log_session_request(
                    f"{tag}-{supervisee_id}-{n}", supervisee_id, supervisor_id, session_date(n)
                )
                await retried(lambda r=request: stub.LogSession(r, metadata=METADATA, timeout=30))  # type: ignore[misc]

        await bounded(
            [lambda p=pair: fill(*p) for pair in supervision.pairs],  # type: ignore[misc]
            in_flight,
        )
