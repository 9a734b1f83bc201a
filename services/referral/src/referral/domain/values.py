"""The values referral records are made of."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
)

CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
# Urgency sets the service-level target the referral is held to.
Urgency = Literal["routine", "urgent"]

_SOURCE = re.compile(r"[A-Za-z0-9._:/-]{1,200}")


def _check_source(value: str) -> str:
    if not _SOURCE.fullmatch(value):
        raise ValueError("must be 1 to 200 characters of A-Z, a-z, 0-9, '.', '_', ':', '/' or '-'")
    return value


# The record a referral came from, as "<kind>/<id>", for example "coaching-concern/<id>".
Source = Annotated[str, AfterValidator(_check_source)]
