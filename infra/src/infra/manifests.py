"""Deployment manifests derived from the declarations they must agree with.

`python -m infra.manifests` writes deploy/kubernetes/kafka-topics.yaml: one Strimzi KafkaTopic
per topic declared in contracts.topics, so the cluster's topics are the ones the code uses.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from contracts.topics import ALL_TOPICS, Topic

TOPICS_MANIFEST = Path("deploy/kubernetes/kafka-topics.yaml")


def kafka_topics(topics: Iterable[Topic], *, cluster: str = "continuum") -> str:
    documents = []
    for topic in topics:
        documents.append(
            "\n".join(
                [
                    "apiVersion: kafka.strimzi.io/v1beta2",
                    "kind: KafkaTopic",
                    "metadata:",
                    f"  name: {topic.name.replace('.', '-')}",
                    "  labels:",
                    f"    strimzi.io/cluster: {cluster}",
                    "  annotations:",
                    f'    continuum.io/purpose: "{topic.purpose}"',
                    "spec:",
                    f"  topicName: {topic.name}",
                    f"  partitions: {topic.partitions}",
                    "  replicas: 3",
                    "  config:",
                    f'    retention.ms: "{topic.retention_ms}"',
                    '    min.insync.replicas: "2"',
                ]
            )
        )
    header = (
        "# Generated from contracts/src/contracts/topics.py by `make manifests`; do not edit.\n"
    )
    return header + "---\n" + "\n---\n".join(documents) + "\n"


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    target = root / TOPICS_MANIFEST
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(kafka_topics(ALL_TOPICS))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
