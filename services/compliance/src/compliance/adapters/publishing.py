"""Translation of the compliance service's private events into the contracts it publishes on
`continuum.compliance.events`: the credential registry's events, each as the contract of the
same name (contracts.events.compliance), keyed by the holder."""

from __future__ import annotations

from compliance.domain import credentials_events as private
from contracts.events import EventContract
from contracts.events import compliance as contract
from infra.application import published
from infra.ddd import DomainEvent
from infra.eventstore import OutboxMessage, RecordedEvent

SOURCE = "/continuum/compliance"

_CONTRACTS: dict[type[DomainEvent], type[EventContract]] = {
    private.LicenseRecorded: contract.LicenseRecorded,
    private.LicenseRenewed: contract.LicenseRenewed,
    private.LicenseSuspended: contract.LicenseSuspended,
    private.LicenseReinstated: contract.LicenseReinstated,
    private.LicenseRevoked: contract.LicenseRevoked,
    private.LicenseExpired: contract.LicenseExpired,
    private.LicenseExpiryReminderDue: contract.LicenseExpiryReminderDue,
    private.SupervisorDesignationRecorded: contract.SupervisorDesignationRecorded,
}


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    event = private.CREDENTIAL_EVENT_TYPES.load(recorded.type, recorded.data)
    schema = _CONTRACTS.get(type(event))
    if schema is None:
        return None
    return published(recorded, schema.model_validate(event.to_data()), source=SOURCE)
