"""Every Kafka client of a process is given the same TLS and SASL settings, built once from
CONTINUUM_KAFKA_*: the producer and the consumers of the broker connection, and the admin
client. The clients are built and their configuration read; none connects (the embedded
broker speaks neither TLS nor SASL)."""

from __future__ import annotations

import ssl
from typing import Any

import aiokafka
import kafka.errors
import pytest
from faststream.security import BaseSecurity, SASLScram512

from contracts.topics import SUPERVISION_EVENTS
from infra.messaging import admin
from infra.messaging.publisher import KafkaPublisher
from infra.messaging.security import (
    KafkaSecurityMisconfigured,
    KafkaSecuritySettings,
    SaslMechanism,
    SecurityProtocol,
    kafka_security,
)

pytestmark = pytest.mark.unit

BROKERS = "kafka-0.kafka:9093,kafka-1.kafka:9093"


@pytest.fixture
def sasl_ssl(certificate_authority: Any) -> KafkaSecuritySettings:
    client = certificate_authority.client("supervision")
    return KafkaSecuritySettings(
        security_protocol=SecurityProtocol.SASL_SSL,
        ssl_ca_file=certificate_authority.file,
        ssl_cert_file=client.certificate_file,
        ssl_key_file=client.key_file,
        sasl_mechanism=SaslMechanism.SCRAM_SHA_512,
        sasl_username="supervision",
        sasl_password="a-long-random-password",  # type: ignore[arg-type]
    )


def trusted(context: ssl.SSLContext) -> list[str]:
    """The common names of the authorities `context` checks brokers' certificates against."""
    return [
        dict(part[0] for part in cert["subject"])["commonName"] for cert in context.get_ca_certs()
    ]


def test_plaintext_needs_no_security_and_gives_clients_no_options() -> None:
    assert kafka_security(KafkaSecuritySettings()) is None


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("CONTINUUM_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("CONTINUUM_KAFKA_SASL_USERNAME", "compliance")
    monkeypatch.setenv("CONTINUUM_KAFKA_SASL_PASSWORD", "from-a-secret")

    settings = KafkaSecuritySettings()

    assert (settings.security_protocol, settings.sasl_mechanism) == ("SASL_PLAINTEXT", "PLAIN")
    assert settings.sasl_password is not None
    assert "from-a-secret" not in repr(settings)  # a secret is never printed


async def test_the_broker_connection_gives_its_producer_and_its_consumers_the_security(
    sasl_ssl: KafkaSecuritySettings,
) -> None:
    security = kafka_security(sasl_ssl)
    assert isinstance(security, SASLScram512)

    publisher = KafkaPublisher(BROKERS, client_id="continuum-supervision", security=security)

    # What faststream builds when the broker connects: its producer from the connection's
    # options, and every subscription's consumer with its consumer builder.
    producer = aiokafka.AIOKafkaProducer(**publisher.broker._connection_kwargs)
    consumer = publisher.broker.config.broker_config.builder()
    try:
        for client in (producer.client, consumer._client):
            assert client._bootstrap_servers == [BROKERS]
            assert client._security_protocol == "SASL_SSL"
            assert client._sasl_mechanism == "SCRAM-SHA-512"
            assert client._sasl_plain_username == "supervision"
            assert client._sasl_plain_password == "a-long-random-password"
            assert client._ssl_context is security.ssl_context
    finally:
        await producer.stop()
        await consumer.stop()
    assert security.ssl_context is not None
    assert trusted(security.ssl_context) == ["Continuum test CA"]
    assert security.ssl_context.verify_mode is ssl.CERT_REQUIRED
    assert security.ssl_context.check_hostname


def test_the_admin_client_gets_the_same_security(
    sasl_ssl: KafkaSecuritySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []

    def unreachable(**config: Any) -> Any:
        built.append(config)
        raise kafka.errors.BrokerNotAvailableError()

    monkeypatch.setattr(admin, "KafkaAdminClient", unreachable)
    security = kafka_security(sasl_ssl)
    assert security is not None

    with pytest.raises(TimeoutError):
        admin.wait_for_broker(BROKERS, timeout=0.2, security=security)
    with pytest.raises(kafka.errors.BrokerNotAvailableError):
        admin.ensure_topics(BROKERS, [SUPERVISION_EVENTS], timeout=0.2, security=security)

    assert built
    for config in built:
        assert config["bootstrap_servers"] == BROKERS
        assert config["security_protocol"] == "SASL_SSL"
        assert config["sasl_mechanism"] == "SCRAM-SHA-512"
        assert config["sasl_plain_username"] == "supervision"
        assert config["sasl_plain_password"] == "a-long-random-password"
        assert config["ssl_context"] is security.ssl_context


def test_tls_without_sasl_is_an_encrypted_connection_with_the_client_certificate(
    certificate_authority: Any,
) -> None:
    client = certificate_authority.client("coaching")

    security = kafka_security(
        KafkaSecuritySettings(
            security_protocol=SecurityProtocol.SSL,
            ssl_ca_file=certificate_authority.file,
            ssl_cert_file=client.certificate_file,
            ssl_key_file=client.key_file,
        )
    )

    assert type(security) is BaseSecurity and security.use_ssl
    assert security.ssl_context is not None
    assert trusted(security.ssl_context) == ["Continuum test CA"]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (
            {"security_protocol": "SASL_SSL", "sasl_username": "referral"},
            "CONTINUUM_KAFKA_SASL_PASSWORD is not set",
        ),
        (
            {"security_protocol": "SASL_SSL", "sasl_password": "secret-enough"},
            "CONTINUUM_KAFKA_SASL_USERNAME is not set",
        ),
        ({"ssl_ca_file": "ca.pem"}, "CONTINUUM_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        (
            {"security_protocol": "SSL", "ssl_ca_file": "/nowhere/ca.pem"},
            "CONTINUUM_KAFKA_SSL_CA_FILE /nowhere/ca.pem",
        ),
        (
            {"security_protocol": "SSL", "ssl_cert_file": "client.crt"},
            "CONTINUUM_KAFKA_SSL_KEY_FILE is not set",
        ),
    ],
    ids=["no-password", "no-username", "tls-files-in-plaintext", "no-such-ca", "cert-no-key"],
)
def test_settings_that_cannot_be_used_are_refused_naming_the_variable(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(KafkaSecurityMisconfigured, match=named):
        kafka_security(KafkaSecuritySettings(**settings))
