"""`make demo`: four months of a staff app's work at two sites, over gRPC, against `make run`.

Austin (Texas, TX-LPC-ASSOCIATE, plus one Florida registered intern whose board approves each
agreement) and Sacramento (California, CA-AMFT and CA-ASW), January to April 2026:

- credentials: the supervisors' licenses and LPC-S designations; one license suspended and
  reinstated, one expired and renewed, one revoked; one expiring soon (relative to today);
- supervision: registrations, a transfer between the sites, agreements signed, approved,
  amended and terminated; individual, triadic, group and administrative sessions in person, by
  video and by phone (which California counts and Florida does not), with techniques, focus and
  wellbeing checks; an amendment and a void;
  weekly practice hours per site; months signed off, one reopened and signed again; competency
  evaluations (one with a remediation plan) and their acknowledgements; consultations, which
  never count;
- coaching: engagements with SMART goals, sessions, homework and progress notes; a concern that
  sends the client back to therapy, and therapy's answer that resumes coaching; a closure;
- referrals: every step of the loop, a substance-use record with its consents, a referral to
  coaching that opens an engagement on its own, and an urgent referral the service's clock finds
  unanswered.

Once the compliance view shows all of it, a compliance officer records Patel's approved leave in
May, waives a Florida finding, and documents that the four months were kept on paper logs at the
time (OversightService). Then it prints what the compliance service
shows: per site, each supervisee's record; then the rules applied as of today: the organization
(GetOrganizationOverview), each site's supervisees with status and counts (ListSiteSupervisees)
and its verdicts by rule (ListVerdicts), one supervisee's whole standing (GetSuperviseeStanding:
status and its reasons, progress, every verdict with its rule, sources, window, reason and
evidence, every window's tally), and the leave's effect. The four months are entered in one
sitting long after they happened, so every session is also a finding of a record not made
within 7 days (the organization's policy), each resolved as a documented exception: the paper
logs kept at the time.

Every id is fixed: playing the demo again records nothing new (each repeated command is the
retry it is) and prints the same report.
Licenses and designations that are "expiring soon" are dated from today the first time and kept
as the registry holds them afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import grpc
from google.protobuf import text_format

from coaching.domain.policy import engagement_id_for_referral
from continuum.coaching.v1 import coaching_service_pb2 as coaching
from continuum.coaching.v1 import coaching_service_pb2_grpc as coaching_grpc
from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from continuum.compliance.v1 import credential_service_pb2 as credential
from continuum.compliance.v1 import credential_service_pb2_grpc as credential_grpc
from continuum.compliance.v1 import oversight_service_pb2 as oversight
from continuum.compliance.v1 import oversight_service_pb2_grpc as oversight_grpc
from continuum.referral.v1 import referral_service_pb2 as referral
from continuum.referral.v1 import referral_service_pb2_grpc as referral_grpc
from continuum.supervision.v1 import competency_service_pb2 as competency
from continuum.supervision.v1 import competency_service_pb2_grpc as competency_grpc
from continuum.supervision.v1 import consultation_service_pb2 as consultation
from continuum.supervision.v1 import consultation_service_pb2_grpc as consultation_grpc
from continuum.supervision.v1 import supervision_service_pb2 as supervision
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc
from infra.grpc.client import bearer_metadata, open_channel
from infra.security.policy import Role, rule_for
from infra.security.tokens import development_key

T = TypeVar("T")

AUSTIN, SACRAMENTO = "site-austin", "site-sacramento"
SITES = {AUSTIN: "Austin, Texas", SACRAMENTO: "Sacramento, California"}
TX, CA_MFT, CA_SW, FL = "TX-LPC-ASSOCIATE", "CA-AMFT", "CA-ASW", "FL-RMHCI"

INDIVIDUAL = supervision.SESSION_FORMAT_INDIVIDUAL
TRIADIC = supervision.SESSION_FORMAT_TRIADIC
GROUP = supervision.SESSION_FORMAT_GROUP
IN_PERSON = supervision.SESSION_MODALITY_IN_PERSON
VIDEO = supervision.SESSION_MODALITY_VIDEO
PHONE = supervision.SESSION_MODALITY_PHONE
CLINICAL = supervision.SESSION_KIND_CLINICAL
ADMINISTRATIVE = supervision.SESSION_KIND_ADMINISTRATIVE
WEEKLY = supervision.AGREEMENT_PERIOD_WEEK
MONTHLY = supervision.AGREEMENT_PERIOD_MONTH

MON, TUE, WED, THU, FRI = range(5)
# The services' calendar day (UTC).
TODAY = dt.datetime.now(dt.UTC).date()
# Licenses and designations the report shows as expiring: this many days after the first run.
# The license falls within the organization's warning period (30 days), the designation not.
LICENSE_EXPIRING_IN_DAYS, DESIGNATION_EXPIRING_IN_DAYS = 25, 75
EXPIRING_WITHIN_DAYS = 90


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- the staff app: one channel per service, every RPC called with its request's fields ---------


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


# Every API the staff app calls: its generated messages and its service's name.
APIS: tuple[tuple[ModuleType, str], ...] = (
    (supervision, "SupervisionService"),
    (competency, "CompetencyService"),
    (consultation, "ConsultationService"),
    (coaching, "CoachingService"),
    (referral, "ReferralService"),
    (credential, "CredentialService"),
    (compliance, "ComplianceService"),
    (oversight, "OversightService"),
)


# Each RPC by its request's type (every RPC has a request type of its own).
RPC_OF_REQUEST: dict[str, str] = {
    method.input_type.full_name: f"/{service.full_name}/{method.name}"
    for messages, name in APIS
    for service in (messages.DESCRIPTOR.services_by_name[name],)
    for method in service.methods
}


@dataclass(frozen=True)
class Member:
    """A member of the staff as their token names them: what they do, and where."""

    roles: tuple[Role, ...]
    sites: tuple[str, ...]


Roster = Mapping[str, Member]


def command_rpcs() -> list[str]:
    """Every command of every API: the RPCs whose response says whether it was already recorded."""
    return [
        f"{name}.{method.name}"
        for messages, name in APIS
        for method in messages.DESCRIPTOR.services_by_name[name].methods
        if "already_recorded" in method.output_type.fields_by_name
    ]


@dataclass
class Tally:
    """What the staff app's commands did: recorded something new, or found it already recorded."""

    recorded: int = 0
    already: int = 0
    called: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def count(self, rpc: str, already_recorded: bool) -> None:
        self.called.add(rpc)
        if already_recorded:
            self.already += 1
        else:
            self.recorded += 1

    def failed(self, what: str) -> None:
        self.failures.append(what)
        print(f"  !! {what}", flush=True)


class Rpcs:
    """One API's RPCs, each called with its request's fields as keywords:
    `app.calls.supervision.LogSession(session_id="ses-1", ...)`. `as_actor` names who does it."""

    def __init__(self, app: StaffApp, stub: Any, messages: ModuleType, name: str) -> None:
        self._app, self._stub, self._messages, self._name = app, stub, messages, name

    def __getattr__(self, rpc: str) -> Callable[..., Any]:
        method = getattr(self._stub, rpc)
        request_type = getattr(self._messages, f"{rpc}Request")

        def call(as_actor: str | None = None, **fields: Any) -> Any:
            return self._app.send(f"{self._name}.{rpc}", method, request_type(**fields), as_actor)

        return call


class Calls:
    def __init__(self, app: StaffApp) -> None:
        self.supervision = Rpcs(app, app.supervision, supervision, "SupervisionService")
        self.competency = Rpcs(app, app.competency, competency, "CompetencyService")
        self.consultation = Rpcs(app, app.consultation, consultation, "ConsultationService")
        self.coaching = Rpcs(app, app.coaching, coaching, "CoachingService")
        self.referral = Rpcs(app, app.referral, referral, "ReferralService")
        self.credentials = Rpcs(app, app.credentials, credential, "CredentialService")
        self.compliance = Rpcs(app, app.compliance, compliance, "ComplianceService")
        self.oversight = Rpcs(app, app.oversight, oversight, "OversightService")


class StaffApp:
    """The calls a staff app makes, over real gRPC channels.

    The stubs (`app.supervision`, ...) take request messages; `app.calls.<api>.<Rpc>(**fields)`
    builds the request, sends it as `actor` and tallies what each command did. A failed call
    raises, unless `keep_going` is set: then it is reported, tallied, and answers None.
    """

    def __init__(
        self,
        addresses: Addresses,
        actor: str = "demo-coordinator",
        *,
        tokens: Callable[[str], str],
        roster: Roster | None = None,
    ) -> None:
        # Each staff member calls with a token of their own (`tokens(actor)`), so the actor
        # every event records is the one the token names. With a roster, a call that names no
        # one goes as the member the access policy lets make it (see `caller`).
        self._tokens = tokens
        self._roster = roster
        self._bearers: dict[str, tuple[tuple[str, str], ...]] = {}
        # A call that names no one else goes as `actor`, by the channel's token.
        self._channels = {
            name: open_channel(getattr(addresses, name), token=tokens(actor))
            for name in ("supervision", "coaching", "referral", "compliance")
        }
        self.supervision = supervision_grpc.SupervisionServiceStub(self._channels["supervision"])
        self.competency = competency_grpc.CompetencyServiceStub(self._channels["supervision"])
        self.consultation = consultation_grpc.ConsultationServiceStub(self._channels["supervision"])
        self.coaching = coaching_grpc.CoachingServiceStub(self._channels["coaching"])
        self.referral = referral_grpc.ReferralServiceStub(self._channels["referral"])
        self.compliance = compliance_grpc.ComplianceServiceStub(self._channels["compliance"])
        self.credentials = credential_grpc.CredentialServiceStub(self._channels["compliance"])
        self.oversight = oversight_grpc.OversightServiceStub(self._channels["compliance"])
        self.actor = actor
        self.metadata = self.acting_as(actor)
        self.tally = Tally()
        self.keep_going = False
        self.calls = Calls(self)
        # Who works each record the policy lets only its party change (an engagement's coach).
        self._workers: dict[str, str] = {}

    def works(self, record_id: str, member: str) -> None:
        """`member` makes the changes to `record_id` (the coach of an engagement)."""
        self._workers[record_id] = member

    def acting_as(self, actor: str) -> tuple[tuple[str, str], ...]:
        """The metadata of a call made as `actor`: their bearer token."""
        bearer = self._bearers.get(actor)
        if bearer is None:
            bearer = self._bearers[actor] = bearer_metadata(self._tokens(actor))
        return bearer

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()

    def caller(self, request: Any) -> str:
        """Who on the roster makes this call: for a change, the member the request names who
        may make it (the supervisor logging their session, the supervisee recording their
        hours); else, and for a read, the staff's coordinator or its compliance officer, as
        the policy admits (the default actor without a roster)."""
        if self._roster is None:
            return self.actor
        rule = rule_for(RPC_OF_REQUEST[request.DESCRIPTOR.full_name])
        allowed = rule.roles - {Role.ADMINISTRATOR}
        named = [
            value
            for field_, value in request.ListFields()
            if isinstance(value, str) and field_.name.endswith("_id")
        ]
        if rule.record is not None:
            worker = self._workers.get(getattr(request, rule.record.field, ""))
            named = [worker, *named] if worker is not None else named
        candidates = [*named, self.actor, OFFICER] if rule.write else [self.actor, OFFICER]
        for person in candidates:
            member = self._roster.get(person)
            if member is not None and allowed & set(member.roles):
                return person
        return self.actor

    def send(self, rpc: str, method: Any, request: Any, actor: str | None = None) -> Any:
        try:
            caller = actor or self.caller(request)
            reply = method(request, metadata=self.acting_as(caller), timeout=10)
        except grpc.RpcError as error:
            if not self.keep_going or error.code() == grpc.StatusCode.UNAVAILABLE:
                raise
            shown = text_format.MessageToString(request, as_one_line=True)
            self.tally.failed(f"{rpc}({shown[:150]}): {error.code().name}: {error.details()}")
            return None
        if "already_recorded" in reply.DESCRIPTOR.fields_by_name:
            self.tally.count(rpc, reply.already_recorded)
        return reply

    def ask(self, method: Callable[..., T], request: Any) -> T:
        """A stub's call, made by whoever on the staff makes it (see `caller`)."""
        return method(request, metadata=self.acting_as(self.caller(request)), timeout=10)

    def lookup(self, method: Callable[..., T], request: Any) -> T | None:
        """A read that may find nothing yet: None on NOT_FOUND (for polling)."""
        try:
            return self.ask(method, request)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    # The few calls the end-to-end tests make through the staff app.

    def register(
        self,
        supervisee: str,
        track: str,
        license_number: str,
        site: str,
        registered_on: str = "2026-01-01",
    ) -> bool:
        reply = self.calls.supervision.RegisterSupervisee(
            supervisee_id=supervisee,
            credential_track=track,
            license_number=license_number,
            home_site_id=site,
            registered_on=registered_on,
        )
        return not reply.already_recorded

    def sign(
        self,
        agreement_id: str,
        supervisor: str,
        supervisee: str,
        site: str,
        track: str,
        start: str = "2026-01-01",
        end: str = "2027-12-31",
        modalities: Iterable[int] = (IN_PERSON, VIDEO),
        sessions_per_period: int = 1,
        period: int = WEEKLY,
    ) -> bool:
        reply = self.calls.supervision.SignAgreement(
            agreement_id=agreement_id,
            supervisor_id=supervisor,
            supervisee_id=supervisee,
            site_id=site,
            credential_track=track,
            start_date=start,
            end_date=end,
            modalities=list(modalities),
            sessions_per_period=sessions_per_period,
            period=period,
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
        kind: int = CLINICAL,
    ) -> bool:
        reply = self.calls.supervision.LogSession(
            session_id=session_id,
            kind=kind,
            format=fmt,
            modality=modality,
            date=date.isoformat(),
            minutes=minutes,
            supervisor_id=supervisor,
            supervisee_ids=supervisees,
            site_id=site,
        )
        return not reply.already_recorded

    def open_engagement(
        self, engagement_id: str, client: str, coach: str, site: str, opened_on: str
    ) -> bool:
        self.works(engagement_id, coach)
        reply = self.calls.coaching.OpenEngagement(
            engagement_id=engagement_id,
            client_id=client,
            coach_id=coach,
            site_id=site,
            opened_on=opened_on,
        )
        return not reply.already_recorded

    def raise_concern(
        self,
        engagement_id: str,
        concern_id: str,
        raised_on: str,
        urgency: int = coaching.CONCERN_URGENCY_URGENT,
    ) -> bool:
        reply = self.calls.coaching.RaiseConcern(
            engagement_id=engagement_id, concern_id=concern_id, urgency=urgency, raised_on=raised_on
        )
        return not reply.already_recorded

    def hours(self, supervisee: str, as_of: str = "") -> compliance.GetSuperviseeHoursResponse:
        return self.calls.compliance.GetSuperviseeHours(  # type: ignore[no-any-return]
            supervisee_id=supervisee, as_of=as_of
        )

    def open_referrals(self, site: str, as_of: str = "") -> compliance.ListOpenReferralsResponse:
        return self.calls.compliance.ListOpenReferrals(  # type: ignore[no-any-return]
            site_id=site, as_of=as_of
        )


def development_tokens(roster: Roster) -> Callable[[str], str]:
    """Each member's token, with their roles and sites, signed by the development key `make
    run` keeps in its data folder."""
    key = development_key(Path(os.environ.get("CONTINUUM_DATA_DIR", ".data")) / "security")

    def token(actor: str) -> str:
        member = roster.get(actor)
        if member is None:
            raise LookupError(f"{actor} is not on the demo's staff roster (see `staff()`)")
        return key.mint(actor, member.roles, member.sites)

    return token


@contextmanager
def staff_app(addresses: Addresses) -> Iterator[StaffApp]:
    roster = staff()
    app = StaffApp(addresses, tokens=development_tokens(roster), roster=roster)
    try:
        yield app
    finally:
        app.close()


def eventually(
    app: StaffApp, what: str, probe: Callable[[], T], done: Callable[[T], bool], timeout: float
) -> T:
    """Polls an asynchronous outcome (an event crossing services, the service's clock); reports
    it as a failure when it does not come in time, and goes on with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            app.tally.failed(f"waited {timeout:.0f} s for {what}; it did not happen")
            return value
        time.sleep(0.1)


# --- the people and their credentials -------------------------------------------------------


@dataclass(frozen=True)
class Supervisee:
    supervisee_id: str
    track: str
    license_number: str
    site: str
    registered_on: str


SUPERVISEES = (
    Supervisee("see-garcia", TX, "LPC-A-80412", AUSTIN, "2026-01-05"),
    Supervisee("see-patel", TX, "LPC-A-80977", AUSTIN, "2026-01-05"),
    Supervisee("see-nguyen", TX, "LPC-A-81235", AUSTIN, "2026-01-12"),
    # A Florida registered intern seeing Florida clients by telehealth from the Austin office.
    Supervisee("see-dubois", FL, "IMH-21877", AUSTIN, "2026-01-12"),
    Supervisee("see-rivera", CA_MFT, "AMFT-131072", SACRAMENTO, "2026-01-05"),
    Supervisee("see-brooks", CA_SW, "ASW-98304", SACRAMENTO, "2026-01-05"),
    Supervisee("see-kim", CA_MFT, "AMFT-140212", SACRAMENTO, "2026-01-05"),
)
TRACK_OF = {s.supervisee_id: s.track for s in SUPERVISEES}
SOON = "soon"  # an expiry date counted from the day the demo first runs


@dataclass(frozen=True)
class License:
    license_id: str
    holder: str
    kind: str
    number: str
    state: str
    issued_on: str
    expires_on: str


@dataclass(frozen=True)
class Designation:
    designation_id: str
    holder: str
    designation: str
    state: str
    granted_on: str
    training_hours: int
    training_completed_on: str
    expires_on: str = ""


LICENSES = (
    License("lic-alvarez-tx-lpc", "sup-alvarez", "LPC", "LPC-71234", "TX", "2014-06-01", SOON),
    License("lic-chen-tx-lpc", "sup-chen", "LPC", "LPC-80455", "TX", "2016-09-01", "2027-08-31"),
    License(
        "lic-baptiste-fl", "sup-baptiste", "LMHC", "MH-14402", "FL", "2017-03-01", "2027-03-31"
    ),
    License("lic-okafor-ca", "sup-okafor", "LMFT", "LMFT-120455", "CA", "2015-02-01", "2027-09-30"),
    License("lic-walsh-ca", "sup-walsh", "LCSW", "LCSW-88102", "CA", "2018-04-01", "2026-03-31"),
)
DESIGNATIONS = (
    Designation("des-alvarez", "sup-alvarez", "LPC-S", "TX", "2019-03-01", 40, "2019-01-18", SOON),
    Designation("des-chen", "sup-chen", "LPC-S", "TX", "2021-05-10", 40, "2021-04-02"),
    Designation(
        "des-baptiste", "sup-baptiste", "QUALIFIED-SUPERVISOR", "FL", "2020-09-14", 12, "2020-08-21"
    ),
)


@dataclass(frozen=True)
class Agreement:
    agreement_id: str
    supervisor: str
    supervisee: str
    site: str
    modalities: tuple[int, ...] = (IN_PERSON, VIDEO)
    start: str = "2026-01-05"
    sessions_per_period: int = 1
    period: int = WEEKLY
    end: str = "2027-12-31"


AGREEMENTS = (
    Agreement("agr-garcia-alvarez", "sup-alvarez", "see-garcia", AUSTIN),
    # Texas allows two supervisors at once.
    Agreement(
        "agr-garcia-chen", "sup-chen", "see-garcia", AUSTIN, (VIDEO,), "2026-02-02", 2, MONTHLY
    ),
    Agreement("agr-patel-alvarez", "sup-alvarez", "see-patel", AUSTIN, (IN_PERSON,)),
    Agreement(
        "agr-nguyen-alvarez", "sup-alvarez", "see-nguyen", AUSTIN, (IN_PERSON,), "2026-01-12"
    ),
    # Baptiste supervises by video, and by phone when travelling.
    Agreement(
        "agr-dubois-baptiste", "sup-baptiste", "see-dubois", AUSTIN, (VIDEO, PHONE), "2026-01-12"
    ),
    Agreement("agr-rivera-okafor", "sup-okafor", "see-rivera", SACRAMENTO),
    Agreement("agr-brooks-walsh", "sup-walsh", "see-brooks", SACRAMENTO, (IN_PERSON,)),
    # Okafor leads the Sacramento group, which Brooks joins once a month.
    Agreement(
        "agr-brooks-okafor", "sup-okafor", "see-brooks", SACRAMENTO, (IN_PERSON,), period=MONTHLY
    ),
    Agreement("agr-kim-okafor", "sup-okafor", "see-kim", SACRAMENTO, (IN_PERSON, VIDEO, PHONE)),
)
# After her transfer, Nguyen keeps her Texas supervisor, by video, at her new site.
NGUYEN_IN_SACRAMENTO = Agreement(
    "agr-nguyen-alvarez-sac", "sup-alvarez", "see-nguyen", SACRAMENTO, (VIDEO,), "2026-03-02"
)

# --- the supervision calendar -----------------------------------------------------------------

TECHNIQUES = tuple(
    tuple(supervision.SupervisionTechnique.Value(f"SUPERVISION_TECHNIQUE_{name}") for name in pair)
    for pair in (
        ("CASE_REVIEW", "CORRECTIVE_FEEDBACK"),
        ("DISCUSSION_OF_INTERVENTIONS", "ROLE_PLAY"),
        ("RECORDING_REVIEW", "CORRECTIVE_FEEDBACK"),
        ("DIRECT_OBSERVATION", "CASE_REVIEW"),
    )
)
INTERVENTION = supervision.SUPERVISION_FOCUS_INTERVENTION
CONCEPTUALIZATION = supervision.SUPERVISION_FOCUS_CONCEPTUALIZATION
PERSONALIZATION = supervision.SUPERVISION_FOCUS_PERSONALIZATION
FOCUS = (
    (INTERVENTION,),
    (CONCEPTUALIZATION, INTERVENTION),
    (PERSONALIZATION,),
    (CONCEPTUALIZATION,),
)


@dataclass(frozen=True)
class Session:
    """A supervision session as the staff app logs it."""

    session_id: str
    supervisor: str
    supervisees: tuple[str, ...]
    site: str
    date: dt.date
    minutes: int
    format: int = INDIVIDUAL
    modality: int = IN_PERSON
    kind: int = CLINICAL
    start_time: str = ""
    techniques: tuple[int, ...] = TECHNIQUES[0]
    focus: tuple[int, ...] = FOCUS[1]
    # (supervisee, burnout, vicarious trauma), each 1 (none) to 5 (severe)
    wellbeing: tuple[tuple[str, int, int], ...] = ()

    @property
    def month(self) -> str:
        return self.date.isoformat()[:7]

    def figures(self) -> dict[str, Any]:
        """The session as it stands: what AmendSession restates."""
        return {
            "session_id": self.session_id,
            "kind": self.kind,
            "format": self.format,
            "modality": self.modality,
            "date": self.date.isoformat(),
            "start_time": self.start_time,
            "minutes": self.minutes,
            "techniques": list(self.techniques),
            "focus": list(self.focus),
        }

    def logged(self) -> dict[str, Any]:
        """What LogSession records."""
        return {
            **self.figures(),
            "supervisor_id": self.supervisor,
            "supervisee_ids": list(self.supervisees),
            "site_id": self.site,
            "wellbeing": [
                supervision.WellbeingCheck(supervisee_id=s, burnout=b, vicarious_trauma=v)
                for s, b, v in self.wellbeing
            ],
        }


def weekdays(weekday: int, first: str, last: str, every: int = 1) -> list[dt.date]:
    start = day(first)
    current = start + dt.timedelta(days=(weekday - start.weekday()) % 7)
    dates = []
    while current <= day(last):
        dates.append(current)
        current += dt.timedelta(weeks=every)
    return dates


def last_weekday(month: str, weekday: int) -> dt.date:
    last = (day(f"{month}-01") + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@dataclass(frozen=True)
class Regular:
    """A supervisee's regular individual supervision with one supervisor at one site, in 2026."""

    supervisee: str
    supervisor: str
    site: str
    weekday: int
    start_time: str
    first: str  # MM-DD
    last: str
    # Week by week, in turn.
    modalities: tuple[int, ...] = (IN_PERSON,)
    minutes: int = 60
    every_weeks: int = 1

    @property
    def prefix(self) -> str:
        """ses-garcia: with her main supervisor; ses-garcia-chen: with another."""
        other = "" if MAIN_SUPERVISOR[self.supervisee] == self.supervisor else self.supervisor[3:]
        return f"ses-{self.supervisee[4:]}{other}"

    def dates(self) -> list[dt.date]:
        return weekdays(self.weekday, f"2026-{self.first}", f"2026-{self.last}", self.every_weeks)


VIDEO_EVERY_THIRD = (IN_PERSON, IN_PERSON, VIDEO)
# Who supervises whom, mainly: they sign the supervisee's months.
MAIN_SUPERVISOR = {
    "see-garcia": "sup-alvarez",
    "see-patel": "sup-alvarez",
    "see-nguyen": "sup-alvarez",
    "see-dubois": "sup-baptiste",
    "see-rivera": "sup-okafor",
    "see-brooks": "sup-walsh",
    "see-kim": "sup-okafor",
}
REGULAR = (
    Regular("see-garcia", "sup-alvarez", AUSTIN, TUE, "09:00", "01-06", "04-28", VIDEO_EVERY_THIRD),
    Regular("see-garcia", "sup-chen", AUSTIN, FRI, "16:00", "02-06", "04-17", (VIDEO,), 45, 2),
    Regular("see-patel", "sup-alvarez", AUSTIN, WED, "13:00", "01-07", "04-29"),
    Regular("see-nguyen", "sup-alvarez", AUSTIN, THU, "10:00", "01-15", "02-26"),
    Regular("see-nguyen", "sup-alvarez", SACRAMENTO, THU, "08:00", "03-05", "04-30", (VIDEO,)),
    Regular("see-dubois", "sup-baptiste", AUSTIN, THU, "15:00", "01-15", "04-30", (VIDEO,)),
    Regular(
        "see-rivera", "sup-okafor", SACRAMENTO, TUE, "09:30", "01-06", "04-28", (IN_PERSON, VIDEO)
    ),
    Regular("see-brooks", "sup-walsh", SACRAMENTO, WED, "11:00", "01-07", "04-29"),
    Regular("see-kim", "sup-okafor", SACRAMENTO, THU, "14:00", "01-08", "04-30"),
)
# Sessions held otherwise than the pattern says. California counts supervision by phone; Florida's
# board does not (a void).
BY_PHONE = {"ses-kim-2026-02-12", "ses-dubois-2026-03-26"}
BY_VIDEO = {"ses-patel-2026-03-11", "ses-patel-2026-04-08"}  # once the agreement allows it
# Okafor held no supervision once the board's suspension of her license was known (03-18).
NOT_HELD = {"ses-rivera-2026-03-24", "ses-kim-2026-03-19"}
GROUP_TECHNIQUES = (
    supervision.SUPERVISION_TECHNIQUE_CASE_REVIEW,
    supervision.SUPERVISION_TECHNIQUE_ROLE_PLAY,
)


def calendar() -> list[Session]:
    """Every supervision session of the four months, by date."""
    sessions: list[Session] = []
    for n, plan in enumerate(REGULAR):
        checked: set[int] = set()
        for week, date in enumerate(plan.dates()):
            session_id = f"{plan.prefix}-{date}"
            if session_id in NOT_HELD:
                continue
            modality = plan.modalities[week % len(plan.modalities)]
            modality = PHONE if session_id in BY_PHONE else modality
            modality = VIDEO if session_id in BY_VIDEO else modality
            wellbeing: tuple[tuple[str, int, int], ...] = ()
            if date.month not in checked:  # a wellbeing check at the month's first session
                checked.add(date.month)
                wellbeing = ((plan.supervisee, 1 + (n + date.month) % 3, 1 + n * date.month % 3),)
            sessions.append(
                Session(
                    session_id,
                    plan.supervisor,
                    (plan.supervisee,),
                    plan.site,
                    date,
                    plan.minutes,
                    modality=modality,
                    start_time=plan.start_time,
                    techniques=TECHNIQUES[week % 4],
                    focus=FOCUS[(week + n) % 4],
                    wellbeing=wellbeing,
                )
            )
    austin = ("see-garcia", "see-patel", "see-nguyen")
    for month in ("2026-01", "2026-02", "2026-03", "2026-04"):
        friday, thursday = last_weekday(month, FRI), last_weekday(month, THU)
        if month < "2026-03":
            group = Session(
                f"ses-austin-group-{friday}", "sup-alvarez", austin, AUSTIN, friday, 120, GROUP
            )
        else:  # Nguyen has moved to Sacramento: the two who remain meet as a triad
            group = Session(
                f"ses-austin-triad-{friday}", "sup-alvarez", austin[:2], AUSTIN, friday, 90, TRIADIC
            )
        sessions.append(replace(group, start_time="14:00", techniques=GROUP_TECHNIQUES))
        sessions.append(
            Session(
                f"ses-sac-group-{thursday}",
                "sup-okafor",
                ("see-rivera", "see-brooks", "see-kim"),
                SACRAMENTO,
                thursday,
                120,
                GROUP,
                start_time="16:00",
                techniques=GROUP_TECHNIQUES,
                focus=(INTERVENTION, PERSONALIZATION),
                wellbeing=(("see-brooks", 2, 3),) if month == "2026-03" else (),
            )
        )
        # Caseload and scheduling: administrative supervision, which never counts.
        monday = weekdays(MON, f"{month}-01", f"{month}-07")[0]
        sessions.append(
            Session(
                f"ses-patel-admin-{monday}",
                "sup-alvarez",
                ("see-patel",),
                AUSTIN,
                monday,
                30,
                kind=ADMINISTRATIVE,
                start_time="08:30",
                techniques=(),
                focus=(),
            )
        )
    return sorted(sessions, key=lambda s: (s.date, s.session_id))


SESSIONS = calendar()
SESSION = {s.session_id: s for s in SESSIONS}
# Entered twice by mistake, then voided.
DUPLICATE = replace(SESSION["ses-garcia-2026-04-14"], session_id="ses-garcia-2026-04-14-dup")
# Logged with the booked 60 minutes; it ended after 50 (corrected in a reopened month).
SHORTENED = "ses-rivera-2026-02-17"
# Rivera's February: signed, reopened to correct that session, signed again.
REOPENED = ("see-rivera", "2026-02", "2026-03-09", "2026-03-10")
# Held while the supervisor's license was not in good standing: recorded, and marked.
LAPSES = {
    "ses-rivera-2026-03-17": "sup-okafor's license suspended 2026-03-16 to 03-24",
    "ses-brooks-2026-04-01": "sup-walsh's license expired 2026-04-01, renewed 04-14",
    "ses-brooks-2026-04-08": "sup-walsh's license expired 2026-04-01, renewed 04-14",
    "ses-garcia-chen-2026-04-17": "sup-chen's license revoked 2026-04-16",
}


def practice_weeks() -> list[tuple[str, str, dt.date, int, int]]:
    """(supervisee, site, Monday, direct minutes, indirect minutes) of every week worked."""
    weeks = []
    mondays = weekdays(MON, "2026-01-05", "2026-04-27")
    for n, person in enumerate(SUPERVISEES):
        for w, monday in enumerate(d for d in mondays if d >= day(person.registered_on)):
            direct, indirect = 1080 + 60 * ((w + n) % 5), 300 + 30 * (w * n % 4)
            site = person.site
            if person.supervisee_id == "see-nguyen":
                if monday == day("2026-02-23"):  # her last days in Austin, first in Sacramento
                    weeks.append((person.supervisee_id, AUSTIN, monday, 600, 180))
                    direct, indirect = 240, 60
                site = AUSTIN if monday < day("2026-02-23") else SACRAMENTO
            weeks.append((person.supervisee_id, site, monday, direct, indirect))
    return weeks


# Each month is signed off by the main supervisor early in the next month.
SIGNED_ON = {"2026-01": "2026-02-02", "2026-02": "2026-03-02", "2026-03": "2026-04-01"}
# April is signed in Austin so far, on May 4th.
APRIL = ("2026-05-04", ("see-garcia", "see-patel", "see-dubois"))


def signers(month: str) -> tuple[str, dict[str, str]]:
    """The day a month is signed off, and who signs it for whom."""
    if month == "2026-04":
        signed_on, supervisees = APRIL
        return signed_on, {who: MAIN_SUPERVISOR[who] for who in supervisees}
    by = dict(MAIN_SUPERVISOR)
    if month == "2026-03":
        by["see-brooks"] = "sup-okafor"  # Walsh's license had lapsed: her other supervisor signs
    return SIGNED_ON[month], by


# --- what the compliance view must come to show ------------------------------------------------


@dataclass
class Expected:
    """What the scenario recorded, as the compliance view must come to show it."""

    # supervisee -> session id -> corrections (amendments and voids)
    sessions: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # supervisee -> month -> status
    months: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    # supervisee -> evaluation id -> acknowledged
    evaluations: dict[str, dict[str, bool]] = field(default_factory=lambda: defaultdict(dict))
    # supervisee -> number of (site, week) records
    weeks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    transfers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # supervisee -> agreement id -> (amendments, terminated, approved)
    agreements: dict[str, dict[str, tuple[int, bool, bool]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # site -> referral id -> status, of the referrals still open
    open_referrals: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    # site -> referral id -> number of breaches
    breaches: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # license and designation ids
    expiring: set[str] = field(default_factory=set)

    def differences(self, app: StaffApp) -> list[str]:
        """What the compliance view does not show (yet)."""
        view = app.compliance
        missing = []
        for who in TRACK_OF:
            try:
                record = app.ask(
                    view.GetSuperviseeRecord,
                    compliance.GetSuperviseeRecordRequest(supervisee_id=who),
                )
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                missing.append(f"{who}: not heard of yet")
                continue
            shown = {
                "sessions": {s.session_id: len(s.corrections) for s in record.sessions},
                "lapse marks": {s.session_id for s in record.sessions if s.lapse_marks},
                "months": {m.month: m.status for m in record.months},
                "evaluations": {e.evaluation_id: e.acknowledged for e in record.evaluations},
                "practice weeks": len(record.practice_weeks),
                "transfers": len(record.registration.transfers),
                "agreements": {
                    a.agreement_id: (
                        len(a.amendments),
                        a.status == "terminated",
                        a.approved_on != "",
                    )
                    for a in record.agreements
                },
            }
            expected = {
                "sessions": self.sessions[who],
                "lapse marks": {s for s in LAPSES if s in self.sessions[who]},
                "months": self.months[who],
                "evaluations": self.evaluations[who],
                "practice weeks": self.weeks[who],
                "transfers": self.transfers[who],
                "agreements": self.agreements[who],
            }
            missing += [f"{who}: {k} {shown[k]} " for k in expected if shown[k] != expected[k]]
        for site in SITES:
            opened = app.ask(
                view.ListOpenReferrals, compliance.ListOpenReferralsRequest(site_id=site)
            )
            shown_open = {r.referral_id: r.status for r in opened.referrals}
            if shown_open != self.open_referrals[site]:
                missing.append(f"{site}: open referrals {shown_open}")
            late = app.ask(
                view.ListServiceLevelBreaches,
                compliance.ListServiceLevelBreachesRequest(site_id=site),
            )
            shown_late = {r.referral_id: len(r.breaches) for r in late.referrals}
            if shown_late != self.breaches[site]:
                missing.append(f"{site}: service-level breaches {shown_late}")
        soon = app.ask(
            view.ListLicensesExpiring,
            compliance.ListLicensesExpiringRequest(within_days=EXPIRING_WITHIN_DAYS),
        )
        ids = {x.license_id for x in soon.licenses} | {x.designation_id for x in soon.designations}
        if ids != self.expiring:
            missing.append(f"licenses and designations expiring: {sorted(ids)}")
        for x in soon.licenses:  # the registry's clock reminds the holder of what expires soon
            if not reminders(app, x.holder_id, x.license_id):
                missing.append(f"an expiry reminder for {x.license_id}")
        return missing


def reminders(app: StaffApp, holder_id: str, license_id: str) -> list[str]:
    """The expiry reminders the registry's clock recorded for a license."""
    asked = credential.GetCredentialsRequest(holder_id=holder_id)
    held = app.ask(app.credentials.GetCredentials, asked)
    return [
        f"{r.days_before}-day reminder due {r.due_on}"
        for lic in held.licenses
        if lic.license_id == license_id
        for r in lic.reminders
    ]


# --- what a compliance officer decides once the months are on the record ------------------------

OFFICER = "officer-hale"
COORDINATOR = "demo-coordinator"


def staff() -> dict[str, Member]:
    """The demo's staff, each with the roles and sites their token carries: the referral
    coordinator and the compliance officer of both sites; each supervisor and supervisee at
    the sites of their agreements (and a supervisee's home); the coaches at theirs; and the
    intake of the therapy, psychiatry and substance-use teams, who take referrals in and
    close them."""
    both = tuple(SITES)
    sites: dict[str, set[str]] = defaultdict(set)
    for agreement in (*AGREEMENTS, NGUYEN_IN_SACRAMENTO):
        sites[agreement.supervisor].add(agreement.site)
        sites[agreement.supervisee].add(agreement.site)
    for person in SUPERVISEES:
        sites[person.supervisee_id].add(person.site)
    supervisees = {person.supervisee_id for person in SUPERVISEES}
    roster = {
        COORDINATOR: Member((Role.REFERRAL_COORDINATOR,), both),
        OFFICER: Member((Role.COMPLIANCE_OFFICER,), both),
        "coach-lee": Member((Role.COACH,), (AUSTIN,)),
        "coach-silva": Member((Role.COACH,), (SACRAMENTO,)),
        **{
            intake: Member((Role.REFERRAL_COORDINATOR,), both)
            for intake in ("th-nakamura", "psy-moreno", "con-ibarra")
        },
    }
    for person, held in sites.items():
        role = Role.SUPERVISEE if person in supervisees else Role.SUPERVISOR
        roster[person] = Member((role,), tuple(sorted(held)))
    for lic in LICENSES:
        roster.setdefault(lic.holder, Member((Role.SUPERVISOR,), both))
    return roster


# Patel's extended leave in May, approved in writing by her supervisor: Texas's monthly minimum
# is suspended for a month of leave (TX1).
LEAVE = {
    "command_id": "leave-patel-2026-05",
    "supervisee_id": "see-patel",
    "start": "2026-05-01",
    "end": "2026-05-31",
    "approved_by": "sup-alvarez",
    "reason": "Extended leave for the whole of May, approved in writing by sup-alvarez on 04-24",
}
# Dubois's first meeting with Baptiste was by video, where Florida asks it in person (FL2); the
# board accepted it in writing when it approved the agreement. The officer waives that finding.
WAIVED = ("see-dubois", "fl-rmhci.in-person-share")
RESOLUTION = {
    "command_id": "resolve-dubois-first-meeting",
    "kind": "waiver",
    "reason": "The board accepted the first meeting by video in writing when it approved the "
    "agreement (FL-BOARD-2026-00417)",
    "on": "2026-05-04",
}
# The four months were kept on signed paper logs at the time and entered long after: the officer
# documents that exception on each session's finding of a record not made within 7 days.
BACK_ENTERED = "org.contemporaneous-record"
BACK_ENTRY = {
    "kind": "documented_exception",
    "reason": "Kept at the time on the site's signed paper supervision logs (binders 2026-01 to "
    "2026-04), entered into Continuum when the site went live",
    "on": "2026-05-04",
}
# The supervisee whose standing the report shows in full.
IN_FULL = "see-dubois"


# --- the story ---------------------------------------------------------------------------------


class Story:
    """The four months, chapter by chapter, as the staff app records them."""

    def __init__(self, app: StaffApp) -> None:
        self.app = app
        self.calls = app.calls
        self.expect = Expected()
        self._chapter: tuple[int, int] | None = None

    def chapter(self, title: str) -> None:
        self.end_chapter()
        print(title, flush=True)
        self._chapter = (self.app.tally.recorded, self.app.tally.already)

    def end_chapter(self) -> None:
        if self._chapter is not None:
            recorded, already = self._chapter
            tally = self.app.tally
            print(
                f"    {tally.recorded - recorded} recorded, "
                f"{tally.already - already} already recorded",
                flush=True,
            )
        self._chapter = None

    def say(self, line: str) -> None:
        print(f"    {line}", flush=True)

    def play(self) -> None:
        self.credentials()
        self.registrations_and_agreements()
        for month in ("2026-01", "2026-02", "2026-03", "2026-04"):
            self.supervision_month(month)
        self.evaluations_and_consultations()
        self.coaching_and_a_concern()
        self.referrals()
        self.end_chapter()

    # Credentials -------------------------------------------------------------------------------

    def credentials(self) -> None:
        self.chapter("Credentials: licenses and supervisor designations (CredentialService)")
        registry = self.calls.credentials
        for lic in LICENSES:
            expires_on = lic.expires_on
            if expires_on == SOON:
                expires_on = self._expiring(lic.holder, lic.license_id, LICENSE_EXPIRING_IN_DAYS)
            registry.RecordLicense(
                license_id=lic.license_id,
                holder_id=lic.holder,
                kind=lic.kind,
                number=lic.number,
                state=lic.state,
                issued_on=lic.issued_on,
                expires_on=expires_on,
            )
        for des in DESIGNATIONS:
            expires_on = des.expires_on
            if expires_on == SOON:
                expires_on = self._expiring(
                    des.holder, des.designation_id, DESIGNATION_EXPIRING_IN_DAYS
                )
            registry.RecordSupervisorDesignation(
                designation_id=des.designation_id,
                holder_id=des.holder,
                designation=des.designation,
                state=des.state,
                granted_on=des.granted_on,
                expires_on=expires_on,
                training_hours=des.training_hours,
                training_completed_on=des.training_completed_on,
            )
        self.expect.expiring |= {"lic-alvarez-tx-lpc", "des-alvarez"}
        okafor = "lic-okafor-ca"
        registry.SuspendLicense(
            license_id=okafor,
            effective_on="2026-03-16",
            reason="Board order pending a continuing-education audit",
        )
        registry.ReinstateLicense(license_id=okafor, effective_on="2026-03-25")
        # The board's notice: Walsh's license lapsed at the end of March (the registry's clock
        # records the same expiry on its own, and may have done so first).
        walsh = "lic-walsh-ca"
        registry.ExpireLicense(license_id=walsh, expired_on="2026-04-01")
        registry.RenewLicense(license_id=walsh, renewed_on="2026-04-14", expires_on="2028-03-31")
        registry.RevokeLicense(
            license_id="lic-chen-tx-lpc",
            effective_on="2026-04-16",
            reason="Board disciplinary order 2026-0411",
        )
        for holder in ("sup-okafor", "sup-walsh", "sup-chen"):
            held = registry.GetCredentials(holder_id=holder)
            for lic in held.licenses if held is not None else ():
                steps = ", ".join(f"{c.action} {c.effective_on}" for c in lic.changes)
                status = credential.CredentialLicenseStatus.Name(lic.status).rsplit("_", 1)[-1]
                self.say(f"{lic.license_id}: {steps}; {status.lower()}, valid to {lic.expires_on}")

    def _expiring(self, holder: str, credential_id: str, days: int) -> str:
        """Dated from today the first time; afterwards, as the registry holds it."""
        held = self.calls.credentials.GetCredentials(holder_id=holder)
        if held is not None:
            for lic in held.licenses:
                if lic.license_id == credential_id:
                    return str(lic.expires_on)
            for des in held.designations:
                if des.designation_id == credential_id:
                    return str(des.expires_on)
        return (TODAY + dt.timedelta(days=days)).isoformat()

    # Supervision -------------------------------------------------------------------------------

    def registrations_and_agreements(self) -> None:
        self.chapter("Supervisees registered, agreements signed (SupervisionService)")
        for p in SUPERVISEES:
            self.app.register(p.supervisee_id, p.track, p.license_number, p.site, p.registered_on)
        for agreement in AGREEMENTS:
            self.sign(agreement)
        # Florida's board approves the agreement: sessions before that day do not count.
        self.calls.supervision.ApproveAgreement(
            supervisee_id="see-dubois",
            agreement_id="agr-dubois-baptiste",
            approved_on="2026-02-06",
            approval_reference="FL-BOARD-2026-00417",
        )
        self.expect.agreements["see-dubois"]["agr-dubois-baptiste"] = (0, False, True)

    def sign(self, a: Agreement) -> None:
        reply = self.calls.supervision.SignAgreement(
            agreement_id=a.agreement_id,
            supervisor_id=a.supervisor,
            supervisee_id=a.supervisee,
            site_id=a.site,
            credential_track=TRACK_OF[a.supervisee],
            start_date=a.start,
            end_date=a.end,
            modalities=list(a.modalities),
            sessions_per_period=a.sessions_per_period,
            period=a.period,
        )
        self.expect.agreements[a.supervisee][a.agreement_id] = (0, False, False)
        if reply is not None and reply.board_approval_required:
            self.say(f"{a.agreement_id} ({TRACK_OF[a.supervisee]}): the board must approve it")

    def supervision_month(self, month: str) -> None:
        self.chapter(f"{month}: supervision sessions and practice hours")
        desk = self.calls.supervision
        if month == "2026-02":
            self.say("agr-patel-alvarez amended: video in the weeks at the satellite clinic")
            desk.AmendAgreement(
                supervisee_id="see-patel",
                agreement_id="agr-patel-alvarez",
                end_date="2027-12-31",
                modalities=[IN_PERSON, VIDEO],
                sessions_per_period=1,
                period=WEEKLY,
                as_actor="sup-alvarez",
                reason="Video supervision in the weeks Patel works at the satellite clinic",
            )
            self.expect.agreements["see-patel"]["agr-patel-alvarez"] = (1, False, False)
        if month == "2026-03":
            self.say("see-nguyen transfers to Sacramento on 03-02; Alvarez supervises her by video")
            desk.TransferSupervisee(
                supervisee_id="see-nguyen", to_site_id=SACRAMENTO, effective_on="2026-03-02"
            )
            self.expect.transfers["see-nguyen"] = 1
            self.sign(NGUYEN_IN_SACRAMENTO)
        for session in SESSIONS:
            if session.month == month:
                self.log(session)
        for who, site, monday, direct, indirect in practice_weeks():
            if monday.isoformat()[:7] == month:
                desk.RecordPracticeHours(
                    supervisee_id=who,
                    site_id=site,
                    week_start=monday.isoformat(),
                    direct_minutes=direct,
                    indirect_minutes=indirect,
                )
                self.expect.weeks[who] += 1
        if month == "2026-02":
            self.terminate(
                "see-nguyen",
                "agr-nguyen-alvarez",
                "2026-02-27",
                "Supervisee transferred to site-sacramento; supervision continues there",
            )
        if month == "2026-04":
            self.log(DUPLICATE)
            desk.VoidSession(
                session_id=DUPLICATE.session_id,
                reason="Entered twice: the same session as ses-garcia-2026-04-14",
            )
            self.expect.sessions["see-garcia"][DUPLICATE.session_id] = 1
            self.terminate(
                "see-garcia",
                "agr-garcia-chen",
                "2026-04-17",
                "Supervisor's license revoked by the board; supervision continues with Alvarez",
            )
        self.sign_off(month)

    def log(self, session: Session) -> None:
        reply = self.calls.supervision.LogSession(**session.logged())
        for who in session.supervisees:
            self.expect.sessions[who][session.session_id] = 0
        if session.session_id in LAPSES:
            marked = reply is not None and reply.lapse_marked
            mark = "marked for review" if marked else "to be marked when the license facts arrive"
            self.say(f"{session.session_id} recorded as it happened, {mark}")
            self.say(f"  ({LAPSES[session.session_id]})")

    def terminate(self, supervisee: str, agreement_id: str, on: str, reason: str) -> None:
        self.say(f"{agreement_id} terminated on {on}")
        self.calls.supervision.TerminateAgreement(
            supervisee_id=supervisee, agreement_id=agreement_id, terminated_on=on, reason=reason
        )
        amendments, _, approved = self.expect.agreements[supervisee][agreement_id]
        self.expect.agreements[supervisee][agreement_id] = (amendments, True, approved)

    def sign_off(self, month: str) -> None:
        signed_on, by = signers(month)
        for who, supervisor in by.items():
            self.expect.months[who][month] = "signed_off"
            if (who, month) == REOPENED[:2]:
                self.sign_reopen_and_sign_again(supervisor, signed_on)
            else:
                self.calls.supervision.SignOffMonth(
                    supervisee_id=who, month=month, supervisor_id=supervisor, signed_on=signed_on
                )
        self.say(f"{month} signed off on {signed_on} for {len(by)} supervisees")

    def sign_reopen_and_sign_again(self, supervisor: str, signed_on: str) -> None:
        who, month, reopened_on, signed_again_on = REOPENED
        desk = self.calls.supervision
        session = SESSION[SHORTENED]
        desk.SignOffMonth(
            supervisee_id=who, month=month, supervisor_id=supervisor, signed_on=signed_on
        )
        # Played again after the month was signed a second time, this reopening is the retry
        # it is: the service finds it in the month's history and changes nothing.
        desk.ReopenMonth(
            supervisee_id=who,
            month=month,
            reopened_on=reopened_on,
            as_actor=supervisor,
            reason=f"{session.session_id} was logged with its booked length; it ended early",
        )
        desk.AmendSession(
            **{**session.figures(), "minutes": session.minutes - 10},
            reason="Logged with the booked 60 minutes; the session ended after 50",
            as_actor=supervisor,
        )
        self.expect.sessions[who][session.session_id] = 1
        desk.SignOffMonth(
            supervisee_id=who, month=month, supervisor_id=supervisor, signed_on=signed_again_on
        )
        self.say(
            f"{who} {month}: signed {signed_on}, reopened {reopened_on} to correct "
            f"{session.session_id} (60 -> 50 min), signed again {signed_again_on}"
        )

    def evaluations_and_consultations(self) -> None:
        self.chapter(
            "Competency evaluations (CompetencyService), consultations (ConsultationService)"
        )
        desk = self.calls.competency
        quarter = {
            "trigger": competency.EVALUATION_TRIGGER_QUARTERLY,
            "period_start": "2026-01-05",
            "period_end": "2026-03-31",
        }
        desk.RecordEvaluation(
            evaluation_id="eval-rivera-2026q1",
            supervisee_id="see-rivera",
            supervisor_id="sup-okafor",
            framework="continuum-clinical",
            framework_version="2026.1",
            scores=scores(
                intervention=4,
                conceptualization=3,
                personalization=3,
                ethics_and_law=4,
                professional_identity=3,
            ),
            evidence_session_ids=["ses-rivera-2026-01-13", SHORTENED, "ses-rivera-2026-03-10"],
            strengths="Clear treatment plans; uses feedback from recordings well.",
            limitations="Names countertransference late; keeps bringing it to supervision.",
            signed_on="2026-04-03",
            as_actor="sup-okafor",
            **quarter,
        )
        reply = desk.RecordEvaluation(
            evaluation_id="eval-garcia-2026q1",
            supervisee_id="see-garcia",
            supervisor_id="sup-alvarez",
            framework="apa-benchmarks",
            framework_version="2011",
            scores=scores(
                professionalism=4, relational=3, science=2, application=3, education=3, systems=3
            ),
            evidence_session_ids=[
                "ses-garcia-2026-01-20",
                "ses-garcia-2026-02-24",
                "ses-garcia-2026-03-17",
            ],
            strengths="Warm alliance with clients; timely notes.",
            limitations="Rarely grounds the choice of an intervention in the research base.",
            remediation_plan="Each week through June, one evidence-based protocol reviewed with "
            "the supervisor and applied to a current case plan; re-evaluated at the end of June.",
            signed_on="2026-04-02",
            as_actor="sup-alvarez",
            **quarter,
        )
        if reply is not None:
            below = ", ".join(reply.below_expectations)
            self.say(f"eval-garcia-2026q1: below expectations in {below}, with a remediation plan")
        for evaluation_id, who, on in (
            ("eval-rivera-2026q1", "see-rivera", "2026-04-06"),
            ("eval-garcia-2026q1", "see-garcia", "2026-04-07"),
        ):
            desk.AcknowledgeEvaluation(
                evaluation_id=evaluation_id, supervisee_id=who, acknowledged_on=on, as_actor=who
            )
            self.expect.evaluations[who][evaluation_id] = True
        # A consultation is logged for the record and never counts as supervision.
        peer, expert = consultation.CONSULTANT_KIND_PEER, consultation.CONSULTANT_KIND_EXPERT
        for consultation_id, clinician, consultant, kind, site, date, minutes in (
            ("cons-2026-02-alvarez", "sup-alvarez", "dr-ibarra", expert, AUSTIN, "2026-02-11", 60),
            (
                "cons-2026-03-rivera",
                "see-rivera",
                "clin-hughes",
                peer,
                SACRAMENTO,
                "2026-03-18",
                45,
            ),
        ):
            self.calls.consultation.LogConsultation(
                consultation_id=consultation_id,
                clinician_id=clinician,
                consultant_id=consultant,
                consultant_kind=kind,
                site_id=site,
                date=date,
                minutes=minutes,
            )
        shown = self.calls.consultation.GetConsultation(consultation_id="cons-2026-03-rivera")
        if shown is not None:
            c = shown.consultation
            self.say(
                f"{c.consultation_id}: {c.clinician_id} consulted {c.consultant_id} on {c.date} "
                f"for {c.minutes} min; a consultation is not supervision and counts for nothing"
            )

    # Coaching ----------------------------------------------------------------------------------

    def coaching_and_a_concern(self) -> None:
        self.chapter("Coaching: goals, sessions, homework, notes; a concern and therapy's answer")
        desk = self.calls.coaching
        eng = "eng-aus-7f3a"
        self.app.open_engagement(eng, "client-7f3a", "coach-lee", AUSTIN, "2026-01-12")
        desk.SetGoal(
            engagement_id=eng,
            goal_id="g-walk",
            set_on="2026-01-12",
            target_date="2026-03-31",
            specific="Walk 20 minutes on four days each week",
            measure="Walks logged in the phone's step app",
            achievable="Starts with a route around the block",
            relevant="More energy for the evening shift",
        )
        desk.SetGoal(
            engagement_id=eng,
            goal_id="g-course",
            set_on="2026-01-19",
            target_date="2026-04-30",
            specific="Enrol in a bookkeeping certificate course",
            measure="Enrolment confirmation from the college",
            achievable="Two colleges shortlisted, both with evening classes",
            relevant="A step toward the office role the client wants",
        )
        desk.SetGoal(
            engagement_id=eng,
            goal_id="g-reading",
            set_on="2026-01-19",
            target_date="2026-03-15",
            specific="Read 15 minutes before bed on weeknights",
            measure="Nights ticked on a paper calendar",
            achievable="The book is already at home",
            relevant="Winding down before sleep",
        )
        self.coaching_sessions(
            eng,
            ("cs-01", "2026-01-12", 60, ["g-walk"]),
            ("cs-02", "2026-01-19", 50, ["g-walk", "g-course", "g-reading"]),
            ("cs-03", "2026-01-26", 50, ["g-walk", "g-course"]),
            ("cs-04", "2026-02-02", 45, ["g-walk", "g-course"]),
            ("cs-05", "2026-02-09", 45, ["g-walk", "g-course"]),
        )
        desk.AssignHomework(
            engagement_id=eng,
            homework_id="hw-01",
            goal_id="g-walk",
            task="Walk the block route on three evenings",
            assigned_on="2026-01-12",
            due_on="2026-01-18",
        )
        desk.CompleteHomework(engagement_id=eng, homework_id="hw-01", completed_on="2026-01-17")
        desk.AssignHomework(
            engagement_id=eng,
            homework_id="hw-02",
            goal_id="g-course",
            task="Ask both colleges for their course brochure",
            assigned_on="2026-01-19",
            due_on="2026-01-25",
        )
        desk.MarkHomeworkMissed(engagement_id=eng, homework_id="hw-02")
        desk.RecordProgressNote(
            engagement_id=eng,
            note_id="pn-01",
            written_on="2026-01-26",
            session_id="cs-03",
            progress=coaching.PROGRESS_SOME_PROGRESS,
            goal_ids=["g-walk", "g-course"],
            summary="Walked three evenings in each of the last two weeks; the brochures are "
            "planned for this week.",
        )
        desk.ReviseGoal(
            engagement_id=eng,
            goal_id="g-walk",
            revision_id="rev-01",
            revised_on="2026-02-02",
            specific="Walk 20 minutes on three days each week",
            measure="Walks logged in the phone's step app",
            achievable="Three fixed evenings that fit the shift pattern",
            relevant="More energy for the evening shift",
            target_date="2026-04-15",
            reason="Four days did not fit the new shift pattern",
        )
        desk.DropGoal(
            engagement_id=eng,
            goal_id="g-reading",
            dropped_on="2026-02-09",
            reason="The client chose to put her energy into the other two goals",
        )
        # Symptoms resurface: coaching pauses and the client goes back to therapy.
        concern = "concern-7f3a-1"
        self.app.raise_concern(eng, concern, "2026-02-16")
        found = eventually(
            self.app,
            f"the referral to therapy for {concern}",
            lambda: self.referral_from(AUSTIN, f"coaching-concern/{concern}"),
            lambda r: r is not None,
            timeout=60,
        )
        if found is None:
            return
        back = found.referral_id
        self.say(f"{concern}: engagement paused; referral {back[:8]}… to therapy, urgent")
        ref = self.calls.referral
        ref.AcceptReferral(referral_id=back, accepted_by="th-nakamura", accepted_on="2026-02-17")
        ref.ScheduleReferral(
            referral_id=back, appointment_on="2026-02-19", scheduled_on="2026-02-17"
        )
        ref.CompleteReferral(
            referral_id=back,
            outcome=referral.REFERRAL_OUTCOME_CARE_COMPLETED,
            recommendation=referral.RECOMMENDATION_RESUME_COACHING,
            completed_on="2026-03-23",
            feedback="Symptoms settled after four sessions; coaching may resume at the client's "
            "pace, with a check-in in therapy in May.",
            as_actor="th-nakamura",
        )
        resumed = eventually(
            self.app,
            f"{eng} to resume once therapy recommended it",
            lambda: self.engagement(eng),
            lambda e: e is not None and all(c.status == "settled" for c in e.concerns),
            timeout=60,
        )
        if resumed is not None:
            settled = "; ".join(f"{c.concern_id} {c.recommendation}" for c in resumed.concerns)
            self.say(f"{eng}: therapy completed the referral ({settled}); now {resumed.status}")
        self.coaching_sessions(
            eng,
            ("cs-06", "2026-03-30", 50, ["g-walk", "g-course"]),
            ("cs-07", "2026-04-13", 45, ["g-walk", "g-course"]),
            ("cs-08", "2026-04-27", 40, ["g-course"]),
        )
        desk.AssignHomework(
            engagement_id=eng,
            homework_id="hw-03",
            goal_id="g-course",
            task="Fill in the enrolment form with the college adviser",
            assigned_on="2026-03-30",
            due_on="2026-04-10",
        )
        desk.CompleteHomework(engagement_id=eng, homework_id="hw-03", completed_on="2026-04-09")
        desk.RecordProgressNote(
            engagement_id=eng,
            note_id="pn-02",
            written_on="2026-03-30",
            session_id="cs-06",
            progress=coaching.PROGRESS_SOME_PROGRESS,
            goal_ids=["g-walk", "g-course"],
            summary="Back after the pause; walked twice this week; enrolment form half done.",
        )
        desk.AchieveGoal(engagement_id=eng, goal_id="g-walk", achieved_on="2026-04-13")
        desk.AchieveGoal(engagement_id=eng, goal_id="g-course", achieved_on="2026-04-27")
        desk.RecordProgressNote(
            engagement_id=eng,
            note_id="pn-03",
            written_on="2026-04-27",
            session_id="cs-08",
            progress=coaching.PROGRESS_STRONG_PROGRESS,
            goal_ids=["g-walk", "g-course"],
            summary="Walking three evenings a week since March; enrolled for the May intake.",
        )
        desk.CloseEngagement(
            engagement_id=eng, outcome=coaching.ENGAGEMENT_OUTCOME_GOALS_MET, closed_on="2026-04-27"
        )
        # Sacramento: a client who stopped coming.
        other = "eng-sac-2291"
        self.app.open_engagement(other, "client-2291", "coach-silva", SACRAMENTO, "2026-02-03")
        desk.SetGoal(
            engagement_id=other,
            goal_id="g-sleep",
            set_on="2026-02-03",
            target_date="2026-04-30",
            specific="In bed by 23:00 on weeknights",
            measure="Bedtimes noted in a sleep diary",
            achievable="An alarm at 22:30 as the cue",
            relevant="Mornings at the new job start early",
        )
        self.coaching_sessions(
            other,
            ("cs-01", "2026-02-03", 45, ["g-sleep"]),
            ("cs-02", "2026-02-17", 45, ["g-sleep"]),
        )
        desk.CloseEngagement(
            engagement_id=other,
            outcome=coaching.ENGAGEMENT_OUTCOME_CLIENT_WITHDREW,
            closed_on="2026-03-10",
        )

    def coaching_sessions(
        self, engagement_id: str, *sessions: tuple[str, str, int, list[str]]
    ) -> None:
        for session_id, date, minutes, goals in sessions:
            self.calls.coaching.LogCoachingSession(
                engagement_id=engagement_id,
                session_id=session_id,
                date=date,
                minutes=minutes,
                goal_ids=goals,
            )

    def engagement(self, engagement_id: str) -> coaching.GetEngagementResponse | None:
        return self.app.lookup(
            self.app.coaching.GetEngagement,
            coaching.GetEngagementRequest(engagement_id=engagement_id),
        )

    def referral_from(self, site: str, source: str) -> referral.Referral | None:
        listed = self.app.ask(
            self.app.referral.ListReferrals, referral.ListReferralsRequest(site_id=site, limit=500)
        )
        return next((r for r in listed.referrals if r.source == source), None)

    # Referrals ---------------------------------------------------------------------------------

    def referrals(self) -> None:
        self.chapter(
            "Referrals: the whole loop, and the referral service's clock (ReferralService)"
        )
        desk = self.calls.referral
        # An urgent referral to psychiatry that nobody answered for three days.
        late = "ref-aus-0209-psychiatry"
        desk.RaiseReferral(
            referral_id=late,
            client_id="client-5521",
            site_id=AUSTIN,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_PSYCHIATRY,
            urgency=referral.URGENCY_URGENT,
            reason=referral.REFERRAL_REASON_MEDICATION_EVALUATION,
            source="therapy-episode/ep-5521",
            raised_at="2026-02-09T16:30:00-06:00",
            raised_by="see-garcia",
        )
        seen = eventually(
            self.app,
            f"the referral service's clock to find {late} past its targets",
            lambda: self.app.lookup(
                self.app.referral.GetReferral, referral.GetReferralRequest(referral_id=late)
            ),
            lambda r: r is not None and len(r.referral.breaches) == 2,
            timeout=90,
        )
        for breach in seen.referral.breaches if seen is not None else ():
            target = referral.ServiceLevelTarget.Name(breach.target).rsplit("_", 1)[-1].lower()
            self.say(f"{late}: {target} was due {breach.due_at}; the clock recorded a breach")
        # Just after the clock's tick: what follows is answered before it looks again.
        desk.AcceptReferral(referral_id=late, accepted_by="psy-moreno", accepted_on="2026-02-12")
        desk.ScheduleReferral(
            referral_id=late, appointment_on="2026-02-18", scheduled_on="2026-02-12"
        )
        self.expect.open_referrals[AUSTIN][late] = "scheduled"
        self.expect.breaches[AUSTIN][late] = 2

        # Therapy recommends coaching: once a coach accepts, an engagement opens by itself.
        to_coaching = "ref-sac-0302-coaching"
        desk.RaiseReferral(
            referral_id=to_coaching,
            client_id="client-6610",
            site_id=SACRAMENTO,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_COACHING,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_STABLE_FOR_COACHING,
            source="therapy-episode/ep-6610",
            raised_at="2026-03-02T10:00:00-08:00",
            raised_by="see-rivera",
        )
        desk.AcceptReferral(
            referral_id=to_coaching, accepted_by="coach-silva", accepted_on="2026-03-04"
        )
        desk.ScheduleReferral(
            referral_id=to_coaching, appointment_on="2026-03-09", scheduled_on="2026-03-04"
        )
        self.expect.open_referrals[SACRAMENTO][to_coaching] = "scheduled"

        # A substance-use record travels with the client's consent, and a new one on redirect.
        sud = "ref-aus-0120-sud"
        desk.RaiseReferral(
            referral_id=sud,
            client_id="client-3307",
            site_id=AUSTIN,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_PSYCHIATRY,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_SPECIALIST_CONSULTATION,
            source="therapy-episode/ep-3307",
            raised_at="2026-01-20T11:00:00-06:00",
            raised_by="see-patel",
            substance_use_record=True,
            consent_reference="consent/c-3307-psychiatry",
        )
        desk.RedirectReferral(
            referral_id=sud,
            to_service=referral.SERVICE_CONSULTATION,
            reason=referral.REDIRECT_REASON_BETTER_FIT_ELSEWHERE,
            redirected_on="2026-01-21",
            consent_reference="consent/c-3307-consultation",
            note="An addiction-medicine consultation answers the question sooner",
        )
        desk.AcceptReferral(referral_id=sud, accepted_by="con-ibarra", accepted_on="2026-01-22")
        desk.ScheduleReferral(
            referral_id=sud, appointment_on="2026-01-28", scheduled_on="2026-01-22"
        )
        desk.CompleteReferral(
            referral_id=sud,
            outcome=referral.REFERRAL_OUTCOME_ASSESSED_NO_CARE_NEEDED,
            feedback="Assessed on 01-28: no medication indicated now; reassess if use increases.",
            recommendation=referral.RECOMMENDATION_CONTINUE_IN_THERAPY,
            completed_on="2026-02-04",
            as_actor="con-ibarra",
        )

        declined = "ref-aus-0303-coaching"
        desk.RaiseReferral(
            referral_id=declined,
            client_id="client-4410",
            site_id=AUSTIN,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_COACHING,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_CLIENT_REQUEST,
            source="therapy-episode/ep-4410",
            raised_at="2026-03-03T09:15:00-06:00",
            raised_by="see-nguyen",
        )
        desk.DeclineReferral(
            referral_id=declined,
            reason=referral.DECLINE_REASON_NO_CAPACITY,
            note="The Austin coaching waitlist reopens in May",
            declined_on="2026-03-04",
        )

        # A supervisor refers a supervisee's client, from a supervision session.
        unreached = "ref-sac-0407-psychiatry"
        desk.RaiseReferral(
            referral_id=unreached,
            client_id="client-7782",
            site_id=SACRAMENTO,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_PSYCHIATRY,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_HIGHER_LEVEL_OF_CARE,
            source="supervision-session/ses-rivera-2026-04-07",
            raised_at="2026-04-07T14:00:00-07:00",
            raised_by="sup-okafor",
        )
        desk.AcceptReferral(
            referral_id=unreached, accepted_by="psy-grant", accepted_on="2026-04-08"
        )
        for attempt_id, on, channel in (
            ("a1", "2026-04-08", referral.CONTACT_CHANNEL_PHONE),
            ("a2", "2026-04-10", referral.CONTACT_CHANNEL_TEXT_MESSAGE),
            ("a3", "2026-04-14", referral.CONTACT_CHANNEL_LETTER),
        ):
            desk.RecordContactAttempt(
                referral_id=unreached, attempt_id=attempt_id, attempted_on=on, channel=channel
            )
        desk.CloseReferralUnableToEngage(referral_id=unreached, closed_on="2026-04-21")

        cancelled = "ref-sac-0316-consultation"
        desk.RaiseReferral(
            referral_id=cancelled,
            client_id="client-5120",
            site_id=SACRAMENTO,
            from_service=referral.SERVICE_THERAPY,
            to_service=referral.SERVICE_CONSULTATION,
            urgency=referral.URGENCY_ROUTINE,
            reason=referral.REFERRAL_REASON_SPECIALIST_CONSULTATION,
            source="therapy-episode/ep-5120",
            raised_at="2026-03-16T13:00:00-07:00",
            raised_by="see-kim",
        )
        desk.CancelReferral(
            referral_id=cancelled,
            reason=referral.CANCEL_REASON_NEED_RESOLVED,
            cancelled_on="2026-03-18",
        )

        # The engagement the accepted referral to coaching opened, read back from coaching.
        engagement_id = engagement_id_for_referral(to_coaching)
        self.app.works(engagement_id, "coach-silva")
        opened = eventually(
            self.app,
            f"coaching to open an engagement for {to_coaching}",
            lambda: self.engagement(engagement_id),
            lambda e: e is not None,
            timeout=60,
        )
        if opened is None:
            return
        self.say(
            f"{to_coaching} accepted by {opened.coach_id}: engagement {engagement_id[:8]}… "
            f"opened {opened.opened_on} for {opened.client_id} by itself ({opened.status})"
        )
        self.calls.coaching.SetGoal(
            engagement_id=engagement_id,
            goal_id="g-routine",
            set_on="2026-03-09",
            target_date="2026-05-31",
            specific="A weekly plan written every Sunday evening",
            measure="Plans photographed and shared at each session",
            achievable="A template from the first session",
            relevant="Fewer missed shifts and appointments",
        )
        self.coaching_sessions(engagement_id, ("cs-01", "2026-03-09", 50, ["g-routine"]))


class Oversight:
    """A compliance officer's decisions (OversightService), made once the compliance view shows
    the four months: the verdict to resolve is read from the supervisee's standing."""

    def __init__(self, app: StaffApp) -> None:
        self.app = app

    def standing(self, who: str) -> compliance.GetSuperviseeStandingResponse | None:
        return self.app.lookup(
            self.app.compliance.GetSuperviseeStanding,
            compliance.GetSuperviseeStandingRequest(supervisee_id=who),
        )

    def waived(self, standing: compliance.GetSuperviseeStandingResponse | None) -> str | None:
        """The verdict the officer waives: the finding on the first session."""
        _, rule_id = WAIVED
        for v in standing.verdicts if standing is not None else ():
            if v.rule_id == rule_id and v.session_id:
                return str(v.verdict_id)
        return None

    def decide(self) -> None:
        print("A compliance officer's decisions (OversightService)", flush=True)
        desk = self.app.calls.oversight
        reply = desk.RecordApprovedLeave(as_actor=OFFICER, **LEAVE)
        if reply is not None:
            print(
                f"    {LEAVE['supervisee_id']}: approved leave {LEAVE['start']}..{LEAVE['end']} "
                f"recorded ({'already' if reply.already_recorded else 'new'})",
                flush=True,
            )
        who, rule_id = WAIVED
        verdict_id = self.waived(self.standing(who))
        if verdict_id is None:
            self.app.tally.failed(f"{who} has no {rule_id} verdict on a session to resolve")
            return
        reply = desk.ResolveVerdict(
            as_actor=OFFICER, supervisee_id=who, verdict_id=verdict_id, **RESOLUTION
        )
        if reply is not None:
            print(
                f"    {who}: {rule_id} {verdict_id[:8]}… resolved, {RESOLUTION['kind']} "
                f"({'already' if reply.already_recorded else 'new'})",
                flush=True,
            )
        self.document_back_entry()

    def back_entered(self, resolution: str) -> list[compliance.Verdict]:
        """The findings of records not made within 7 days, at every site."""
        found: list[compliance.Verdict] = []
        token = ""
        while True:
            page = self.app.lookup(
                self.app.compliance.ListVerdicts,
                compliance.ListVerdictsRequest(
                    rule_ids=[BACK_ENTERED],
                    resolution=resolution,
                    page_size=500,
                    page_token=token,
                ),
            )
            if page is None:
                return found
            found.extend(page.verdicts)
            token = page.next_page_token
            if not token:
                return found

    def document_back_entry(self) -> None:
        desk = self.app.calls.oversight
        verdicts = self.back_entered("")
        for v in verdicts:
            desk.ResolveVerdict(
                as_actor=OFFICER,
                command_id=f"resolve-{v.verdict_id}",
                supervisee_id=v.supervisee_id,
                verdict_id=v.verdict_id,
                **BACK_ENTRY,
            )
        print(
            f"    {len(verdicts)} findings of {BACK_ENTERED}: {words(BACK_ENTRY['kind'])}, "
            "the paper logs kept at the time",
            flush=True,
        )

    def shown(self) -> list[str]:
        """What the standings do not show (yet) of the decisions."""
        missing = []
        if self.back_entered("open"):
            missing.append(f"the resolutions of the {BACK_ENTERED} findings")
        who, rule_id = WAIVED
        standing = self.standing(who)
        verdicts = standing.verdicts if standing is not None else ()
        if not any(v.rule_id == rule_id and v.HasField("resolution") for v in verdicts):
            missing.append(f"{who}: the resolution of its {rule_id} verdict")
        leave = self.standing(str(LEAVE["supervisee_id"]))
        if leave is None or not any(w.leave_days for w in leave.windows):
            missing.append(f"{LEAVE['supervisee_id']}: the approved leave")
        return missing


def scores(**by_domain: int) -> list[competency.EvaluationScore]:
    return [competency.EvaluationScore(domain=d, score=s) for d, s in by_domain.items()]


# --- the report --------------------------------------------------------------------------------


def hours(minutes: int) -> str:
    whole, left = divmod(minutes, 60)
    return f"{whole} h {left:02d}" if left else f"{whole} h"


def words(code: str) -> str:
    return code.replace("_", " ")


def decimal_hours(minutes: str) -> str:
    """A decimal string of minutes ("617.14"), as hours and whole minutes."""
    return hours(round(Decimal(minutes or "0")))


def required(minutes: str) -> str:
    return decimal_hours(minutes) if minutes else "a figure the board's text does not give"


def sourced(src: Iterable[str], confidence: str) -> str:
    tags = ";".join(src) or "no source"
    return f"{tags}, {confidence}" if confidence else tags


def window_text(w: compliance.Window) -> str:
    return f"{words(w.kind)} {w.start}..{w.end}" if w.kind else ""


def by_status(counts: Iterable[compliance.StatusCount]) -> str:
    return ", ".join(f"{words(c.status)} {c.supervisees}" for c in counts if c.supervisees) or "-"


# A rule with more verdicts than this at a site is shown by its first ones and a count.
SHOWN_PER_RULE = 3


class Report:
    """What the compliance service shows, per site, as of today."""

    def __init__(self, app: StaffApp) -> None:
        self.app = app
        self.view = app.calls.compliance
        self.lines: list[str] = []

    def out(self, line: str, indent: int = 0) -> None:
        self.lines.append("  " * indent + line)

    def build(self) -> list[str]:
        records = {who: self.view.GetSuperviseeRecord(supervisee_id=who) for who in TRACK_OF}
        for site, place in SITES.items():
            self.out("")
            self.out(f"== {site} ({place}) ==")
            for who, record in records.items():
                if record is not None and record.registration.home_site_id == site:
                    self.supervisee(who, record)
            self.referrals(site)
        self.expiring()
        self.coaching()
        self.organization()
        for site, place in SITES.items():
            self.site_supervisees(site, place)
            self.site_verdicts(site)
        self.standing(IN_FULL)
        self.leave(str(LEAVE["supervisee_id"]))
        return self.lines

    def supervisee(self, who: str, record: compliance.GetSuperviseeRecordResponse) -> None:
        reg = record.registration
        moved = "".join(f", from {t.from_site_id} since {t.effective_on}" for t in reg.transfers)
        self.out(f"{who}: {reg.credential_track} {reg.license_number}{moved}", 1)
        for a in record.agreements:
            state = a.status
            if a.terminated_on:
                state += f" {a.terminated_on}: {a.termination_reason}"
            if a.board_approval_required:
                state += f"; board approval {a.approved_on} ({a.approval_reference})"
            for amendment in a.amendments:
                state += f"; amended by {amendment.amended_by}: {amendment.reason}"
            self.out(f"agreement {a.agreement_id} with {a.supervisor_id} at {a.site_id}", 2)
            self.out(f"{a.start_date}..{a.end_date}, {state}", 4)
        view = self.view.GetSuperviseeHours(supervisee_id=who)
        if view is None:
            return
        counted = ", ".join(
            f"{words(b.format)} {words(b.modality)} {hours(b.minutes)}"
            for b in view.by_format_and_modality
            if b.minutes
        )
        self.out(f"counted: {hours(view.total_minutes)} in {len(view.sessions)} sessions", 2)
        self.out(f"({counted})", 4)
        if view.flagged_minutes:
            self.out(f"of which flagged for review: {hours(view.flagged_minutes)}", 4)
        if view.excluded:
            reasons = ", ".join(
                f"{words(r.reason)} {hours(r.minutes)}"
                for r in view.excluded_by_reason
                if r.minutes
            )
            self.out(f"not counted: {hours(view.excluded_minutes)} ({reasons})", 2)
            for s in view.excluded:
                self.out(f"{s.session_id}: {s.not_counted_detail}", 4)
        for s in record.sessions:
            for mark in s.lapse_marks:
                self.out(
                    f"lapse: {s.session_id} ({s.minutes} min) under {mark.license_id}, "
                    f"{mark.lapse} since {mark.lapsed_since}: counts, flagged for review",
                    2,
                )
            for c in s.corrections:
                if c.change == "amended":
                    self.out(
                        f"amended: {s.session_id} {s.logged.minutes} -> {c.amended_to.minutes} min"
                        f" by {c.by}: {c.reason}",
                        2,
                    )
        for m in record.months:
            reopened = [h for h in m.history if h.action == "reopened"]
            again = f" (reopened {reopened[0].on}: {reopened[0].reason})" if reopened else ""
            self.out(f"month {m.month}: {words(m.status)} by {m.signed_by} {m.signed_on}{again}", 2)
        for e in record.evaluations:
            marks = " ".join(f"{d.domain}={d.score}" for d in e.scores)
            below = ", ".join(e.below_expectations) or "none"
            plan = ", remediation plan" if e.remediation_required else ""
            ack = f"acknowledged {e.acknowledged_on}" if e.acknowledged else "not acknowledged"
            self.out(
                f"evaluation {e.evaluation_id}: {e.framework} {e.framework_version}, "
                f"{e.trigger} {e.period_start}..{e.period_end}, by {e.supervisor_id}",
                2,
            )
            self.out(f"{marks}; below expectations: {below}{plan}; {ack}", 4)
        per_site: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for w in record.practice_weeks:
            totals = per_site[w.site_id]
            totals[0] += 1
            totals[1] += w.direct_minutes
            totals[2] += w.indirect_minutes
        for site, (weeks, direct, indirect) in per_site.items():
            self.out(
                f"practice at {site}: {weeks} weeks, {hours(direct)} direct, "
                f"{hours(indirect)} indirect",
                2,
            )

    def referrals(self, site: str) -> None:
        opened = self.view.ListOpenReferrals(site_id=site)
        late = self.view.ListServiceLevelBreaches(site_id=site)
        if opened is None or late is None:
            return
        self.out(f"open referrals: {len(opened.referrals)}", 1)
        for r in opened.referrals:
            appointment = f", appointment {r.appointment_on}" if r.appointment_on else ""
            missed = ", ".join(b.target for b in r.breaches)
            self.out(
                f"{r.referral_id}: {r.client_id} to {r.to_service}, {r.urgency}, raised "
                f"{r.raised_on}, {r.status} {r.status_on}{appointment}"
                + (f"; missed {missed}" if missed else ""),
                2,
            )
        self.out(f"referrals that missed a service-level target: {len(late.referrals)}", 1)
        for r in late.referrals:
            self.out(f"{r.referral_id} ({r.urgency}, {'open' if r.open else 'closed'}):", 2)
            for b in r.breaches:
                self.out(f"{b.target} due {b.due_at}, breach recorded {b.detected_at[:10]}", 4)

    def expiring(self) -> None:
        soon = self.view.ListLicensesExpiring(within_days=EXPIRING_WITHIN_DAYS)
        if soon is None:
            return
        self.out("")
        self.out(f"== expiring within {EXPIRING_WITHIN_DAYS} days of {soon.as_of} (all sites) ==")
        for x in soon.licenses:
            self.out(
                f"{x.holder_id}: license {x.state} {x.kind} {x.number} ({x.status}) expires "
                f"{x.expires_on}, in {x.days_left} days",
                1,
            )
            for reminder in reminders(self.app, x.holder_id, x.license_id):
                self.out(f"{reminder} recorded by the registry's clock", 2)
        for d in soon.designations:
            self.out(
                f"{d.holder_id}: designation {d.state} {d.designation} expires {d.expires_on}, "
                f"in {d.days_left} days",
                1,
            )

    # The rules applied: the organization, each site, one supervisee in full -----------------

    def organization(self) -> None:
        org = self.view.GetOrganizationOverview()
        if org is None:
            return
        self.out("")
        self.out(f"== the organization as of {org.as_of}, by its boards' rules ==")
        for site in org.sites:
            self.out(
                f"{site.site_id}: {site.supervisees} supervisees ({by_status(site.by_status)}); "
                f"open: {site.open_voids} voids, {site.open_findings} findings; "
                f"referrals open past a target: {site.referrals_past_target}",
                1,
            )
        self.out(f"evaluations overdue: {len(org.overdue_evaluations)}", 1)
        for e in org.overdue_evaluations:
            self.out(f"{e.supervisee_id} at {e.site_id}: due {e.due_on}", 2)
        self.out(
            f"supervisors' credentials expiring: {len(org.licenses_expiring)} licenses, "
            f"{len(org.designations_expiring)} designations",
            1,
        )
        for x in org.licenses_expiring:
            self.out(f"{x.holder_id}: {x.state} {x.kind} {x.number} expires {x.expires_on}", 2)
        for d in org.designations_expiring:
            self.out(f"{d.holder_id}: {d.state} {d.designation} expires {d.expires_on}", 2)
        self.out(f"referrals open past a target: {len(org.referrals_past_target)}", 1)
        for r in org.referrals_past_target:
            missed = ", ".join(b.target for b in r.breaches)
            self.out(f"{r.referral_id} ({r.urgency}, {r.status} {r.status_on}): {missed}", 2)
        self.incomplete(org)

    def site_supervisees(self, site: str, place: str) -> None:
        shown: list[compliance.SuperviseeSummary] = []
        counts: Iterable[compliance.StatusCount] = ()
        token = ""
        while True:
            page = self.view.ListSiteSupervisees(site_id=site, page_token=token)
            if page is None:
                return
            shown.extend(page.supervisees)
            counts, token = page.by_status, page.next_page_token
            if not token:
                break
        self.out("")
        self.out(f"== {site} ({place}): supervisees as of {page.as_of} ==")
        self.out(f"by status: {by_status(counts)}", 1)
        for x in shown:
            done = (
                f"; projected completion {x.projected_completion}" if x.projected_completion else ""
            )
            self.out(
                f"{x.supervisee_id} ({x.track}): {words(x.status)}; open: {x.open_voids} voids, "
                f"{x.open_findings} findings; {x.resolved_verdicts} resolved",
                1,
            )
            self.out(
                f"supervision counted {decimal_hours(x.supervision_counted_minutes)} of "
                f"{required(x.supervision_required_minutes)}{done}",
                3,
            )
        self.incomplete(page)

    def site_verdicts(self, site: str) -> None:
        verdicts: list[compliance.Verdict] = []
        token = ""
        while True:
            page = self.view.ListVerdicts(site_id=site, page_size=500, page_token=token)
            if page is None:
                return
            verdicts.extend(page.verdicts)
            token = page.next_page_token
            if not token:
                break
        by_rule: dict[tuple[str, str], list[compliance.Verdict]] = defaultdict(list)
        for v in verdicts:
            by_rule[(v.rule_id, v.severity)].append(v)
        self.out(f"verdicts at {site}: {len(verdicts)}, by rule", 1)
        for (rule_id, severity), found in sorted(by_rule.items()):
            resolved = [v for v in found if v.HasField("resolution")]
            first = found[0]
            self.out(
                f"{severity} {rule_id} ({sourced(first.src, first.confidence)}): "
                f"{len(found) - len(resolved)} open, {len(resolved)} resolved",
                2,
            )
            self.out(first.title, 4)
            # Resolved verdicts first: who resolved them, and when.
            ordered = resolved + [v for v in found if not v.HasField("resolution")]
            for v in ordered[:SHOWN_PER_RULE]:
                scope = v.session_id or window_text(v.window) or "the program"
                self.out(f"{v.supervisee_id}, {scope}: {v.reason}", 4)
                if v.HasField("resolution"):
                    self.out(self.resolution(v.resolution), 5)
            if len(found) > SHOWN_PER_RULE:
                self.out(f"... and {len(found) - SHOWN_PER_RULE} more", 4)
        self.incomplete(page)

    @staticmethod
    def resolution(r: compliance.VerdictResolution) -> str:
        return (
            f"resolved: {words(r.kind)} by {r.by} on {r.on} (recorded {r.recorded_at}): {r.reason}"
        )

    def standing(self, who: str) -> None:
        st = self.view.GetSuperviseeStanding(supervisee_id=who)
        if st is None:
            return
        self.out("")
        self.out(f"== {who} in full: {st.track} at {st.site_id}, as of {st.as_of} ==")
        open_verdicts = [r for r in st.status.reasons if r.kind == "verdict"]
        self.out(
            f"status: {words(st.status.level)}: {len(open_verdicts)} unresolved verdicts "
            "(below)" + ("; and" if len(open_verdicts) < len(st.status.reasons) else ""),
            1,
        )
        for r in st.status.reasons:
            if r.kind != "verdict":
                on = f" ({r.on})" if r.on else ""
                self.out(f"{words(r.kind)}{on}: {r.rule_id or r.supervisor_id} {r.detail}", 2)
        self.progress(st.progress)
        self.out(f"verdicts: {len(st.verdicts)}, by rule", 1)
        by_rule: dict[str, list[compliance.Verdict]] = defaultdict(list)
        for v in st.verdicts:
            by_rule[v.rule_id].append(v)
        for found in by_rule.values():
            first = found[0]
            self.out(
                f"{first.severity} {first.rule_id} ({sourced(first.src, first.confidence)}; "
                f"pack of {first.pack_effective_from}): {first.title}",
                2,
            )
            for v in found:
                self.verdict(v)
        self.out(f"windows: {len(st.windows)}", 1)
        empty: dict[str, list[compliance.WindowTally]] = defaultdict(list)
        for w in st.windows:
            if w.supervision_recorded_minutes or Decimal(w.practice_direct_minutes or "0"):
                self.window(w)
            else:
                empty[w.window.kind].append(w)
        for kind, windows in empty.items():
            self.out(
                f"{len(windows)} {words(kind)} windows with nothing recorded, "
                f"{windows[0].window.start}..{windows[-1].window.end}",
                2,
            )
        outcomes: dict[str, int] = defaultdict(int)
        for o in st.outcomes:
            outcomes[o.status] += 1
        judged = ", ".join(f"{words(k)} {n}" for k, n in sorted(outcomes.items()))
        self.out(f"rules judged over the windows and the program: {judged}", 1)
        for o in st.outcomes:
            if o.status == "not_evaluated":
                self.out(f"not evaluated: {o.rule_id or o.rule_kind}: {o.reason}", 2)
        self.incomplete(st)

    def progress(self, p: compliance.Progress) -> None:
        self.out(f"progress (the pack in force since {p.pack_effective_from}):", 1)
        for name, h in (
            ("total", p.total),
            ("direct client", p.direct_client),
            ("supervision", p.supervision),
        ):
            left = f", {decimal_hours(h.remaining_minutes)} to go" if h.required_minutes else ""
            note = f"; {h.note}" if h.note else ""
            self.out(
                f"{name}: {decimal_hours(h.counted_minutes)} counted of "
                f"{required(h.required_minutes)}{left} ({sourced(h.src, h.confidence)}){note}",
                2,
            )
        d = p.duration
        minimum = (
            f" of at least {d.min_months or d.min_weeks} {'months' if d.min_months else 'weeks'}"
            f": {words(d.minimum)}, reached on {d.minimum_reached_on}"
            if d.minimum
            else ""
        )
        self.out(
            f"since {d.started_on}: {d.months_elapsed} months ({d.weeks_elapsed} weeks){minimum}",
            2,
        )
        pace = f" at the pace of the last {p.pace_weeks} weeks" if p.pace_weeks else ""
        projected = p.projected_completion or "none"
        note = f" ({p.projection_note})" if p.projection_note else ""
        self.out(f"projected completion: {projected}{pace}{note}", 2)

    def verdict(self, v: compliance.Verdict) -> None:
        scope = ", ".join(
            x
            for x in (
                window_text(v.window),
                f"at {v.site_id}" if v.site_id else "",
                f"session {v.session_id}" if v.session_id else "",
            )
            if x
        )
        self.out(f"on {v.on}, {scope or 'the program'} [{v.verdict_id}]: {v.reason}", 3)
        n = v.not_counted
        if n.supervision_minutes or Decimal(n.direct_minutes or "0"):
            self.out(
                f"not counted: {hours(n.supervision_minutes)} of supervision, "
                f"{decimal_hours(n.direct_minutes)} direct and "
                f"{decimal_hours(n.indirect_minutes)} indirect practice",
                5,
            )
        evidence = list(v.evidence_event_ids)
        more = f" and {len(evidence) - 3} more" if len(evidence) > 3 else ""
        self.out(f"evidence: {', '.join(evidence[:3]) or 'none'}{more}", 5)
        if v.HasField("resolution"):
            self.out(self.resolution(v.resolution), 5)

    def window(self, w: compliance.WindowTally) -> None:
        at = f" at {w.site_id}" if w.site_id else ""
        running = " (running)" if w.running else ""
        kinds = ", ".join(
            f"{words(t.format)} {words(t.modality)} {hours(t.counted_minutes)}"
            + (
                f" of {hours(t.recorded_minutes)}"
                if t.counted_minutes != t.recorded_minutes
                else ""
            )
            for t in w.supervision
        )
        leave = f"; {w.leave_days} days of approved leave" if w.leave_days else ""
        counted = hours(w.supervision_counted_minutes)
        self.out(
            f"{window_text(w.window)}{at}{running}: supervision {counted}"
            f" counted of {hours(w.supervision_recorded_minutes)} recorded"
            + (f" ({kinds})" if kinds else "")
            + f"; practice {decimal_hours(w.practice_direct_counted_minutes)} direct, "
            f"{decimal_hours(w.practice_indirect_counted_minutes)} indirect counted{leave}",
            2,
        )

    def leave(self, who: str) -> None:
        st = self.view.GetSuperviseeStanding(supervisee_id=who)
        if st is None:
            return
        self.out("")
        self.out(f"== {who}: approved leave, as of {st.as_of} ==")
        on_leave = [w for w in st.windows if w.leave_days]
        if not on_leave:
            self.out("no window holds approved leave", 1)
        for w in on_leave:
            self.window(w)
            for o in st.outcomes:
                if o.window == w.window and o.site_id == w.site_id:
                    self.out(f"{o.rule_id}: {words(o.status)}: {o.reason}", 3)

    def incomplete(self, view: Any) -> None:
        if view.incomplete:
            self.out(f"INCOMPLETE: {len(view.unapplied_events)} events not applied", 1)
            for u in view.unapplied_events:
                self.out(f"{u.event_type} {u.event_id}: {u.reason}", 2)

    def coaching(self) -> None:
        self.out("")
        self.out("== coaching engagements (CoachingService) ==")
        for engagement_id in (
            "eng-aus-7f3a",
            "eng-sac-2291",
            engagement_id_for_referral("ref-sac-0302-coaching"),
        ):
            e = self.app.calls.coaching.GetEngagement(engagement_id=engagement_id)
            if e is None:
                continue
            opened = f" (opened by referral {e.referral_id})" if e.referral_id else ""
            closed = f" {e.outcome} {e.closed_on}" if e.closed_on else ""
            self.out(
                f"{e.engagement_id} at {e.site_id}, {e.coach_id}{opened}: {e.status}{closed}", 1
            )
            goals = ", ".join(f"{g.goal_id} {g.status}" for g in e.goals) or "-"
            homework = ", ".join(f"{h.homework_id} {h.status}" for h in e.homework) or "-"
            self.out(
                f"{len(e.sessions)} sessions, {e.progress_notes} notes; goals {goals}; "
                f"homework {homework}",
                2,
            )
            for c in e.concerns:
                self.out(f"concern {c.concern_id} {c.raised_on}: {c.status}, {c.recommendation}", 2)


def main() -> None:
    with staff_app(Addresses.from_env()) as app:
        app.keep_going = True
        story = Story(app)
        try:
            story.play()
            print("waiting for the compliance view to show all of it ...", flush=True)
            left = eventually(
                app,
                "the compliance view to show the whole scenario",
                lambda: story.expect.differences(app),
                lambda differences: not differences,
                timeout=120,
            )
            for difference in left:
                app.tally.failed(f"not shown: {difference}")
            officer = Oversight(app)
            officer.decide()
            for difference in eventually(
                app,
                "the standings to show the officer's decisions",
                officer.shown,
                lambda differences: not differences,
                timeout=60,
            ):
                app.tally.failed(f"not shown: {difference}")
            tally = app.tally
            print(f"\nrecorded {tally.recorded} new commands; {tally.already} already recorded")
            every = command_rpcs()
            missing = [rpc for rpc in every if rpc not in tally.called]
            print(f"command RPCs called: {len(every) - len(missing)} of {len(every)}")
            for rpc in missing:
                print(f"  not called: {rpc}")
            print(f"\ncompliance view as of {TODAY}:")
            print("\n".join(Report(app).build()))
        except grpc.RpcError as error:
            details = f"{error.code().name}: {error.details()}"
            sys.exit(f"demo: {details} (is `make run` running?)")
        if app.tally.failures:
            print(f"\n{len(app.tally.failures)} call(s) or waits failed:")
            for failure in app.tally.failures:
                print(f"  {failure}")
            sys.exit(1)


if __name__ == "__main__":
    main()
