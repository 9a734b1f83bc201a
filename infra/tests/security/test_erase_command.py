"""The operator's erasure: `python -m infra.security.crypto erase` destroys a subject's keys in
the keyring the settings name, and what was sealed for them reads `[erased]` from then on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from infra.security.crypto import KeyringSettings, create_key_file, open_keyring
from infra.security.crypto.__main__ import main
from infra.security.crypto.fields import open_field, seal_field

pytestmark = pytest.mark.integration


@pytest.fixture
def keyring_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> KeyringSettings:
    kek = create_key_file(tmp_path / "keyring.kek")
    url = f"sqlite:///{tmp_path / 'keyring.sqlite'}"
    monkeypatch.setenv("CONTINUUM_KEYRING_KEK_FILE", str(kek))
    monkeypatch.setenv("CONTINUUM_KEYRING_URL", url)
    return KeyringSettings(kek_file=kek, url=url)


async def _sealed(settings: KeyringSettings, tmp_path: Path, subject: str, text: str) -> str:
    keyring = await open_keyring(settings, data_dir=tmp_path)
    try:
        return await seal_field(keyring, subject, text)
    finally:
        await keyring.database.dispose()


async def _opened(settings: KeyringSettings, tmp_path: Path, sealed: str) -> str:
    keyring = await open_keyring(settings, data_dir=tmp_path)
    try:
        return await open_field(keyring, sealed)
    finally:
        await keyring.database.dispose()


async def test_erasing_a_subject_makes_their_sealed_values_read_erased(
    keyring_env: KeyringSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    theirs = await _sealed(keyring_env, tmp_path, "see-1", "told me about her divorce")
    others = await _sealed(keyring_env, tmp_path, "see-2", "late again")
    # when
    await _run(["erase", "--subject", "see-1", "--reason", "consent_revoked"])
    # then
    assert "the keys of subject see-1 are destroyed (consent_revoked" in capsys.readouterr().out
    assert await _opened(keyring_env, tmp_path, theirs) == "[erased]"
    assert await _opened(keyring_env, tmp_path, others) == "late again"


async def _run(argv: list[str]) -> None:
    """The command, from the test's event loop: in a thread, as it runs its own."""
    await asyncio.to_thread(main, argv)


def test_an_unknown_reason_or_a_malformed_subject_is_refused(
    keyring_env: KeyringSettings,
) -> None:
    with pytest.raises(SystemExit):
        main(["erase", "--subject", "see-1", "--reason", "because"])
    with pytest.raises(SystemExit, match="--subject: a subject must be"):
        main(["erase", "--subject", "not an id", "--reason", "retention_ended"])
