"""Keys per subject and sealed values: free text encrypted under its subject's data key, so that
destroying the subject's keys erases it from every copy (crypto-shredding).

- `kek`: the key-encryption key that wraps every data key (a key file; a key service's key is
  one more class of the same protocol);
- `keys`: the `SubjectKeys` port, its errors and the keyring in memory;
- `sql`: the keyring in a database (SQLite, PostgreSQL), shareable by several services;
- `cache`: data keys kept in memory a short while in front of it;
- `sealing`: `seal` and `unseal`, and the envelope a sealed value is written in;
- `fields`: a sensitive field's value sealed and opened (`[erased]` once its subject is erased);
- `settings`: CONTINUUM_KEYRING_* and `open_keyring`.
"""

from infra.security.crypto.cache import CachedSubjectKeys
from infra.security.crypto.kek import (
    KeyEncryptionKey,
    KeyFileInvalid,
    KeyringError,
    LocalKeyEncryptionKey,
    UnwrapRefused,
    create_key_file,
    development_key_file,
)
from infra.security.crypto.keys import (
    DataKey,
    Erasure,
    ErasureReason,
    KeyEncryptionKeyUnavailable,
    MemoryKeyStore,
    MemorySubjectKeys,
    SubjectErased,
    SubjectKeys,
    UnknownDataKey,
    memory_keyring,
)
from infra.security.crypto.sealing import (
    Envelope,
    Erased,
    SealedValueRefused,
    is_sealed,
    seal,
    unseal,
)
from infra.security.crypto.settings import (
    KeyringMisconfigured,
    KeyringSettings,
    key_encryption_keys,
    open_keyring,
)
from infra.security.crypto.sql import KEYRING_MIGRATIONS, SqlSubjectKeys, keyring_database

__all__ = [
    "KEYRING_MIGRATIONS",
    "CachedSubjectKeys",
    "DataKey",
    "Envelope",
    "Erased",
    "Erasure",
    "ErasureReason",
    "KeyEncryptionKey",
    "KeyEncryptionKeyUnavailable",
    "KeyFileInvalid",
    "KeyringError",
    "KeyringMisconfigured",
    "KeyringSettings",
    "LocalKeyEncryptionKey",
    "MemoryKeyStore",
    "MemorySubjectKeys",
    "SealedValueRefused",
    "SqlSubjectKeys",
    "SubjectErased",
    "SubjectKeys",
    "UnknownDataKey",
    "UnwrapRefused",
    "create_key_file",
    "development_key_file",
    "is_sealed",
    "key_encryption_keys",
    "keyring_database",
    "memory_keyring",
    "open_keyring",
    "seal",
    "unseal",
]
