"""The keyring's operator commands, against the keyring the settings name (CONTINUUM_KEYRING_*,
and CONTINUUM_DATA_DIR for the SQLite keyring's default place):

    python -m infra.security.crypto erase --subject ID --reason consent_revoked|retention_ended

destroys the subject's keys and leaves a tombstone: whatever was sealed for them, in every
service's store, every topic's copy and every read model, reads `[erased]` from then on (in a
running service once its cached keys expire, CONTINUUM_KEYRING_CACHE_SECONDS), and nothing more
can be sealed for them. Counts, hours and the audit trail (who did what, when) stay.

    python -m infra.security.crypto rewrap

moves every key to the current KEK (after a rotation: see README "Keys per subject").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import get_args

from infra.security.crypto.kek import KeyringError
from infra.security.crypto.keys import ErasureReason, check_subject
from infra.security.crypto.settings import KeyringSettings, open_keyring

DATA_DIR_VARIABLE = "CONTINUUM_DATA_DIR"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.security.crypto", description="the keyring's operator commands"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    erase = commands.add_parser("erase", help="destroy a subject's keys: their sealed values")
    erase.add_argument("--subject", required=True, help="the client's or supervisee's id")
    erase.add_argument("--reason", required=True, choices=get_args(ErasureReason))
    commands.add_parser("rewrap", help="move every key to the current key-encryption key")
    return parser


async def _run(arguments: argparse.Namespace) -> str:
    data_dir = Path(os.environ.get(DATA_DIR_VARIABLE, ".data"))
    keyring = await open_keyring(KeyringSettings(), data_dir=data_dir)
    try:
        if arguments.command == "erase":
            erasure = await keyring.destroy(arguments.subject, arguments.reason)
            return (
                f"the keys of subject {erasure.subject} are destroyed ({erasure.reason}, "
                f"{erasure.at.isoformat()}): their sealed values read [erased]"
            )
        moved = await keyring.rewrap()
        return f"{moved} keys rewrapped by the current key-encryption key"
    finally:
        await keyring.database.dispose()


def main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    if arguments.command == "erase":
        try:
            check_subject(arguments.subject)
        except ValueError as error:
            raise SystemExit(f"--subject: {error}") from None
    try:
        print(asyncio.run(_run(arguments)))
    except KeyringError as error:
        print(f"refused: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
