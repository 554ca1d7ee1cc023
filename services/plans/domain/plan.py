"""Borgerens Plan: the citizen's goals in their own words, as immutable versions.

Rules (DIGEST W3 and section 4):
- goals are the citizen's own and need not show progress: keeping a skill and harm reduction are
  valid goals ([4]:994-1015, 4461-4478);
- sub-goals may carry SMART fields, never required;
- each action has a responsible actor (a staff member, the citizen, an external actor) and a due date;
- the citizen's perspective and the staff's observation are separate entries ([4]:7096-7100), and
  every entry records whether it was written together with the citizen ([0]:136; [1]:33);
- every change makes a new version; nothing is overwritten, and two versions can be compared.

Everything here is a frozen dataclass: an operation returns a new ``PlanVersion``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from typing import Any, Iterator
from uuid import UUID

from services.plans.domain.cadence import Cadence
from services.plans.domain.errors import PlanRuleViolation, require_text
from tovholder import clock


class GoalKind(str, enum.Enum):
    DEVELOP = "develop"  # learn or gain something
    MAINTAIN = "maintain"  # "avoid losing skills" is a goal too
    HARM_REDUCTION = "harm-reduction"


class GoalStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    # The citizen let go of it. Goals are closed, never deleted, so the history stays readable.
    DROPPED = "dropped"

    @property
    def danish(self) -> str:
        """The status in a Danish sentence ("målet er nået")."""
        return {"active": "aktivt", "paused": "sat på pause", "achieved": "nået", "dropped": "opgivet"}[self.value]


class SubGoalKind(str, enum.Enum):
    ORDINARY = "ordinary"
    STUMBLE = "snublemaal"  # short, motivating "stumble goals" (Cirklen)
    CLARIFICATION = "afklaringsdelmaal"  # staff-written clarification sub-goals (Cirklen)


class ActorKind(str, enum.Enum):
    STAFF = "staff"
    CITIZEN = "citizen"
    EXTERNAL = "external"


class EntryKind(str, enum.Enum):
    CITIZEN_PERSPECTIVE = "citizen-perspective"  # the inside view, in the citizen's words
    STAFF_OBSERVATION = "staff-observation"  # what staff saw, kept apart from the citizen's view
    CITIZEN_COMMENT = "citizen-comment"  # the citizen comments on or challenges an entry


class AuthorRole(str, enum.Enum):
    CITIZEN = "citizen"
    STAFF = "staff"


@dataclass(frozen=True)
class Author:
    id: str  # the token's ``sub``: a staff id or the citizen's id
    role: AuthorRole


@dataclass(frozen=True)
class SmartFields:
    """Every field optional: SMART is a help for some goals, not a form to fill in."""

    specific: str | None = None
    measurable: str | None = None
    achievable: str | None = None
    relevant: str | None = None
    time_bound: date | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "") for f in fields(self))


@dataclass(frozen=True)
class SubGoal:
    sub_goal_id: UUID
    text: str
    written_with_citizen: bool
    kind: SubGoalKind = SubGoalKind.ORDINARY
    smart: SmartFields | None = None
    status: GoalStatus = GoalStatus.ACTIVE


@dataclass(frozen=True)
class ResponsibleActor:
    kind: ActorKind
    # Staff: their id (sub). Citizen: may be empty (it is the plan's citizen). External: who, in words.
    ref: str = ""

    def __post_init__(self) -> None:
        if self.kind != ActorKind.CITIZEN and not self.ref.strip():
            raise PlanRuleViolation(
                "den ansvarlige for en handling skal angive hvem (et medarbejder-id eller den eksterne aktørs navn)",
                field="responsible",
            )


@dataclass(frozen=True)
class Action:
    action_id: UUID
    text: str
    responsible: ResponsibleActor
    due_on: date
    written_with_citizen: bool
    done_on: date | None = None


@dataclass(frozen=True)
class Entry:
    entry_id: UUID
    kind: EntryKind
    text: str
    author: Author
    written_at: datetime
    written_with_citizen: bool
    # Which entry a citizen comment answers, when it answers one.
    replies_to: UUID | None = None


@dataclass(frozen=True)
class Goal:
    goal_id: UUID
    text: str  # in the citizen's own words
    written_with_citizen: bool
    kind: GoalKind = GoalKind.DEVELOP
    cadence: Cadence | None = None
    status: GoalStatus = GoalStatus.ACTIVE
    sub_goals: tuple[SubGoal, ...] = ()
    actions: tuple[Action, ...] = ()
    entries: tuple[Entry, ...] = ()
    # The staff member a due follow-up of this goal goes to; None: the plan's coordinator.
    follow_up_owner: str | None = None

    def citizen_perspectives(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == EntryKind.CITIZEN_PERSPECTIVE)

    def staff_observations(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == EntryKind.STAFF_OBSERVATION)


@dataclass(frozen=True)
class PlanVersion:
    plan_id: UUID
    citizen_id: UUID
    number: int
    created_at: datetime
    created_by: Author
    change: str  # what this version changed, e.g. "goal-added"
    cadence: Cadence | None = None
    goals: tuple[Goal, ...] = ()
    # Entries about the plan as a whole (e.g. a citizen's comment on the plan).
    entries: tuple[Entry, ...] = ()

    def goal(self, goal_id: UUID) -> Goal:
        for g in self.goals:
            if g.goal_id == goal_id:
                return g
        raise PlanRuleViolation(f"planen har intet mål {goal_id}", field="goal_id")

    def active_goals(self) -> tuple[Goal, ...]:
        return tuple(g for g in self.goals if g.status == GoalStatus.ACTIVE)


# --- building blocks with validation -------------------------------------------------------------


def new_goal(*, goal_id: UUID, text: str | None, written_with_citizen: bool, kind: GoalKind = GoalKind.DEVELOP,
             cadence: Cadence | None = None, follow_up_owner: str | None = None) -> Goal:
    return Goal(
        goal_id=goal_id,
        text=require_text(text, "et måls tekst", field="text"),
        written_with_citizen=_require_flag(written_with_citizen),
        kind=GoalKind(kind),
        cadence=cadence,
        follow_up_owner=follow_up_owner,
    )


def new_sub_goal(*, sub_goal_id: UUID, text: str | None, written_with_citizen: bool,
                 kind: SubGoalKind = SubGoalKind.ORDINARY, smart: SmartFields | None = None) -> SubGoal:
    if smart is not None and smart.is_empty():
        smart = None
    return SubGoal(
        sub_goal_id=sub_goal_id,
        text=require_text(text, "et delmåls tekst", field="text"),
        written_with_citizen=_require_flag(written_with_citizen),
        kind=SubGoalKind(kind),
        smart=smart,
    )


def new_action(*, action_id: UUID, text: str | None, responsible: ResponsibleActor, due_on: date | None,
               written_with_citizen: bool, today: date) -> Action:
    if due_on is None:
        raise PlanRuleViolation("en handling skal have en frist", field="due_on")
    if due_on < today:
        raise PlanRuleViolation("en handlings frist kan ikke ligge i fortiden", field="due_on")
    return Action(
        action_id=action_id,
        text=require_text(text, "en handlings tekst", field="text"),
        responsible=responsible,
        due_on=due_on,
        written_with_citizen=_require_flag(written_with_citizen),
    )


def new_entry(*, entry_id: UUID, kind: EntryKind, text: str | None, author: Author, written_at: datetime,
              written_with_citizen: bool, replies_to: UUID | None = None) -> Entry:
    kind = EntryKind(kind)
    _require_aware(written_at, "written_at")
    if author.role == AuthorRole.CITIZEN:
        if kind == EntryKind.STAFF_OBSERVATION:
            raise PlanRuleViolation("en borger skriver sit eget perspektiv eller en kommentar, ikke en medarbejderobservation", field="kind")
        # What the citizen writes is by definition written with the citizen.
        written_with_citizen = True
    elif kind == EntryKind.CITIZEN_COMMENT:
        raise PlanRuleViolation("kun borgeren kan kommentere som borgeren", field="kind")
    elif kind == EntryKind.CITIZEN_PERSPECTIVE and not written_with_citizen:
        # INFERRED: staff must not put the inside view in the citizen's mouth; without the citizen it
        # is an observation and belongs in a staff observation.
        raise PlanRuleViolation(
            "medarbejdere kan kun skrive borgerens perspektiv sammen med borgeren; "
            "skriv det ellers som en medarbejderobservation",
            field="written_with_citizen",
        )
    return Entry(
        entry_id=entry_id,
        kind=kind,
        text=require_text(text, "et indlægs tekst", field="text"),
        author=author,
        written_at=written_at,
        written_with_citizen=_require_flag(written_with_citizen),
        replies_to=replies_to,
    )


def _require_flag(value: Any) -> bool:
    # "Written together with the citizen" must be answered, not defaulted by a missing field.
    if not isinstance(value, bool):
        raise PlanRuleViolation("angiv, om det er skrevet sammen med borgeren (true eller false)",
                                field="written_with_citizen")
    return value


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PlanRuleViolation(f"{name} skal have en tidszone", field=name)


# --- versions: every change is a new one ---------------------------------------------------------


def first_version(*, plan_id: UUID, citizen_id: UUID, created_at: datetime, created_by: Author,
                  cadence: Cadence | None = None) -> PlanVersion:
    _require_aware(created_at, "created_at")
    return PlanVersion(plan_id=plan_id, citizen_id=citizen_id, number=1, created_at=created_at,
                       created_by=created_by, change="plan-opened", cadence=cadence)


def _next(version: PlanVersion, *, by: Author, at: datetime, change: str, **changes: Any) -> PlanVersion:
    _require_aware(at, "at")
    if at < version.created_at:
        raise PlanRuleViolation("en ændring af planen kan ikke dateres før den version, den ændrer", field="at")
    return replace(version, number=version.number + 1, created_at=at, created_by=by, change=change, **changes)


def _replace_goal(version: PlanVersion, goal: Goal) -> tuple[Goal, ...]:
    version.goal(goal.goal_id)  # raises when unknown
    return tuple(goal if g.goal_id == goal.goal_id else g for g in version.goals)


def _require_open(goal: Goal) -> None:
    if goal.status in (GoalStatus.ACHIEVED, GoalStatus.DROPPED):
        raise PlanRuleViolation(f"målet er {goal.status.danish}; genåbn det, før der føjes til det", field="goal_id")


def add_goal(version: PlanVersion, goal: Goal, *, by: Author, at: datetime) -> PlanVersion:
    if any(g.goal_id == goal.goal_id for g in version.goals):
        raise PlanRuleViolation("planen har allerede et mål med dette id", field="goal_id")
    return _next(version, by=by, at=at, change="goal-added", goals=version.goals + (goal,))


def change_goal(version: PlanVersion, goal_id: UUID, *, by: Author, at: datetime, text: str | None = None,
                kind: GoalKind | None = None, cadence: Cadence | None = None, clear_cadence: bool = False,
                status: GoalStatus | None = None, written_with_citizen: bool | None = None,
                follow_up_owner: str | None = None) -> PlanVersion:
    goal = version.goal(goal_id)
    updated = goal
    if text is not None:
        updated = replace(updated, text=require_text(text, "et måls tekst", field="text"))
    if kind is not None:
        updated = replace(updated, kind=GoalKind(kind))
    if cadence is not None and clear_cadence:
        raise PlanRuleViolation("sæt en kadence eller fjern den, ikke begge", field="cadence")
    if cadence is not None or clear_cadence:
        updated = replace(updated, cadence=cadence)
    if status is not None:
        updated = replace(updated, status=GoalStatus(status))
    if written_with_citizen is not None:
        updated = replace(updated, written_with_citizen=_require_flag(written_with_citizen))
    if follow_up_owner is not None:
        updated = replace(updated, follow_up_owner=follow_up_owner or None)
    if updated == goal:
        raise PlanRuleViolation("intet at ændre: målet står allerede sådan", field="goal_id")
    return _next(version, by=by, at=at, change="goal-changed", goals=_replace_goal(version, updated))


def add_sub_goal(version: PlanVersion, goal_id: UUID, sub_goal: SubGoal, *, by: Author, at: datetime) -> PlanVersion:
    goal = version.goal(goal_id)
    _require_open(goal)
    if any(s.sub_goal_id == sub_goal.sub_goal_id for s in goal.sub_goals):
        raise PlanRuleViolation("målet har allerede et delmål med dette id", field="sub_goal_id")
    updated = replace(goal, sub_goals=goal.sub_goals + (sub_goal,))
    return _next(version, by=by, at=at, change="sub-goal-added", goals=_replace_goal(version, updated))


def add_action(version: PlanVersion, goal_id: UUID, action: Action, *, by: Author, at: datetime) -> PlanVersion:
    goal = version.goal(goal_id)
    _require_open(goal)
    if any(a.action_id == action.action_id for a in goal.actions):
        raise PlanRuleViolation("målet har allerede en handling med dette id", field="action_id")
    updated = replace(goal, actions=goal.actions + (action,))
    return _next(version, by=by, at=at, change="action-added", goals=_replace_goal(version, updated))


def complete_action(version: PlanVersion, goal_id: UUID, action_id: UUID, *, done_on: date, by: Author,
                    at: datetime) -> PlanVersion:
    goal = version.goal(goal_id)
    action = next((a for a in goal.actions if a.action_id == action_id), None)
    if action is None:
        raise PlanRuleViolation(f"målet har ingen handling {action_id}", field="action_id")
    if action.done_on is not None:
        raise PlanRuleViolation("handlingen er allerede udført", field="action_id")
    if done_on > clock.local_date(at):  # the day in Copenhagen, not in UTC (one hour apart at midnight)
        raise PlanRuleViolation("en handling kan ikke være udført i fremtiden", field="done_on")
    actions = tuple(replace(a, done_on=done_on) if a.action_id == action_id else a for a in goal.actions)
    return _next(version, by=by, at=at, change="action-done",
                 goals=_replace_goal(version, replace(goal, actions=actions)))


def add_entry(version: PlanVersion, entry: Entry, *, goal_id: UUID | None = None) -> PlanVersion:
    """A perspective, observation or comment, on one goal or (goal_id None) on the plan as a whole."""
    if entry.replies_to is not None and entry.replies_to not in {e.entry_id for e in all_entries(version)}:
        raise PlanRuleViolation("det indlæg, der svares på, er ikke i planen", field="replies_to")
    change = "comment-added" if entry.kind == EntryKind.CITIZEN_COMMENT else "entry-added"
    if goal_id is None:
        return _next(version, by=entry.author, at=entry.written_at, change=change,
                     entries=version.entries + (entry,))
    goal = version.goal(goal_id)
    updated = replace(goal, entries=goal.entries + (entry,))
    return _next(version, by=entry.author, at=entry.written_at, change=change,
                 goals=_replace_goal(version, updated))


def set_plan_cadence(version: PlanVersion, cadence: Cadence | None, *, by: Author, at: datetime) -> PlanVersion:
    if cadence == version.cadence:
        raise PlanRuleViolation("planen har allerede denne kadence", field="cadence")
    return _next(version, by=by, at=at, change="cadence-changed", cadence=cadence)


def all_entries(version: PlanVersion) -> tuple[Entry, ...]:
    return version.entries + tuple(e for g in version.goals for e in g.entries)


def open_actions_due(version: PlanVersion, today: date) -> tuple[tuple[Goal, Action], ...]:
    """Actions of active goals that are due today or overdue and not done."""
    return tuple(
        (g, a) for g in version.active_goals() for a in g.actions if a.done_on is None and a.due_on <= today
    )


# --- comparing two versions ----------------------------------------------------------------------


class ChangeKind(str, enum.Enum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "goals[<goal id>].sub_goals[<id>].smart.time_bound"
    kind: ChangeKind
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class PlanDiff:
    from_version: int
    to_version: int
    changes: tuple[Change, ...] = field(default=())

    def paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes)

    def goals_touched(self) -> tuple[UUID, ...]:
        seen: list[UUID] = []
        for c in self.changes:
            if c.path.startswith("goals["):
                goal_id = UUID(c.path[len("goals["):c.path.index("]")])
                if goal_id not in seen:
                    seen.append(goal_id)
        return tuple(seen)


# Version metadata differs between any two versions; the diff is about content.
_VERSION_METADATA = {"number", "created_at", "created_by", "change"}


def diff_versions(older: PlanVersion, newer: PlanVersion) -> PlanDiff:
    if older.plan_id != newer.plan_id:
        raise PlanRuleViolation("kun to versioner af samme plan kan sammenlignes", field="plan_id")
    if older.number > newer.number:
        older, newer = newer, older
    changes = tuple(
        change
        for f in fields(PlanVersion)
        if f.name not in _VERSION_METADATA
        for change in _diff_value(f.name, getattr(older, f.name), getattr(newer, f.name))
    )
    return PlanDiff(from_version=older.number, to_version=newer.number, changes=changes)


def _identity(item: Any) -> Any:
    for f in fields(item):
        if f.name.endswith("_id") and f.name not in ("replies_to",):
            return getattr(item, f.name)
    return None


def _diff_value(path: str, before: Any, after: Any) -> Iterator[Change]:
    if before == after:
        return
    if isinstance(before, tuple) and isinstance(after, tuple) and _all_identified(before + after):
        old = {_identity(i): i for i in before}
        new = {_identity(i): i for i in after}
        for key, item in new.items():
            if key not in old:
                yield Change(f"{path}[{key}]", ChangeKind.ADDED, None, item)
            else:
                yield from _diff_value(f"{path}[{key}]", old[key], item)
        for key, item in old.items():
            if key not in new:
                yield Change(f"{path}[{key}]", ChangeKind.REMOVED, item, None)
        return
    if (is_dataclass(before) and is_dataclass(after) and type(before) is type(after)
            and not isinstance(before, Cadence)):
        for f in fields(before):
            yield from _diff_value(f"{path}.{f.name}", getattr(before, f.name), getattr(after, f.name))
        return
    if before is None:
        yield Change(path, ChangeKind.ADDED, None, after)
    elif after is None:
        yield Change(path, ChangeKind.REMOVED, before, None)
    else:
        yield Change(path, ChangeKind.CHANGED, before, after)


def _all_identified(items: tuple[Any, ...]) -> bool:
    return all(is_dataclass(i) and _identity(i) is not None for i in items)
