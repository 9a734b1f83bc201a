"""Where a keyring's keys come from: a KEK file made private and never replaced, read back as
the same key; settings that name what is missing; a keyring database with its own tables only."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from infra.security.crypto import (
    KeyFileInvalid,
    KeyringMisconfigured,
    KeyringSettings,
    LocalKeyEncryptionKey,
    UnwrapRefused,
    create_key_file,
    development_key_file,
    key_encryption_keys,
    open_keyring,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.unit
def test_a_kek_file_is_private_and_reads_back_as_the_same_key(tmp_path: Path) -> None:
    # given
    path = create_key_file(tmp_path / "kek")
    # when
    first, again = LocalKeyEncryptionKey.from_file(path), LocalKeyEncryptionKey.from_file(path)
    # then
    assert mode(path) == 0o600
    assert first.id == again.id
    assert first.id.startswith("local:")
    assert first.id != LocalKeyEncryptionKey.generate().id


@pytest.mark.unit
def test_a_kek_file_is_never_replaced(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "kek")
    kept = path.read_text()
    with pytest.raises(FileExistsError):
        create_key_file(path)
    assert path.read_text() == kept


@pytest.mark.unit
async def test_what_one_kek_wrapped_another_refuses(tmp_path: Path) -> None:
    # given
    one, other = LocalKeyEncryptionKey.generate(), LocalKeyEncryptionKey.generate()
    wrapped = await one.wrap(b"k" * 32, b"se-1/1")
    # when / then
    assert await one.unwrap(wrapped, b"se-1/1") == b"k" * 32
    with pytest.raises(UnwrapRefused, match=f"{other.id} refused"):
        await other.unwrap(wrapped, b"se-1/1")
    with pytest.raises(UnwrapRefused):
        await one.unwrap(wrapped, b"se-2/1")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "reason"),
    [("not base64 at all!", "base64url"), ("c2hvcnQ", "holds 5 bytes"), ("", "holds 0 bytes")],
)
def test_a_kek_file_that_holds_no_key_is_refused(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "kek"
    path.write_text(content)
    with pytest.raises(KeyFileInvalid, match=reason):
        LocalKeyEncryptionKey.from_file(path)


@pytest.mark.unit
def test_the_development_kek_is_made_once_in_a_private_folder(tmp_path: Path) -> None:
    # given
    folder = tmp_path / "security"
    # when
    first = development_key_file(folder)
    kept = first.read_text()
    again = development_key_file(folder)
    # then
    assert first == again == folder / "keyring.kek"
    assert again.read_text() == kept
    assert (mode(folder), mode(first)) == (0o700, 0o600)


@pytest.mark.unit
def test_the_settings_are_read_from_continuum_keyring_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    current, retired = create_key_file(tmp_path / "new"), create_key_file(tmp_path / "old")
    monkeypatch.setenv("CONTINUUM_KEYRING_URL", "postgresql://keyring.internal/keys")
    monkeypatch.setenv("CONTINUUM_KEYRING_KEK_FILE", str(current))
    monkeypatch.setenv("CONTINUUM_KEYRING_RETIRED_KEK_FILES", f'["{retired}"]')
    # when
    settings = KeyringSettings()
    kek, retired_keks = key_encryption_keys(settings)
    # then
    assert settings.database_url(tmp_path) == "postgresql://keyring.internal/keys"
    assert kek.id == LocalKeyEncryptionKey.from_file(current).id
    assert [k.id for k in retired_keks] == [LocalKeyEncryptionKey.from_file(retired).id]


@pytest.mark.unit
def test_without_a_url_the_keyring_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = KeyringSettings(url=None)
    assert settings.database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/keyring.sqlite"


@pytest.mark.unit
def test_a_keyring_without_a_kek_file_is_refused_naming_the_variable() -> None:
    with pytest.raises(KeyringMisconfigured, match="CONTINUUM_KEYRING_KEK_FILE is not set"):
        key_encryption_keys(KeyringSettings(kek_file=None))


@pytest.mark.unit
def test_a_kek_file_that_cannot_be_read_is_refused_naming_the_variable(tmp_path: Path) -> None:
    missing = KeyringSettings(kek_file=tmp_path / "absent")
    with pytest.raises(KeyringMisconfigured, match=r"CONTINUUM_KEYRING_KEK_FILE .*absent"):
        key_encryption_keys(missing)
    (tmp_path / "short").write_text("c2hvcnQ")
    retired = KeyringSettings(
        kek_file=create_key_file(tmp_path / "kek"), retired_kek_files=(tmp_path / "short",)
    )
    with pytest.raises(KeyringMisconfigured, match="CONTINUUM_KEYRING_RETIRED_KEK_FILES"):
        key_encryption_keys(retired)


@pytest.mark.integration
async def test_a_keyring_database_has_the_keyring_tables_only_and_overwrites_what_it_deletes(
    tmp_path: Path,
) -> None:
    # given
    settings = KeyringSettings(kek_file=create_key_file(tmp_path / "kek"))
    keys = await open_keyring(settings, data_dir=tmp_path)
    try:
        # when
        await keys.current("se-1")
        await keys.destroy("se-1", "retention_ended")
        async with keys.database.read() as conn:
            secure_delete = (await conn.exec_driver_sql("PRAGMA secure_delete")).scalar()
    finally:
        await keys.database.dispose()
    # then
    with sqlite3.connect(tmp_path / "keyring.sqlite") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"schema_migrations", "keyring_subjects", "subject_keys"}
    assert secure_delete == 1
    assert mode(tmp_path / "keyring.sqlite") == 0o600
