"""What a measured interval says: rates, latency percentiles, counts by gRPC status, slopes.

Percentiles are exact (nearest rank over every recorded latency): a run records at most a few
hundred thousand calls, so there is no need for a histogram's approximation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENTILES = (50, 90, 99)


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of an ascending sequence (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(latencies_s: Iterable[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean, in milliseconds."""
    ordered = sorted(latencies_s)
    summary = {f"p{p}": round(percentile(ordered, p) * 1000, 3) for p in PERCENTILES}
    summary["max"] = round(ordered[-1] * 1000, 3) if ordered else 0.0
    summary["mean"] = round(sum(ordered) / len(ordered) * 1000, 3) if ordered else 0.0
    return summary


@dataclass
class Operation:
    """Every completed call of one RPC inside the measured interval."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def record(self, latency_s: float, status: str) -> None:
        self.latencies_s.append(latency_s)
        self.statuses[status] += 1

    def merge(self, other: Operation) -> None:
        self.latencies_s.extend(other.latencies_s)
        self.statuses.update(other.statuses)

    def to_wire(self) -> dict[str, Any]:
        """What a load client sends back: raw latencies (µs) so percentiles merge exactly."""
        return {
            "latencies_us": [round(x * 1e6) for x in self.latencies_s],
            "status": dict(self.statuses),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Operation:
        return cls(
            latencies_s=[x / 1e6 for x in data["latencies_us"]],
            statuses=Counter({str(k): int(v) for k, v in data["status"].items()}),
        )

    def summary(self, duration_s: float) -> dict[str, Any]:
        """requests/s (every completion), ok/s, the latency of every completion, and counts by
        status: an ABORTED or a DEADLINE_EXCEEDED is counted as such, never retried."""
        requests = sum(self.statuses.values())
        ok = self.statuses.get("OK", 0)
        return {
            "requests": requests,
            "rate": round(requests / duration_s, 2) if duration_s else 0.0,
            "ok_rate": round(ok / duration_s, 2) if duration_s else 0.0,
            "latency_ms": latency_summary(self.latencies_s),
            "status": dict(sorted(self.statuses.items())),
        }


def merge_operations(parts: Iterable[Mapping[str, Any]]) -> dict[str, Operation]:
    """The operations of several load clients (their wire form) as one."""
    merged: dict[str, Operation] = {}
    for part in parts:
        for rpc, data in part.items():
            merged.setdefault(rpc, Operation()).merge(Operation.from_wire(data))
    return merged


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """The least-squares slope of (seconds, value) samples, per minute (0 with fewer than 2)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    slope = sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread
    return round(slope * 60, 3)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)
