"""Where a process finds its keyring: the keyring database and the key-encryption keys
(CONTINUUM_KEYRING_*).

| variable | meaning |
| --- | --- |
| `CONTINUUM_KEYRING_URL` | the keyring database; `sqlite:///<data>/keyring.sqlite` by default |
| `CONTINUUM_KEYRING_KEK_FILE` | the current KEK: a file holding one 256-bit key in base64url |
| `CONTINUUM_KEYRING_RETIRED_KEK_FILES` | KEKs being rotated out, a JSON list of files: they
  still unwrap keys until `rewrap` moved them all to the current KEK |
| `CONTINUUM_KEYRING_CACHE_SECONDS` | how long a service keeps data keys (and the states it
  opened with them) in memory: an erasure made elsewhere shows there after at most this long |
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.security.crypto.cache import DEFAULT_TTL_SECONDS
from infra.security.crypto.kek import KeyFileInvalid, KeyringError, LocalKeyEncryptionKey
from infra.security.crypto.sql import SqlSubjectKeys, keyring_database

URL_VARIABLE = "CONTINUUM_KEYRING_URL"
KEK_FILE_VARIABLE = "CONTINUUM_KEYRING_KEK_FILE"
RETIRED_KEK_FILES_VARIABLE = "CONTINUUM_KEYRING_RETIRED_KEK_FILES"
KEYRING_DATABASE_FILE = "keyring.sqlite"


class KeyringMisconfigured(KeyringError):
    """The keyring settings cannot be used as they are; the message names the variable."""


class KeyringSettings(BaseSettings):
    """The keyring database and its key-encryption keys (CONTINUUM_KEYRING_*)."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_KEYRING_", extra="ignore")

    url: str | None = None
    kek_file: Path | None = None
    retired_kek_files: tuple[Path, ...] = ()
    cache_seconds: float = Field(default=DEFAULT_TTL_SECONDS, gt=0)

    def database_url(self, data_dir: Path) -> str:
        """The configured URL, or the SQLite file beside the services' under `data_dir`."""
        return self.url or f"sqlite:///{data_dir.resolve() / KEYRING_DATABASE_FILE}"


def key_encryption_keys(
    settings: KeyringSettings,
) -> tuple[LocalKeyEncryptionKey, tuple[LocalKeyEncryptionKey, ...]]:
    """The current KEK and the retired ones, read from their files; KeyringMisconfigured names
    the variable of a missing or unreadable one."""
    if settings.kek_file is None:
        raise KeyringMisconfigured(
            f"{KEK_FILE_VARIABLE} is not set: no key-encryption key can wrap subjects' keys"
        )
    current = _read(settings.kek_file, KEK_FILE_VARIABLE)
    retired = tuple(_read(p, RETIRED_KEK_FILES_VARIABLE) for p in settings.retired_kek_files)
    return current, retired


async def open_keyring(settings: KeyringSettings, *, data_dir: Path) -> SqlSubjectKeys:
    """The keyring the settings name, its database migrated; dispose `.database` when done."""
    kek, retired = key_encryption_keys(settings)
    db = keyring_database(settings.database_url(data_dir))
    await db.migrate()
    return SqlSubjectKeys(db, kek, retired=retired)


def _read(path: Path, variable: str) -> LocalKeyEncryptionKey:
    try:
        return LocalKeyEncryptionKey.from_file(path)
    except OSError as error:
        raise KeyringMisconfigured(f"{variable} {path}: {error.strerror}") from None
    except KeyFileInvalid as error:
        raise KeyringMisconfigured(f"{variable}: {error}") from None
