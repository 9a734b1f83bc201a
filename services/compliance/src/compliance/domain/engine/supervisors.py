"""What each supervisor held on any day: licenses with their status, designations in force.

A license's standing only changes on a few days (issued, each change's effective date, the day
after each expiry date it has had), so it is computed on those days once, through the registry's
own `license_as_of`, and looked up by bisection for every session after that.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict

from compliance.domain.record import Credentials
from compliance.domain.standing import DesignationFact, LicenseAsOf, LicenseFact, license_as_of

_DAY = dt.timedelta(days=1)


class LicenseTimeline:
    """One license's standing, day by day, from the days it can change."""

    __slots__ = ("_ordinals", "_standing", "fact")

    def __init__(self, fact: LicenseFact) -> None:
        self.fact = fact
        days = {fact.issued_on, fact.expires_on + _DAY}
        for change in fact.changes:
            days.add(change.effective_on)
            if change.expires_on is not None:
                days.add(change.expires_on + _DAY)
        ordered = sorted(days)
        self._ordinals = [day.toordinal() for day in ordered]
        self._standing = [license_as_of(fact, day) for day in ordered]

    @property
    def change_ordinals(self) -> list[int]:
        return self._ordinals

    def on(self, day: dt.date) -> LicenseAsOf | None:
        """The license as it stood on `day` (its `on` is the day its standing last changed);
        None before it was issued."""
        index = bisect_right(self._ordinals, day.toordinal()) - 1
        return self._standing[index] if index >= 0 else None


class SupervisorCredentials:
    """Every supervisor's licenses and designations, by holder."""

    __slots__ = ("_changes", "_designations", "_licenses")

    def __init__(self, credentials: Credentials) -> None:
        licenses: dict[str, dict[str, LicenseTimeline]] = defaultdict(dict)
        for fact in credentials.licenses:
            licenses[fact.holder_id].setdefault(fact.license_id, LicenseTimeline(fact))
        designations: dict[str, dict[str, DesignationFact]] = defaultdict(dict)
        for designation in credentials.designations:
            designations[designation.holder_id].setdefault(designation.designation_id, designation)
        self._licenses = {
            holder: sorted(held.values(), key=lambda t: t.fact.license_id)
            for holder, held in licenses.items()
        }
        self._designations = {
            holder: sorted(held.values(), key=lambda d: d.designation_id)
            for holder, held in designations.items()
        }
        self._changes: dict[str, list[int]] = {}

    def licenses(self, holder_id: str) -> list[LicenseTimeline]:
        return self._licenses.get(holder_id, [])

    def licenses_on(self, holder_id: str, day: dt.date) -> list[LicenseAsOf]:
        """Every license of the holder issued by `day`, with its status that day."""
        shown = (timeline.on(day) for timeline in self.licenses(holder_id))
        return [lic for lic in shown if lic is not None]

    def designations(self, holder_id: str) -> list[DesignationFact]:
        return self._designations.get(holder_id, [])

    def designations_on(self, holder_id: str, day: dt.date) -> list[DesignationFact]:
        return [d for d in self.designations(holder_id) if d.held_on(day)]

    def standing_period(self, holder_id: str, day: dt.date) -> int:
        """Which period of unchanged standing `day` falls in, for the holder: two days with the
        same number held the same licenses, with the same status, and the same designations."""
        changes = self._changes.get(holder_id)
        if changes is None:
            days: set[int] = set()
            for timeline in self.licenses(holder_id):
                days.update(timeline.change_ordinals)
            for designation in self.designations(holder_id):
                days.add(designation.granted_on.toordinal())
                if designation.expires_on is not None:
                    days.add((designation.expires_on + _DAY).toordinal())
            changes = self._changes[holder_id] = sorted(days)
        return bisect_right(changes, day.toordinal())
