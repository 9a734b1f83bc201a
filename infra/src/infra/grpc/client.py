"""The one way our clients (tests, the demo, the bench, the dev stack's readiness checks) open
a channel to a service: with the caller's bearer token added to every call's metadata as
`authorization: Bearer <token>`, by an interceptor, so it works on insecure and TLS channels
alike. A call that already carries an `authorization` entry keeps its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

AUTHORIZATION_KEY = "authorization"


@dataclass(frozen=True, slots=True)
class ClientTls:
    """What a client trusts (and, for mutual TLS, presents), PEM-encoded."""

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            self.root_certificates, self.private_key, self.certificate_chain
        )


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """The metadata entry carrying `token`, for a single call made as someone else."""
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)


def with_bearer(metadata: Sequence[Any] | None, token: str) -> list[Any]:
    entries = list(metadata or ())
    if not any(entry[0] == AUTHORIZATION_KEY for entry in entries):
        entries.extend(bearer_metadata(token))
    return entries


def open_channel(
    address: str, *, token: str | None = None, tls: ClientTls | None = None
) -> grpc.Channel:
    """A blocking channel to `address`, each call carrying `token` when one is given."""
    channel = (
        grpc.insecure_channel(address)
        if tls is None
        else grpc.secure_channel(address, tls.credentials())
    )
    if token is None:
        return channel
    return grpc.intercept_channel(channel, _Bearer(token))


def open_aio_channel(
    address: str, *, token: str | None = None, tls: ClientTls | None = None
) -> grpc.aio.Channel:
    """An asyncio channel to `address`, each call carrying `token` when one is given."""
    interceptors = [] if token is None else [_AioBearer(token)]
    if tls is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors)
    return grpc.aio.secure_channel(address, tls.credentials(), interceptors=interceptors)


class _Bearer(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self._token = token

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(
            _CallDetails(
                details.method,
                details.timeout,
                with_bearer(details.metadata, self._token),
                details.credentials,
                details.wait_for_ready,
                details.compression,
            ),
            request,
        )


class _AioBearer(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = grpc.aio.Metadata(*with_bearer(details.metadata, self._token))
        return await continuation(details._replace(metadata=metadata), request)


@dataclass(frozen=True, slots=True)
class _CallDetails(grpc.ClientCallDetails):  # type: ignore[misc]
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: bool | None
    compression: Any
