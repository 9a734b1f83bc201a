"""Outside development a service refuses to start exposed insecurely, one sentence per reason
naming the variable; in development it starts and says what production would refuse."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from infra.exposure import Environment, insecure_start_reasons, is_loopback
from infra.grpc.tls import GrpcTlsSettings
from infra.messaging.authenticity import EventAuthenticitySettings, development_keyring
from infra.messaging.security import KafkaSecuritySettings, SecurityProtocol
from infra.runtime import (
    PlatformSettings,
    ServiceSettings,
    StartupRefused,
    keyring_settings_at_start,
    transport_at_start,
)
from infra.security.tokens import JWKS_FILE, development_key

pytestmark = pytest.mark.unit

LOCAL = {
    "grpc_address_variable": "REFERRAL_GRPC_ADDRESS",
    "grpc_address": "127.0.0.1:50053",
    "grpc_tls": None,
    "bootstrap_servers": "127.0.0.1:9092",
    "kafka": KafkaSecuritySettings(),
    "jwks": None,
    "signs_events": True,
    "verifies_events": True,
}
SASL_SSL = KafkaSecuritySettings(
    security_protocol=SecurityProtocol.SASL_SSL,
    sasl_username="referral",
    sasl_password="a-long-random-password",  # type: ignore[arg-type]
)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.0.1:50051", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("unix:/run/continuum/supervision.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.4.7:50051", False),
        ("supervision.continuum.svc:50051", False),
    ],
)
def test_an_address_is_loopback_only_when_it_stays_on_the_machine(
    address: str, loopback: bool
) -> None:
    assert is_loopback(address) is loopback


def test_a_service_on_loopback_with_a_local_broker_exposes_nothing() -> None:
    assert insecure_start_reasons(**LOCAL) == []


def test_a_plaintext_port_on_every_interface_is_a_reason_naming_the_address_and_the_tls_files(
    certificate_authority: Any,
) -> None:
    issued = certificate_authority.server()
    tls = GrpcTlsSettings(cert_file=issued.certificate_file, key_file=issued.key_file)

    reasons = insecure_start_reasons(**LOCAL | {"grpc_address": "0.0.0.0:50053"})
    with_tls = insecure_start_reasons(
        **LOCAL | {"grpc_address": "0.0.0.0:50053", "grpc_tls": tls.server_tls()}
    )

    assert reasons == [
        "REFERRAL_GRPC_ADDRESS 0.0.0.0:50053 is not a loopback address and the port would be "
        "plaintext: set CONTINUUM_GRPC_TLS_CERT_FILE and CONTINUUM_GRPC_TLS_KEY_FILE"
    ]
    assert with_tls == []


@pytest.mark.parametrize("protocol", [SecurityProtocol.PLAINTEXT, SecurityProtocol.SASL_PLAINTEXT])
def test_an_unencrypted_connection_to_a_broker_elsewhere_is_a_reason(
    protocol: SecurityProtocol,
) -> None:
    kafka = KafkaSecuritySettings(
        security_protocol=protocol,
        sasl_username="referral",
        sasl_password="a-long-random-password",  # type: ignore[arg-type]
    )

    [reason] = insecure_start_reasons(
        **LOCAL | {"bootstrap_servers": "127.0.0.1:9092,kafka-1:9092", "kafka": kafka}
    )

    assert reason.startswith("KAFKA_BOOTSTRAP_SERVERS names kafka-1:9092, not a loopback address")
    assert f"CONTINUUM_KAFKA_SECURITY_PROTOCOL is {protocol}" in reason
    assert (
        insecure_start_reasons(**LOCAL | {"bootstrap_servers": "kafka-1:9093", "kafka": SASL_SSL})
        == []
    )


@pytest.mark.parametrize("password", ["", "changeme", "Password", " kafka "])
def test_a_sasl_password_left_empty_or_at_a_placeholder_is_a_reason(password: str) -> None:
    kafka = SASL_SSL.model_copy(update={"sasl_password": SecretStr(password)})

    reasons = insecure_start_reasons(
        **LOCAL | {"bootstrap_servers": "kafka-1:9093", "kafka": kafka}
    )

    assert reasons == ["CONTINUUM_KAFKA_SASL_PASSWORD is empty or a well-known default password"]


def test_tokens_verified_by_the_development_stacks_key_are_a_reason(tmp_path: Path) -> None:
    development_key(tmp_path / "security")  # the JWKS beside the key that signs its tokens
    published = tmp_path / "idp" / JWKS_FILE
    published.parent.mkdir()
    published.write_text((tmp_path / "security" / JWKS_FILE).read_text())
    beside = str(tmp_path / "security" / JWKS_FILE)

    [reason] = insecure_start_reasons(**LOCAL | {"jwks": beside})

    assert reason.startswith(f"CONTINUUM_JWKS {beside} lies beside the private key")
    assert insecure_start_reasons(**LOCAL | {"jwks": str(published)}) == []
    assert insecure_start_reasons(**LOCAL | {"jwks": "https://idp.example.org/jwks"}) == []


def test_keys_fetched_over_plain_http_from_elsewhere_are_a_reason() -> None:
    [reason] = insecure_start_reasons(**LOCAL | {"jwks": "http://idp.example.org/jwks"})

    assert reason.startswith(
        "CONTINUUM_JWKS http://idp.example.org/jwks is fetched over plain http"
    )
    assert insecure_start_reasons(**LOCAL | {"jwks": "http://127.0.0.1:8080/jwks"}) == []


def test_a_service_without_its_event_key_or_its_producers_keys_is_a_reason() -> None:
    [unsigned] = insecure_start_reasons(**LOCAL | {"signs_events": False})
    [unchecked] = insecure_start_reasons(**LOCAL | {"verifies_events": False})

    assert unsigned.startswith("CONTINUUM_EVENT_SIGNING_KEY_FILE is not set")
    assert unchecked.startswith("CONTINUUM_EVENT_KEYS_FILE is not set")


def _settings(
    environment: Environment, grpc_address: str = "0.0.0.0:50053", **platform: Any
) -> ServiceSettings:
    return ServiceSettings(
        "referral",
        grpc_address,
        "sqlite:///unused.sqlite",
        PlatformSettings(continuum_environment=environment, **platform),
    )


def test_in_production_an_insecure_start_is_refused_with_every_reason() -> None:
    settings = _settings(Environment.PRODUCTION, kafka_bootstrap_servers="kafka-1:9092")

    with pytest.raises(StartupRefused) as refused:
        transport_at_start(settings)

    said = str(refused.value)
    assert said.startswith("CONTINUUM_ENVIRONMENT is production: REFERRAL_GRPC_ADDRESS 0.0.0.0")
    assert "; KAFKA_BOOTSTRAP_SERVERS names kafka-1:9092" in said


def test_in_production_a_service_without_event_keys_refuses_to_start_naming_them(
    tmp_path: Path,
) -> None:
    local = {"grpc_address": "127.0.0.1:50053"}
    development_keyring(tmp_path, ["/continuum/referral"])
    keys = {
        "signing_key_file": tmp_path / "referral.pem",
        "signing_key_id": "referral-dev-1",
        "keys_file": tmp_path / "event-keys.json",
    }

    with pytest.raises(StartupRefused) as refused:
        transport_at_start(_settings(Environment.PRODUCTION, **local))
    signed = transport_at_start(
        _settings(
            Environment.PRODUCTION,
            **local,
            event_authenticity=EventAuthenticitySettings.model_validate(keys),
        )
    )

    assert str(refused.value) == (
        "CONTINUUM_ENVIRONMENT is production: CONTINUUM_EVENT_SIGNING_KEY_FILE is not set: the "
        "events this service publishes would carry no signature, and its consumers would refuse "
        "them; CONTINUUM_EVENT_KEYS_FILE is not set: the service could not tell its producers' "
        "events from forgeries"
    )
    assert signed.event_signer is not None and signed.event_verifier is not None


def test_in_development_an_insecure_start_goes_on_and_says_what_production_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    transport = transport_at_start(_settings(Environment.DEVELOPMENT))

    assert transport.grpc_tls is None and transport.kafka_security is None
    assert "REFERRAL_GRPC_ADDRESS 0.0.0.0:50053 is not a loopback address" in caplog.text
    assert "(refused outside development)" in caplog.text


def test_settings_that_cannot_be_used_refuse_the_start_in_any_environment() -> None:
    unusable = KafkaSecuritySettings(security_protocol=SecurityProtocol.SASL_SSL)

    with pytest.raises(StartupRefused, match="CONTINUUM_KAFKA_SASL_USERNAME is not set"):
        transport_at_start(_settings(Environment.DEVELOPMENT, kafka_security=unusable))


def test_the_environment_and_the_transport_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, certificate_authority: Any
) -> None:
    issued = certificate_authority.server()
    monkeypatch.setenv("CONTINUUM_ENVIRONMENT", "production")
    monkeypatch.setenv("CONTINUUM_GRPC_TLS_CERT_FILE", str(issued.certificate_file))
    monkeypatch.setenv("CONTINUUM_GRPC_TLS_KEY_FILE", str(issued.key_file))
    monkeypatch.setenv("CONTINUUM_KAFKA_SECURITY_PROTOCOL", "SSL")

    platform = PlatformSettings()

    assert platform.continuum_environment is Environment.PRODUCTION
    assert platform.grpc_tls.cert_file == issued.certificate_file
    assert platform.kafka_security.security_protocol is SecurityProtocol.SSL


def test_in_production_a_start_without_a_keyring_is_refused_naming_each_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    monkeypatch.delenv("CONTINUUM_KEYRING_KEK_FILE", raising=False)
    monkeypatch.delenv("CONTINUUM_KEYRING_URL", raising=False)
    # when
    with pytest.raises(StartupRefused) as refused:
        keyring_settings_at_start(_settings(Environment.PRODUCTION))
    # then
    said = str(refused.value)
    assert said.startswith("CONTINUUM_ENVIRONMENT is production: CONTINUUM_KEYRING_KEK_FILE is not")
    assert "; CONTINUUM_KEYRING_URL is not set" in said


def test_in_production_a_start_with_a_key_file_and_a_keyring_database_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONTINUUM_KEYRING_KEK_FILE", str(tmp_path / "kek"))
    monkeypatch.setenv("CONTINUUM_KEYRING_URL", "postgresql://keyring.internal/keys")

    keyring = keyring_settings_at_start(_settings(Environment.PRODUCTION))

    assert (keyring.kek_file, keyring.url) == (
        tmp_path / "kek",
        "postgresql://keyring.internal/keys",
    )


def test_in_development_a_start_without_a_key_file_makes_one_under_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CONTINUUM_KEYRING_KEK_FILE", raising=False)

    keyring = keyring_settings_at_start(
        _settings(Environment.DEVELOPMENT, continuum_data_dir=tmp_path)
    )

    assert keyring.kek_file == tmp_path / "security" / "keyring.kek"
    assert keyring.kek_file.exists()
