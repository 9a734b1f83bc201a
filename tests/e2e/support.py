"""What the end-to-end tests share: stubs over real sockets, unique ids, waiting for the flow,
events put on the topics as their producers would."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import grpc
import pytest
from aiokafka import AIOKafkaProducer

from continuum.coaching.v1 import coaching_service_pb2_grpc as coaching_grpc
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from continuum.compliance.v1 import credential_service_pb2_grpc as credential_grpc
from continuum.compliance.v1 import oversight_service_pb2_grpc as oversight_grpc
from continuum.referral.v1 import referral_service_pb2_grpc as referral_grpc
from continuum.supervision.v1 import competency_service_pb2_grpc as competency_grpc
from continuum.supervision.v1 import consultation_service_pb2_grpc as consultation_grpc
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc
from contracts.events import EventContract
from contracts.topics import event_topic
from infra.devstack import Stack
from infra.eventstore import EventMetadata, OutboxMessage
from infra.grpc.client import bearer_metadata, open_channel
from infra.messaging.authenticity import EventSigner
from infra.messaging.cloudevents import Headers, encode
from infra.security.policy import Role
from infra.security.tokens import SigningKey

T = TypeVar("T")

SIGNING_KEY = SigningKey.generate(kid="e2e-1")
"""Signs the end-to-end tests' tokens; every stack they start verifies with its JWKS."""

STAFF = "e2e-staff"
"""Who the stubs call as, unless a call names someone else with `acting_as`."""


def token(
    subject: str = STAFF,
    roles: tuple[str, ...] = (Role.ADMINISTRATOR,),
    sites: tuple[str, ...] = (),
) -> str:
    return SIGNING_KEY.mint(subject, roles, sites)


def acting_as(
    actor: str, roles: tuple[str, ...] = (Role.ADMINISTRATOR,), sites: tuple[str, ...] = ()
) -> tuple[tuple[str, str], ...]:
    """The metadata of a call made as `actor`: a token whose subject is them."""
    return bearer_metadata(token(actor, roles, sites))


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 60) -> T:
    """Polls until the asynchronous flow has caught up; fails with the last value seen. A view
    that answers NOT_FOUND has not heard of the thing yet: it is asked again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            seen: object = error.details()
        else:
            if done(value):
                return value
            seen = value
        if time.monotonic() > deadline:
            pytest.fail(f"still {seen!r} after {timeout} s")
        time.sleep(0.2)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Stubs:
    """One stub per service, each on its own real channel."""

    supervision: supervision_grpc.SupervisionServiceStub
    competency: competency_grpc.CompetencyServiceStub
    consultation: consultation_grpc.ConsultationServiceStub
    coaching: coaching_grpc.CoachingServiceStub
    referral: referral_grpc.ReferralServiceStub
    compliance: compliance_grpc.ComplianceServiceStub
    credentials: credential_grpc.CredentialServiceStub
    oversight: oversight_grpc.OversightServiceStub


@contextmanager
def stubs_for(addresses: Mapping[str, str], bearer: str | None = None) -> Iterator[Stubs]:
    """Stubs calling as `bearer` (by default the tests' staff, an administrator)."""
    caller = token() if bearer is None else bearer
    channels = {name: open_channel(address, token=caller) for name, address in addresses.items()}
    try:
        yield Stubs(
            supervision=supervision_grpc.SupervisionServiceStub(channels["supervision"]),
            competency=competency_grpc.CompetencyServiceStub(channels["supervision"]),
            consultation=consultation_grpc.ConsultationServiceStub(channels["supervision"]),
            coaching=coaching_grpc.CoachingServiceStub(channels["coaching"]),
            referral=referral_grpc.ReferralServiceStub(channels["referral"]),
            compliance=compliance_grpc.ComplianceServiceStub(channels["compliance"]),
            credentials=credential_grpc.CredentialServiceStub(channels["compliance"]),
            oversight=oversight_grpc.OversightServiceStub(channels["compliance"]),
        )
    finally:
        for channel in channels.values():
            channel.close()


def invalid_field(error: grpc.RpcError) -> str:
    """The field an INVALID_ARGUMENT names: its details read "<field>: <reason>"."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    return str(error.details()).split(":", 1)[0]


def as_published(
    contract: EventContract,
    *,
    subject: str,
    occurred_at: dt.datetime | None = None,
    correlation_id: str = "e2e",
    actor: str = "system",
    event_id: uuid.UUID | None = None,
) -> OutboxMessage:
    """The message the contract's producer would publish, from its topic's source."""
    topic = event_topic(contract.topic)
    assert topic is not None and topic.source is not None
    return OutboxMessage(
        event_id=event_id or uuid.uuid4(),
        topic=contract.topic,
        key=contract.key(),
        ce_type=contract.ce_type(),
        source=topic.source,
        subject=subject,
        occurred_at=occurred_at or dt.datetime.now(dt.UTC),
        data=contract.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id=correlation_id, actor=actor),
    )


Record = tuple[str, bytes | None, bytes, Headers]
"""What is put on a topic: the topic, the Kafka key, the value and the headers."""


def signed(stack: Stack, message: OutboxMessage, signer: EventSigner | None = None) -> Record:
    """The message encoded and signed as its producer would (with the stack's keys, unless
    `signer` says whose)."""
    key, value, headers = encode(message, signer or stack.event_signer())
    return message.topic, key, value, headers


def unsigned(message: OutboxMessage) -> Record:
    """The message as a forger without a key would put it on its topic."""
    key, value, headers = encode(message)
    return message.topic, key, value, headers


def put_on_topics(stack: Stack, records: Sequence[Record]) -> None:
    """Sends the records to their topics, in order, each acknowledged."""
    assert stack.bootstrap_servers is not None
    asyncio.run(_produce(stack.bootstrap_servers, records))


def publish(stack: Stack, *messages: OutboxMessage) -> None:
    """Puts the messages on their topics as their producers would: signed."""
    put_on_topics(stack, [signed(stack, message) for message in messages])


async def _produce(bootstrap: str, records: Sequence[Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
