"""Service-level targets: how soon a referral must be acknowledged and scheduled, by urgency.

Where the figures come from: no licensing board sets them. They are the organization's own
targets for its referral loop (DOMAIN.md: "urgency carries a service-level target, for example
acknowledgement within hours for urgent referrals"). The defaults below are working figures,
not a published standard, to be confirmed with each organization's clinical leadership: an
urgent referral acknowledged within 4 hours and scheduled within 24 hours, a routine one
acknowledged within 2 days and scheduled within 7 days. An organization
with other targets configures its own table (REFERRAL_SERVICE_LEVELS, read by the composition
root), which holds for referrals raised from then on: each referral records the instants it is
due by when it is raised, so changing the table never moves a referral's deadlines after the fact.

- Acknowledgement: the receiving service's first answer (accept, decline or redirect). A
  redirect is that answer: the service it sends the referral on to is held to scheduling, not
  to a second acknowledgement.
- Scheduling: a first appointment booked.

Both clocks run from `raised_at`, the instant the referral was made. A target is breached when
the referral is still waiting at an instant after it was due; the breach is recorded once per
referral and target, by the service's own clock (`referral.breaches_due`, called with the time).
A referral answered late but before the clock looked (the service was down past the deadline)
is not recorded as breached: the published contract records breaches of referrals still waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from referral.domain.values import ServiceLevelTarget, Urgency


class Targets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    acknowledgement_hours: float = Field(gt=0)
    scheduling_hours: float = Field(gt=0)

    @model_validator(mode="after")
    def _acknowledged_before_scheduled(self) -> Targets:
        if self.scheduling_hours < self.acknowledgement_hours:
            raise ValueError("scheduling cannot be due before acknowledgement")
        return self

    def hours(self, target: ServiceLevelTarget) -> float:
        return self.acknowledgement_hours if target == "acknowledgement" else self.scheduling_hours


class ServiceLevelPolicy(BaseModel):
    """The targets for each urgency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urgent: Targets
    routine: Targets

    def targets(self, urgency: Urgency) -> Targets:
        return self.urgent if urgency == "urgent" else self.routine

    def due_at(
        self, urgency: Urgency, target: ServiceLevelTarget, raised_at: dt.datetime
    ) -> dt.datetime:
        return raised_at + dt.timedelta(hours=self.targets(urgency).hours(target))

    def due_by_target(
        self, urgency: Urgency, raised_at: dt.datetime
    ) -> Mapping[ServiceLevelTarget, dt.datetime]:
        return {
            "acknowledgement": self.due_at(urgency, "acknowledgement", raised_at),
            "scheduling": self.due_at(urgency, "scheduling", raised_at),
        }


DEFAULT_SERVICE_LEVELS = ServiceLevelPolicy(
    urgent=Targets(acknowledgement_hours=4, scheduling_hours=24),
    routine=Targets(acknowledgement_hours=2 * 24, scheduling_hours=7 * 24),
)

TARGETS: tuple[ServiceLevelTarget, ...] = ("acknowledgement", "scheduling")
