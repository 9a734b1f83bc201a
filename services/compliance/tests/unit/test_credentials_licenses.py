"""The license lifecycle: given a holder's stream, when a command, then events or the named error.
Every illegal transition names the license's current status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.credentials import holder as credentials
from compliance.domain.credentials.commands import (
    ExpireLicense,
    RecordLicense,
    ReinstateLicense,
    RenewLicense,
    RevokeLicense,
    SuspendLicense,
)
from compliance.domain.credentials.errors import (
    CredentialCodeMustBeWellFormed,
    DateMustNotBeInTheFuture,
    IssuingStateMustBeATwoLetterCode,
    LicenseChangeMustNotPrecedeItsHistory,
    LicenseIdMustNotBeReused,
    LicenseMustBeActiveOrExpiredToBeRenewed,
    LicenseMustBeActiveToBeSuspended,
    LicenseMustBeActiveToExpire,
    LicenseMustBeRecorded,
    LicenseMustBeSuspendedToBeReinstated,
    LicenseMustExpireAfterItIsIssued,
    LicenseNumberMustBeRecordedOnce,
    LicenseNumberMustBeWellFormed,
    ReasonMustBeGivenBriefly,
    RenewalMustExpireAfterItIsRenewed,
    RenewalMustExtendTheExpiry,
    RevokedLicenseMustStayRevoked,
)
from compliance.domain.credentials.events import (
    LicenseExpired,
    LicenseRecorded,
    LicenseReinstated,
    LicenseRenewed,
    LicenseRevoked,
    LicenseSuspended,
)
from compliance.domain.credentials.holder import Claims, HolderState, decide
from infra.ddd import AlreadyRecorded, DomainEvent, InvalidInput, NotFound, RuleViolated

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-11-02")
HOLDER = "sup-1"


def record(**overrides: Any) -> RecordLicense:
    fields: dict[str, Any] = {
        "license_id": "lic-1",
        "holder_id": HOLDER,
        "kind": "LPC",
        "number": "12345",
        "state": "TX",
        "issued_on": "2025-01-31",
        "expires_on": "2027-01-31",
    }
    return RecordLicense(**(fields | overrides))


def recorded(**overrides: Any) -> LicenseRecorded:
    command = record(**overrides)
    return LicenseRecorded(**command.model_dump())


def given(*events: DomainEvent) -> HolderState:
    return credentials.fold(events or (recorded(),))


def suspended(on: str = "2026-03-01", reason: str = "board order 26-14") -> LicenseSuspended:
    return LicenseSuspended(holder_id=HOLDER, license_id="lic-1", effective_on=D(on), reason=reason)


def revoked(on: str = "2026-04-01") -> LicenseRevoked:
    return LicenseRevoked(
        holder_id=HOLDER, license_id="lic-1", effective_on=D(on), reason="board order 26-20"
    )


def expired(on: str = "2026-02-01") -> LicenseExpired:
    return LicenseExpired(holder_id=HOLDER, license_id="lic-1", expired_on=D(on))


def status(state: HolderState, license_id: str = "lic-1") -> str:
    lic = state.license(license_id)
    assert lic is not None
    return lic.status


def then(state: HolderState, command: Any, claims: Claims = credentials.NO_CLAIMS) -> HolderState:
    return credentials.fold(decide(state, command, TODAY, claims), state)


def invalid(field: str, make: Any, **overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        make(**overrides)
    assert refused.value.field == field, refused.value
    return refused.value


# Recording.


def test_recording_a_license_makes_it_active_from_its_issue_date() -> None:
    events = decide(credentials.INITIAL, record(), TODAY)

    assert events == [recorded()]
    lic = credentials.fold(events).license("lic-1")
    assert lic is not None
    assert (lic.status, lic.status_since, lic.expires_on) == (
        "active",
        D("2025-01-31"),
        D("2027-01-31"),
    )


def test_codes_and_numbers_are_compared_in_upper_case() -> None:
    command = record(kind=" lpc-associate ", number="ab-12.3", state="tx")
    assert (command.kind, command.number, command.state) == ("LPC-ASSOCIATE", "AB-12.3", "TX")


@pytest.mark.parametrize(
    ("field", "overrides", "error"),
    [
        ("state", {"state": "XX"}, IssuingStateMustBeATwoLetterCode),
        ("state", {"state": "Texas"}, IssuingStateMustBeATwoLetterCode),
        ("kind", {"kind": "L P C"}, CredentialCodeMustBeWellFormed),
        ("kind", {"kind": ""}, CredentialCodeMustBeWellFormed),
        ("number", {"number": "12 345"}, LicenseNumberMustBeWellFormed),
        ("number", {"number": ""}, LicenseNumberMustBeWellFormed),
        ("expires_on", {"expires_on": "2025-01-31"}, LicenseMustExpireAfterItIsIssued),
        ("expires_on", {"expires_on": "2024-12-31"}, LicenseMustExpireAfterItIsIssued),
        ("holder_id", {"holder_id": "has spaces"}, InvalidInput),
        ("license_id", {"license_id": ""}, InvalidInput),
    ],
)
def test_a_malformed_license_is_refused_naming_the_field(
    field: str, overrides: dict[str, Any], error: type[InvalidInput]
) -> None:
    assert isinstance(invalid(field, record, **overrides), error)


def test_a_license_cannot_be_issued_in_the_future() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(credentials.INITIAL, record(issued_on="2026-11-03", expires_on="2028-11-03"), TODAY)
    assert refused.value.field == "issued_on"


def test_recording_the_same_license_again_records_nothing() -> None:
    assert decide(given(), record(), TODAY) == []


def test_recording_the_same_license_again_after_a_renewal_records_nothing() -> None:
    state = given(recorded(), _renewed("2027-01-10", "2029-01-31"))
    assert decide(state, record(), TODAY) == []


def test_a_license_id_reused_with_other_content_is_refused() -> None:
    with pytest.raises(LicenseIdMustNotBeReused) as refused:
        decide(given(), record(number="99999"), TODAY)
    assert isinstance(refused.value, AlreadyRecorded)
    assert "lic-1" in refused.value.message


def test_a_license_id_recorded_under_another_holder_is_refused() -> None:
    with pytest.raises(LicenseIdMustNotBeReused):
        decide(credentials.INITIAL, record(), TODAY, Claims(license_holder_id="sup-2"))


def test_the_same_number_state_and_kind_cannot_be_recorded_under_another_license_id() -> None:
    with pytest.raises(LicenseNumberMustBeRecordedOnce) as refused:
        decide(given(), record(license_id="lic-2"), TODAY)
    assert isinstance(refused.value, AlreadyRecorded)
    assert refused.value.license_id == "lic-1"


def test_a_number_recorded_for_another_holder_cannot_be_recorded_again() -> None:
    with pytest.raises(LicenseNumberMustBeRecordedOnce) as refused:
        decide(credentials.INITIAL, record(), TODAY, Claims(number_license_id="lic-9"))
    assert refused.value.license_id == "lic-9"


def test_the_same_number_of_another_kind_or_state_is_another_license() -> None:
    state = given()
    state = then(state, record(license_id="lic-2", kind="LPC-ASSOCIATE"))
    state = then(state, record(license_id="lic-3", state="OH"))
    assert [lic.license_id for lic in state.licenses] == ["lic-1", "lic-2", "lic-3"]


# Renewing.


def _renewed(renewed_on: str, expires_on: str) -> LicenseRenewed:
    return LicenseRenewed(
        holder_id=HOLDER, license_id="lic-1", renewed_on=D(renewed_on), expires_on=D(expires_on)
    )


def renew(renewed_on: str = "2026-10-20", expires_on: str = "2029-01-31") -> RenewLicense:
    return RenewLicense(license_id="lic-1", renewed_on=renewed_on, expires_on=expires_on)


def test_renewing_an_active_license_moves_its_expiry_later() -> None:
    events = decide(given(), renew(), TODAY)

    assert events == [_renewed("2026-10-20", "2029-01-31")]
    after = credentials.fold(events, given()).license("lic-1")
    assert after is not None
    assert (after.status, after.expires_on) == ("active", D("2029-01-31"))


def test_renewing_an_expired_license_makes_it_active_again_from_the_renewal() -> None:
    state = given(recorded(expires_on="2026-01-31"), expired())

    after = then(state, renew("2026-03-10", "2028-01-31")).license("lic-1")

    assert after is not None
    assert (after.status, after.status_since, after.expires_on) == (
        "active",
        D("2026-03-10"),
        D("2028-01-31"),
    )
    assert [c.action for c in after.changes] == ["expired", "renewed"]


def test_a_retried_renewal_records_nothing() -> None:
    state = then(given(), renew())
    assert decide(state, renew(), TODAY) == []


def test_a_renewal_must_extend_the_expiry() -> None:
    with pytest.raises(RenewalMustExtendTheExpiry) as refused:
        decide(given(), renew(expires_on="2027-01-31"), TODAY)
    assert isinstance(refused.value, RuleViolated)
    assert "active" in refused.value.message and "2027-01-31" in refused.value.message


def test_a_second_renewal_to_the_same_expiry_on_another_day_is_refused() -> None:
    state = then(given(), renew())
    with pytest.raises(RenewalMustExtendTheExpiry):
        decide(state, renew(renewed_on="2026-10-21"), TODAY)


def test_a_suspended_license_cannot_be_renewed_and_the_error_names_its_status() -> None:
    with pytest.raises(LicenseMustBeActiveOrExpiredToBeRenewed) as refused:
        decide(given(recorded(), suspended()), renew(), TODAY)
    assert refused.value.message == (
        "license lic-1 is suspended; only an active or an expired license can be renewed"
    )


def test_a_renewal_expires_after_it_is_renewed() -> None:
    invalid("expires_on", renew, expires_on="2026-10-20")
    assert isinstance(
        invalid("expires_on", renew, renewed_on="2026-10-20", expires_on="2026-10-01"),
        RenewalMustExpireAfterItIsRenewed,
    )


def test_a_renewal_cannot_be_dated_in_the_future_or_before_the_issue() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as future:
        decide(given(), renew(renewed_on="2026-11-03"), TODAY)
    assert future.value.field == "renewed_on"
    with pytest.raises(LicenseChangeMustNotPrecedeItsHistory) as early:
        decide(given(), renew(renewed_on="2024-12-01"), TODAY)
    assert early.value.message == (
        "license lic-1 is active and was issued on 2025-01-31; renewed_on 2024-12-01 is before that"
    )


# Suspending and reinstating.


def suspend(on: str = "2026-03-01", reason: str = "board order 26-14") -> SuspendLicense:
    return SuspendLicense(license_id="lic-1", effective_on=on, reason=reason)


def reinstate(on: str = "2026-06-01") -> ReinstateLicense:
    return ReinstateLicense(license_id="lic-1", effective_on=on)


def test_suspending_an_active_license() -> None:
    events = decide(given(), suspend(), TODAY)
    assert events == [suspended()]
    assert status(credentials.fold(events, given())) == "suspended"


def test_a_retried_suspension_records_nothing_even_after_a_reinstatement() -> None:
    state = given(recorded(), suspended())
    assert decide(state, suspend(), TODAY) == []
    reinstated = then(state, reinstate())
    assert decide(reinstated, suspend(), TODAY) == []


@pytest.mark.parametrize(
    ("history", "status_named"),
    [
        ((suspended(),), "suspended"),
        ((expired(),), "expired"),
    ],
)
def test_only_an_active_license_can_be_suspended(
    history: tuple[DomainEvent, ...], status_named: str
) -> None:
    state = given(recorded(), *history)
    with pytest.raises(LicenseMustBeActiveToBeSuspended) as refused:
        decide(state, suspend(on="2026-06-01", reason="another order"), TODAY)
    assert refused.value.status == status_named
    assert refused.value.message.startswith(f"license lic-1 is {status_named};")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_suspension_gives_a_brief_reason(reason: str) -> None:
    assert isinstance(invalid("reason", suspend, reason=reason), ReasonMustBeGivenBriefly)


def test_reinstating_a_suspended_license() -> None:
    state = given(recorded(), suspended())
    events = decide(state, reinstate(), TODAY)
    assert events == [
        LicenseReinstated(holder_id=HOLDER, license_id="lic-1", effective_on=D("2026-06-01"))
    ]
    after = credentials.fold(events, state)
    assert (status(after), after.licenses[0].status_since) == ("active", D("2026-06-01"))
    assert decide(after, reinstate(), TODAY) == []


def test_only_a_suspended_license_can_be_reinstated() -> None:
    with pytest.raises(LicenseMustBeSuspendedToBeReinstated) as refused:
        decide(given(), reinstate(), TODAY)
    assert refused.value.message == (
        "license lic-1 is active; only a suspended license can be reinstated"
    )


def test_a_change_cannot_precede_the_current_status() -> None:
    state = given(recorded(), suspended("2026-03-01"))
    with pytest.raises(LicenseChangeMustNotPrecedeItsHistory) as refused:
        decide(state, reinstate("2026-02-28"), TODAY)
    assert "suspended since 2026-03-01" in refused.value.message
    with pytest.raises(LicenseChangeMustNotPrecedeItsHistory):
        decide(given(), suspend(on="2025-01-30"), TODAY)


def test_a_change_cannot_be_dated_in_the_future() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), suspend(on="2026-11-03"), TODAY)
    assert refused.value.field == "effective_on"


# Revoking: final.


def revoke(on: str = "2026-04-01", reason: str = "board order 26-20") -> RevokeLicense:
    return RevokeLicense(license_id="lic-1", effective_on=on, reason=reason)


@pytest.mark.parametrize(
    "history", [(), (suspended(),), (expired(),)], ids=["active", "suspended", "expired"]
)
def test_an_active_suspended_or_expired_license_can_be_revoked(
    history: tuple[DomainEvent, ...],
) -> None:
    state = given(recorded(), *history)
    events = decide(state, revoke(), TODAY)
    assert events == [revoked()]
    assert status(credentials.fold(events, state)) == "revoked"


def test_a_retried_revocation_records_nothing() -> None:
    assert decide(given(recorded(), revoked()), revoke(), TODAY) == []


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (renew(), "be renewed"),
        (suspend(on="2026-05-01"), "be suspended"),
        (reinstate(), "be reinstated"),
        (revoke(on="2026-05-01"), "be revoked again"),
        (ExpireLicense(license_id="lic-1"), "expire"),
    ],
)
def test_nothing_is_recorded_against_a_revoked_license(command: Any, action: str) -> None:
    with pytest.raises(RevokedLicenseMustStayRevoked) as refused:
        decide(given(recorded(), revoked()), command, TODAY)
    assert isinstance(refused.value, RuleViolated)
    assert refused.value.message == (f"license lic-1 is revoked; a revoked license cannot {action}")


# Expiring by a board notice (the clock's expiry is in test_credentials_clock).


def test_a_board_notice_expires_an_active_license_the_day_after_its_expiry_by_default() -> None:
    state = given(recorded(expires_on="2026-10-31"))
    events = decide(state, ExpireLicense(license_id="lic-1"), TODAY)
    assert events == [expired("2026-11-01")]
    assert status(credentials.fold(events, state)) == "expired"


def test_a_board_notice_may_name_an_earlier_first_invalid_day() -> None:
    events = decide(given(), ExpireLicense(license_id="lic-1", expired_on="2026-09-15"), TODAY)
    assert events == [expired("2026-09-15")]


def test_a_board_notice_cannot_expire_a_license_in_the_future() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), ExpireLicense(license_id="lic-1"), TODAY)
    assert refused.value.field == "expired_on"


def test_a_notice_of_the_expiry_already_recorded_records_nothing() -> None:
    state = given(recorded(expires_on="2026-01-31"), expired("2026-02-01"))
    assert decide(state, ExpireLicense(license_id="lic-1"), TODAY) == []


def test_only_an_active_license_can_expire() -> None:
    state = given(recorded(expires_on="2026-01-31"), expired("2026-02-01"))
    with pytest.raises(LicenseMustBeActiveToExpire) as refused:
        decide(state, ExpireLicense(license_id="lic-1", expired_on="2026-02-10"), TODAY)
    assert refused.value.status == "expired"
    with pytest.raises(LicenseMustBeActiveToExpire) as suspended_one:
        decide(given(recorded(), suspended()), ExpireLicense(license_id="lic-1"), D("2027-03-01"))
    assert suspended_one.value.status == "suspended"


# A license the holder does not hold.


def test_a_command_for_a_license_not_recorded_is_not_found() -> None:
    with pytest.raises(LicenseMustBeRecorded) as refused:
        decide(given(), suspend().model_copy(update={"license_id": "lic-9"}), TODAY)
    assert isinstance(refused.value, NotFound)
