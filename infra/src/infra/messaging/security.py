"""How every Kafka client of a process reaches the brokers: TLS, SASL, or both.

One settings class (CONTINUUM_KAFKA_*) and one function, `kafka_security`, which builds the
faststream security object every client is given: the KafkaBroker that publishes and consumes
(`security=`), and kafka-python's admin client, which takes the same options as translated by
faststream itself (`client_options`), so the two can never disagree.
"""

from __future__ import annotations

import ssl
from enum import StrEnum
from pathlib import Path
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROTOCOL_VARIABLE = "CONTINUUM_KAFKA_SECURITY_PROTOCOL"
CA_FILE_VARIABLE = "CONTINUUM_KAFKA_SSL_CA_FILE"
CERT_FILE_VARIABLE = "CONTINUUM_KAFKA_SSL_CERT_FILE"
KEY_FILE_VARIABLE = "CONTINUUM_KAFKA_SSL_KEY_FILE"
MECHANISM_VARIABLE = "CONTINUUM_KAFKA_SASL_MECHANISM"
USERNAME_VARIABLE = "CONTINUUM_KAFKA_SASL_USERNAME"
PASSWORD_VARIABLE = "CONTINUUM_KAFKA_SASL_PASSWORD"


class SecurityProtocol(StrEnum):
    """Kafka's security.protocol: whether the connection is encrypted and authenticated."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def encrypted(self) -> bool:
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    @property
    def authenticated(self) -> bool:
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


_SASL: dict[SaslMechanism, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    SaslMechanism.PLAIN: SASLPlaintext,
    SaslMechanism.SCRAM_SHA_256: SASLScram256,
    SaslMechanism.SCRAM_SHA_512: SASLScram512,
}


class KafkaSecurityMisconfigured(ValueError):
    """The Kafka security settings cannot be used as they are; the message names the variable."""


class KafkaSecuritySettings(BaseSettings):
    """How this process's Kafka clients connect and prove who they are (CONTINUUM_KAFKA_*)."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_KAFKA_", extra="ignore")

    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    # The authority the brokers' certificates are checked against; the system's when unset.
    ssl_ca_file: Path | None = None
    # The client's own certificate and key, for brokers that authenticate clients by TLS.
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None


def kafka_security(settings: KafkaSecuritySettings) -> BaseSecurity | None:
    """The security every Kafka client of the process is given: None for PLAINTEXT, else TLS
    with the configured authority and client certificate, and SASL with the configured
    mechanism and credentials. KafkaSecurityMisconfigured names what is missing or unreadable."""
    protocol = settings.security_protocol
    uses_tls_files = settings.ssl_ca_file or settings.ssl_cert_file or settings.ssl_key_file
    if not protocol.encrypted and uses_tls_files:
        raise KafkaSecurityMisconfigured(
            f"{PROTOCOL_VARIABLE} is {protocol}, which does not use TLS, but TLS files are set: "
            f"use {SecurityProtocol.SSL} or {SecurityProtocol.SASL_SSL}"
        )
    context = _ssl_context(settings) if protocol.encrypted else None
    if not protocol.authenticated:
        return None if context is None else BaseSecurity(ssl_context=context, use_ssl=True)
    if not settings.sasl_username:
        raise KafkaSecurityMisconfigured(f"{USERNAME_VARIABLE} is not set: {protocol} needs one")
    if settings.sasl_password is None or not settings.sasl_password.get_secret_value():
        raise KafkaSecurityMisconfigured(f"{PASSWORD_VARIABLE} is not set: {protocol} needs one")
    return _SASL[settings.sasl_mechanism](
        settings.sasl_username,
        settings.sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=protocol.encrypted,
    )


def client_options(security: BaseSecurity | None) -> dict[str, Any]:
    """`security` as the options of a Kafka client (security_protocol, ssl_context,
    sasl_mechanism, sasl_plain_username, sasl_plain_password), as faststream gives them to
    aiokafka; kafka-python takes the same names."""
    return parse_security(security)


def _ssl_context(settings: KafkaSecuritySettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(
            cafile=None if settings.ssl_ca_file is None else str(settings.ssl_ca_file)
        )
    except (OSError, ssl.SSLError) as error:
        raise KafkaSecurityMisconfigured(
            f"{CA_FILE_VARIABLE} {settings.ssl_ca_file} is not a readable certificate authority: "
            f"{error.strerror or error}"
        ) from error
    if settings.ssl_cert_file is None and settings.ssl_key_file is None:
        return context
    if settings.ssl_cert_file is None or settings.ssl_key_file is None:
        missing = CERT_FILE_VARIABLE if settings.ssl_cert_file is None else KEY_FILE_VARIABLE
        raise KafkaSecurityMisconfigured(
            f"{missing} is not set: a client certificate needs its certificate and its key"
        )
    try:
        context.load_cert_chain(settings.ssl_cert_file, settings.ssl_key_file)
    except (OSError, ssl.SSLError) as error:
        raise KafkaSecurityMisconfigured(
            f"{CERT_FILE_VARIABLE} {settings.ssl_cert_file} and {KEY_FILE_VARIABLE} "
            f"{settings.ssl_key_file} are not a certificate and its private key: "
            f"{error.strerror or error}"
        ) from error
    return context
