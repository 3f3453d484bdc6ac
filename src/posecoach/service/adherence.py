"""Adherence to a home exercise programme (issue 28), as pure functions of the programme's versions and the
sessions the patient recorded: no database, no clock (``today`` is given).

The rules, written once here (the manual, docs/service.md, and the API docs quote them):

Weeks run Monday to Sunday; a session's day is the patient's own calendar date (sent by the browser). An exercise
is *done* on a day when a session of that day did at least one of its sets or repetitions; a *session day* is a day
with at least one exercise done (several sessions on one day count once). The programme's dates are those of its
current version; each week is judged by the version in effect at its end (the latest one made on or before then).

- **Prescribed per week**: an exercise of frequency ``f`` is prescribed ``min(f, active days)`` times in a week,
  where the active days are the week's days between the programme's start and end dates; the programme is
  prescribed as many session days as its most frequent exercise.
- **Expected by a day**: a past week's prescription in full; in the current week ``ceil(prescribed x active days
  up to and including that day / active days)``: a 3-a-week programme expects 1 by Monday's end, 2 by
  Wednesday's, 3 by Friday's (the days the due rule below gives).
- **Due today** (today's session), for each exercise of the current version, in this order: not due before the
  start or after the end; not due when done today already; not due when this week's prescription is done;
  due when the sessions left this week need every active day left (catch-up); not due the day after it was done
  (a rest day between sessions); else due. A 3-a-week exercise started on a Monday is due Monday, Wednesday,
  Friday; one missed on Monday is due again on Tuesday.
- **Missed this week**: the sessions expected by yesterday's end less the session days of this week, when
  positive: the sessions the patient is behind this week's schedule (a missed due day counts from the next day).
- **Falling scores**: an exercise whose recent scores dropped: with at least 4 scored sessions (a session's score is
  the mean of its per-repetition scores), the mean of the last 2 is at least 10 points (of 100) below the mean of
  the up to 3 sessions before them.
- **High pain**: the last session's pain rating is 7 or more (of 10).

A clinician's patient *needs attention* when an active programme has missed sessions this week, an exercise with
falling scores, or high pain in the last session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import fmean

RECENT, BEFORE, MIN_SCORED, DROP = 2, 3, 4, 10.0  # falling scores: last 2 vs the 3 before, >= 4 sessions, 10 points
HIGH_PAIN = 7
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Item:
    """An exercise as one version prescribes it; ``key`` names it across versions."""

    key: str
    guide_id: str
    guide_name: str
    sets: int
    reps: int | None
    hold_s: float | None
    rest_s: int
    per_week: int
    notes: str = ""


@dataclass(frozen=True)
class Version:
    number: int
    title: str
    start: date
    end: date | None
    items: tuple[Item, ...]
    made: date  # the day it took effect


@dataclass(frozen=True)
class Done:
    """What a session did of one exercise."""

    key: str
    sets_done: int
    reps_done: int
    scores: tuple[float, ...] = ()
    rom_deg: float | None = None

    @property
    def did(self) -> bool:
        return self.sets_done > 0 or self.reps_done > 0

    @property
    def score(self) -> float | None:
        return fmean(self.scores) if self.scores else None


@dataclass(frozen=True)
class Session:
    id: str
    day: date
    complete: bool
    pain: int | None
    difficulty: int | None
    exercises: tuple[Done, ...]
    order: int = 0  # the order of sessions of one day (their finishing times)


# the calendar ---------------------------------------------------------------------------------------------------
def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _active(current: Version, day: date) -> bool:
    return current.start <= day and (current.end is None or day <= current.end)


def _active_days(current: Version, first: date, last: date) -> int:
    """The programme's active days from ``first`` to ``last`` (both included)."""
    return sum(_active(current, first + timedelta(days=i)) for i in range((last - first).days + 1))


def in_effect(versions: Sequence[Version], day: date) -> Version:
    """The version in effect on ``day``: the latest made on or before it (the first one before any was made)."""
    made = [v for v in versions if v.made <= day]
    return max(made, key=lambda v: v.number) if made else min(versions, key=lambda v: v.number)


def _days_done(sessions: Iterable[Session], key: str | None = None) -> set[date]:
    """The days on which an exercise (``key``; any, when None) was done."""
    return {s.day for s in sessions for d in s.exercises if d.did and (key is None or d.key == key)}


# today's session ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    item: Item
    due: bool
    done_today: bool
    done_this_week: int
    target_this_week: int
    reason: str


def due_today(current: Version, sessions: Sequence[Session], today: date) -> list[Due]:
    """Each exercise of the current version with whether it is due today, and why (the module's rule)."""
    week = monday(today)
    sunday = week + timedelta(days=6)
    active_week = _active_days(current, week, sunday)
    days_left = _active_days(current, today, sunday)
    out = []
    for item in current.items:
        days = _days_done(sessions, item.key)
        done_week = sum(1 for d in days if week <= d <= today)
        target = min(item.per_week, active_week)
        left = target - done_week
        if today < current.start:
            due, why = False, f"the programme starts on {current.start.isoformat()}"
        elif not _active(current, today):
            due, why = False, "the programme has ended"
        elif today in days:
            due, why = False, "done today"
        elif left <= 0:
            due, why = False, f"done {done_week} of {target} this week"
        elif left >= days_left:
            due, why = True, f"{left} left this week: due every day now"
        elif today - timedelta(days=1) in days:
            due, why = False, "a rest day after yesterday's session"
        else:
            due, why = True, f"{left} of {target} left this week"
        out.append(Due(item, due, today in days, done_week, target, why))
    return out


# adherence ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: date
    prescribed: int  # session days the week prescribes (its most frequent exercise)
    expected: int  # of those, expected by today (all of them for a past week)
    done: int  # session days
    complete: int  # sessions marked complete


@dataclass(frozen=True)
class Point:
    day: date
    session_id: str
    sets_done: int
    reps_done: int
    score: float | None
    rom_deg: float | None


@dataclass(frozen=True)
class ExerciseAdherence:
    item: Item  # as the latest version that has it prescribes it
    current: bool  # in the current version
    prescribed: int  # sessions expected to date
    done: int  # days done
    completion: float | None  # share of the sets expected to date that were done (capped at 1)
    mean_score: float | None
    mean_rom_deg: float | None
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class Adherence:
    weeks: list[Week]
    prescribed: int  # session days expected to date
    done: int
    rate: float | None  # session days done (at most the prescription of each week) / expected to date
    exercises: list[ExerciseAdherence]


def _weeks(current: Version, today: date) -> list[date]:
    last = min(today, current.end) if current.end else today
    if last < current.start:
        return []
    first, weeks = monday(current.start), []
    while first <= last:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def _expected(current: Version, week: date, prescribed: int, day: date) -> int:
    """The sessions of ``week`` expected by the end of ``day`` (the module's rule)."""
    sunday = week + timedelta(days=6)
    if day >= sunday:
        return prescribed
    active = _active_days(current, week, sunday)
    return -(-prescribed * _active_days(current, week, day) // active) if active else 0  # rounded up


def _prescribed(current: Version, version: Version, week: date, key: str | None = None) -> int:
    active = _active_days(current, week, week + timedelta(days=6))
    freqs = [i.per_week for i in version.items if key is None or i.key == key]
    return min(max(freqs, default=0), active)


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(fmean(kept), 2) if kept else None


def adherence(versions: Sequence[Version], sessions: Sequence[Session], today: date) -> Adherence:
    """Sessions done against prescribed, per week and to date, and per exercise (the module's rules)."""
    current = max(versions, key=lambda v: v.number)
    ordered = sorted((s for s in sessions if s.day <= today), key=lambda s: (s.day, s.order))
    weeks, session_days = [], _days_done(ordered)
    for week in _weeks(current, today):
        version = in_effect(versions, min(week + timedelta(days=6), today))
        prescribed = _prescribed(current, version, week)
        in_week = [s for s in ordered if week <= s.day <= week + timedelta(days=6)]
        weeks.append(
            Week(
                week,
                prescribed,
                _expected(current, week, prescribed, today),
                sum(1 for d in session_days if week <= d <= week + timedelta(days=6)),
                sum(1 for s in in_week if s.complete),
            )
        )
    expected = sum(w.expected for w in weeks)
    kept = sum(min(w.done, w.prescribed) for w in weeks)
    return Adherence(
        weeks,
        expected,
        sum(w.done for w in weeks),
        round(min(1.0, kept / expected), 3) if expected else None,
        [_exercise(versions, current, ordered, key, today) for key in _keys(versions, current, ordered)],
    )


def _keys(versions: Sequence[Version], current: Version, sessions: Sequence[Session]) -> list[str]:
    """The current version's exercises, then older ones that sessions recorded."""
    keys = [i.key for i in current.items]
    known = {i.key for v in versions for i in v.items}
    for s in sessions:
        for d in s.exercises:
            if d.key in known and d.key not in keys:
                keys.append(d.key)
    return keys


def _exercise(
    versions: Sequence[Version], current: Version, sessions: Sequence[Session], key: str, today: date
) -> ExerciseAdherence:
    item = next(i for v in sorted(versions, key=lambda v: -v.number) for i in v.items if i.key == key)
    prescribed = 0
    for week in _weeks(current, today):
        version = in_effect(versions, min(week + timedelta(days=6), today))
        prescribed += _expected(current, week, _prescribed(current, version, week, key), today)
    points = [
        Point(s.day, s.id, d.sets_done, d.reps_done, d.score, d.rom_deg)
        for s in sessions
        for d in s.exercises
        if d.key == key
    ]
    sets_done = sum(min(p.sets_done, item.sets) for p in points)
    wanted = item.sets * prescribed
    return ExerciseAdherence(
        item,
        any(i.key == key for i in current.items),
        prescribed,
        len({p.day for p in points if p.sets_done > 0 or p.reps_done > 0}),
        round(min(1.0, sets_done / wanted), 3) if wanted else None,
        _mean(p.score for p in points),
        _mean(p.rom_deg for p in points),
        points,
    )


# the clinician's attention --------------------------------------------------------------------------------------
def missed_this_week(versions: Sequence[Version], sessions: Sequence[Session], today: date) -> tuple[int, int, int]:
    """(missed, done, expected by yesterday's end) of the current week (the module's rule)."""
    current = max(versions, key=lambda v: v.number)
    week = monday(today)
    sunday = week + timedelta(days=6)
    active = _active_days(current, week, sunday)
    if not active:
        return 0, 0, 0
    prescribed = _prescribed(current, in_effect(versions, today), week)
    expected = _expected(current, week, prescribed, today - timedelta(days=1)) if today > week else 0
    done = sum(1 for d in _days_done(sessions) if week <= d <= today)
    return max(0, expected - done), done, expected


def falling(points: Sequence[Point]) -> tuple[float, float] | None:
    """(mean before, mean recent) of an exercise's scored sessions when its scores fell (the module's rule)."""
    scored = [p.score for p in points if p.score is not None]
    if len(scored) < MIN_SCORED:
        return None
    recent, before = fmean(scored[-RECENT:]), fmean(scored[-RECENT - BEFORE : -RECENT])
    return (round(before, 1), round(recent, 1)) if before - recent >= DROP else None


def attention(versions: Sequence[Version], sessions: Sequence[Session], today: date) -> list[str]:
    """Why a programme's patient needs the clinician's attention today (none: all is well), in words."""
    current = max(versions, key=lambda v: v.number)
    if not _active(current, today):
        return []
    reasons = []
    missed, done, expected = missed_this_week(versions, sessions, today)
    if missed:
        reasons.append(
            f"missed {missed} session{'s' if missed > 1 else ''} this week "
            f"({done} done of {expected} expected before {DAYS[today.weekday()]})"
        )
    for ex in adherence(versions, sessions, today).exercises:
        fell = falling(ex.points)
        if fell is not None:
            reasons.append(f"{ex.item.guide_name}: scores fell from {fell[0]:.0f} to {fell[1]:.0f}")
    last = max((s for s in sessions if s.day <= today), key=lambda s: (s.day, s.order), default=None)
    if last is not None and last.pain is not None and last.pain >= HIGH_PAIN:
        reasons.append(f"pain {last.pain}/10 in the last session ({last.day.isoformat()})")
    return reasons
