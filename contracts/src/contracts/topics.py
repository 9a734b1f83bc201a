"""Every Kafka topic, declared once: the dev stack, the tests and the manifests read this.

Kafka is the transport; each service's event store is the source of truth, so retention only
needs to cover consumer downtime and re-publishing, not history.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int
    purpose: str


SUPERVISION_EVENTS = Topic(
    "continuum.supervision.events", 3, 30 * DAY_MS, "facts published by the supervision service"
)
COACHING_EVENTS = Topic(
    "continuum.coaching.events", 3, 30 * DAY_MS, "facts published by the coaching service"
)
REFERRAL_EVENTS = Topic(
    "continuum.referral.events", 3, 30 * DAY_MS, "facts published by the referral service"
)
COMPLIANCE_EVENTS = Topic(
    "continuum.compliance.events", 3, 30 * DAY_MS, "facts published by the compliance service"
)


def dead_letter_topic(consumer_group: str) -> Topic:
    """Where a consumer group parks a message it cannot handle, with the reason in its headers."""
    purpose = f"messages {consumer_group} could not handle"
    return Topic(f"{consumer_group}.dlt", 1, 90 * DAY_MS, purpose)


EVENT_TOPICS: tuple[Topic, ...] = (
    SUPERVISION_EVENTS,
    COACHING_EVENTS,
    REFERRAL_EVENTS,
    COMPLIANCE_EVENTS,
)

# One consumer group per consuming service.
CONSUMER_GROUPS: tuple[str, ...] = (
    "continuum.supervision",
    "continuum.coaching",
    "continuum.referral",
    "continuum.compliance",
)

ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + tuple(dead_letter_topic(g) for g in CONSUMER_GROUPS)
