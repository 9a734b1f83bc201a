"""Which environment a service runs in, and what it refuses to expose outside development.

CONTINUUM_ENVIRONMENT is `development` (the default: `make run`, the tests) or `production`.
In development a service starts as configured and logs what production would refuse; in
production it refuses to start (exit status 2, each reason naming its variable) when:
- its gRPC address is not a loopback address and no TLS certificate is set: the staff apps'
  calls, their bearer tokens and the records they read would cross the network in clear;
- a Kafka broker it names is not on a loopback address and the protocol is not encrypted
  (PLAINTEXT or SASL_PLAINTEXT): events, and a SASL password, would cross the network in clear;
- the keys that verify callers' tokens are fetched over plain http from another machine;
- it has no keyring of its own to seal sensitive values with: no key-encryption key file
  (CONTINUUM_KEYRING_KEK_FILE) or no keyring database (CONTINUUM_KEYRING_URL), where
  development would make a key file under the data folder and use the SQLite keyring there;
- the service has no event signing key, or no set of its producers' public keys: what it
  publishes could not be told from a forgery, or it could not tell its producers' events from
  forgeries (`infra.messaging.authenticity`);
- a secret is a default: a SASL password left empty or at a well-known placeholder, or callers'
  tokens verified by the development stack's key (its JWKS lies beside the private key that
  mints them, in a data folder anyone with the files can read).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Final

from infra.grpc.tls import CERT_FILE_VARIABLE, KEY_FILE_VARIABLE, ServerTls
from infra.messaging.authenticity import KEYS_FILE_VARIABLE, SIGNING_KEY_FILE_VARIABLE
from infra.messaging.security import (
    PASSWORD_VARIABLE,
    PROTOCOL_VARIABLE,
    KafkaSecuritySettings,
    SecurityProtocol,
)
from infra.security.crypto.settings import KEK_FILE_VARIABLE, URL_VARIABLE, KeyringSettings
from infra.security.tokens import SIGNING_KEY_FILE

ENVIRONMENT_VARIABLE = "CONTINUUM_ENVIRONMENT"
JWKS_VARIABLE = "CONTINUUM_JWKS"
BOOTSTRAP_VARIABLE = "KAFKA_BOOTSTRAP_SERVERS"

# Placeholders of examples and charts, never a production password.
WELL_KNOWN_SECRETS: Final = frozenset(
    {"", "admin", "admin-secret", "changeit", "changeme", "changethis", "kafka", "password"}
    | {"secret", "test"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def is_loopback(address: str) -> bool:
    """Whether `address` (host:port, [v6]:port, or a gRPC unix: target) stays on this machine.
    An empty host or 0.0.0.0 / [::] listens on every interface: not loopback."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    host = address.rpartition(":")[0] if ":" in address else address
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it resolves to wherever DNS says
        return False


def insecure_start_reasons(
    *,
    grpc_address_variable: str,
    grpc_address: str,
    grpc_tls: ServerTls | None,
    bootstrap_servers: str,
    kafka: KafkaSecuritySettings,
    jwks: str | None,
    signs_events: bool,
    verifies_events: bool,
) -> list[str]:
    """What production refuses about this start, one sentence per reason, each naming the
    variable to change; empty when nothing is exposed insecurely."""
    reasons = []
    if grpc_tls is None and not is_loopback(grpc_address):
        reasons.append(
            f"{grpc_address_variable} {grpc_address} is not a loopback address and the port would "
            f"be plaintext: set {CERT_FILE_VARIABLE} and {KEY_FILE_VARIABLE}"
        )
    remote = [
        server
        for server in (s.strip() for s in bootstrap_servers.split(","))
        if server and not is_loopback(server)
    ]
    if remote and not kafka.security_protocol.encrypted:
        reasons.append(
            f"{BOOTSTRAP_VARIABLE} names {', '.join(remote)}, not a loopback address, and "
            f"{PROTOCOL_VARIABLE} is {kafka.security_protocol}, which is not encrypted: use "
            f"{SecurityProtocol.SASL_SSL} or {SecurityProtocol.SSL}"
        )
    if kafka.security_protocol.authenticated and (
        kafka.sasl_password is None
        or kafka.sasl_password.get_secret_value().strip().lower() in WELL_KNOWN_SECRETS
    ):
        reasons.append(f"{PASSWORD_VARIABLE} is empty or a well-known default password")
    if jwks is not None and jwks.startswith("http://") and not is_loopback(_host_of_url(jwks)):
        reasons.append(
            f"{JWKS_VARIABLE} {jwks} is fetched over plain http: anyone on the way could give "
            "other keys; use https://"
        )
    if jwks is not None and _beside_its_signing_key(jwks):
        reasons.append(
            f"{JWKS_VARIABLE} {jwks} lies beside the private key that signs its tokens "
            f"({SIGNING_KEY_FILE}): the development stack's key; use the identity provider's JWKS"
        )
    if not signs_events:
        reasons.append(
            f"{SIGNING_KEY_FILE_VARIABLE} is not set: the events this service publishes would "
            "carry no signature, and its consumers would refuse them"
        )
    if not verifies_events:
        reasons.append(
            f"{KEYS_FILE_VARIABLE} is not set: the service could not tell its producers' events "
            "from forgeries"
        )
    return reasons


def keyring_start_reasons(keyring: KeyringSettings) -> list[str]:
    """What production refuses about the keyring settings, one sentence per missing setting."""
    reasons = []
    if keyring.kek_file is None:
        reasons.append(
            f"{KEK_FILE_VARIABLE} is not set: no key-encryption key can wrap subjects' keys, so "
            "free text and license numbers could not be sealed (set it to the key file, or "
            "the key service's key)"
        )
    if not keyring.url:
        reasons.append(
            f"{URL_VARIABLE} is not set: the services would each keep their subjects' keys in a "
            "file of their own instead of the shared keyring database"
        )
    return reasons


def _host_of_url(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _beside_its_signing_key(jwks: str) -> bool:
    if jwks.startswith(("http://", "https://")):
        return False
    return (Path(jwks).parent / SIGNING_KEY_FILE).exists()
