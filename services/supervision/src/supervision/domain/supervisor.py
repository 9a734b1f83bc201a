"""The Supervisor aggregate: one stream per supervisor with their license history, as the
compliance service's credential registry reports it. The sessions logged under a supervisor are
not on this stream (it would grow with every session, and every session would contend for it):
the service keeps them in an index beside the events, written with each session.

Standing on a day: a supervisor is in lapse on a day when one of their licenses is suspended,
revoked or expired that day and none of their licenses is in good standing that day (a
supervisor whose old provisional license expired but who holds a valid full license is not in
lapse). A supervisor with no license on record has unknown standing, which is not a lapse: the
supervision service marks what it knows, and never refuses a session because of standing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from supervision.domain.events import SupervisedSessionNoted, SupervisorLicenseChanged
from supervision.domain.values import LicenseChangeKind, LicenseLapse

_DAY = dt.timedelta(days=1)


def stream_id(supervisor_id: str) -> str:
    return f"supervisor-{supervisor_id}"


class LicenseChange(BaseModel):
    """A fact from the credential registry about one license of a supervisor (the holder)."""

    model_config = ConfigDict(frozen=True)

    supervisor_id: str
    license_id: str
    change: LicenseChangeKind
    # The issue date, renewal date, first day of a suspension, reinstatement or revocation, or
    # first invalid day of an expiry.
    effective_on: dt.date
    # For a recorded or renewed license: its (new) expiry date.
    expires_on: dt.date | None = None


class Lapse(BaseModel):
    """Why a supervisor was not in good standing on a day."""

    model_config = ConfigDict(frozen=True)

    license_id: str
    lapse: LicenseLapse
    since: dt.date


class _Period(BaseModel):
    model_config = ConfigDict(frozen=True)

    lapse: LicenseLapse
    since: dt.date
    # The last day of the lapse; None while it lasts.
    until: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


class LicenseHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    license_id: str
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    changes: tuple[LicenseChange, ...] = ()
    lapses: tuple[_Period, ...] = ()

    def knows(self, change: LicenseChange) -> bool:
        return change in self.changes

    def lapse_on(self, day: dt.date) -> Lapse | None:
        """The earliest lapse of this license that covers `day`."""
        covering = [p for p in self.lapses if p.covers(day)]
        if not covering:
            return None
        first = min(covering, key=lambda p: p.since)
        return Lapse(license_id=self.license_id, lapse=first.lapse, since=first.since)

    def good_on(self, day: dt.date) -> bool:
        """Issued by `day`, not past its expiry date, and in no lapse that day."""
        return (
            self.issued_on is not None
            and self.issued_on <= day
            and (self.expires_on is None or day <= self.expires_on)
            and self.lapse_on(day) is None
        )

    def apply(self, change: LicenseChange) -> LicenseHistory:
        """This history after one more change, in the order the registry reported them."""
        update: dict[str, object] = {"changes": (*self.changes, change)}
        day = change.effective_on
        match change.change:
            case "recorded":
                update |= {"issued_on": day, "expires_on": change.expires_on}
            case "renewed":
                update |= {
                    "expires_on": change.expires_on or self.expires_on,
                    "lapses": _close(self.lapses, "expired", day),
                }
            case "reinstated":
                update["lapses"] = _close(self.lapses, "suspended", day)
            case "suspended" | "revoked" | "expired":
                update["lapses"] = (*self.lapses, _Period(lapse=change.change, since=day))
        return self.model_copy(update=update)


def _close(periods: tuple[_Period, ...], lapse: LicenseLapse, day: dt.date) -> tuple[_Period, ...]:
    """Ends the open periods of one kind the day before `day` (a revocation never ends)."""
    return tuple(
        p.model_copy(update={"until": day - _DAY}) if p.lapse == lapse and p.until is None else p
        for p in periods
    )


class SupervisorState(BaseModel):
    model_config = ConfigDict(frozen=True)

    supervisor_id: str | None = None
    licenses: Mapping[str, LicenseHistory] = {}

    def lapse_on(self, day: dt.date) -> Lapse | None:
        """Why the supervisor was not in good standing on `day`; None when they were, or when
        their standing is unknown."""
        histories = self.licenses.values()
        if any(history.good_on(day) for history in histories):
            return None
        lapses = [lapse for h in histories if (lapse := h.lapse_on(day)) is not None]
        return min(lapses, key=lambda lapse: (lapse.since, lapse.license_id), default=None)


INITIAL = SupervisorState()


def decide_license_change(state: SupervisorState, change: LicenseChange) -> list[DomainEvent]:
    """Records a registry fact once, however often it is delivered."""
    if state.supervisor_id is not None and state.supervisor_id != change.supervisor_id:
        raise ValueError(f"{change.supervisor_id}'s license decided on another's state")
    history = state.licenses.get(change.license_id)
    if history is not None and history.knows(change):
        return []
    return [
        SupervisorLicenseChanged(
            supervisor_id=change.supervisor_id,
            license_id=change.license_id,
            change=change.change,
            effective_on=change.effective_on,
            expires_on=change.expires_on,
        )
    ]


def newly_lapsed(
    before: SupervisorState, after: SupervisorState, sessions: Mapping[str, dt.date]
) -> list[str]:
    """Of `sessions` (the sessions under the supervisor, by id, with their dates), those on a
    day that is a lapse now and was not before, in date order: those a lapse learnt after they
    were logged must mark."""
    return [
        session_id
        for session_id, day in sorted(sessions.items(), key=lambda item: (item[1], item[0]))
        if after.lapse_on(day) is not None and before.lapse_on(day) is None
    ]


def evolve(state: SupervisorState, event: DomainEvent) -> SupervisorState:
    match event:
        case SupervisorLicenseChanged():
            change = LicenseChange(
                supervisor_id=event.supervisor_id,
                license_id=event.license_id,
                change=event.change,
                effective_on=event.effective_on,
                expires_on=event.expires_on,
            )
            history = state.licenses.get(event.license_id) or LicenseHistory(
                license_id=event.license_id
            )
            return state.model_copy(
                update={
                    "supervisor_id": event.supervisor_id,
                    "licenses": {**state.licenses, event.license_id: history.apply(change)},
                }
            )
        case SupervisedSessionNoted():
            # Recorded by earlier versions of the service; the sessions index holds them now.
            return (
                state
                if state.supervisor_id
                else state.model_copy(update={"supervisor_id": event.supervisor_id})
            )
        case _:
            raise TypeError(f"a supervisor stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: SupervisorState = INITIAL) -> SupervisorState:
    for event in events:
        state = evolve(state, event)
    return state
