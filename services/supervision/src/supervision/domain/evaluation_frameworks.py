"""The competency frameworks a supervisor may evaluate against, as a small table.

A framework is named by id and version: a version is never changed once evaluations cite it, so an
evaluation always reads against the scale it was signed on. The source tags resolve in
contracts/src/contracts/rulepacks/packs/sources.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class DomainScore(BaseModel):
    """One framework domain and the score the supervisor gave it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    score: int


@dataclass(frozen=True, slots=True)
class CompetencyFramework:
    framework_id: str
    version: str
    # Every domain is scored once in every evaluation, in this order.
    domains: tuple[str, ...]
    scale_min: int
    scale_max: int
    # A domain scored below this is below expectations and needs a remediation plan.
    expected_min: int
    sources: str

    def below_expectations(self, scores: Iterable[DomainScore]) -> tuple[str, ...]:
        """The domains scored below the expected minimum, in the framework's order."""
        low = {s.domain for s in scores if s.score < self.expected_min}
        return tuple(domain for domain in self.domains if domain in low)


FRAMEWORKS: dict[tuple[str, str], CompetencyFramework] = {
    (f.framework_id, f.version): f
    for f in (
        # The six clusters of the APA Revised Competency Benchmarks (APA2, APA3). The benchmarks
        # rating form asks "how characteristic of the trainee's behavior is this competency
        # description?" on 0 (not at all/slightly) to 4 (very) (APA3, its rating forms), and
        # leaves each program to set its own minimal expected level (APA3). The organization
        # expects 3 ("mostly") of a pre-licensed clinician, who is past the "readiness for entry
        # to practice" level the forms describe.
        CompetencyFramework(
            framework_id="apa-benchmarks",
            version="2011",
            domains=(
                "professionalism",
                "relational",
                "science",
                "application",
                "education",
                "systems",
            ),
            scale_min=0,
            scale_max=4,
            expected_min=3,
            sources="APA2; APA3 (clusters, scale); expected minimum: organization's choice",
        ),
        # The organization's own rubric: the three foci of Bernard's discrimination model (BDM1,
        # BDM2; the focus recorded on each session), plus adherence to ethical and legal
        # standards and therapist identity formation, which the organization's guidance names
        # among what supervision assesses and develops (seed 004; seed 003 "ethical and
        # standards-based"). Scale: 1 unsafe, 2 below expectations, 3 meets expectations for the
        # supervisee's stage, 4 above, 5 practises independently.
        CompetencyFramework(
            framework_id="continuum-clinical",
            version="2026.1",
            domains=(
                "intervention",
                "conceptualization",
                "personalization",
                "ethics_and_law",
                "professional_identity",
            ),
            scale_min=1,
            scale_max=5,
            expected_min=3,
            sources="BDM1; BDM2; seeds 003, 004; scale and expected minimum: the organization's",
        ),
    )
}


def framework(framework_id: str, version: str) -> CompetencyFramework | None:
    return FRAMEWORKS.get((framework_id, version))


def known_versions(framework_id: str) -> tuple[str, ...]:
    return tuple(sorted(v for f, v in FRAMEWORKS if f == framework_id))


KNOWN_FRAMEWORKS: tuple[str, ...] = tuple(sorted({f for f, _ in FRAMEWORKS}))
