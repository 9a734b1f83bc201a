"""`make demo`: a staff app's day against a running `make run`, then the compliance view.

Two sites (Austin, Texas and Sacramento, California), supervisors and supervisees on real
credential tracks, agreements, individual and group sessions, and a coaching concern that
becomes a referral back to therapy. Every id is fixed, so playing the demo again records
nothing twice: the services treat each repeated command as the retry it is.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc

from continuum.coaching.v1 import coaching_service_pb2 as coaching
from continuum.coaching.v1 import coaching_service_pb2_grpc as coaching_grpc
from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from continuum.supervision.v1 import supervision_service_pb2 as supervision
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc

AUSTIN, SACRAMENTO = "site-austin", "site-sacramento"
INDIVIDUAL = supervision.SESSION_FORMAT_INDIVIDUAL
GROUP = supervision.SESSION_FORMAT_GROUP
IN_PERSON = supervision.SESSION_MODALITY_IN_PERSON
VIDEO = supervision.SESSION_MODALITY_VIDEO


@dataclass(frozen=True)
class Addresses:
    supervision: str = "127.0.0.1:50051"
    coaching: str = "127.0.0.1:50052"
    referral: str = "127.0.0.1:50053"
    compliance: str = "127.0.0.1:50054"

    @classmethod
    def from_env(cls) -> Addresses:
        defaults = cls()
        return cls(
            **{
                name: os.environ.get(f"{name.upper()}_GRPC_ADDRESS", getattr(defaults, name))
                for name in ("supervision", "coaching", "referral", "compliance")
            }
        )


class StaffApp:
    """The calls a staff app makes, over real gRPC channels."""

    def __init__(self, addresses: Addresses, actor: str = "demo-coordinator") -> None:
        self._channels = [
            grpc.insecure_channel(a)
            for a in (addresses.supervision, addresses.coaching, addresses.compliance)
        ]
        self.supervision = supervision_grpc.SupervisionServiceStub(self._channels[0])
        self.coaching = coaching_grpc.CoachingServiceStub(self._channels[1])
        self.compliance = compliance_grpc.ComplianceServiceStub(self._channels[2])
        self.metadata = (("x-actor", actor),)

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def sign(
        self,
        agreement_id: str,
        supervisor: str,
        supervisee: str,
        site: str,
        track: str,
        start: str = "2026-01-01",
        end: str = "2027-12-31",
    ) -> bool:
        reply = self.supervision.SignAgreement(
            supervision.SignAgreementRequest(
                agreement_id=agreement_id,
                supervisor_id=supervisor,
                supervisee_id=supervisee,
                site_id=site,
                credential_track=track,
                start_date=start,
                end_date=end,
            ),
            metadata=self.metadata,
            timeout=10,
        )
        return not reply.already_recorded

    def log(
        self,
        session_id: str,
        supervisor: str,
        supervisees: list[str],
        site: str,
        date: dt.date,
        minutes: int,
        fmt: int = INDIVIDUAL,
        modality: int = IN_PERSON,
    ) -> bool:
        reply = self.supervision.LogSession(
            supervision.LogSessionRequest(
                session_id=session_id,
                format=fmt,
                modality=modality,
                date=date.isoformat(),
                minutes=minutes,
                supervisor_id=supervisor,
                supervisee_ids=supervisees,
                site_id=site,
            ),
            metadata=self.metadata,
            timeout=10,
        )
        return not reply.already_recorded

    def open_engagement(
        self, engagement_id: str, client: str, coach: str, site: str, opened_on: str
    ) -> bool:
        reply = self.coaching.OpenEngagement(
            coaching.OpenEngagementRequest(
                engagement_id=engagement_id,
                client_id=client,
                coach_id=coach,
                site_id=site,
                opened_on=opened_on,
            ),
            metadata=self.metadata,
            timeout=10,
        )
        return not reply.already_recorded

    def raise_concern(
        self,
        engagement_id: str,
        concern_id: str,
        raised_on: str,
        urgency: int = coaching.CONCERN_URGENCY_URGENT,
    ) -> bool:
        reply = self.coaching.RaiseConcern(
            coaching.RaiseConcernRequest(
                engagement_id=engagement_id,
                concern_id=concern_id,
                urgency=urgency,
                raised_on=raised_on,
            ),
            metadata=self.metadata,
            timeout=10,
        )
        return not reply.already_recorded

    def hours(self, supervisee: str, as_of: str = "") -> compliance.GetSuperviseeHoursResponse:
        return self.compliance.GetSuperviseeHours(  # type: ignore[no-any-return]
            compliance.GetSuperviseeHoursRequest(supervisee_id=supervisee, as_of=as_of),
            metadata=self.metadata,
            timeout=10,
        )

    def open_referrals(self, site: str, as_of: str = "") -> compliance.ListOpenReferralsResponse:
        return self.compliance.ListOpenReferrals(  # type: ignore[no-any-return]
            compliance.ListOpenReferralsRequest(site_id=site, as_of=as_of),
            metadata=self.metadata,
            timeout=10,
        )


@contextmanager
def staff_app(addresses: Addresses) -> Iterator[StaffApp]:
    app = StaffApp(addresses)
    try:
        yield app
    finally:
        app.close()


def weekdays(start: dt.date, weeks: int, weekday: int) -> list[dt.date]:
    first = start + dt.timedelta(days=(weekday - start.weekday()) % 7)
    return [first + dt.timedelta(weeks=w) for w in range(weeks)]


def play(app: StaffApp) -> int:
    """Records the scenario; returns how many commands recorded something new."""
    new = 0
    tx, ca_mft, ca_sw = "TX-LPC-ASSOCIATE", "CA-AMFT", "CA-ASW"
    # Austin: two LPC-S supervisors; Garcia has both (Texas allows two at once).
    new += app.sign("agr-garcia-alvarez", "sup-alvarez", "see-garcia", AUSTIN, tx)
    new += app.sign("agr-garcia-chen", "sup-chen", "see-garcia", AUSTIN, tx, start="2026-06-01")
    new += app.sign("agr-patel-alvarez", "sup-alvarez", "see-patel", AUSTIN, tx)
    new += app.sign("agr-nguyen-alvarez", "sup-alvarez", "see-nguyen", AUSTIN, tx)
    # Sacramento: one supervisor over an AMFT and an ASW.
    new += app.sign("agr-rivera-okafor", "sup-okafor", "see-rivera", SACRAMENTO, ca_mft)
    new += app.sign("agr-brooks-okafor", "sup-okafor", "see-brooks", SACRAMENTO, ca_sw)

    for week, day in enumerate(weekdays(dt.date(2026, 9, 7), 8, weekday=1)):
        new += app.log(f"ses-garcia-w{week}", "sup-alvarez", ["see-garcia"], AUSTIN, day, 60)
        new += app.log(f"ses-patel-w{week}", "sup-alvarez", ["see-patel"], AUSTIN, day, 60)
        new += app.log(
            f"ses-rivera-w{week}", "sup-okafor", ["see-rivera"], SACRAMENTO, day, 60, modality=VIDEO
        )
        new += app.log(
            f"ses-ca-triad-w{week}",
            "sup-okafor",
            ["see-rivera", "see-brooks"],
            SACRAMENTO,
            day + dt.timedelta(days=2),
            60,
        )
    for month, day in enumerate(weekdays(dt.date(2026, 9, 1), 12, weekday=3)[::4]):
        new += app.log(
            f"ses-austin-group-m{month}",
            "sup-alvarez",
            ["see-garcia", "see-patel", "see-nguyen"],
            AUSTIN,
            day,
            120,
            fmt=GROUP,
        )
    new += app.log(
        "ses-garcia-chen-1",
        "sup-chen",
        ["see-garcia"],
        AUSTIN,
        dt.date(2026, 10, 20),
        45,
        modality=VIDEO,
    )

    # Coaching: a client's coach sees symptoms return; the client goes back to therapy.
    new += app.open_engagement("eng-7f3a", "client-7f3a", "coach-lee", AUSTIN, "2026-08-03")
    new += app.raise_concern("eng-7f3a", "concern-7f3a-1", "2026-11-02")
    return new


# Sessions each supervisee has in the scenario: what the compliance view must come to show.
EXPECTED_SESSIONS = {
    "see-garcia": 12,
    "see-patel": 11,
    "see-nguyen": 3,
    "see-rivera": 16,
    "see-brooks": 8,
}


def wait_until_projected(app: StaffApp, timeout: float = 60) -> None:
    """Events reach the compliance view asynchronously; waits until the whole scenario has."""
    deadline = time.monotonic() + timeout
    while True:
        counts = {s: len(app.hours(s).sessions) for s in EXPECTED_SESSIONS}
        if counts == EXPECTED_SESSIONS and app.open_referrals(AUSTIN).referrals:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the compliance view shows {counts} and no referral yet")
        time.sleep(0.3)


def report(app: StaffApp) -> str:
    lines = []
    for supervisee in ("see-garcia", "see-patel", "see-nguyen", "see-rivera", "see-brooks"):
        view = app.hours(supervisee)
        parts = ", ".join(
            f"{b.format}/{b.modality} {b.minutes / 60:g} h" for b in view.by_format_and_modality
        )
        lines.append(
            f"  {supervisee:<11} {view.total_minutes / 60:>5g} h supervision "
            f"in {len(view.sessions)} sessions ({parts})"
        )
    for site in (AUSTIN, SACRAMENTO):
        referrals = app.open_referrals(site).referrals
        lines.append(f"  {site}: {len(referrals)} open referral(s)")
        for r in referrals:
            lines.append(
                f"    {r.referral_id[:8]}… client {r.client_id} to {r.to_service}, "
                f"{r.urgency}, raised {r.raised_on} (events {', '.join(r.source_event_ids)})"
            )
    return "\n".join(lines)


def main() -> None:
    addresses = Addresses.from_env()
    with staff_app(addresses) as app:
        try:
            new = play(app)
        except grpc.RpcError as error:
            sys.exit(f"demo: {error.code().name}: {error.details()} (is `make run` running?)")
        print(f"recorded {new} new commands (0 means the scenario was already recorded)")
        wait_until_projected(app)
        print("compliance view, as of today:")
        print(report(app))


if __name__ == "__main__":
    main()
