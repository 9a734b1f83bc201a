"""The values coaching records are made of."""

from __future__ import annotations

from typing import Literal

# How soon therapy must act on a concern; the referral carries it over.
ConcernUrgency = Literal["routine", "urgent"]
