"""One table of scenarios per credential track: what is recorded, and how each board's rules
judge it on a date, computed by hand from the rule packs (contracts/src/contracts/rulepacks/
packs; every source tag resolves in sources.md beside them).

The table is data. `tests/e2e/test_track_scenarios.py` plays it through the services' gRPC APIs
and reads the standing the compliance service answers; the engine's unit tests judge the same
facts in process (`services/compliance/tests/unit/engine/test_engine_track_scenarios.py`).

How a scenario is read:

- The supervisor holds a license of the track's state (issued 2010-01-04, expiring 2030-12-31)
  and, where the board asks one, its supervisor designation (granted 2015-01-05), unless the
  scenario says otherwise.
- Most scenarios play one month, May 2026: registered and under an agreement from Monday May 4,
  practice recorded for the four weeks from May 4 to May 31, judged as of Sunday May 31, so
  that every week, fortnight and month is over. Their sessions are put on the record when the
  suite runs, months after they were held: the organization's policy of a record within 7 days
  (`org.contemporaneous-record`, ORG) finds each of them, and their supervisee is out of
  compliance whatever else holds.
- The scenarios that show a compliant standing play the last complete calendar week before the
  suite runs (`RECENT`), their sessions recorded within 7 days.
- A group session is held with the fewest other supervisees the track's group admits (two, or
  one under TX-LMSW-TO-LCSW, whose group starts at two: TX6), each under the same kind of
  agreement; a triadic session with one other.

What a scenario expects of the rules of the pack version in force on its date: the rule ids
violated, met and not evaluated (a figure the board's text does not confirm, or does not give,
is "not_evaluated"), each set exact; any other rule of the pack was not applicable or is still
running. A rule of sessions judges every session (a group rule an individual session too, which
meets it); one with no session to judge, or a share with no supervision counted, is not
applicable; a cap with nothing above it (no week over 40 h, even with no practice recorded) and
a rule of the program that found nothing wrong (no hour too old, no evaluation due yet) are met.
A rule judged over several windows is violated when any window is, else not evaluated when any
is, else met when any is. And the supervisee's status level, and where a scenario is about what
counts, the supervision minutes counted toward the license.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Format = Literal["individual", "triadic", "group"]
Modality = Literal["in_person", "video", "phone"]
Level = Literal["compliant", "at_risk", "out_of_compliance", "not_evaluated"]

# The order in which a rule's outcomes over its windows decide what it is overall.
_PRECEDENCE = ("violated", "not_evaluated", "met", "running", "not_applicable")


def _last_complete_week(today: dt.date) -> dt.date:
    """The Monday of the last calendar week (Monday to Sunday) that has ended by `today`."""
    return today - dt.timedelta(days=today.weekday() + 7)


# A session on this week's Sunday is recorded within 7 days whenever the suite runs in the week
# after it (ORG: a record within 7 days).
RECENT = _last_complete_week(dt.datetime.now(dt.UTC).date())


def recent(days: int) -> str:
    """A day of the last complete week: 0 is its Monday, 6 its Sunday."""
    return (RECENT + dt.timedelta(days=days)).isoformat()


@dataclass(frozen=True, slots=True)
class Supervisor:
    """The supervisor's credentials in the registry, in the track's state."""

    license_kind: str
    designation: str | None = None
    licensed_since: str = "2010-01-04"
    license_expires: str = "2030-12-31"
    designation_granted: str = "2015-01-05"
    # What the designation's training was (TX3: 40 hours for the LPC-S; OH3: 24 for the LPCC-S).
    training_hours: int = 40
    # Another license the supervisor holds in the state, of another kind: (kind, issued on).
    other_license: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Session:
    date: str
    minutes: int
    format: Format = "individual"
    modality: Modality = "in_person"
    techniques: tuple[str, ...] = ("case_review",)


@dataclass(frozen=True, slots=True)
class Practice:
    """A week of practice at the scenario's site (week_start is a Monday)."""

    week_start: str
    direct_hours: float
    indirect_hours: float = 0


@dataclass(frozen=True, slots=True)
class Expected:
    level: Level
    violated: frozenset[str] = frozenset()
    met: frozenset[str] = frozenset()
    not_evaluated: frozenset[str] = frozenset()
    # Supervision minutes counted toward the license (progress), where the scenario is about it.
    supervision_counted_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class TrackScenario:
    name: str
    track: str
    # The source tags (sources.md) of the board's text the scenario checks.
    checks: str
    supervisor: Supervisor
    as_of: str
    expect: Expected
    registered_on: str = "2026-05-04"
    agreement_start: str = "2026-05-04"
    agreement_end: str = "2027-12-31"
    # The board's approval of the agreement, where the track needs one (FL5).
    approved_on: str | None = None
    sessions: tuple[Session, ...] = ()
    practice: tuple[Practice, ...] = ()
    # Months ("YYYY-MM") the supervisor signed off, and the day each was signed.
    sign_offs: tuple[tuple[str, str], ...] = ()

    @property
    def state(self) -> str:
        return self.track[:2]

    @property
    def others_in_a_group(self) -> int:
        """The other supervisees a group session is held with: the smallest group less one."""
        return 1 if self.track == "TX-LMSW-TO-LCSW" else 2

    @property
    def others_needed(self) -> int:
        formats = {s.format for s in self.sessions}
        if "group" in formats:
            return self.others_in_a_group
        return 1 if "triadic" in formats else 0

    def others_in(self, session: Session) -> int:
        return {"individual": 0, "triadic": 1, "group": self.others_in_a_group}[session.format]


def rule_statuses(outcomes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each rule's overall outcome from its outcomes (rule id, status) over every window."""
    seen: dict[str, set[str]] = {}
    for rule_id, status in outcomes:
        if rule_id:
            seen.setdefault(rule_id, set()).add(status)
    return {
        rule_id: next(s for s in _PRECEDENCE if s in statuses) for rule_id, statuses in seen.items()
    }


def by_status(statuses: dict[str, str], status: str) -> frozenset[str]:
    return frozenset(r for r, s in statuses.items() if s == status)


def _ids(track: str, *names: str) -> frozenset[str]:
    prefix = track.lower()
    return frozenset(n if n.startswith("org.") else f"{prefix}.{n}" for n in names)


LATE = "org.contemporaneous-record"


def _may(direct: float, indirect: float = 0) -> tuple[Practice, ...]:
    """Practice in each of the four weeks of May 2026 from Monday May 4."""
    return tuple(Practice(day, direct, indirect) for day in MAY_WEEKS)


MARCH_WEEKS = ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23")
MAY_WEEKS = ("2026-05-04", "2026-05-11", "2026-05-18", "2026-05-25")
JUNE_WEEKS = ("2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22")

TX_LPC = "TX-LPC-ASSOCIATE"
TX_LMSW = "TX-LMSW-TO-LCSW"
CA_AMFT = "CA-AMFT"
CA_ASW = "CA-ASW"
NY = "NY-LMHC-LIMITED-PERMIT"
FL = "FL-RMHCI"
IL_LPC = "IL-LPC-TO-LCPC"
IL_LCSW = "IL-LCSW"
OH = "OH-LPC-TO-LPCC"
NC = "NC-LCMHCA"

LPC_S = Supervisor("LPC", "LPC-S")

SCENARIOS: tuple[TrackScenario, ...] = (
    # TX1: at least 4 h of supervision in each calendar month in which the associate counselled.
    # May: 2 h + 1.5 h = 3.5 h < 4 h in a month of practice: a finding that withdraws nothing.
    # Group share 0 % <= 50 % (TX1); one supervisor <= 2 (TX2); an LPC-S on an active LPC (TX3;
    # TX4), licensed 16 years >= 5 (TX4). TX1 gives no maximum duration and TX4 no evaluation
    # cadence: not evaluated.
    TrackScenario(
        name="tx-lpc: 3.5 hours of supervision in a month of practice",
        track=TX_LPC,
        checks="TX1",
        supervisor=LPC_S,
        sessions=(Session("2026-05-05", 120), Session("2026-05-19", 90)),
        practice=_may(20, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LPC, "monthly-minimum", LATE),
            met=_ids(
                TX_LPC,
                "group-share",
                "concurrent-supervisors",
                "supervisor-designation",
                "supervisor-years",
            ),
            not_evaluated=_ids(TX_LPC, "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=210,
        ),
    ),
    # TX1 as the month runs: practice recorded in May and no supervision yet on May 26, five days
    # before the month ends (fewer than the organization's 7, ORG): at risk, not yet violated.
    # Nothing else is judged: no session, no supervision to share.
    TrackScenario(
        name="tx-lpc: a month of practice running short of supervision",
        track=TX_LPC,
        checks="TX1;ORG",
        supervisor=LPC_S,
        practice=_may(20, 5)[:3],
        as_of="2026-05-26",
        expect=Expected(
            level="at_risk",
            met=_ids(TX_LPC, "concurrent-supervisors"),
            not_evaluated=_ids(TX_LPC, "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=0,
        ),
    ),
    # TX1: group supervision counts for no more than half of the supervision counted. May: 1 h
    # individual, 3 h group (4 h: the month's minimum is met). Group may count as much as the
    # individual, 1 h: the latest 2 h of group do not count (a void). Counted: 60 + 60 minutes.
    TrackScenario(
        name="tx-lpc: three hours of group beside one of individual",
        track=TX_LPC,
        checks="TX1",
        supervisor=LPC_S,
        sessions=(
            Session("2026-05-05", 60),
            Session("2026-05-12", 90, format="group"),
            Session("2026-05-19", 90, format="group"),
        ),
        practice=_may(20, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LPC, "group-share", LATE),
            met=_ids(
                TX_LPC,
                "monthly-minimum",
                "concurrent-supervisors",
                "supervisor-designation",
                "supervisor-years",
            ),
            not_evaluated=_ids(TX_LPC, "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=120,
        ),
    ),
    # TX4: the supervisor has been licensed at least 5 years (60 months as a full LPC) on the
    # session's date. Licensed since 2022-09-01, an LPC-S since 2024-01-08: 3 years and 8
    # months on May 5 and 19, 2026. Both sessions are void (4 h that do not count); the month
    # then holds no supervision that counts, so TX1's monthly minimum is violated too.
    TrackScenario(
        name="tx-lpc: a supervisor licensed less than five years",
        track=TX_LPC,
        checks="TX4;TX1",
        supervisor=Supervisor(
            "LPC", "LPC-S", licensed_since="2022-09-01", designation_granted="2024-01-08"
        ),
        sessions=(Session("2026-05-05", 120), Session("2026-05-19", 120)),
        practice=_may(20, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LPC, "supervisor-years", "monthly-minimum", LATE),
            met=_ids(TX_LPC, "concurrent-supervisors", "supervisor-designation"),
            not_evaluated=_ids(TX_LPC, "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=0,
        ),
    ),
    # TX4: 60 months as a full LPC. The supervisor has been an LMFT since 2010 and an LPC only
    # since 2023-03-01 (an LPC-S since 2024-06-03): 3 years and 2 months as an LPC in May 2026.
    # The years as an LMFT are not years as an LPC: both sessions are void, and May then holds
    # no supervision that counts (TX1).
    TrackScenario(
        name="tx-lpc: a supervisor long an LMFT, an LPC for three years",
        track=TX_LPC,
        checks="TX4;TX1",
        supervisor=Supervisor(
            "LPC",
            "LPC-S",
            licensed_since="2023-03-01",
            designation_granted="2024-06-03",
            other_license=("LMFT", "2010-01-04"),
        ),
        sessions=(Session("2026-05-05", 120), Session("2026-05-19", 120)),
        practice=_may(20, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LPC, "supervisor-years", "monthly-minimum", LATE),
            met=_ids(TX_LPC, "concurrent-supervisors", "supervisor-designation"),
            not_evaluated=_ids(TX_LPC, "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=0,
        ),
    ),
    # TX6: no more than 10 hours of supervision count in a calendar month. May: 5 sessions of
    # 2.4 h = 12 h; the latest 2 h do not count (a void), 10 h do. The 48 months of TX5 have
    # not run out, no hour is older than 5 years (TX5); an LCSW-S on an active LCSW (TX6), held
    # 16 years >= 2 (TX6). Group share: not confirmed.
    TrackScenario(
        name="tx-lmsw: a 12-hour month under the 10-hour cap",
        track=TX_LMSW,
        checks="TX6",
        supervisor=Supervisor("LCSW", "LCSW-S"),
        sessions=tuple(
            Session(day, 144)
            for day in ("2026-05-04", "2026-05-11", "2026-05-18", "2026-05-25", "2026-05-29")
        ),
        practice=_may(30, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LMSW, "monthly-cap", LATE),
            met=_ids(
                TX_LMSW, "duration-max", "lookback", "supervisor-designation", "supervisor-years"
            ),
            not_evaluated=_ids(TX_LMSW, "group-share"),
            supervision_counted_minutes=600,
        ),
    ),
    # TX6: the supervisor has held the license category (LCSW) at least 2 years. An LPC since
    # 2010, an LCSW only since 2025-03-03 (an LCSW-S since 2025-09-01): 14 months as an LCSW in
    # May 2026. Both sessions are void; nothing counts, so nothing is above the cap.
    TrackScenario(
        name="tx-lmsw: a supervisor an LCSW for fourteen months",
        track=TX_LMSW,
        checks="TX6",
        supervisor=Supervisor(
            "LCSW",
            "LCSW-S",
            licensed_since="2025-03-03",
            designation_granted="2025-09-01",
            other_license=("LPC", "2010-01-04"),
        ),
        sessions=(Session("2026-05-04", 120), Session("2026-05-18", 120)),
        practice=_may(30, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(TX_LMSW, "supervisor-years", LATE),
            met=_ids(TX_LMSW, "monthly-cap", "duration-max", "lookback", "supervisor-designation"),
            not_evaluated=_ids(TX_LMSW, "group-share"),
            supervision_counted_minutes=0,
        ),
    ),
    # CA1: no more than 40 hours of experience count in a week (judged per calendar week). The
    # week of May 11 holds 40 direct + 5 indirect = 45 h: 5 h do not count (a void). The weekly
    # unit and the extra unit of a busy week are unconfirmed for AMFTs (TYH1): not evaluated;
    # so is the group share (CA5 gives no figure). No hour is older than 6 years (CA1); the
    # first evaluation is due a year after the agreement started (CA3).
    TrackScenario(
        name="ca-amft: a 45-hour week",
        track=CA_AMFT,
        checks="CA1;TYH1",
        supervisor=Supervisor("LMFT"),
        sessions=tuple(Session(day, 60) for day in ("2026-05-05", "2026-05-12", "2026-05-19")),
        practice=(
            Practice("2026-05-04", 20, 5),
            Practice("2026-05-11", 40, 5),
            Practice("2026-05-18", 20, 5),
            Practice("2026-05-25", 20, 5),
        ),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(CA_AMFT, "practice-cap", LATE),
            met=_ids(CA_AMFT, "lookback", "evaluation-cadence"),
            not_evaluated=_ids(CA_AMFT, "weekly-unit", "extra-unit", "group-share"),
            supervision_counted_minutes=180,
        ),
    ),
    # TYH3/TYH6: one unit a week in each work setting (1 h individual, or 2 h group: CA5); a week
    # without one counts none of its hours there. The week of May 18 holds 1 h of group, half a
    # unit: a finding (weekly unit) and a void (its hour of group and its practice do not
    # count). Ten direct hours a week are not above ten: no extra unit is asked. The group share
    # and the evaluation cadence are unconfirmed for ASWs: not evaluated. 40 h a week at most
    # (CA4): 20 h held.
    TrackScenario(
        name="ca-asw: a week without a unit of supervision",
        track=CA_ASW,
        checks="TYH3;TYH6;CA5",
        supervisor=Supervisor("LCSW"),
        sessions=(
            Session("2026-05-05", 60),
            Session("2026-05-12", 60),
            Session("2026-05-19", 60, format="group"),
            Session("2026-05-26", 60),
        ),
        practice=_may(10, 10),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(CA_ASW, "weekly-unit", "week-without-a-unit", LATE),
            met=_ids(CA_ASW, "practice-cap", "lookback"),
            not_evaluated=_ids(CA_ASW, "group-share", "evaluation-cadence"),
            supervision_counted_minutes=180,
        ),
    ),
    # TYH6: a second unit in a week of more than 10 direct client hours. 12 direct hours in each
    # week of May and one unit (1 h individual) in each: every week meets its first unit (and
    # is no week without a unit, TYH3) but misses the second: four findings, nothing withdrawn.
    TrackScenario(
        name="ca-asw: busy weeks with a single unit",
        track=CA_ASW,
        checks="TYH6",
        supervisor=Supervisor("LCSW"),
        sessions=tuple(
            Session(day, 60) for day in ("2026-05-05", "2026-05-12", "2026-05-19", "2026-05-26")
        ),
        practice=_may(12, 8),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(CA_ASW, "extra-unit", LATE),
            met=_ids(CA_ASW, "weekly-unit", "week-without-a-unit", "practice-cap", "lookback"),
            not_evaluated=_ids(CA_ASW, "group-share", "evaluation-cadence"),
            supervision_counted_minutes=240,
        ),
    ),
    # NY1: the research could not read what qualifies a supervisor, and gives no group share and
    # no evaluation cadence: all three are not evaluated. A session recorded two days after it
    # was held meets the organization's policy (ORG). Nothing else to judge: compliant, with
    # three rules reported not evaluated.
    TrackScenario(
        name="ny-lmhc: a week of practice and supervision, the board's figures unconfirmed",
        track=NY,
        checks="NY1;ORG",
        supervisor=Supervisor("LMHC"),
        registered_on=recent(0),
        agreement_start=recent(0),
        sessions=(Session(recent(6), 60),),
        practice=(Practice(recent(0), 20, 5),),
        as_of=recent(6),
        expect=Expected(
            level="compliant",
            met=_ids(NY, LATE),
            not_evaluated=_ids(NY, "group-share", "supervisor-qualified", "evaluation-cadence"),
            supervision_counted_minutes=60,
        ),
    ),
    # FL1;FL2: group supervision counts only when held in person. The group session of May 12
    # was held by video: void (2 h). What is left: 1 h individual in person in each fortnight
    # from the registration (May 4-17, May 18-31: FL1's hour every two weeks), 2 h for 20 direct
    # hours (FL1: 1 per 15, 80 minutes asked), all of it in person, the first session included
    # (FL2). The agreement was approved by the board on May 4, before any session (FL5); a
    # board-approved qualified supervisor on an active license (FL3;FL5).
    TrackScenario(
        name="fl-rmhci: a group session held by video",
        track=FL,
        checks="FL1;FL2",
        supervisor=Supervisor("LMHC", "QUALIFIED-SUPERVISOR", training_hours=12),
        approved_on="2026-05-04",
        sessions=(
            Session("2026-05-05", 60),
            Session("2026-05-12", 120, format="group", modality="video"),
            Session("2026-05-19", 60),
        ),
        practice=_may(5, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(FL, "group-in-person", LATE),
            met=_ids(
                FL,
                "fortnightly-minimum",
                "per-practice-hours",
                "group-alternates",
                "no-telephone",
                "in-person-share",
                "supervisor-qualified",
                "board-approval",
            ),
            supervision_counted_minutes=120,
        ),
    ),
    # FL5: no hour under an agreement counts before the board approved it. Approved on May 15:
    # the session of May 5 is void. The first fortnight (May 4-17) then holds no hour that
    # counts (FL1: a finding); the second holds the hour of May 19. 12 direct hours ask 48
    # minutes (FL1), 60 count; the first session counted (May 19) was in person (FL2).
    TrackScenario(
        name="fl-rmhci: a session before the board approved the agreement",
        track=FL,
        checks="FL5;FL1",
        supervisor=Supervisor("LMHC", "QUALIFIED-SUPERVISOR", training_hours=12),
        approved_on="2026-05-15",
        sessions=(Session("2026-05-05", 60), Session("2026-05-19", 60)),
        practice=_may(3, 2),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(FL, "board-approval", "fortnightly-minimum", LATE),
            met=_ids(
                FL,
                "per-practice-hours",
                "group-in-person",
                "group-alternates",
                "no-telephone",
                "in-person-share",
                "supervisor-qualified",
            ),
            supervision_counted_minutes=60,
        ),
    ),
    # FL2: at least half of the supervision in person, the first meeting included. 2 h of the 3
    # are in person (67 % >= 50 %), but the first session, May 5, was by video: a finding. Each
    # fortnight holds its hour (FL1); 20 direct hours ask 80 minutes (FL1), 180 count.
    TrackScenario(
        name="fl-rmhci: the first supervision session held by video",
        track=FL,
        checks="FL2",
        supervisor=Supervisor("LMHC", "QUALIFIED-SUPERVISOR", training_hours=12),
        approved_on="2026-05-04",
        sessions=(
            Session("2026-05-05", 60, modality="video"),
            Session("2026-05-12", 60),
            Session("2026-05-19", 60),
        ),
        practice=_may(5, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(FL, "in-person-share", LATE),
            met=_ids(
                FL,
                "fortnightly-minimum",
                "per-practice-hours",
                "group-alternates",
                "group-in-person",
                "no-telephone",
                "supervisor-qualified",
                "board-approval",
            ),
            supervision_counted_minutes=180,
        ),
    ),
    # IL3: at least 1 h of supervision in each week of practice. The week of May 18 holds 30
    # minutes: a finding. An active LCPC (IL1;IL2). IL3 gives no group share, IL2 no maximum
    # duration, and no evaluation cadence is confirmed: not evaluated.
    TrackScenario(
        name="il-lpc: a week of practice with half an hour of supervision",
        track=IL_LPC,
        checks="IL3",
        supervisor=Supervisor("LCPC"),
        sessions=(
            Session("2026-05-05", 60),
            Session("2026-05-12", 60),
            Session("2026-05-19", 30),
            Session("2026-05-26", 60),
        ),
        practice=_may(25, 10),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(IL_LPC, "weekly-minimum", LATE),
            met=_ids(IL_LPC, "supervisor-license"),
            not_evaluated=_ids(IL_LPC, "group-share", "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=210,
        ),
    ),
    # IL3 in the last complete week: 1 h of individual supervision in a week of practice, by an
    # active LCPC (IL1;IL2), recorded within 7 days (ORG): compliant.
    TrackScenario(
        name="il-lpc: a week of practice with its hour of supervision",
        track=IL_LPC,
        checks="IL3;IL1;IL2",
        supervisor=Supervisor("LCPC"),
        registered_on=recent(0),
        agreement_start=recent(0),
        sessions=(Session(recent(6), 60),),
        practice=(Practice(recent(0), 25, 10),),
        as_of=recent(6),
        expect=Expected(
            level="compliant",
            met=_ids(IL_LPC, "weekly-minimum", "supervisor-license", LATE),
            not_evaluated=_ids(IL_LPC, "group-share", "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=60,
        ),
    ),
    # IL1;IL2: the supervisor holds an LCPC, LCSW, clinical psychologist's, psychiatrist's or
    # LMFT license. An LPC is none of them: both sessions are void, and each week then holds no
    # supervision that counts (IL3).
    TrackScenario(
        name="il-lpc: a supervisor licensed as an LPC only",
        track=IL_LPC,
        checks="IL1;IL2;IL3",
        supervisor=Supervisor("LPC"),
        sessions=(Session("2026-05-05", 60), Session("2026-05-12", 60)),
        practice=_may(25, 10)[:2],
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(IL_LPC, "supervisor-license", "weekly-minimum", LATE),
            not_evaluated=_ids(IL_LPC, "group-share", "duration-max", "evaluation-cadence"),
            supervision_counted_minutes=0,
        ),
    ),
    # IL6: at least 4 h of supervision a month on average. May holds 5 h, June 3 h: 4 h on
    # average over the two months of practice, met, though June alone is short.
    TrackScenario(
        name="il-lcsw: a short month made up by the month before",
        track=IL_LCSW,
        checks="IL6",
        supervisor=Supervisor("LCSW"),
        sessions=(
            Session("2026-05-05", 180),
            Session("2026-05-19", 120),
            Session("2026-06-02", 120),
            Session("2026-06-16", 60),
        ),
        practice=_may(30, 5) + tuple(Practice(day, 30, 5) for day in JUNE_WEEKS),
        as_of="2026-06-30",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(IL_LCSW, LATE),
            met=_ids(IL_LCSW, "monthly-average"),
            supervision_counted_minutes=480,
        ),
    ),
    # IL6 when the average falls short: May alone, 3 h < 4 h: a finding.
    TrackScenario(
        name="il-lcsw: three hours in the only month of practice",
        track=IL_LCSW,
        checks="IL6",
        supervisor=Supervisor("LCSW"),
        sessions=(Session("2026-05-05", 120), Session("2026-05-19", 60)),
        practice=_may(30, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(IL_LCSW, "monthly-average", LATE),
            supervision_counted_minutes=180,
        ),
    ),
    # OH3: supervision by telephone does not count. The session of May 12 was by phone: void
    # (1 h). An LPCC-S on an active LPCC (OH3), licensed 16 years >= 1 (OH3). The second
    # quarter's log is to be signed within 30 days after June 30 (OH3;ORG): still running. The
    # group share is not confirmed.
    TrackScenario(
        name="oh-lpc: a supervision session by phone",
        track=OH,
        checks="OH3",
        supervisor=Supervisor("LPCC", "LPCC-S", training_hours=24),
        sessions=(Session("2026-05-05", 60), Session("2026-05-12", 60, modality="phone")),
        practice=_may(20, 5),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(OH, "no-telephone", LATE),
            met=_ids(OH, "supervisor-designation", "supervisor-years"),
            not_evaluated=_ids(OH, "group-share"),
            supervision_counted_minutes=60,
        ),
    ),
    # OH3: the supervisor signs the log of every quarter, within 30 days after it ends (the 30
    # days are ORG's). Supervision and practice in March, the first quarter's log not signed by
    # April 30: a finding as of May 31. Nothing is recorded in the second quarter.
    TrackScenario(
        name="oh-lpc: a quarter's log left unsigned",
        track=OH,
        checks="OH3;ORG",
        supervisor=Supervisor("LPCC", "LPCC-S", training_hours=24),
        registered_on="2026-01-05",
        agreement_start="2026-01-05",
        sessions=(Session("2026-03-03", 60), Session("2026-03-17", 60)),
        practice=tuple(Practice(day, 20, 5) for day in MARCH_WEEKS),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(OH, "quarterly-sign-off", LATE),
            met=_ids(OH, "no-telephone", "supervisor-designation", "supervisor-years"),
            not_evaluated=_ids(OH, "group-share"),
            supervision_counted_minutes=120,
        ),
    ),
    # OH3 when the log is signed: January to March signed on April 10, within the 30 days.
    TrackScenario(
        name="oh-lpc: a quarter's log signed in time",
        track=OH,
        checks="OH3;ORG",
        supervisor=Supervisor("LPCC", "LPCC-S", training_hours=24),
        registered_on="2026-01-05",
        agreement_start="2026-01-05",
        sessions=(Session("2026-03-03", 60), Session("2026-03-17", 60)),
        practice=tuple(Practice(day, 20, 5) for day in MARCH_WEEKS),
        sign_offs=(("2026-01", "2026-04-10"), ("2026-02", "2026-04-10"), ("2026-03", "2026-04-10")),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(OH, LATE),
            met=_ids(
                OH,
                "quarterly-sign-off",
                "no-telephone",
                "supervisor-designation",
                "supervisor-years",
            ),
            not_evaluated=_ids(OH, "group-share"),
            supervision_counted_minutes=120,
        ),
    ),
    # NC2;NC3: at least 75 % of the supervision counted is individual. Two group sessions of 2 h
    # and nothing else: 0 % individual, a finding. The rest holds: 15 h of practice a week
    # (<= 40, NC2); 60 h of practice and 4 h of group supervision ask 64/40 = 1.6 h weighted, and
    # 4 h of group weigh 2 h (NC3); the sessions rest on a recording (NC3); an LCMHCS on an
    # active license (NC4); the first quarterly report is due on August 4 (NC1;NC5).
    TrackScenario(
        name="nc-lcmhca: only group supervision",
        track=NC,
        checks="NC2;NC3",
        supervisor=Supervisor("LCMHC", "LCMHCS", training_hours=45),
        sessions=(
            Session("2026-05-05", 120, format="group", techniques=("recording_review",)),
            Session("2026-05-19", 120, format="group", techniques=("case_review",)),
        ),
        practice=_may(15),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(NC, "individual-share", LATE),
            met=_ids(
                NC,
                "practice-cap",
                "per-practice-hours",
                "raw-data",
                "supervisor-designation",
                "evaluation-cadence",
            ),
            supervision_counted_minutes=240,
        ),
    ),
    # NC1;NC5: the supervisor reports on the associate every quarter (recorded as a competency
    # evaluation). Under an agreement from January 5, the first report was due on April 5 and
    # none is on the record by May 31: a finding. March's supervision holds: 60 h of practice
    # ask 1.5 h, 2 h individual were held on a recording (NC3).
    TrackScenario(
        name="nc-lcmhca: a quarterly report overdue",
        track=NC,
        checks="NC1;NC5",
        supervisor=Supervisor("LCMHC", "LCMHCS", training_hours=45),
        registered_on="2026-01-05",
        agreement_start="2026-01-05",
        sessions=(
            Session("2026-03-03", 60, techniques=("recording_review",)),
            Session("2026-03-17", 60),
        ),
        practice=tuple(Practice(day, 15) for day in MARCH_WEEKS),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(NC, "evaluation-cadence", LATE),
            met=_ids(
                NC,
                "practice-cap",
                "per-practice-hours",
                "individual-share",
                "raw-data",
                "supervisor-designation",
            ),
            supervision_counted_minutes=120,
        ),
    ),
    # NC1;NC5 as the quarter ends: under an agreement from March 2, the first report is due on
    # June 2; on May 10 that is 23 days away, within the organization's 30 (ORG): at risk.
    # Nothing else is recorded yet: no week holds more than 40 h (NC2), and nothing else is
    # judged.
    TrackScenario(
        name="nc-lcmhca: a quarterly report falling due",
        track=NC,
        checks="NC1;NC5;ORG",
        supervisor=Supervisor("LCMHC", "LCMHCS", training_hours=45),
        registered_on="2026-03-02",
        agreement_start="2026-03-02",
        as_of="2026-05-10",
        expect=Expected(
            level="at_risk", met=_ids(NC, "practice-cap"), supervision_counted_minutes=0
        ),
    ),
    # NC3: 1 h of individual supervision, or 2 of group, for every 40 h of practice, individual
    # supervision not being practice. 35 h of practice a week, 140 h in May, ask 3.5 h; 2 h of
    # individual supervision were held: a finding, nothing withdrawn. All of it individual
    # (NC2;NC3), on a recording (NC3).
    TrackScenario(
        name="nc-lcmhca: 140 hours of practice and two of supervision",
        track=NC,
        checks="NC3",
        supervisor=Supervisor("LCMHC", "LCMHCS", training_hours=45),
        sessions=(
            Session("2026-05-05", 60, techniques=("recording_review",)),
            Session("2026-05-19", 60),
        ),
        practice=_may(35),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(NC, "per-practice-hours", LATE),
            met=_ids(
                NC,
                "practice-cap",
                "individual-share",
                "raw-data",
                "supervisor-designation",
                "evaluation-cadence",
            ),
            supervision_counted_minutes=120,
        ),
    ),
    # NC3: supervision rests on raw data (live observation, recordings), not on self-report alone
    # (judged per month, ORG). May's two sessions are case reviews only: a finding. 60 h of
    # practice ask 1.5 h, 2 h individual were held (NC3).
    TrackScenario(
        name="nc-lcmhca: a month of supervision on self-report alone",
        track=NC,
        checks="NC3;ORG",
        supervisor=Supervisor("LCMHC", "LCMHCS", training_hours=45),
        sessions=(Session("2026-05-05", 60), Session("2026-05-19", 60)),
        practice=_may(15),
        as_of="2026-05-31",
        expect=Expected(
            level="out_of_compliance",
            violated=_ids(NC, "raw-data", LATE),
            met=_ids(
                NC,
                "practice-cap",
                "per-practice-hours",
                "individual-share",
                "supervisor-designation",
                "evaluation-cadence",
            ),
            supervision_counted_minutes=120,
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Seen:
    """What a standing says, as the table compares it."""

    level: str
    statuses: dict[str, str]
    verdict_rules: frozenset[str]
    supervision_counted_minutes: int
    # Outcomes worth showing when a scenario fails.
    detail: list[str] = field(default_factory=list)


def differences(scenario: TrackScenario, seen: Seen) -> list[str]:
    """What the standing says that the scenario does not expect, in words."""
    expect = scenario.expect
    found: list[str] = []
    if seen.level != expect.level:
        found.append(f"status {seen.level!r}, expected {expect.level!r}")
    for status, wanted in (
        ("violated", expect.violated),
        ("met", expect.met),
        ("not_evaluated", expect.not_evaluated),
    ):
        got = by_status(seen.statuses, status)
        if got != wanted:
            found.append(
                f"{status}: unexpected {sorted(got - wanted)}, missing {sorted(wanted - got)}"
            )
    if seen.verdict_rules != expect.violated:
        found.append(
            f"verdicts of {sorted(seen.verdict_rules)}, expected {sorted(expect.violated)}"
        )
    wanted_minutes = expect.supervision_counted_minutes
    if wanted_minutes is not None and seen.supervision_counted_minutes != wanted_minutes:
        found.append(
            f"{seen.supervision_counted_minutes} supervision minutes counted, expected "
            f"{wanted_minutes}"
        )
    return found
