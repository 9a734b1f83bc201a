"""Sealed values: a text encrypted under its subject's data key, as one compact string that any
store or message can carry where the text would have gone.

    sealed:1:<subject>:<key id>:<base64url(nonce || ciphertext || tag)>

`1` is the envelope's version; the subject is an id (it may itself contain ':', so the envelope
is read from the right); the key id is the subject's data key's number, in decimal; the last
part is the 96-bit nonce, fresh for every value, followed by the AES-256-GCM ciphertext of the
UTF-8 text and its 128-bit tag, in base64url without padding. The associated data binds the
envelope's version, the subject, the key id and a context the caller names (an event type and
a field, say `continuum.supervision.SessionVoided/reason`): a value altered in any part, moved
to another subject, or put in another field is refused rather than read. To bind a value to one
record too, put the record's id in the context.

Once the subject's keys are destroyed, `unseal` answers `Erased` for every value sealed for
them: the ciphertext stays where it is, and says nothing without the key. The envelope shows
the subject, the key id and the length of the text in bytes (the payload is 28 bytes longer).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.security.crypto.kek import NONCE_BYTES, decode_base64url, encode_base64url
from infra.security.crypto.keys import (
    SubjectErased,
    SubjectKeys,
    UnknownDataKey,
    check_subject,
    framed,
)

ENVELOPE_VERSION = 1
SEALED_PREFIX = "sealed:"
_PREFIX = f"{SEALED_PREFIX}{ENVELOPE_VERSION}:"
TAG_BYTES = 16
_KEY_ID = re.compile(r"[1-9][0-9]{0,9}")


class SealedValueRefused(ValueError):
    """A value that is not a sealed value this keyring can open: malformed, of an unknown
    version, altered, or sealed for another subject or context. Says which, never the value."""


@dataclass(frozen=True, slots=True)
class Erased:
    """What a sealed value reads as once its subject's keys were destroyed."""

    subject: str

    def __str__(self) -> str:
        return "[erased]"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A sealed value's parts, read but not opened."""

    subject: str
    key_id: int
    payload: bytes
    """The nonce, then the ciphertext and its tag."""

    def render(self) -> str:
        return f"{_PREFIX}{self.subject}:{self.key_id}:{encode_base64url(self.payload)}"

    @classmethod
    def parse(cls, value: str) -> Envelope:
        """The parts of a sealed value; SealedValueRefused naming what is malformed."""
        if not value.startswith(SEALED_PREFIX):
            raise SealedValueRefused("not a sealed value")
        if not value.startswith(_PREFIX):
            raise SealedValueRefused("a sealed value of an envelope version this cannot read")
        parts = value[len(_PREFIX) :].rsplit(":", 2)
        if len(parts) != 3:
            raise SealedValueRefused("a sealed value needs a subject, a key id and a payload")
        subject, key_id, encoded = parts
        try:
            check_subject(subject)
        except ValueError:
            raise SealedValueRefused("the sealed value's subject is not an id") from None
        if not _KEY_ID.fullmatch(key_id):
            raise SealedValueRefused("the sealed value's key id is not a positive number")
        payload = _decode(encoded)
        if len(payload) < NONCE_BYTES + TAG_BYTES:
            raise SealedValueRefused("the sealed value's payload is too short")
        return cls(subject, int(key_id), payload)


def is_sealed(value: str) -> bool:
    """Whether `value` is meant as a sealed value (of any envelope version)."""
    return value.startswith(SEALED_PREFIX)


async def seal(keys: SubjectKeys, subject: str, plaintext: str, context: str) -> str:
    """`plaintext` sealed under the subject's current data key for `context`; SubjectErased
    when the subject's keys were destroyed (nothing more is recorded about them)."""
    _check_context(context)
    key = await keys.current(subject)
    nonce = os.urandom(NONCE_BYTES)
    data = plaintext.encode("utf-8")
    sealed = AESGCM(key.material).encrypt(nonce, data, _associated(subject, key.key_id, context))
    return Envelope(subject, key.key_id, nonce + sealed).render()


async def unseal(keys: SubjectKeys, sealed: str, context: str) -> str | Erased:
    """The text `seal` was given for this context, or Erased once the subject's keys are
    destroyed; SealedValueRefused when the value was altered, moved or is not sealed."""
    _check_context(context)
    envelope = Envelope.parse(sealed)
    try:
        key = await keys.data_key(envelope.subject, envelope.key_id)
    except SubjectErased:
        return Erased(envelope.subject)
    except UnknownDataKey:
        raise SealedValueRefused(
            "the sealed value names a key its subject does not have: altered, or sealed by "
            "another keyring"
        ) from None
    nonce, sealed_bytes = envelope.payload[:NONCE_BYTES], envelope.payload[NONCE_BYTES:]
    associated = _associated(envelope.subject, envelope.key_id, context)
    try:
        data = AESGCM(key.material).decrypt(nonce, sealed_bytes, associated)
    except InvalidTag:
        raise SealedValueRefused(
            "the sealed value does not open: it was altered, or sealed for another subject "
            "or context"
        ) from None
    return data.decode("utf-8")


def _associated(subject: str, key_id: int, context: str) -> bytes:
    return framed(
        f"continuum sealed v{ENVELOPE_VERSION}".encode(),
        subject.encode(),
        str(key_id).encode(),
        context.encode("utf-8"),
    )


def _check_context(context: str) -> None:
    if not context:
        raise ValueError("a sealed value needs a context (the event type and field it is for)")


def _decode(encoded: str) -> bytes:
    try:
        return decode_base64url(encoded)
    except ValueError:
        raise SealedValueRefused("the sealed value's payload is not base64url") from None
