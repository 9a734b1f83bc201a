"""What coaches ask the coaching service to record, and what other services' facts make it
record. Each command checks its own fields.

A coach never diagnoses or treats, so no command has a diagnosis, a treatment or a clinical
field; unknown fields are refused. Ids of goals, sessions, homework and notes are chosen by the
client and are unique within their engagement; a retry reuses them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import ClassVar, Self

from pydantic import model_validator

from coaching.domain.errors import (
    CoachingSessionLengthMustBeWithinBounds,
    GoalMustBeTimeBound,
    GoalsMustBeListedOnce,
    HomeworkMustNotBeDueBeforeItIsAssigned,
)
from coaching.domain.policy import engagement_id_for_referral
from coaching.domain.values import (
    ConcernUrgency,
    EngagementOutcome,
    LongText,
    Progress,
    Recommendation,
    ShortText,
)
from infra.ddd import Command, Id

# Sanity bounds on one coaching session, not a professional rule: shorter is a data-entry slip
# rather than a session, longer is not one sitting.
MIN_SESSION_MINUTES = 5
MAX_SESSION_MINUTES = 240


def _listed_once(goal_ids: tuple[str, ...]) -> None:
    duplicates = [goal_id for goal_id, n in Counter(goal_ids).items() if n > 1]
    if duplicates:
        raise GoalsMustBeListedOnce(duplicates)


class OpenEngagement(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id",)
    engagement_id: Id
    # Pseudonymous: the coaching record never holds a client's identity.
    client_id: Id
    coach_id: Id
    site_id: Id
    opened_on: dt.date


class OpenEngagementForReferral(Command):
    """Therapy recommended coaching and the coach accepted the referral: the engagement opens on
    its own, with an id derived from the referral so that it opens once."""

    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)

    referral_id: Id
    client_id: Id
    # Who accepted the referral at coaching: the client's coach.
    coach_id: Id
    site_id: Id
    accepted_on: dt.date

    @property
    def engagement_id(self) -> str:
        return engagement_id_for_referral(self.referral_id)


class RaiseConcern(Command):
    """A coach saw emotional symptoms resurface: the client goes back to therapy."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "concern_id")

    engagement_id: Id
    concern_id: Id
    urgency: ConcernUrgency
    raised_on: dt.date


class SettleConcern(Command):
    """The referral back to therapy that a concern raised has completed, with therapy's
    recommendation for coaching. Only therapy resumes coaching: a coach cannot clear a concern
    about symptoms, since judging that they have abated is a clinical call."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "referral_id")

    engagement_id: Id
    referral_id: Id
    completed_on: dt.date
    recommendation: Recommendation


class SetGoal(Command):
    """A SMART goal: specific, measurable, achievable, relevant and time-bound."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "goal_id")

    engagement_id: Id
    goal_id: Id
    # What the client will do, in the client's words.
    specific: ShortText
    # How the client and coach will know it is done (a count, a frequency, an observable result).
    measure: ShortText
    # What makes it within reach: the first step, the resources at hand.
    achievable: ShortText
    # Why it matters to the client now.
    relevant: ShortText
    # Time-bound: the date it is to be reached by.
    target_date: dt.date
    set_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.target_date <= self.set_on:
            raise GoalMustBeTimeBound(self.target_date, self.set_on)
        return self


class ReviseGoal(Command):
    """New terms for an open goal, with the reason; earlier terms stay in the record."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "goal_id", "revision_id")

    engagement_id: Id
    goal_id: Id
    revision_id: Id
    specific: ShortText
    measure: ShortText
    achievable: ShortText
    relevant: ShortText
    target_date: dt.date
    reason: ShortText
    revised_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.target_date <= self.revised_on:
            raise GoalMustBeTimeBound(self.target_date, self.revised_on)
        return self


class AchieveGoal(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "goal_id")
    engagement_id: Id
    goal_id: Id
    achieved_on: dt.date


class DropGoal(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "goal_id")
    engagement_id: Id
    goal_id: Id
    reason: ShortText
    dropped_on: dt.date


class LogCoachingSession(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "session_id")
    engagement_id: Id
    session_id: Id
    date: dt.date
    minutes: int
    # The goals the session worked on (may be none, for example a first session).
    goal_ids: tuple[Id, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not MIN_SESSION_MINUTES <= self.minutes <= MAX_SESSION_MINUTES:
            raise CoachingSessionLengthMustBeWithinBounds(
                self.minutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES
            )
        _listed_once(self.goal_ids)
        return self


class AssignHomework(Command):
    """Work between sessions toward one goal."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "homework_id")

    engagement_id: Id
    homework_id: Id
    goal_id: Id
    task: ShortText
    assigned_on: dt.date
    due_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.due_on < self.assigned_on:
            raise HomeworkMustNotBeDueBeforeItIsAssigned(self.due_on, self.assigned_on)
        return self


class CompleteHomework(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "homework_id")
    engagement_id: Id
    homework_id: Id
    completed_on: dt.date


class MarkHomeworkMissed(Command):
    """The due date passed without the homework done; recorded as of the day it is marked."""

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "homework_id")

    engagement_id: Id
    homework_id: Id


class RecordProgressNote(Command):
    """The coach's note on the client's progress toward their goals.

    It has no diagnosis, no symptom, no treatment field, and never will: a coach does not
    diagnose or treat, and a note that could hold such content would make the coaching record
    a clinical one. Symptoms returning are a concern (RaiseConcern), which sends the client to
    therapy. The summary is the coach's own words about goals and progress; it stays private.
    """

    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id", "note_id")

    engagement_id: Id
    note_id: Id
    written_on: dt.date
    progress: Progress
    summary: LongText
    # The session the note follows, if any.
    session_id: Id | None = None
    goal_ids: tuple[Id, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        _listed_once(self.goal_ids)
        return self


class CloseEngagement(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("engagement_id",)
    engagement_id: Id
    outcome: EngagementOutcome
    closed_on: dt.date
