"""TLS on the gRPC port, over a real socket, with certificates of the test's own authority: a
client that trusts it is served, a plaintext one is not; with mutual TLS only a client
presenting a certificate of the configured authority is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.grpc.client import ClientTls, open_aio_channel
from infra.grpc.server import GrpcServer, ServiceBinding
from infra.grpc.tls import GrpcTlsSettings, TlsMisconfigured
from infra.security.guard import Guard

pytestmark = pytest.mark.integration

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SupervisionService"].full_name

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve(
    servicer: Any, access_guard: Guard, certificate_authority: Any
) -> AsyncIterator[Serve]:
    """`await serve(mutual=...)` starts a server with TLS read from its settings, as a
    service does, and returns the address its clients dial."""
    servers: list[GrpcServer] = []

    async def start(*, mutual: bool = False) -> str:
        issued = certificate_authority.server()
        settings = GrpcTlsSettings(
            cert_file=issued.certificate_file,
            key_file=issued.key_file,
            client_ca_file=certificate_authority.file if mutual else None,
        )
        server = GrpcServer(
            "127.0.0.1:0",
            [
                ServiceBinding(
                    SERVICE_NAME, servicer, pb_grpc.add_SupervisionServiceServicer_to_server
                )
            ],
            guard=access_guard,
            tls=settings.server_tls(),
        )
        await server.start()
        servers.append(server)
        return f"127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.stop(grace=0)


async def health(address: str, tls: ClientTls | None) -> int:
    async with open_aio_channel(address, tls=tls) as channel:
        reply = await channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
        status: int = reply.status
        return status


async def refused(address: str, tls: ClientTls | None) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await health(address, tls)
    code: grpc.StatusCode = raised.value.code()
    return code


async def test_a_client_trusting_the_servers_authority_is_served_over_tls(
    serve: Serve, certificate_authority: Any, caller_token: str
) -> None:
    address = await serve()
    trusting = ClientTls(root_certificates=certificate_authority.pem)

    assert await health(address, trusting) == health_pb2.HealthCheckResponse.SERVING
    async with open_aio_channel(address, token=caller_token, tls=trusting) as channel:
        reply = await pb_grpc.SupervisionServiceStub(channel).LogSession(
            pb.LogSessionRequest(), timeout=5
        )
    assert reply.session_id.startswith("sup-1|")  # the token's subject, through TLS


async def test_a_plaintext_client_or_one_that_does_not_trust_the_authority_is_not_served(
    serve: Serve, certificate_authority: Any, tmp_path: Path
) -> None:
    address = await serve()
    stranger = type(certificate_authority)(tmp_path, name="Another CA")

    assert await refused(address, None) is grpc.StatusCode.UNAVAILABLE
    assert (
        await refused(address, ClientTls(root_certificates=stranger.pem))
        is grpc.StatusCode.UNAVAILABLE
    )


async def test_with_mutual_tls_a_client_without_a_certificate_of_the_authority_is_refused(
    serve: Serve, certificate_authority: Any, tmp_path: Path
) -> None:
    address = await serve(mutual=True)
    roots = certificate_authority.pem
    stranger = type(certificate_authority)(tmp_path, name="Another CA").client("intruder")

    assert await refused(address, ClientTls(root_certificates=roots)) is (
        grpc.StatusCode.UNAVAILABLE
    )
    assert await refused(
        address,
        ClientTls(roots, certificate_chain=stranger.certificate, private_key=stranger.private_key),
    ) is (grpc.StatusCode.UNAVAILABLE)


async def test_with_mutual_tls_a_client_presenting_a_certificate_of_the_authority_is_served(
    serve: Serve, certificate_authority: Any
) -> None:
    address = await serve(mutual=True)
    client = certificate_authority.client()

    presenting = ClientTls(
        certificate_authority.pem,
        certificate_chain=client.certificate,
        private_key=client.private_key,
    )

    assert await health(address, presenting) == health_pb2.HealthCheckResponse.SERVING


def test_a_certificate_without_its_key_refuses_naming_the_missing_setting(
    certificate_authority: Any,
) -> None:
    issued = certificate_authority.server()

    with pytest.raises(TlsMisconfigured, match="CONTINUUM_GRPC_TLS_KEY_FILE is not set"):
        GrpcTlsSettings(cert_file=issued.certificate_file).server_tls()
    with pytest.raises(TlsMisconfigured, match="CONTINUUM_GRPC_TLS_CLIENT_CA_FILE asks for"):
        GrpcTlsSettings(client_ca_file=certificate_authority.file).server_tls()


def test_a_key_that_is_not_the_certificates_refuses_naming_both_files(
    certificate_authority: Any,
) -> None:
    server, other = certificate_authority.server(), certificate_authority.client()

    with pytest.raises(TlsMisconfigured) as raised:
        GrpcTlsSettings(cert_file=server.certificate_file, key_file=other.key_file).server_tls()

    assert str(server.certificate_file) in str(raised.value)
    assert "CONTINUUM_GRPC_TLS_KEY_FILE" in str(raised.value)


def test_without_a_certificate_the_server_is_plaintext() -> None:
    assert GrpcTlsSettings().server_tls() is None
