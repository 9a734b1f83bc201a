"""The gRPC server bootstrap every service uses: health, reflection, error mapping, telemetry,
graceful shutdown, and the caller's context read from call metadata."""

from infra.grpc.errors import ErrorMappingInterceptor, RpcFailure, to_rpc_failure
from infra.grpc.metadata import CallContext, call_context, outgoing_metadata
from infra.grpc.server import GrpcServer, ServiceBinding, install_signal_handlers

__all__ = [
    "CallContext",
    "ErrorMappingInterceptor",
    "GrpcServer",
    "RpcFailure",
    "ServiceBinding",
    "call_context",
    "install_signal_handlers",
    "outgoing_metadata",
    "to_rpc_failure",
]
