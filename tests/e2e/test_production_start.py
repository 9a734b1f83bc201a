"""In production a service refuses to start exposed insecurely, saying why and naming the
variables, before it opens anything; with TLS it serves on every interface, over TLS only."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.topics import ALL_TOPICS, published_by
from infra.grpc.client import ClientTls, open_channel
from infra.messaging.admin import ensure_topics
from infra.messaging.authenticity import KeyFiles, development_keyring
from infra.messaging.broker import EmbeddedBroker
from infra.security.crypto import create_key_file
from infra.security.tokens import JWKS_FILE, SigningKey

pytestmark = pytest.mark.e2e

COACHING = "continuum.coaching.v1.CoachingService"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _production(tmp_path: Path, **variables: str) -> dict[str, str]:
    return os.environ | {
        "CONTINUUM_ENVIRONMENT": "production",
        "CONTINUUM_DATA_DIR": str(tmp_path / "data"),
        "COACHING_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'coaching.sqlite'}",
        "PYTHONUNBUFFERED": "1",
        **variables,
    }


def test_in_production_a_plaintext_port_on_every_interface_and_a_broker_in_clear_refuse_the_start(
    tmp_path: Path,
) -> None:
    env = _production(
        tmp_path,
        COACHING_GRPC_ADDRESS="0.0.0.0:50052",
        KAFKA_BOOTSTRAP_SERVERS="kafka-1.kafka:9092",
    )

    started = subprocess.run(
        [sys.executable, "-m", "coaching"], env=env, capture_output=True, text=True, timeout=120
    )

    assert started.returncode == 2, started.stderr
    assert "coaching refused to start: CONTINUUM_ENVIRONMENT is production" in started.stderr
    for named in (
        "COACHING_GRPC_ADDRESS 0.0.0.0:50052 is not a loopback address",
        "CONTINUUM_GRPC_TLS_CERT_FILE",
        "KAFKA_BOOTSTRAP_SERVERS names kafka-1.kafka:9092",
        "CONTINUUM_KAFKA_SECURITY_PROTOCOL is PLAINTEXT",
        "CONTINUUM_EVENT_SIGNING_KEY_FILE is not set",
        "CONTINUUM_EVENT_KEYS_FILE is not set",
    ):
        assert named in started.stderr, started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "data").exists(), "nothing was opened before the refusal"


def _keyring(tmp_path: Path) -> dict[str, str]:
    """A key-encryption key file and a keyring database, as production is given them."""
    (tmp_path / "kms").mkdir()
    kek = create_key_file(tmp_path / "kms" / "keyring.kek")
    return {
        "CONTINUUM_KEYRING_KEK_FILE": str(kek),
        "CONTINUUM_KEYRING_URL": f"sqlite:///{tmp_path / 'kms' / 'keyring.sqlite'}",
    }


def test_in_production_a_start_without_a_keyring_is_refused_naming_the_settings(
    tmp_path: Path, certificate_authority: Any
) -> None:
    issued = certificate_authority.server()
    jwks = tmp_path / "idp" / JWKS_FILE
    jwks.parent.mkdir()
    jwks.write_text(json.dumps(SigningKey.generate().jwks()))
    source = published_by("coaching").source or ""
    keys = development_keyring(tmp_path / "event-keys", [source])
    env = _production(
        tmp_path,
        COACHING_GRPC_ADDRESS=f"0.0.0.0:{_free_port()}",
        CONTINUUM_JWKS=str(jwks),
        CONTINUUM_GRPC_TLS_CERT_FILE=str(issued.certificate_file),
        CONTINUUM_GRPC_TLS_KEY_FILE=str(issued.key_file),
        **KeyFiles(tmp_path / "event-keys").settings_for(source, keys.keys[source].kid),
    )
    for variable in ("CONTINUUM_KEYRING_KEK_FILE", "CONTINUUM_KEYRING_URL"):
        env.pop(variable, None)

    started = subprocess.run(
        [sys.executable, "-m", "coaching"], env=env, capture_output=True, text=True, timeout=120
    )

    assert started.returncode == 2, started.stderr
    assert "coaching refused to start: CONTINUUM_ENVIRONMENT is production" in started.stderr
    assert "CONTINUUM_KEYRING_KEK_FILE is not set" in started.stderr
    assert "CONTINUUM_KEYRING_URL is not set" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "data").exists(), "nothing was opened before the refusal"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_file=tmp_path / "broker.log") as started:
        ensure_topics(started.bootstrap_servers, ALL_TOPICS)
        yield started


def test_in_production_with_tls_a_service_serves_every_interface_over_tls_only(
    tmp_path: Path, broker: EmbeddedBroker, certificate_authority: Any
) -> None:
    issued = certificate_authority.server()
    jwks = tmp_path / "idp" / JWKS_FILE  # as an identity provider publishes it: keys only
    jwks.parent.mkdir()
    jwks.write_text(json.dumps(SigningKey.generate().jwks()))
    source = published_by("coaching").source or ""
    keys = development_keyring(tmp_path / "event-keys", [source])
    port = _free_port()
    env = _production(
        tmp_path,
        COACHING_GRPC_ADDRESS=f"0.0.0.0:{port}",
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,  # loopback: allowed in clear
        CONTINUUM_JWKS=str(jwks),
        CONTINUUM_GRPC_TLS_CERT_FILE=str(issued.certificate_file),
        CONTINUUM_GRPC_TLS_KEY_FILE=str(issued.key_file),
        **KeyFiles(tmp_path / "event-keys").settings_for(source, keys.keys[source].kid),
        **_keyring(tmp_path),
    )
    log = (tmp_path / "coaching.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "coaching"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        trusting = ClientTls(root_certificates=certificate_authority.pem)
        assert _serving(f"127.0.0.1:{port}", trusting, process, timeout=240)
        with open_channel(f"127.0.0.1:{port}") as plaintext, pytest.raises(grpc.RpcError) as no:
            health_pb2_grpc.HealthStub(plaintext).Check(
                health_pb2.HealthCheckRequest(service=COACHING), timeout=5
            )
        assert no.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    assert "(TLS)" in (tmp_path / "coaching.log").read_text()
    # The folder it made for its database, and the database, are its own only.
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.glob("coaching.sqlite*")} == {
        p.name: 0o600 for p in data.glob("coaching.sqlite*")
    }
    assert (data / "coaching.sqlite").exists()


def _serving(
    address: str, tls: ClientTls, process: subprocess.Popen[bytes], timeout: float
) -> bool:
    deadline = time.monotonic() + timeout
    with open_channel(address, tls=tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"coaching exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=COACHING), timeout=1)
            except grpc.RpcError:
                time.sleep(0.3)
                continue
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    return False
