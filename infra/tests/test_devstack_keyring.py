"""`make run` gives every service the same development keyring: a KEK file made once under
`<data>/security`, readable by its owner only, and a keyring database beside the services'."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.devstack import Stack
from infra.security.crypto import LocalKeyEncryptionKey

pytestmark = pytest.mark.unit


def stack(data: Path) -> Stack:
    return Stack(
        data_dir=data,
        addresses={"supervision": "127.0.0.1:1", "compliance": "127.0.0.1:2"},
        echo=False,
    )


def test_every_service_is_given_the_one_development_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.delenv("CONTINUUM_KEYRING_KEK_FILE", raising=False)
    monkeypatch.delenv("CONTINUUM_KEYRING_URL", raising=False)
    data = tmp_path / ".data"
    # when
    supervision = stack(data).env_for("supervision")
    kek_file = data / "security" / "keyring.kek"
    made = kek_file.read_text()
    compliance = stack(data).env_for("compliance")
    # then
    assert kek_file.read_text() == made
    for env in (supervision, compliance):
        assert env["CONTINUUM_KEYRING_KEK_FILE"] == str(kek_file)
        assert env["CONTINUUM_KEYRING_URL"] == f"sqlite:///{data}/keyring.sqlite"
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(kek_file.parent.stat().st_mode) == 0o700
    assert LocalKeyEncryptionKey.from_file(kek_file).id.startswith("local:")


def test_a_configured_keyring_is_passed_on_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setenv("CONTINUUM_KEYRING_KEK_FILE", "/run/secrets/keyring.kek")
    monkeypatch.setenv("CONTINUUM_KEYRING_URL", "postgresql://keys.internal/keyring")
    # when
    env = stack(tmp_path / ".data").env_for("supervision")
    # then
    assert env["CONTINUUM_KEYRING_KEK_FILE"] == "/run/secrets/keyring.kek"
    assert env["CONTINUUM_KEYRING_URL"] == "postgresql://keys.internal/keyring"
    assert not (tmp_path / ".data" / "security" / "keyring.kek").exists()
