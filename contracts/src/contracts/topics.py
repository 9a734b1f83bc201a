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
    # The one service whose events this topic carries; None for topics that carry no one's
    # events (dead letters).
    producer: str | None = None

    @property
    def source(self) -> str | None:
        """The CloudEvents source of the topic's producer: its events are published with it,
        and consumers accept from this topic only events of this source, signed by one of this
        producer's keys (`infra.messaging.authenticity`)."""
        return None if self.producer is None else f"/continuum/{self.producer}"


def _events_of(service: str) -> Topic:
    return Topic(
        f"continuum.{service}.events",
        3,
        30 * DAY_MS,
        f"facts published by the {service} service",
        producer=service,
    )


SUPERVISION_EVENTS = _events_of("supervision")
COACHING_EVENTS = _events_of("coaching")
REFERRAL_EVENTS = _events_of("referral")
COMPLIANCE_EVENTS = _events_of("compliance")


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


def event_topic(name: str) -> Topic | None:
    """The declared event topic of this name, None for any other."""
    return next((topic for topic in EVENT_TOPICS if topic.name == name), None)


def published_by(service: str) -> Topic:
    """The event topic `service` publishes to."""
    return next(topic for topic in EVENT_TOPICS if topic.producer == service)


# One consumer group per consuming service.
CONSUMER_GROUPS: tuple[str, ...] = (
    "continuum.supervision",
    "continuum.coaching",
    "continuum.referral",
    "continuum.compliance",
)

ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + tuple(dead_letter_topic(g) for g in CONSUMER_GROUPS)
