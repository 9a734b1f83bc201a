"""The Kubernetes topic manifest says what contracts.topics declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.topics import ALL_TOPICS
from infra.manifests import TOPICS_MANIFEST, kafka_topics

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_topic_manifest_matches_the_declared_topics() -> None:
    assert (ROOT / TOPICS_MANIFEST).read_text() == kafka_topics(ALL_TOPICS)


def test_every_declared_topic_has_its_partitions_and_retention_in_the_manifest() -> None:
    manifest = kafka_topics(ALL_TOPICS)
    for topic in ALL_TOPICS:
        assert f"topicName: {topic.name}\n  partitions: {topic.partitions}\n" in manifest
        assert f'retention.ms: "{topic.retention_ms}"' in manifest
