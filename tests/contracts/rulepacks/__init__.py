"""Rule packs made for tests, and where they are."""

from __future__ import annotations

from pathlib import Path

# One track (TX-LPC-ASSOCIATE) whose rules change on 2026-03-01: the monthly minimum of
# supervision rises from 4 to 6 hours and a group's cap falls from 6 to 4 supervisees. Windows
# before the change are judged by the first version, after it by the second. Point
# CONTINUUM_RULE_PACKS_DIR at it to run a service with these rules.
PACK_CHANGE_DIR = Path(__file__).parent / "pack_change"
PACK_CHANGE_TRACK = "TX-LPC-ASSOCIATE"
