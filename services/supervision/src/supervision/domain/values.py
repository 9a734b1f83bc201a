"""The values supervision records are made of."""

from __future__ import annotations

from typing import Literal

SessionFormat = Literal["individual", "group"]
SessionModality = Literal["in_person", "video"]
