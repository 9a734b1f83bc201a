"""The credential holder: one stream per person, `credential-holder-<holder_id>`, holding their
licenses and supervisor designations. Pure decisions; the clock's decisions too.

Why one stream per holder rather than one per license:
- a supervisor designation requires an active license of the same holder, so that decision reads
  all of a holder's licenses and must be consistent with them: one stream makes the check and
  the append atomic (a suspension racing a designation makes one of them fail and retry);
- `GetCredentials` answers with one stream read;
- the published events are keyed by the holder already, so a person's credential history stays
  in one order from the store to the topic;
- a person holds a handful of licenses over a career, each with a few events a year, so the
  stream stays short.
The price: a license command names a license id, not its holder, so the application finds the
holder in the service's license table (see `compliance.application.credentials`).

The license lifecycle (every other transition is refused naming the current status):

    recorded -> active --suspend--> suspended --reinstate--> active
                active --expire (board notice or the clock)--> expired --renew--> active
                active --renew--> active (a later expiry)
                active | suspended | expired --revoke--> revoked (final)

Dates: `expires_on` is the last valid day; the day after is the first invalid day
(`LicenseExpired.expired_on`). "Today" is the service's calendar day (UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from compliance.domain.credentials.commands import (
    CredentialCommand,
    ExpireLicense,
    RecordLicense,
    RecordSupervisorDesignation,
    ReinstateLicense,
    RenewLicense,
    RevokeLicense,
    SuspendLicense,
)
from compliance.domain.credentials.designations import requirement
from compliance.domain.credentials.errors import (
    DateMustNotBeInTheFuture,
    LicenseChangeMustNotPrecedeItsHistory,
    LicenseIdMustNotBeReused,
    LicenseMustBeActiveOrExpiredToBeRenewed,
    LicenseMustBeActiveToBeSuspended,
    LicenseMustBeActiveToExpire,
    LicenseMustBeRecorded,
    LicenseMustBeSuspendedToBeReinstated,
    LicenseNumberMustBeRecordedOnce,
    RenewalMustExtendTheExpiry,
    RevokedLicenseMustStayRevoked,
    SupervisorDesignationIdMustNotBeReused,
    SupervisorDesignationRequiresAnActiveLicense,
    SupervisorTrainingMustMeetTheBoardMinimum,
)
from compliance.domain.credentials.events import (
    REMINDER_DAYS,
    LicenseExpired,
    LicenseExpiryReminderDue,
    LicenseRecorded,
    LicenseReinstated,
    LicenseRenewed,
    LicenseRevoked,
    LicenseSuspended,
    ReminderDays,
    SupervisorDesignationRecorded,
)
from infra.ddd import DomainEvent

LicenseStatus = Literal["active", "suspended", "expired", "revoked"]
ChangeAction = Literal["renewed", "suspended", "reinstated", "revoked", "expired"]

ONE_DAY = dt.timedelta(days=1)


def stream_id(holder_id: str) -> str:
    return f"credential-holder-{holder_id}"


class StatusChange(BaseModel):
    """A lifecycle change of a license and the status it left the license in."""

    model_config = ConfigDict(frozen=True)

    action: ChangeAction
    status: LicenseStatus
    effective_on: dt.date
    reason: str | None = None


class Renewal(BaseModel):
    model_config = ConfigDict(frozen=True)

    renewed_on: dt.date
    expires_on: dt.date


class Reminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    expires_on: dt.date
    days_before: ReminderDays
    due_on: dt.date


class License(BaseModel):
    model_config = ConfigDict(frozen=True)

    license_id: str
    kind: str
    number: str
    state: str
    issued_on: dt.date
    # The current last valid day; renewals move it later.
    expires_on: dt.date
    # The last valid day the license was recorded with.
    recorded_expires_on: dt.date
    status: LicenseStatus = "active"
    # The day the current status began.
    status_since: dt.date
    changes: tuple[StatusChange, ...] = ()
    renewals: tuple[Renewal, ...] = ()
    reminders: tuple[Reminder, ...] = ()

    def same_credential(self, state: str, kind: str, number: str) -> bool:
        return (self.state, self.kind, self.number) == (state, kind, number)

    def reminder_days_left(self) -> tuple[ReminderDays, ...]:
        """The thresholds still to come for the current expiry. A recorded reminder covers its
        own threshold and every earlier one (a skipped threshold is never sent late)."""
        recorded = [r.days_before for r in self.reminders if r.expires_on == self.expires_on]
        floor = min(recorded, default=None)
        return tuple(d for d in REMINDER_DAYS if floor is None or d < floor)

    def next_due_on(self) -> dt.date | None:
        """The first day the clock has something to record for this license: its next reminder
        threshold, or else its first invalid day; None when it is not active."""
        if self.status != "active":
            return None
        left = self.reminder_days_left()
        if left:
            return self.expires_on - dt.timedelta(days=max(left))
        return self.expires_on + ONE_DAY


class Designation(BaseModel):
    model_config = ConfigDict(frozen=True)

    designation_id: str
    designation: str
    state: str
    granted_on: dt.date
    expires_on: dt.date | None
    training_hours: int
    training_completed_on: dt.date


class HolderState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # None until the first event.
    holder_id: str | None = None
    licenses: tuple[License, ...] = ()
    designations: tuple[Designation, ...] = ()

    def license(self, license_id: str) -> License | None:
        return next((lic for lic in self.licenses if lic.license_id == license_id), None)

    def designation(self, designation_id: str) -> Designation | None:
        return next((d for d in self.designations if d.designation_id == designation_id), None)


INITIAL = HolderState()


class Claims(BaseModel):
    """What the registry holds outside this holder's stream, which recording a license must not
    contradict: license ids and license numbers are unique across all holders."""

    model_config = ConfigDict(frozen=True)

    # The holder the command's license id is recorded under, if any.
    license_holder_id: str | None = None
    # The license id the command's state, kind and number are recorded as, if any.
    number_license_id: str | None = None


NO_CLAIMS = Claims()


def decide(
    state: HolderState,
    command: CredentialCommand,
    today: dt.date,
    claims: Claims = NO_CLAIMS,
) -> list[DomainEvent]:
    """The events a command records; [] when the same command is already recorded."""
    match command:
        case RecordLicense():
            return _record_license(state, command, today, claims)
        case RecordSupervisorDesignation():
            return _record_designation(state, command, today)
        case RenewLicense():
            return _renew(state, _license(state, command.license_id), command, today)
        case SuspendLicense():
            return _suspend(state, _license(state, command.license_id), command, today)
        case ReinstateLicense():
            return _reinstate(state, _license(state, command.license_id), command, today)
        case RevokeLicense():
            return _revoke(state, _license(state, command.license_id), command, today)
        case ExpireLicense():
            return _expire(state, _license(state, command.license_id), command, today)


def due_facts(state: HolderState, today: dt.date) -> list[DomainEvent]:
    """What the clock records on `today` for each active license of the holder:
    - once the last valid day has passed, LicenseExpired with the day after it;
    - otherwise the reminder of the latest threshold (90, 60, 30 days before, the day itself)
      that is due and not yet covered for this expiry date. After a gap (the service was down,
      or the license was entered late) only the latest due threshold is recorded, never a
      burst of stale ones: the holder needs to know how close the expiry is now.
    Deterministic in `today`; a second call after these events are recorded returns []."""
    if state.holder_id is None:
        return []
    holder_id = state.holder_id
    facts: list[DomainEvent] = []
    for lic in state.licenses:
        if lic.status != "active":
            continue
        if today > lic.expires_on:
            facts.append(
                LicenseExpired(
                    holder_id=holder_id,
                    license_id=lic.license_id,
                    expired_on=lic.expires_on + ONE_DAY,
                )
            )
            continue
        due = [d for d in lic.reminder_days_left() if lic.expires_on - dt.timedelta(d) <= today]
        if due:
            days = min(due)
            facts.append(
                LicenseExpiryReminderDue(
                    holder_id=holder_id,
                    license_id=lic.license_id,
                    expires_on=lic.expires_on,
                    days_before=days,
                    due_on=lic.expires_on - dt.timedelta(days=days),
                )
            )
    return facts


def evolve(state: HolderState, event: DomainEvent) -> HolderState:
    match event:
        case LicenseRecorded():
            lic = License(
                license_id=event.license_id,
                kind=event.kind,
                number=event.number,
                state=event.state,
                issued_on=event.issued_on,
                expires_on=event.expires_on,
                recorded_expires_on=event.expires_on,
                status_since=event.issued_on,
            )
            return state.model_copy(
                update={"holder_id": event.holder_id, "licenses": (*state.licenses, lic)}
            )
        case LicenseRenewed():
            return _evolve_license(
                state,
                event.license_id,
                lambda lic: _renewed(
                    lic, Renewal(renewed_on=event.renewed_on, expires_on=event.expires_on)
                ),
            )
        case LicenseSuspended():
            change = StatusChange(
                action="suspended",
                status="suspended",
                effective_on=event.effective_on,
                reason=event.reason,
            )
            return _evolve_license(state, event.license_id, lambda lic: _changed(lic, change))
        case LicenseReinstated():
            change = StatusChange(
                action="reinstated", status="active", effective_on=event.effective_on
            )
            return _evolve_license(state, event.license_id, lambda lic: _changed(lic, change))
        case LicenseRevoked():
            change = StatusChange(
                action="revoked",
                status="revoked",
                effective_on=event.effective_on,
                reason=event.reason,
            )
            return _evolve_license(state, event.license_id, lambda lic: _changed(lic, change))
        case LicenseExpired():
            change = StatusChange(action="expired", status="expired", effective_on=event.expired_on)
            return _evolve_license(state, event.license_id, lambda lic: _changed(lic, change))
        case LicenseExpiryReminderDue():
            reminder = Reminder(
                expires_on=event.expires_on, days_before=event.days_before, due_on=event.due_on
            )
            return _evolve_license(
                state,
                event.license_id,
                lambda lic: lic.model_copy(update={"reminders": (*lic.reminders, reminder)}),
            )
        case SupervisorDesignationRecorded():
            return state.model_copy(
                update={
                    "holder_id": event.holder_id,
                    "designations": (*state.designations, _designation_of(event)),
                }
            )
        case _:
            raise TypeError(f"a credential holder stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: HolderState = INITIAL) -> HolderState:
    for event in events:
        state = evolve(state, event)
    return state


# Deciding each command.


def _record_license(
    state: HolderState, command: RecordLicense, today: dt.date, claims: Claims
) -> list[DomainEvent]:
    _check_holder(state, command.holder_id)
    recorded = LicenseRecorded(
        holder_id=command.holder_id,
        license_id=command.license_id,
        kind=command.kind,
        number=command.number,
        state=command.state,
        issued_on=command.issued_on,
        expires_on=command.expires_on,
    )
    existing = state.license(command.license_id)
    if existing is not None:
        if _recorded_as(existing, command):
            return []
        raise LicenseIdMustNotBeReused(command.license_id)
    if claims.license_holder_id not in (None, command.holder_id):
        raise LicenseIdMustNotBeReused(command.license_id)
    same = next(
        (
            lic.license_id
            for lic in state.licenses
            if lic.same_credential(command.state, command.kind, command.number)
        ),
        claims.number_license_id,
    )
    if same is not None and same != command.license_id:
        raise LicenseNumberMustBeRecordedOnce(command.state, command.kind, command.number, same)
    if command.issued_on > today:
        raise DateMustNotBeInTheFuture("issued_on", command.issued_on, today)
    return [recorded]


def _renew(
    state: HolderState, lic: License, command: RenewLicense, today: dt.date
) -> list[DomainEvent]:
    if Renewal(renewed_on=command.renewed_on, expires_on=command.expires_on) in lic.renewals:
        return []
    if lic.status == "revoked":
        raise RevokedLicenseMustStayRevoked(lic.license_id, "be renewed")
    if lic.status not in ("active", "expired"):
        raise LicenseMustBeActiveOrExpiredToBeRenewed(lic.license_id, lic.status)
    _check_not_future("renewed_on", command.renewed_on, today)
    if command.renewed_on < lic.issued_on:
        raise LicenseChangeMustNotPrecedeItsHistory(
            lic.license_id,
            lic.status,
            lic.issued_on,
            "renewed_on",
            command.renewed_on,
            since_what="and was issued on",
        )
    if command.expires_on <= lic.expires_on:
        raise RenewalMustExtendTheExpiry(
            lic.license_id, lic.status, lic.expires_on, command.expires_on
        )
    return [
        LicenseRenewed(
            holder_id=_holder(state),
            license_id=lic.license_id,
            renewed_on=command.renewed_on,
            expires_on=command.expires_on,
        )
    ]


def _suspend(
    state: HolderState, lic: License, command: SuspendLicense, today: dt.date
) -> list[DomainEvent]:
    if _already(lic, "suspended", command.effective_on, command.reason):
        return []
    if lic.status == "revoked":
        raise RevokedLicenseMustStayRevoked(lic.license_id, "be suspended")
    if lic.status != "active":
        raise LicenseMustBeActiveToBeSuspended(lic.license_id, lic.status)
    _check_change_date(lic, "effective_on", command.effective_on, today)
    return [
        LicenseSuspended(
            holder_id=_holder(state),
            license_id=lic.license_id,
            effective_on=command.effective_on,
            reason=command.reason,
        )
    ]


def _reinstate(
    state: HolderState, lic: License, command: ReinstateLicense, today: dt.date
) -> list[DomainEvent]:
    if _already(lic, "reinstated", command.effective_on):
        return []
    if lic.status == "revoked":
        raise RevokedLicenseMustStayRevoked(lic.license_id, "be reinstated")
    if lic.status != "suspended":
        raise LicenseMustBeSuspendedToBeReinstated(lic.license_id, lic.status)
    _check_change_date(lic, "effective_on", command.effective_on, today)
    return [
        LicenseReinstated(
            holder_id=_holder(state), license_id=lic.license_id, effective_on=command.effective_on
        )
    ]


def _revoke(
    state: HolderState, lic: License, command: RevokeLicense, today: dt.date
) -> list[DomainEvent]:
    if _already(lic, "revoked", command.effective_on, command.reason):
        return []
    if lic.status == "revoked":
        raise RevokedLicenseMustStayRevoked(lic.license_id, "be revoked again")
    _check_change_date(lic, "effective_on", command.effective_on, today)
    return [
        LicenseRevoked(
            holder_id=_holder(state),
            license_id=lic.license_id,
            effective_on=command.effective_on,
            reason=command.reason,
        )
    ]


def _expire(
    state: HolderState, lic: License, command: ExpireLicense, today: dt.date
) -> list[DomainEvent]:
    expired_on = command.expired_on or lic.expires_on + ONE_DAY
    if _already(lic, "expired", expired_on):
        return []
    if lic.status == "revoked":
        raise RevokedLicenseMustStayRevoked(lic.license_id, "expire")
    if lic.status != "active":
        raise LicenseMustBeActiveToExpire(lic.license_id, lic.status)
    _check_change_date(lic, "expired_on", expired_on, today)
    return [
        LicenseExpired(holder_id=_holder(state), license_id=lic.license_id, expired_on=expired_on)
    ]


def _record_designation(
    state: HolderState, command: RecordSupervisorDesignation, today: dt.date
) -> list[DomainEvent]:
    _check_holder(state, command.holder_id)
    proposed = _designation_of(command)
    existing = state.designation(command.designation_id)
    if existing is not None:
        if existing == proposed:
            return []
        raise SupervisorDesignationIdMustNotBeReused(command.designation_id)
    _check_not_future("granted_on", command.granted_on, today)
    needed = requirement(command.state, command.designation)
    if needed.min_training_hours is not None and command.training_hours < needed.min_training_hours:
        raise SupervisorTrainingMustMeetTheBoardMinimum(
            command.designation,
            command.state,
            needed.min_training_hours,
            command.training_hours,
            needed.source,
        )
    in_state = [lic for lic in state.licenses if lic.state == command.state]
    if not any(
        lic.status == "active"
        and lic.issued_on <= command.granted_on
        and (not needed.base_license_kinds or lic.kind in needed.base_license_kinds)
        for lic in in_state
    ):
        raise SupervisorDesignationRequiresAnActiveLicense(
            command.holder_id,
            command.state,
            needed.base_license_kinds,
            command.granted_on,
            [
                f"{lic.license_id} {lic.kind} {lic.status} since {lic.status_since}"
                for lic in in_state
            ],
        )
    return [
        SupervisorDesignationRecorded(
            holder_id=command.holder_id,
            designation_id=command.designation_id,
            designation=command.designation,
            state=command.state,
            granted_on=command.granted_on,
            expires_on=command.expires_on,
            training_hours=command.training_hours,
            training_completed_on=command.training_completed_on,
        )
    ]


# Helpers.


def _license(state: HolderState, license_id: str) -> License:
    lic = state.license(license_id)
    if lic is None:
        raise LicenseMustBeRecorded(license_id)
    return lic


def _holder(state: HolderState) -> str:
    if state.holder_id is None:
        raise ValueError("a license command decided on an empty holder stream")
    return state.holder_id


def _check_holder(state: HolderState, holder_id: str) -> None:
    if state.holder_id is not None and state.holder_id != holder_id:
        raise ValueError(f"{holder_id}'s credential decided on {state.holder_id}'s stream")


def _recorded_as(lic: License, command: RecordLicense) -> bool:
    return (lic.kind, lic.number, lic.state, lic.issued_on, lic.recorded_expires_on) == (
        command.kind,
        command.number,
        command.state,
        command.issued_on,
        command.expires_on,
    )


def _already(
    lic: License, action: ChangeAction, effective_on: dt.date, reason: str | None = None
) -> bool:
    """Whether this very change is in the license's history: a retried command changes nothing."""
    return any(
        c.action == action and c.effective_on == effective_on and c.reason == reason
        for c in lic.changes
    )


def _check_not_future(field: str, date: dt.date, today: dt.date) -> None:
    if date > today:
        raise DateMustNotBeInTheFuture(field, date, today)


def _check_change_date(lic: License, field: str, date: dt.date, today: dt.date) -> None:
    _check_not_future(field, date, today)
    if date < lic.status_since:
        raise LicenseChangeMustNotPrecedeItsHistory(
            lic.license_id, lic.status, lic.status_since, field, date
        )


def _evolve_license(
    state: HolderState, license_id: str, change: Callable[[License], License]
) -> HolderState:
    licenses = tuple(change(lic) if lic.license_id == license_id else lic for lic in state.licenses)
    if licenses == state.licenses and state.license(license_id) is None:
        raise ValueError(f"an event for license {license_id}, which this holder does not hold")
    return state.model_copy(update={"licenses": licenses})


def _renewed(lic: License, renewal: Renewal) -> License:
    update: dict[str, object] = {
        "expires_on": renewal.expires_on,
        "renewals": (*lic.renewals, renewal),
    }
    if lic.status == "expired":
        change = StatusChange(action="renewed", status="active", effective_on=renewal.renewed_on)
        update |= {
            "status": "active",
            "status_since": renewal.renewed_on,
            "changes": (*lic.changes, change),
        }
    return lic.model_copy(update=update)


def _changed(lic: License, change: StatusChange) -> License:
    return lic.model_copy(
        update={
            "status": change.status,
            "status_since": change.effective_on,
            "changes": (*lic.changes, change),
        }
    )


def _designation_of(
    source: RecordSupervisorDesignation | SupervisorDesignationRecorded,
) -> Designation:
    return Designation(
        designation_id=source.designation_id,
        designation=source.designation,
        state=source.state,
        granted_on=source.granted_on,
        expires_on=source.expires_on,
        training_hours=source.training_hours,
        training_completed_on=source.training_completed_on,
    )
