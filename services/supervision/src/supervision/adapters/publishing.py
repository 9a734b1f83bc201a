"""Translation of supervision's private events into the contracts it publishes.

Minimum necessary: ids, dates, formats, figures and signatures. What stays inside: the
supervisee's record of each session (SupervisionReceived/Amended/Voided, which carries the
private wellbeing check) and the supervisor stream (license history as supervision knows it).

The service publishes through ONE translator, `translate`, a chain: each translator answers for
the events it knows and returns None for any other, and the first answer wins. To publish the
events of another part of the service, add its translator to `TRANSLATORS` below.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts import events as contract
from infra.application import published
from infra.ddd import DomainEvent
from infra.eventstore import OutboxMessage, RecordedEvent, Translator
from supervision.adapters.publishing_development import translate_development
from supervision.domain import (
    EVENT_TYPES,
    AgreementAmended,
    AgreementApproved,
    AgreementSigned,
    AgreementTerminated,
    MonthReopened,
    MonthSignedOff,
    PracticeHoursRecorded,
    SessionAmended,
    SessionLogged,
    SessionVoided,
    SuperviseeRegistered,
    SuperviseeTransferred,
    SupervisorLapseMarked,
)

# The private events published as a contract with the same fields (and name).
_SAME_FIELDS: dict[type[DomainEvent], type[contract.EventContract]] = {
    SuperviseeRegistered: contract.SuperviseeRegistered,
    SuperviseeTransferred: contract.SuperviseeTransferred,
    AgreementSigned: contract.AgreementSigned,
    AgreementApproved: contract.AgreementApproved,
    AgreementAmended: contract.AgreementAmended,
    AgreementTerminated: contract.AgreementTerminated,
    SessionLogged: contract.SessionLogged,
    SessionAmended: contract.SessionAmended,
    SessionVoided: contract.SessionVoided,
    SupervisorLapseMarked: contract.SupervisorLapseMarked,
    PracticeHoursRecorded: contract.PracticeHoursRecorded,
    MonthSignedOff: contract.MonthSignedOff,
    MonthReopened: contract.MonthReopened,
}
_PUBLISHED_TYPES = frozenset(cls.type for cls in _SAME_FIELDS)


def translate_core(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a supervisee, session or supervisor event publishes; None for what stays
    inside the service and for events this translator does not know."""
    if recorded.type not in _PUBLISHED_TYPES:
        return None
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    schema = _SAME_FIELDS[type(event)]
    # Only the contract's fields are read: a private field never leaks by being added here.
    data = event.to_data()
    public = schema.model_validate({n: v for n, v in data.items() if n in schema.model_fields})
    return published(recorded, public)


def chain(translators: Sequence[Translator]) -> Translator:
    """One translator of several: the first that publishes an event decides its message."""

    def translate(recorded: RecordedEvent) -> OutboxMessage | None:
        for translator in translators:
            message = translator(recorded)
            if message is not None:
                return message
        return None

    return translate


# Every translator of the service: supervisees, sessions and supervisors; then competency
# evaluations and consultations.
TRANSLATORS: tuple[Translator, ...] = (translate_core, translate_development)

translate: Translator = chain(TRANSLATORS)
"""The service's translator: given to the runtime (outbox, re-publishing) and the handlers."""
