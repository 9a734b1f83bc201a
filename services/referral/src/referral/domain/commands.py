"""What the referral service is asked to record. Each command checks its own fields."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import model_validator

from infra.ddd import Command, Id
from referral.domain.errors import ReferralMustGoToAnotherService
from referral.domain.values import CareService, Source, Urgency


class RaiseReferral(Command):
    referral_id: Id
    # Pseudonymous client id.
    client_id: Id
    site_id: Id
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    source: Source

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.from_service == self.to_service:
            raise ReferralMustGoToAnotherService(self.from_service)
        return self
