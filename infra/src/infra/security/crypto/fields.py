"""Sensitive fields, sealed and opened: what the runner does to a service's own events, and what
a servicer does to a value it read from a store or a consumed event before a person reads it.

Every field's value is sealed for its subject under one context (`FIELD_CONTEXT`): the
producer seals a `reason` for the supervisee, the event travels with the envelope in its
`reason`, a consumer stores it as it came (in a column of another name, perhaps), and a
response opens it in a field of yet another name (`termination_reason`). The envelope binds the
value to its subject and key, so it cannot be relabelled to another person; it does not bind it
to one field or record, since the names differ along the way.
"""

from __future__ import annotations

from infra.security.crypto.keys import SubjectKeys
from infra.security.crypto.sealing import (
    Envelope,
    Erased,
    SealedValueRefused,
    is_sealed,
    seal,
    unseal,
)

# What a value reads as once its subject's keys were destroyed.
ERASED_TEXT = "[erased]"


FIELD_CONTEXT = "continuum/sensitive-field"


def is_envelope(value: str) -> bool:
    """Whether `value` is a well-formed sealed value (a copy sealed already: kept as it is)."""
    try:
        Envelope.parse(value)
    except SealedValueRefused:
        return False
    return True


async def seal_field(keys: SubjectKeys, subject: str, value: str) -> str:
    """`value` sealed for `subject`; an envelope already is kept as it is (a copy of a sealed
    value), and an empty text (nothing to hide) stays empty. SubjectErased once the subject's
    keys are gone."""
    if not value or is_envelope(value):
        return value
    return await seal(keys, subject, value, FIELD_CONTEXT)


async def open_field(keys: SubjectKeys, value: str) -> str:
    """The plain value: opened when sealed, `[erased]` once its subject's keys were destroyed,
    as it is when it was never sealed (recorded before sealing began). SealedValueRefused when
    an envelope was altered or relabelled."""
    if not is_sealed(value):
        return value
    opened = await unseal(keys, value, FIELD_CONTEXT)
    return ERASED_TEXT if isinstance(opened, Erased) else opened
