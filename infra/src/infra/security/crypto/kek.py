"""The key-encryption key (KEK): what wraps every subject's data key before it is stored.

A data key is never stored in clear: the keyring keeps it wrapped by a KEK, with the KEK's id
beside it, so that a KEK can be rotated (`SubjectKeys.rewrap`). The KEK itself lives outside the
keyring database: in a key file here (`LocalKeyEncryptionKey`), or in a key service in
production. A Vault transit key or a cloud KMS key is one more class with the same three
members: `wrap` and `unwrap` are its encrypt and decrypt calls, and `context` is what those
services call associated data or encryption context (Vault transit `associated_data`, AWS KMS
`EncryptionContext`, Google Cloud KMS `additional_authenticated_data`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.db import PRIVATE_FILE_MODE, private_folder

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the 96-bit nonce AES-GCM is specified for
DEVELOPMENT_KEK_FILE = "keyring.kek"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class KeyringError(Exception):
    """The keyring cannot do what was asked; the message says why, never with key material."""


class UnwrapRefused(KeyringError):
    """A KEK refused a wrapped data key: it was wrapped by another key, or it was altered."""


class KeyFileInvalid(KeyringError):
    """A KEK file that does not hold one 256-bit key (base64url, one line)."""


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; a key file here, a key service's key in production."""

    @property
    def id(self) -> str:
        """Names this KEK beside every key it wrapped, so that rotation knows what to move."""
        ...

    async def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """`data_key` encrypted and authenticated together with `context`."""
        ...

    async def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key `wrap` was given with this same context; UnwrapRefused otherwise."""
        ...


class LocalKeyEncryptionKey:
    """A KEK held by this process: AES-256-GCM, a fresh nonce for every wrap. Its id is derived
    from the key (a hash says nothing about it), so a file can never be labelled wrongly."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFileInvalid(f"a key-encryption key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        digest = hashlib.sha256(b"continuum key-encryption key id\x00" + key).hexdigest()
        self._id = f"local:{digest[:16]}"

    @classmethod
    def generate(cls) -> LocalKeyEncryptionKey:
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_file(cls, path: Path) -> LocalKeyEncryptionKey:
        """The KEK in `path`: one line, the 32-byte key in base64url."""
        try:
            key = decode_base64url(path.read_text().strip())
        except ValueError:
            raise KeyFileInvalid(f"{path} does not hold a base64url key") from None
        if len(key) != KEY_BYTES:
            raise KeyFileInvalid(f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte key")
        return cls(key)

    @property
    def id(self) -> str:
        return self._id

    async def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    async def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise UnwrapRefused(
                f"the key-encryption key {self._id} refused a wrapped data key: "
                "it was wrapped by another key or altered"
            ) from None


def encode_base64url(data: bytes) -> str:
    """`data` in base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_base64url(text: str) -> bytes:
    """base64url without padding, in its one canonical spelling only (ValueError otherwise):
    the standard decoder skips stray characters and ignores trailing bits, so an altered text
    could decode as if it were not."""
    if text and not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None
    if encode_base64url(data) != text:
        raise ValueError("not base64url")
    return data


def create_key_file(path: Path) -> Path:
    """Writes a new random KEK to `path`, readable by its owner only from its first instant;
    refuses to replace a file that exists (FileExistsError): that would lose every key."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w") as out:
        out.write(encode_base64url(os.urandom(KEY_BYTES)) + "\n")
    return path


def development_key_file(folder: Path) -> Path:
    """The development KEK file under `folder` (`make run`'s `.data/security`), created on first
    use beside the development token key."""
    private_folder(folder)
    path = folder / DEVELOPMENT_KEK_FILE
    with contextlib.suppress(FileExistsError):  # made already, or by a process beside this one
        create_key_file(path)
    return path
