"""The referral rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound


class ReferralMustGoToAnotherService(InvalidInput):
    def __init__(self, service: str) -> None:
        super().__init__("to_service", f"a referral from {service} cannot go to {service}")
        self.service = service


class ReferralIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, referral_id: str) -> None:
        super().__init__(f"referral {referral_id} is already recorded with other content")
        self.referral_id = referral_id


class ReferralMustExist(NotFound):
    """The referral named does not exist."""

    def __init__(self, referral_id: str) -> None:
        super().__init__(f"no referral {referral_id}")
        self.referral_id = referral_id
