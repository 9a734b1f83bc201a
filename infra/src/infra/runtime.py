"""How every service process runs: settings, database, event store, outbox relay, Kafka,
consumers and the gRPC server, started in order and stopped gracefully on SIGTERM or Ctrl-C.

Each service's `bootstrap.py` (its one composition root) says what is its own: migrations,
translator, gRPC servicers and subscriptions. This module does the rest, the same for all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.rulepacks.loader import RulePackError, rule_packs
from contracts.rulepacks.model import RulePacks
from contracts.topics import published_by
from infra.application import CommandContext
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database, Migration
from infra.eventstore import EventMetadata, SqlEventStore, Translator
from infra.exposure import Environment, insecure_start_reasons, keyring_start_reasons
from infra.grpc.metadata import CallContext
from infra.grpc.sealed import ResponseOpener
from infra.grpc.server import GrpcServer, ServiceBinding, install_signal_handlers
from infra.grpc.tls import GrpcTlsSettings, ServerTls, TlsMisconfigured
from infra.messaging.authenticity import (
    AuthenticityMisconfigured,
    EventAuthenticitySettings,
    EventSigner,
    EventVerifier,
)
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import Subscription
from infra.messaging.publisher import KafkaPublisher
from infra.messaging.security import (
    KafkaSecurityMisconfigured,
    KafkaSecuritySettings,
    kafka_security,
)
from infra.outbox import OutboxRelay, republish_log
from infra.redaction import configure_logging
from infra.security.access_log import AccessRecorder, SqlAccessLog
from infra.security.access_log_api import access_log_binding
from infra.security.crypto import (
    CachedSubjectKeys,
    KeyringError,
    KeyringSettings,
    SqlSubjectKeys,
    SubjectKeys,
    development_key_file,
    open_keyring,
)
from infra.security.guard import Guard
from infra.security.policy import UnguardedRpc
from infra.security.relations import Relations
from infra.security.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    TokenVerifier,
    key_set,
)
from infra.telemetry import TelemetryHandle, current_trace_headers, setup_telemetry
from infra.timers import Timer, run_timer

log = logging.getLogger(__name__)


class PlatformSettings(BaseSettings):
    """What every service reads from the environment, whatever its name."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    continuum_data_dir: Path = Path(".data")
    # Set by `make run` on a fresh embedded broker, which holds none of the stored events.
    continuum_republish_on_start: bool = False
    continuum_shutdown_grace_seconds: float = Field(default=10.0, gt=0)
    # How often a service's clock runs its timers (service-level checks, expiry reminders).
    continuum_clock_tick_seconds: float = Field(default=60.0, gt=0)
    # How many streams' states the command runner keeps between commands (least recently used
    # go first): the working set of records being changed, read again only when it moved.
    continuum_state_cache_streams: int = Field(default=4096, ge=0)
    # Where the keys that verify callers' bearer tokens are published: a JWKS file or URL.
    continuum_jwks: str | None = None
    continuum_token_issuer: str = DEFAULT_ISSUER
    continuum_token_audience: str = DEFAULT_AUDIENCE
    # Outside development an insecure start is refused (`infra.exposure`).
    continuum_environment: Environment = Environment.DEVELOPMENT
    # TLS on the gRPC port (CONTINUUM_GRPC_TLS_*) and the Kafka clients' TLS and SASL
    # (CONTINUUM_KAFKA_*).
    grpc_tls: GrpcTlsSettings = Field(default_factory=GrpcTlsSettings)
    kafka_security: KafkaSecuritySettings = Field(default_factory=KafkaSecuritySettings)
    # The key that signs the service's events and its producers' public keys
    # (CONTINUUM_EVENT_*).
    event_authenticity: EventAuthenticitySettings = Field(default_factory=EventAuthenticitySettings)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    name: str
    grpc_address: str
    database_url: str
    platform: PlatformSettings


# The cyclic collector's thresholds: a young collection per 100,000 allocations (not 700), the
# older generations after 50 and 100 of those. A view of a site of the past builds some 10^5
# facts that live until it answers; at the default thresholds the collector walked them again
# and again and took 40-45% of the view's time (a site of 200 supervisees with 268 sessions each
# as of a past date: 2.5 -> 1.7 s of CPU). Reference counting still frees almost everything at
# once; only cycles wait longer.
COLLECTOR_THRESHOLDS = (100_000, 50, 100)


def load_settings(name: str, default_port: int) -> ServiceSettings:
    """<NAME>_GRPC_ADDRESS and <NAME>_DATABASE_URL, with the embedded defaults."""
    platform = PlatformSettings()

    class Own(BaseSettings):
        model_config = SettingsConfigDict(env_prefix=f"{name.upper()}_", extra="ignore")
        grpc_address: str = f"127.0.0.1:{default_port}"
        database_url: str = f"sqlite:///{platform.continuum_data_dir.resolve() / name}.sqlite"

    own = Own()
    return ServiceSettings(name, own.grpc_address, own.database_url, platform)


class StartupRefused(Exception):
    """What a service found wrong before serving, such as a malformed rule pack: it does not
    start, and says why."""


def rule_packs_at_start() -> RulePacks:
    """The licensing boards' rule packs, validated before the service serves: a malformed pack
    refuses the start (StartupRefused, naming the file, the track, the field and the reason)
    rather than checking or judging records by a rule it misread."""
    try:
        return rule_packs()
    except RulePackError as error:
        raise StartupRefused(str(error)) from error


def verifier_at_start(platform: PlatformSettings) -> TokenVerifier:
    """What verifies every caller: the configured JWKS. Without one the service refuses to
    start rather than answer anonymous callers."""
    if not platform.continuum_jwks:
        raise StartupRefused(
            "CONTINUUM_JWKS is not set: no key can verify callers' tokens "
            "(a JWKS file path or URL, as the identity provider publishes it)"
        )
    try:
        keys = key_set(platform.continuum_jwks)
    except (OSError, ValueError) as error:
        raise StartupRefused(f"CONTINUUM_JWKS {platform.continuum_jwks}: {error}") from error
    return TokenVerifier(
        keys, issuer=platform.continuum_token_issuer, audience=platform.continuum_token_audience
    )


@dataclass(frozen=True, slots=True)
class Transport:
    """How the service's gRPC port and its Kafka clients are secured."""

    grpc_tls: ServerTls | None
    kafka_security: BaseSecurity | None
    # Signs what the service publishes; checks what it consumes (None: development without
    # event keys, nothing signed or checked).
    event_signer: EventSigner | None = None
    event_verifier: EventVerifier | None = None


def transport_at_start(settings: ServiceSettings) -> Transport:
    """The gRPC TLS material and the Kafka security, read before the service opens anything.
    Settings that cannot be used refuse the start, in any environment; an insecure exposure
    refuses it outside development (`infra.exposure`) and is logged in development."""
    platform = settings.platform
    authenticity = platform.event_authenticity
    try:
        transport = Transport(
            platform.grpc_tls.server_tls(),
            kafka_security(platform.kafka_security),
            authenticity.signer(published_by(settings.name).source or ""),
            authenticity.verifier(),
        )
    except (TlsMisconfigured, KafkaSecurityMisconfigured, AuthenticityMisconfigured) as error:
        raise StartupRefused(str(error)) from error
    if transport.event_signer is not None and transport.event_verifier is not None:
        contradiction = transport.event_verifier.contradiction(transport.event_signer)
        if contradiction is not None:
            raise StartupRefused(contradiction)
    reasons = insecure_start_reasons(
        grpc_address_variable=f"{settings.name.upper()}_GRPC_ADDRESS",
        grpc_address=settings.grpc_address,
        grpc_tls=transport.grpc_tls,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        kafka=platform.kafka_security,
        jwks=platform.continuum_jwks,
        signs_events=transport.event_signer is not None,
        verifies_events=transport.event_verifier is not None,
    )
    environment = platform.continuum_environment
    if reasons and environment is not Environment.DEVELOPMENT:
        raise StartupRefused(f"CONTINUUM_ENVIRONMENT is {environment}: {'; '.join(reasons)}")
    for reason in reasons:
        log.warning("%s (refused outside development)", reason)
    return transport


def keyring_settings_at_start(settings: ServiceSettings) -> KeyringSettings:
    """The keyring settings (CONTINUUM_KEYRING_*). Outside development a missing key file or
    keyring database refuses the start; in development a key file is made under the data folder
    (`.data/security/keyring.kek`, as `make run` does) and the SQLite keyring beside the
    services' files is used."""
    keyring = KeyringSettings()
    environment = settings.platform.continuum_environment
    reasons = keyring_start_reasons(keyring)
    if reasons and environment is not Environment.DEVELOPMENT:
        raise StartupRefused(f"CONTINUUM_ENVIRONMENT is {environment}: {'; '.join(reasons)}")
    if keyring.kek_file is None:
        folder = settings.platform.continuum_data_dir / "security"
        keyring = keyring.model_copy(update={"kek_file": development_key_file(folder)})
        log.warning("%s: sealing with the development key file in %s", settings.name, folder)
    return keyring


async def keyring_at_start(settings: ServiceSettings, keyring: KeyringSettings) -> SqlSubjectKeys:
    """The keyring the service seals and opens sensitive values with, its database migrated."""
    try:
        return await open_keyring(keyring, data_dir=settings.platform.continuum_data_dir)
    except KeyringError as error:
        raise StartupRefused(str(error)) from error


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def command_context(call: CallContext, now: dt.datetime) -> CommandContext:
    """The context of a command a staff app sent: its caller, correlation and current trace."""
    traceparent, tracestate = current_trace_headers()
    return CommandContext(
        now=now,
        metadata=EventMetadata(
            correlation_id=call.correlation_id,
            actor=call.actor,
            site_id=call.site_id,
            traceparent=traceparent,
            tracestate=tracestate,
        ),
    )


def reaction_context(event: IncomingEvent, actor: str, now: dt.datetime) -> CommandContext:
    """The context of a command a consumed event caused: same correlation, caused by the event."""
    traceparent, tracestate = current_trace_headers()
    return CommandContext(
        now=now,
        metadata=EventMetadata(
            correlation_id=event.metadata.correlation_id or str(event.event_id),
            causation_id=str(event.event_id),
            actor=actor,
            site_id=event.metadata.site_id,
            traceparent=traceparent,
            tracestate=tracestate,
        ),
    )


@dataclass
class Runtime:
    """The infrastructure one service process runs on, handed to its composition root."""

    settings: ServiceSettings
    telemetry: TelemetryHandle
    db: Database
    store: SqlEventStore
    broker: KafkaBroker
    # Runs every command, timer job and consumed event's reaction of the service.
    runner: CommandRunner
    # Subjects' keys: what opens a sealed value where a person reads it (the runner seals and
    # opens the service's own events with the same keys).
    keys: SubjectKeys
    clock: Callable[[], dt.datetime] = utcnow
    # Checks that each consumed event is its topic's producer's: every subscription takes it.
    event_verifier: EventVerifier | None = None


@dataclass
class ServiceParts:
    """What a service brings: its API, its subscriptions, the jobs its clock runs."""

    grpc: Sequence[ServiceBinding[Any]]
    subscriptions: Sequence[Subscription] = field(default_factory=tuple)
    timers: Sequence[Timer] = field(default_factory=tuple)
    # The service's answers about its records, for the policy's relationship checks.
    relations: Relations | None = None


def service_server(
    address: str,
    parts: ServiceParts,
    db: Database,
    verifier: TokenVerifier,
    keys: SubjectKeys,
    *,
    telemetry: TelemetryHandle | None = None,
    tls: ServerTls | None = None,
) -> GrpcServer:
    """The service's gRPC server: its APIs and its access log's, every call verified and
    authorized by the guard. Every read of a subject's record is recorded in the service's own
    access log, which the service serves to compliance officers and auditors. Stores and read
    models keep sensitive values sealed: `keys` open them in the responses a person reads."""
    access_log = SqlAccessLog(db)
    return GrpcServer(
        address,
        [*parts.grpc, access_log_binding(access_log)],
        telemetry=telemetry,
        tls=tls,
        responses=ResponseOpener(keys),
        guard=Guard(verifier, relations=parts.relations, access_log=AccessRecorder(access_log)),
    )


async def run_service(
    settings: ServiceSettings,
    *,
    migrations: Sequence[Migration],
    translate: Translator,
    compose: Callable[[Runtime], ServiceParts],
) -> None:
    """Runs one service until SIGTERM or SIGINT, then stops it in reverse order."""
    transport = transport_at_start(settings)
    verifier = verifier_at_start(settings.platform)
    keyring_settings = keyring_settings_at_start(settings)
    keyring = await keyring_at_start(settings, keyring_settings)
    keys = CachedSubjectKeys(keyring, ttl=keyring_settings.cache_seconds)
    telemetry = setup_telemetry(f"continuum-{settings.name}")
    db = Database.from_url(settings.database_url, migrations)
    if telemetry.exports_traces:
        # A span per SQL statement is worth its cost only when someone receives it; without an
        # exporter each command still has its own span (the runner's).
        for engine in (db.engine.sync_engine, db.blocking_engine):
            SQLAlchemyInstrumentor().instrument(
                engine=engine, tracer_provider=telemetry.tracer_provider
            )
    await db.migrate()
    store = SqlEventStore(db)
    # A span per command where someone receives spans; none otherwise (the RPC has its own).
    tracer = telemetry.tracer if telemetry.exports_traces else trace.NoOpTracer()
    runner = CommandRunner(
        SqlUnitStore(db, translate),
        keys,
        tracer=tracer,
        cache_size=settings.platform.continuum_state_cache_streams,
        state_max_age=keyring_settings.cache_seconds,
    )
    if settings.platform.continuum_republish_on_start:
        queued = await republish_log(db, store, translate)
        log.info("%s: %d stored events queued to be published again", settings.name, queued)

    # One broker connection publishes and consumes: every Kafka client of the service gets
    # the same security.
    publisher = KafkaPublisher(
        settings.platform.kafka_bootstrap_servers,
        client_id=f"continuum-{settings.name}",
        security=transport.kafka_security,
        signer=transport.event_signer,
    )
    runtime = Runtime(
        settings,
        telemetry,
        db,
        store,
        publisher.broker,
        runner,
        keys,
        event_verifier=transport.event_verifier,
    )
    parts = compose(runtime)
    # What the service is made of (modules, schemas, compiled statements) lives as long as it
    # does: out of the collector's reach, a collection walks only what requests and batches
    # leave behind, not every object the service started with (a projection rebuilding from
    # the log spent a tenth of its time collecting).
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    server = service_server(
        settings.grpc_address,
        parts,
        db,
        verifier,
        keys,
        telemetry=telemetry,
        tls=transport.grpc_tls,
    )
    relay = OutboxRelay(db, publisher, relay_id=f"{settings.name}-relay")
    stopping = asyncio.Event()
    uninstall = install_signal_handlers(asyncio.get_running_loop(), stopping.set)
    relay_task: asyncio.Task[None] | None = None
    timer_tasks: list[asyncio.Task[None]] = []
    serving = False
    try:
        await publisher.start()
        if parts.subscriptions:
            await publisher.broker.start()  # starts the subscribers on the same connection
        relay_task = asyncio.create_task(relay.run(stopping), name=f"{settings.name}-relay")
        tick = settings.platform.continuum_clock_tick_seconds
        timer_tasks = [
            asyncio.create_task(run_timer(timer, runtime.clock, stopping, tick), name=timer.name)
            for timer in parts.timers
        ]
        await server.start()
        serving = True
        log.info("%s serving gRPC on %s", settings.name, settings.grpc_address)
        await stopping.wait()
    finally:
        uninstall()
        stopping.set()
        grace = settings.platform.continuum_shutdown_grace_seconds
        if serving:
            await server.stop(grace)
        for subscription in parts.subscriptions:
            await subscription.stop()
        if relay_task is not None:
            await relay_task
        await asyncio.gather(*timer_tasks)
        await publisher.stop()
        await db.dispose()
        await keyring.database.dispose()
        telemetry.shutdown()
        log.info("%s stopped", settings.name)


def main(service: str, default_port: int, run: Callable[[ServiceSettings], Any]) -> None:
    """The body of `python -m <service>`. A refused start exits with status 2 and its reason."""
    # What the service writes (SQLite files, whatever a library creates) is its owner's only,
    # and its logs describe errors rather than quote them (`infra.redaction`).
    os.umask(0o077)
    configure_logging()
    try:
        asyncio.run(run(load_settings(service, default_port)))
    except (StartupRefused, UnguardedRpc) as refused:
        log.critical("%s refused to start: %s", service, refused)
        raise SystemExit(2) from None
