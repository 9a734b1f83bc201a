"""`make run`: the whole system on one machine, on its embedded defaults.

Starts a Kafka-protocol broker (the embedded Tansu, unless KAFKA_BOOTSTRAP_SERVERS names one),
creates the declared topics, and runs the four services as separate processes, each a gRPC
server with its own SQLite file under one data folder. Ctrl-C stops everything cleanly.

The embedded broker keeps nothing across restarts. The event stores do, so on a fresh embedded
broker every service re-publishes its log and every consumer, being idempotent, skips what it
already applied: stopping and starting again loses nothing and counts nothing twice.

Callers authenticate with bearer tokens: the stack creates a development signing key and its
JWKS under `<data>/security` once, points the services at that JWKS, and mints the tokens its
clients use (`python -m infra.security.tokens mint ...` mints more with the same key). Beside
it, once, the development key-encryption key of the keyring (`keyring.kek`, 0600), which the
services are pointed at with the keyring database `<data>/keyring.sqlite`, unless set. The
services sign the events they publish: the stack creates an Ed25519 key per service under
`<data>/security/events` once, with the public key set every consumer checks against
(`infra.messaging.authenticity`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.topics import ALL_TOPICS, published_by
from infra.db import private_file, private_folder
from infra.grpc.client import open_channel
from infra.messaging.admin import ensure_topics, wait_for_broker
from infra.messaging.authenticity import EventKeyring, EventSigner, KeyFiles, development_keyring
from infra.messaging.broker import EmbeddedBroker
from infra.messaging.security import (
    PROTOCOL_VARIABLE,
    KafkaSecuritySettings,
    SecurityProtocol,
    kafka_security,
)
from infra.security.crypto.kek import development_key_file
from infra.security.crypto.settings import (
    KEK_FILE_VARIABLE,
    KEYRING_DATABASE_FILE,
    URL_VARIABLE,
)
from infra.security.policy import Role
from infra.security.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    JWKS_FILE,
    SigningKey,
    development_key,
)


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    grpc_service: str
    default_port: int


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("supervision", "continuum.supervision.v1.SupervisionService", 50051),
    ServiceSpec("coaching", "continuum.coaching.v1.CoachingService", 50052),
    ServiceSpec("referral", "continuum.referral.v1.ReferralService", 50053),
    ServiceSpec("compliance", "continuum.compliance.v1.ComplianceService", 50054),
)


def grpc_address_variable(service: str) -> str:
    return f"{service.upper()}_GRPC_ADDRESS"


def database_url_variable(service: str) -> str:
    return f"{service.upper()}_DATABASE_URL"


@dataclass
class Stack:
    """The broker and the services as child processes; used by `make run` and the e2e tests."""

    data_dir: Path
    addresses: dict[str, str]
    bootstrap_servers: str | None = None
    broker_port: int = 9092
    echo: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    _broker: EmbeddedBroker | None = None
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _republish: bool = False
    signing_key: SigningKey | None = None
    """Signs the stack's development tokens; created under `<data>/security` when not given."""
    _event_keys: EventKeyring | None = None

    @property
    def security_dir(self) -> Path:
        return self.data_dir / "security"

    @property
    def event_key_files(self) -> KeyFiles:
        return KeyFiles(self.security_dir / "events")

    def event_keys(self) -> EventKeyring:
        """Each service's event signing key, written with the public key set where the
        services read them (created once, kept across runs)."""
        if self._event_keys is None:
            private_folder(self.security_dir)
            self._event_keys = development_keyring(
                self.event_key_files.folder,
                [published_by(spec.name).source or "" for spec in SERVICES],
            )
        return self._event_keys

    def event_signer(self) -> EventSigner:
        """Signs a message as the service its source names would: for tests and tools that
        put events on the stack's topics themselves (an unsigned one is refused)."""
        return self.event_keys().signer()

    def key(self) -> SigningKey:
        """The development signing key, its JWKS written where the services read it."""
        if self.signing_key is None:
            self.signing_key = development_key(self.security_dir)
        self.security_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.security_dir / JWKS_FILE).write_text(json.dumps(self.signing_key.jwks()))
        return self.signing_key

    def token(
        self,
        subject: str,
        roles: tuple[str, ...] = (Role.ADMINISTRATOR,),
        sites: tuple[str, ...] = (),
    ) -> str:
        """A development token for `subject` (by default an administrator of every site)."""
        return self.key().mint(subject, roles, sites)

    @property
    def embedded(self) -> bool:
        return self._broker is not None

    def start_broker(self) -> str:
        # What the services keep there is behavioral-health data: its owner's only.
        private_folder(self.data_dir)
        if self.bootstrap_servers is None:
            self._broker = EmbeddedBroker(
                port=self.broker_port, log_file=self.data_dir / "broker.log"
            )
            self._broker.start()
            self.bootstrap_servers = self._broker.bootstrap_servers
            # A fresh embedded broker has none of the events the stores hold.
            self._republish = True
            security = None  # it listens on loopback, in plaintext
        else:
            # Another broker is reached as the services reach it (CONTINUUM_KAFKA_*).
            security = kafka_security(KafkaSecuritySettings())
        wait_for_broker(self.bootstrap_servers, timeout=30, security=security)
        ensure_topics(self.bootstrap_servers, ALL_TOPICS, security=security)
        return self.bootstrap_servers

    def env_for(self, service: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        env["KAFKA_BOOTSTRAP_SERVERS"] = self.bootstrap_servers or ""
        if self.embedded:
            env[PROTOCOL_VARIABLE] = SecurityProtocol.PLAINTEXT
        env[grpc_address_variable(service)] = self.addresses[service]
        env.setdefault(
            database_url_variable(service), f"sqlite:///{self.data_dir / service}.sqlite"
        )
        self.key()
        env["CONTINUUM_JWKS"] = str(self.security_dir / JWKS_FILE)
        source = published_by(service).source or ""
        env.update(self.event_key_files.settings_for(source, self.event_keys().keys[source].kid))
        # The stack's own key mints its clients' tokens: their issuer and audience are these.
        env["CONTINUUM_TOKEN_ISSUER"] = DEFAULT_ISSUER
        env["CONTINUUM_TOKEN_AUDIENCE"] = DEFAULT_AUDIENCE
        env["CONTINUUM_REPUBLISH_ON_START"] = "1" if self._republish else "0"
        # The keyring the services share, unless another is configured.
        if not env.get(KEK_FILE_VARIABLE):
            env[KEK_FILE_VARIABLE] = str(development_key_file(self.security_dir))
        env.setdefault(URL_VARIABLE, f"sqlite:///{self.data_dir / KEYRING_DATABASE_FILE}")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start_service(self, service: str) -> None:
        # Owned by the child, which writes its output there (unless echoed).
        log = private_file(self.data_dir / f"{service}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", service],
            env=self.env_for(service),
            stdout=subprocess.PIPE if self.echo else log,
            stderr=subprocess.STDOUT,
        )
        self._processes[service] = process
        if self.echo and process.stdout is not None:
            threading.Thread(target=_echo, args=(service, process.stdout, log), daemon=True).start()

    def wait_until_serving(self, service: str, timeout: float = 60) -> None:
        spec = next(s for s in SERVICES if s.name == service)
        deadline = time.monotonic() + timeout
        # Health checks answer without a token, as Kubernetes probes need.
        with open_channel(self.addresses[service]) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                process = self._processes.get(service)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{service} exited with {process.returncode}")
                with contextlib.suppress(grpc.RpcError):
                    reply = stub.Check(
                        health_pb2.HealthCheckRequest(service=spec.grpc_service), timeout=1
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not serving on {self.addresses[service]}")
                time.sleep(0.2)

    def start(self) -> None:
        self.start_broker()
        for spec in SERVICES:
            self.start_service(spec.name)
        for spec in SERVICES:
            self.wait_until_serving(spec.name)

    def kill(self, service: str) -> None:
        """Kills a service at once (SIGKILL), as a crash would."""
        process = self._processes.pop(service)
        process.kill()
        process.wait()

    def stop_service(self, service: str, grace: float = 15) -> int | None:
        process = self._processes.pop(service, None)
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def stop(self) -> None:
        for service in list(self._processes):
            if (process := self._processes[service]).poll() is None:
                process.send_signal(signal.SIGTERM)
        for service in list(self._processes):
            self.stop_service(service)
        if self._broker is not None:
            self._broker.stop()
            self._broker = None

    def pid(self, service: str) -> int | None:
        """The process id of a running service (for `make bench` to sample its memory)."""
        process = self._processes.get(service)
        return process.pid if process is not None and process.poll() is None else None

    @property
    def broker_pid(self) -> int | None:
        """The embedded broker's process id, None when the stack uses another broker."""
        return None if self._broker is None else self._broker.pid

    def exited(self) -> Iterator[tuple[str, int]]:
        for service, process in self._processes.items():
            if process.poll() is not None:
                yield service, process.returncode


def _echo(service: str, stream: object, log: object) -> None:
    prefix = f"[{service}] ".encode()
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        log.write(line)  # type: ignore[attr-defined]
        log.flush()  # type: ignore[attr-defined]
        sys.stdout.buffer.write(prefix + line)
        sys.stdout.buffer.flush()


def main() -> None:
    # Whatever the stack writes under the data folder is its owner's only.
    os.umask(0o077)
    # On one machine the clocks tick every 5 s (service levels, expiry reminders), unless set.
    os.environ.setdefault("CONTINUUM_CLOCK_TICK_SECONDS", "5")
    data_dir = Path(os.environ.get("CONTINUUM_DATA_DIR", ".data")).resolve()
    addresses = {
        s.name: os.environ.get(grpc_address_variable(s.name), f"127.0.0.1:{s.default_port}")
        for s in SERVICES
    }
    stack = Stack(
        data_dir=data_dir,
        addresses=addresses,
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
    )
    stopping = threading.Event()
    # Set explicitly: a process started in the background inherits SIGINT ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        bootstrap = stack.start_broker()
        kind = "embedded broker" if stack.embedded else "broker"
        print(f"Kafka ({kind}) on {bootstrap}; data in {data_dir}", flush=True)
        for spec in SERVICES:
            stack.start_service(spec.name)
        for spec in SERVICES:
            stack.wait_until_serving(spec.name)
        print("Continuum is up:", flush=True)
        for spec in SERVICES:
            print(f"  {spec.name:<12} gRPC {addresses[spec.name]}", flush=True)
        stack.key()
        print(
            f"  development tokens: signed by {stack.security_dir}; mint one with\n"
            "    python -m infra.security.tokens mint --subject ID --role ROLE --site SITE",
            flush=True,
        )
        print("Ctrl-C stops everything.", flush=True)
        while not stopping.wait(0.5):
            for service, code in stack.exited():
                raise SystemExit(f"{service} stopped unexpectedly with exit code {code}")
    finally:
        # A terminal's Ctrl-C reaches every process of the group, and impatient users press it
        # twice: the services stop themselves on it, and this process finishes stopping them.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping Continuum ...", flush=True)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
