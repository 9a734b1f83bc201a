"""Translation of the compliance service's private events into the contracts it publishes on
`continuum.compliance.events`, each as the contract of the same name
(contracts.events.compliance): the credential registry's events, keyed by the holder, and what
compliance officers record of a supervisee, keyed by the supervisee."""

from __future__ import annotations

from compliance.domain.credentials import events as credentials
from compliance.domain.oversight import events as oversight
from contracts.events import EventContract
from contracts.events import compliance as contract
from infra.application import published
from infra.ddd import DomainEvent, EventTypes
from infra.eventstore import OutboxMessage, RecordedEvent

_CONTRACTS: dict[type[DomainEvent], type[EventContract]] = {
    credentials.LicenseRecorded: contract.LicenseRecorded,
    credentials.LicenseRenewed: contract.LicenseRenewed,
    credentials.LicenseSuspended: contract.LicenseSuspended,
    credentials.LicenseReinstated: contract.LicenseReinstated,
    credentials.LicenseRevoked: contract.LicenseRevoked,
    credentials.LicenseExpired: contract.LicenseExpired,
    credentials.LicenseExpiryReminderDue: contract.LicenseExpiryReminderDue,
    credentials.SupervisorDesignationRecorded: contract.SupervisorDesignationRecorded,
    oversight.VerdictResolved: contract.VerdictResolved,
    oversight.LeaveApproved: contract.LeaveApproved,
}

# Every event the service records, by its stored type name.
_RECORDED = EventTypes(_CONTRACTS)


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes: every event this service records is published."""
    event = _RECORDED.load(recorded.type, recorded.data)
    schema = _CONTRACTS[type(event)]
    return published(recorded, schema.model_validate(event.to_data()))
