"""Wrapping the behavior of a registered RPC handler, shared by this package's interceptors."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

UnaryBehavior = Callable[[Any, Any], Awaitable[Any]]
"""An RPC behavior that answers with one message: (request or request iterator, context)."""


def service_of(method: str) -> str:
    """The full service name in a method path such as "/pkg.v1.FooService/Bar"."""
    return method.lstrip("/").rsplit("/", 1)[0]


def wrap_unary_response(handler: Any, wrap: Callable[[UnaryBehavior], UnaryBehavior]) -> Any:
    """`handler` with its behavior replaced by `wrap(behavior)` when the RPC answers with one
    message (unary-unary or stream-unary); response-streaming handlers come back unchanged."""
    if handler is None or handler.response_streaming:
        return handler
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(
            wrap(_as_coroutine(handler.stream_unary)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        wrap(_as_coroutine(handler.unary_unary)),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _as_coroutine(behavior: Callable[[Any, Any], Any]) -> UnaryBehavior:
    # Servicers are expected to be `async def`; a plain function still works, run on the loop.
    if inspect.iscoroutinefunction(behavior):
        return behavior

    async def call(request: Any, context: Any) -> Any:
        result = behavior(request, context)
        if inspect.isawaitable(result):
            return await result
        return result

    return call
