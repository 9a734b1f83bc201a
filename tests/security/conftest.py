"""The served-service fixtures of `tests.security.served`, for every test module here."""

from tests.security.served import served, telemetry

__all__ = ["served", "telemetry"]
