"""TLS on a service's gRPC port: its certificate and key from configuration, and, for mutual
TLS, the authority whose client certificates it accepts (CONTINUUM_GRPC_TLS_CERT_FILE,
CONTINUUM_GRPC_TLS_KEY_FILE, CONTINUUM_GRPC_TLS_CLIENT_CA_FILE). Without a certificate the
port is plaintext, which only development on a loopback address allows (`infra.exposure`).

Our clients open their channels with `infra.grpc.client.open_channel(..., tls=ClientTls(...))`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc
from pydantic_settings import BaseSettings, SettingsConfigDict

CERT_FILE_VARIABLE = "CONTINUUM_GRPC_TLS_CERT_FILE"
KEY_FILE_VARIABLE = "CONTINUUM_GRPC_TLS_KEY_FILE"
CLIENT_CA_FILE_VARIABLE = "CONTINUUM_GRPC_TLS_CLIENT_CA_FILE"


class TlsMisconfigured(ValueError):
    """The TLS settings name files that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class ServerTls:
    """What a server presents (its certificate chain and key) and, for mutual TLS, the
    authorities whose client certificates it requires, PEM-encoded."""

    certificate_chain: bytes
    private_key: bytes
    client_ca: bytes | None = None

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


class GrpcTlsSettings(BaseSettings):
    """Where a service's TLS material lies (files an operator mounts, PEM)."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_GRPC_TLS_", extra="ignore")

    cert_file: Path | None = None
    key_file: Path | None = None
    # Set: mutual TLS, a client without a certificate signed by this authority is refused.
    client_ca_file: Path | None = None

    def server_tls(self) -> ServerTls | None:
        """The files read, or None when no certificate is set; TlsMisconfigured when they are
        set by halves or cannot be read."""
        if self.cert_file is None and self.key_file is None:
            if self.client_ca_file is not None:
                raise TlsMisconfigured(
                    f"{CLIENT_CA_FILE_VARIABLE} asks for mutual TLS, but the server has no "
                    f"certificate: set {CERT_FILE_VARIABLE} and {KEY_FILE_VARIABLE}"
                )
            return None
        if self.cert_file is None or self.key_file is None:
            missing = CERT_FILE_VARIABLE if self.cert_file is None else KEY_FILE_VARIABLE
            raise TlsMisconfigured(
                f"{missing} is not set: a TLS server needs its certificate and its key"
            )
        try:
            # Read here for what it says: a certificate and a key that belong together.
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                self.cert_file, self.key_file
            )
        except (OSError, ssl.SSLError) as error:
            raise TlsMisconfigured(
                f"{CERT_FILE_VARIABLE} {self.cert_file} and {KEY_FILE_VARIABLE} {self.key_file} "
                f"are not a certificate and its private key: {error.strerror or error}"
            ) from error
        return ServerTls(
            certificate_chain=_pem(CERT_FILE_VARIABLE, self.cert_file),
            private_key=_pem(KEY_FILE_VARIABLE, self.key_file),
            client_ca=None
            if self.client_ca_file is None
            else _pem(CLIENT_CA_FILE_VARIABLE, self.client_ca_file),
        )


def _pem(variable: str, path: Path) -> bytes:
    try:
        content = path.read_bytes()
    except OSError as error:
        raise TlsMisconfigured(f"{variable} {path} cannot be read: {error.strerror}") from error
    if b"-----BEGIN " not in content:
        raise TlsMisconfigured(f"{variable} {path} is not PEM-encoded")
    return content
