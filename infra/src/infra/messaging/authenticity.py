"""Event authenticity: each service signs what it publishes; consumers apply only what the
topic's producer signed.

Whoever can write to a topic could otherwise put any fact on it (a license compliance never
recorded, sessions nobody held). So every message carries, as CloudEvents extension attributes
(Kafka headers in binary mode, like the others), an Ed25519 signature (`ce_signature`, 64 bytes
base64url without padding) and the id of the key that made it (`ce_signingkey`). The signature
covers the canonical bytes of the message as sent:

    b"continuum-event/v1\\n"
    + the JSON array (no spaces, ASCII) of the values, as sent, of the attributes
      id, source, type, subject, time, partitionkey, correlationid, causationid, actor, siteid
      (null where absent; partitionkey is the Kafka key, as consumers read it)
    + b"\\n"
    + the message value: the exact data bytes

so the data is encoded once, and the bytes signed are the bytes sent. The trace context and the
content type are not covered (they change nothing a consumer applies).

A consumer accepts an event only when it is signed, by a key it knows (`kid`), valid under that
key, and both the key and the event's `source` are the producer the topic declares
(`contracts.topics.Topic.source`): a service's key signs only its own topic's events. Anything
else is an `InauthenticEvent`, dead-lettered with its reason and never applied or counted.

Keys: a service's private key is a PEM file (PKCS#8 Ed25519) with its id
(CONTINUUM_EVENT_SIGNING_KEY_FILE, CONTINUUM_EVENT_SIGNING_KEY_ID); every producer's public keys
are one JWKS file (CONTINUUM_EVENT_KEYS_FILE) of OKP/Ed25519 keys, each with its `kid` and the
`source` it signs for. Several keys of one producer may be valid at once (the `kid` chooses),
which is how a key is rotated; the file is read again when an event names a key it lacks and
the file has changed since.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.db import private_file, private_folder
from infra.redaction import Disclosable
from infra.security.tokens import SigningKey

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]

SIGNATURE_HEADER: Final = "ce_signature"
SIGNING_KEY_HEADER: Final = "ce_signingkey"
# The attributes the signature covers, in the order of the canonical bytes.
SIGNED_ATTRIBUTES: Final = (
    "id",
    "source",
    "type",
    "subject",
    "time",
    "partitionkey",
    "correlationid",
    "causationid",
    "actor",
    "siteid",
)
CANONICAL_PREFIX: Final = b"continuum-event/v1\n"
_SIGNED_HEADERS: Final = {f"ce_{name}": name for name in SIGNED_ATTRIBUTES}
_SIGNATURE_BYTES = 64

SIGNING_KEY_FILE_VARIABLE: Final = "CONTINUUM_EVENT_SIGNING_KEY_FILE"
SIGNING_KEY_ID_VARIABLE: Final = "CONTINUUM_EVENT_SIGNING_KEY_ID"
KEYS_FILE_VARIABLE: Final = "CONTINUUM_EVENT_KEYS_FILE"


class InauthenticEvent(Disclosable):
    """A message its consumer cannot take as its producer's: unsigned, forged, altered, signed
    by a key it does not know or by another producer's, or from another source than the
    topic's. Its reason names what is wrong, never a value the message holds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthenticityMisconfigured(ValueError):
    """The event keys' settings name files that cannot be used; the message names the
    variable."""


def canonical_bytes(attributes: Mapping[str, str | None], data: bytes) -> bytes:
    """What a signature covers: the signed attributes' values as sent, then the data bytes."""
    values = [attributes.get(name) for name in SIGNED_ATTRIBUTES]
    return (
        CANONICAL_PREFIX
        + json.dumps(values, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        + b"\n"
        + data
    )


@dataclass(slots=True)
class _Signed:
    """What a message says of itself that its signature covers, with the signature."""

    attributes: dict[str, str | None]
    signature: bytes | None = None
    kid: bytes | None = None
    # A signed attribute that is not UTF-8 text: no producer of ours sends one.
    unreadable: bool = False


def _signed(key: bytes | None, headers: Iterable[tuple[str, bytes | None]]) -> _Signed:
    """The signed attributes of a message, read as `cloudevents.decode` reads them (a header's
    name in any case, the last of a repeated one, the Kafka key as the partition key), with
    its signature and key id."""
    signed = _Signed({})
    for name, raw in headers:
        if raw is None:
            continue
        lowered = name.lower()
        attribute = _SIGNED_HEADERS.get(lowered)
        if attribute is not None:
            signed.attributes[attribute] = _text(raw, signed)
        elif lowered == SIGNATURE_HEADER:
            signed.signature = raw
        elif lowered == SIGNING_KEY_HEADER:
            signed.kid = raw
    if key is not None:
        signed.attributes["partitionkey"] = _text(key, signed)
    return signed


def _text(raw: bytes, signed: _Signed) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        signed.unreadable = True
        return None


@dataclass(frozen=True, slots=True)
class EventSigner:
    """Signs the messages of the sources it holds a key for: a service holds its own."""

    keys: Mapping[str, SigningKey]
    """The key each source signs with."""

    @classmethod
    def of(cls, source: str, key: SigningKey) -> EventSigner:
        return cls({source: key})

    def signature_headers(
        self, source: str, key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> Headers:
        """The two headers that sign an encoded message of `source` (its key, value and
        headers as they will be sent)."""
        signing_key = self.keys.get(source)
        if signing_key is None:
            raise ValueError(f"no event signing key for the source {source}")
        signed = _signed(key, headers)
        if signed.unreadable:
            raise ValueError("an attribute to sign is not UTF-8 text")
        signature = signing_key.private_key.sign(canonical_bytes(signed.attributes, value))
        return [
            (SIGNATURE_HEADER, base64.urlsafe_b64encode(signature).rstrip(b"=")),
            (SIGNING_KEY_HEADER, signing_key.kid.encode("utf-8")),
        ]


@dataclass(frozen=True, slots=True)
class ProducerKey:
    """A producer's public key: its id, the source it signs for, the key."""

    kid: str
    source: str
    public_key: Ed25519PublicKey

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.OKPAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**public, "kid": self.kid, "alg": "EdDSA", "use": "sig", "source": self.source}


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def producer_key(source: str, key: SigningKey) -> ProducerKey:
    """The public half of a producer's signing key."""
    return ProducerKey(key.kid, source, key.private_key.public_key())


def key_set_document(keys: Iterable[ProducerKey]) -> dict[str, Any]:
    """The JWKS document of these public keys (what CONTINUUM_EVENT_KEYS_FILE holds)."""
    return {"keys": [key.jwk() for key in keys]}


def _read_key_set(document: Any, where: str) -> dict[str, ProducerKey]:
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise AuthenticityMisconfigured(f"{where}: not a JWKS document (no list of keys)")
    keys: dict[str, ProducerKey] = {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise AuthenticityMisconfigured(f"{where}: key {n} is not a JSON object")
        kid, source = entry.get("kid"), entry.get("source")
        if not isinstance(kid, str) or not kid or not isinstance(source, str) or not source:
            raise AuthenticityMisconfigured(f"{where}: key {n} needs a kid and a source")
        if "d" in entry:
            raise AuthenticityMisconfigured(f"{where}: key {kid} holds a private key")
        try:
            public = jwt.PyJWK(entry).key
        except jwt.PyJWTError as error:
            raise AuthenticityMisconfigured(f"{where}: key {kid}: {error}") from None
        if not isinstance(public, Ed25519PublicKey):
            raise AuthenticityMisconfigured(f"{where}: key {kid} is not an Ed25519 public key")
        if kid in keys:
            raise AuthenticityMisconfigured(f"{where}: the kid {kid} is given twice")
        keys[kid] = ProducerKey(kid, source, public)
    return keys


class ProducerKeys:
    """The producers' public keys a consumer knows, by kid."""

    def __init__(self, keys: Iterable[ProducerKey]) -> None:
        self._keys = {key.kid: key for key in keys}

    def key_for(self, kid: str) -> ProducerKey | None:
        return self._keys.get(kid)


class ProducerKeysFile(ProducerKeys):
    """The keys of a JWKS file, read at start (a file that cannot be used refuses it); read
    again when an event names an unknown kid and the file changed since (a key added for a
    rotation), so that forged kids cost a stat, not a read."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp = self._stamp_now()
        super().__init__(self._read().values())

    def _stamp_now(self) -> tuple[int, int]:
        stat = self._path.stat()
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> dict[str, ProducerKey]:
        try:
            document = json.loads(self._path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise AuthenticityMisconfigured(
                f"{KEYS_FILE_VARIABLE} {self._path}: not JSON ({type(error).__name__})"
            ) from None
        return _read_key_set(document, f"{KEYS_FILE_VARIABLE} {self._path}")

    def key_for(self, kid: str) -> ProducerKey | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        try:
            stamp = self._stamp_now()
            if stamp != self._stamp:
                self._stamp = stamp
                self._keys = self._read()
        except (OSError, AuthenticityMisconfigured) as error:
            log.warning("the event keys could not be read again; keeping the known: %s", error)
        return self._keys.get(kid)


class EventVerifier:
    """Checks that a received message is its topic's producer's, as signed."""

    def __init__(self, keys: ProducerKeys) -> None:
        self._keys = keys

    def contradiction(self, signer: EventSigner) -> str | None:
        """Why the key set contradicts the signer's keys (a kid given to another key or source:
        consumers would refuse what it signs); None when it does not."""
        for source, signing_key in signer.keys.items():
            known = self._keys.key_for(signing_key.kid)
            if known is None:
                continue
            own = producer_key(source, signing_key)
            if known.source != source or _raw(known.public_key) != _raw(own.public_key):
                return (
                    f"{KEYS_FILE_VARIABLE} gives the kid {signing_key.kid} to another key or "
                    f"source than {SIGNING_KEY_FILE_VARIABLE}'s: consumers would refuse its events"
                )
        return None

    def verify(
        self,
        topic: str,
        owner: str | None,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[str, bytes | None]],
    ) -> None:
        """Returns when the message on `topic`, whose producer is the source `owner`, is signed
        by one of that producer's keys; raises InauthenticEvent saying why not."""
        if owner is None:
            raise InauthenticEvent(f"{topic} declares no producer: nothing on it is accepted")
        signed = _signed(key, headers)
        if signed.signature is None or signed.kid is None:
            raise InauthenticEvent(
                f"unsigned: no {SIGNATURE_HEADER} and {SIGNING_KEY_HEADER} (every producer signs)"
            )
        if signed.unreadable:
            raise InauthenticEvent("a signed attribute is not UTF-8 text")
        if signed.attributes.get("source") != owner:
            raise InauthenticEvent(f"the source is not {owner}, the producer of {topic}")
        try:
            producer = self._keys.key_for(signed.kid.decode("utf-8"))
        except UnicodeDecodeError:
            producer = None
        if producer is None:
            raise InauthenticEvent(
                f"signed by a key this consumer does not know ({SIGNING_KEY_HEADER})"
            )
        if producer.source != owner:
            raise InauthenticEvent(f"signed by a key of another producer than {owner}")
        try:
            raw = base64.urlsafe_b64decode(signed.signature + b"=" * (-len(signed.signature) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != _SIGNATURE_BYTES:
            raise InauthenticEvent(f"{SIGNATURE_HEADER} is not an Ed25519 signature")
        try:
            producer.public_key.verify(raw, canonical_bytes(signed.attributes, value or b""))
        except InvalidSignature:
            raise InauthenticEvent(
                "the signature does not match the event: it was altered or forged"
            ) from None


@dataclass(frozen=True, slots=True)
class EventKeyring:
    """Private keys of several producers at once, with their public key set: the development
    stack's (one per service) and the tests'. A service in production holds only its own key."""

    keys: Mapping[str, SigningKey]
    """Each source's signing key."""

    @classmethod
    def generate(cls, sources: Iterable[str], generation: int = 1) -> EventKeyring:
        return cls(
            {
                source: SigningKey.generate(f"{source.rsplit('/', 1)[-1]}-{generation}")
                for source in sources
            }
        )

    def signer(self) -> EventSigner:
        """Signs as any of these producers (tests and tools that publish for several)."""
        return EventSigner(self.keys)

    def signer_for(self, source: str) -> EventSigner:
        return EventSigner.of(source, self.keys[source])

    def public_keys(self) -> list[ProducerKey]:
        return [producer_key(source, key) for source, key in self.keys.items()]

    def verifier(self) -> EventVerifier:
        return EventVerifier(ProducerKeys(self.public_keys()))


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """Where a keyring lies: a PEM per source in `folder`, and the public key set."""

    folder: Path

    @property
    def key_set_file(self) -> Path:
        return self.folder / "event-keys.json"

    def key_file(self, source: str) -> Path:
        return self.folder / f"{source.rsplit('/', 1)[-1]}.pem"

    def settings_for(self, source: str, kid: str) -> dict[str, str]:
        """The environment of a service that signs as `source` with these files."""
        return {
            SIGNING_KEY_FILE_VARIABLE: str(self.key_file(source)),
            SIGNING_KEY_ID_VARIABLE: kid,
            KEYS_FILE_VARIABLE: str(self.key_set_file),
        }


def development_keyring(folder: Path, sources: Iterable[str]) -> EventKeyring:
    """The development stack's event keys under `folder` (0700): a private key per source
    (0600), created on first use and kept, and the public key set of all of them (0600)."""
    files = KeyFiles(private_folder(folder))
    keys: dict[str, SigningKey] = {}
    for source in sources:
        kid = f"{source.rsplit('/', 1)[-1]}-dev-1"
        pem = files.key_file(source)
        if pem.exists():
            keys[source] = SigningKey.from_pem(pem, kid)
        else:
            keys[source] = SigningKey(kid, Ed25519PrivateKey.generate())
            private_file(pem).write_bytes(keys[source].pem())
    keyring = EventKeyring(keys)
    private_file(files.key_set_file).write_text(
        json.dumps(key_set_document(keyring.public_keys()), indent=2)
    )
    return keyring


class EventAuthenticitySettings(BaseSettings):
    """Where a service's event keys lie: its own private key and id, and every producer's
    public keys (CONTINUUM_EVENT_SIGNING_KEY_FILE, CONTINUUM_EVENT_SIGNING_KEY_ID,
    CONTINUUM_EVENT_KEYS_FILE)."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_EVENT_", extra="ignore")

    signing_key_file: Path | None = None
    signing_key_id: str | None = None
    keys_file: Path | None = None

    def signer(self, source: str) -> EventSigner | None:
        """What signs the service's events as `source`; None without a key. A key without its
        id, or that cannot be read, raises AuthenticityMisconfigured."""
        if self.signing_key_file is None:
            if self.signing_key_id:
                raise AuthenticityMisconfigured(
                    f"{SIGNING_KEY_ID_VARIABLE} is set without {SIGNING_KEY_FILE_VARIABLE}"
                )
            return None
        if not self.signing_key_id:
            raise AuthenticityMisconfigured(
                f"{SIGNING_KEY_ID_VARIABLE} is not set: the id consumers know "
                f"{SIGNING_KEY_FILE_VARIABLE}'s public key by"
            )
        try:
            key = SigningKey.from_pem(self.signing_key_file, self.signing_key_id)
        except (OSError, ValueError, TypeError) as error:
            raise AuthenticityMisconfigured(
                f"{SIGNING_KEY_FILE_VARIABLE} {self.signing_key_file} cannot be used: "
                f"{type(error).__name__}"
            ) from None
        return EventSigner.of(source, key)

    def verifier(self) -> EventVerifier | None:
        """What checks consumed events; None without a key set. A file that cannot be used
        raises AuthenticityMisconfigured."""
        if self.keys_file is None:
            return None
        try:
            return EventVerifier(ProducerKeysFile(self.keys_file))
        except OSError as error:
            raise AuthenticityMisconfigured(
                f"{KEYS_FILE_VARIABLE} {self.keys_file} cannot be read: {error.strerror}"
            ) from None
