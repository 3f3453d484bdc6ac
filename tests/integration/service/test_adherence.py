"""The adherence rules of home exercise programmes (`posecoach.service.adherence`) as pure functions: the schedule
of today's session over a week, partial weeks, the version in effect each week, falling scores and pain."""

from __future__ import annotations

from datetime import date, timedelta

from posecoach.service.adherence import Done, Item, Session, Version, adherence, attention, due_today, falling

MONDAY = date(2026, 11, 30)


def _item(key: str = "a", per_week: int = 3) -> Item:
    return Item(key, "g" + key, f"guide {key}", sets=3, reps=10, hold_s=None, rest_s=60, per_week=per_week)


def _version(
    *items: Item, start: date = MONDAY, end: date | None = None, number: int = 1, made: date = MONDAY
) -> Version:
    return Version(number, "Rehab", start, end, items, made)


def _done(day: date, key: str = "a", scores: tuple[float, ...] = (), pain: int | None = None, n: int = 0) -> Session:
    return Session(f"s{day}{key}{n}", day, True, pain, 2, (Done(key, 3, 30, scores),), order=n)


def _follow(version: Version, days: int) -> list[date]:
    """The days a patient who does everything due, and nothing else, trains over ``days`` days."""
    sessions: list[Session] = []
    for i in range(days):
        day = version.start + timedelta(days=i)
        if any(d.due for d in due_today(version, sessions, day)):
            sessions.append(_done(day))
    return [s.day for s in sessions]


def test_the_schedule_spaces_sessions_and_keeps_each_weeks_count() -> None:
    three = _follow(_version(_item(per_week=3)), 14)
    assert [d.strftime("%a") for d in three] == ["Mon", "Wed", "Fri"] * 2
    assert len(_follow(_version(_item(per_week=7)), 14)) == 14
    assert [d.strftime("%a") for d in _follow(_version(_item(per_week=1)), 7)] == ["Mon"]
    # started on a Saturday: 2 active days that week, both needed (catch-up); Monday rests after Sunday
    saturday = _follow(_version(_item(per_week=3), start=MONDAY + timedelta(days=5)), 9)
    assert [d.isoformat() for d in saturday] == ["2026-12-05", "2026-12-06", "2026-12-08", "2026-12-10", "2026-12-12"]


def test_a_missed_day_is_due_again_the_next_day_and_counts_as_missed() -> None:
    version = _version(_item(per_week=3))
    tuesday = MONDAY + timedelta(days=1)
    [due] = due_today(version, [], tuesday)
    assert due.due and due.reason == "3 of 3 left this week"
    assert attention([version], [], tuesday) == ["missed 1 session this week (0 done of 1 expected before Tuesday)"]
    assert attention([version], [_done(tuesday)], tuesday) == []


def test_each_week_is_judged_by_the_version_in_effect_then() -> None:
    first = _version(_item(per_week=2))
    second = _version(_item(per_week=5), number=2, made=MONDAY + timedelta(days=7))
    sessions = [_done(MONDAY), _done(MONDAY + timedelta(days=3)), _done(MONDAY + timedelta(days=7))]
    got = adherence([first, second], sessions, MONDAY + timedelta(days=13))  # the second week's Sunday
    assert [(w.prescribed, w.expected, w.done) for w in got.weeks] == [(2, 2, 2), (5, 5, 1)]
    assert (got.prescribed, got.done, got.rate) == (7, 3, round(3 / 7, 3))
    [ex] = got.exercises
    assert (ex.prescribed, ex.done, ex.completion, ex.item.per_week) == (7, 3, round(9 / 21, 3), 5)
    ended = _version(_item(per_week=2), end=MONDAY + timedelta(days=2))  # 3 active days: Monday to Wednesday
    assert [(w.prescribed, w.expected) for w in adherence([ended], [], MONDAY + timedelta(days=30)).weeks] == [(2, 2)]
    assert attention([ended], [], MONDAY + timedelta(days=30)) == []  # an ended programme needs nobody


def test_falling_scores_need_four_scored_sessions_and_a_ten_point_drop() -> None:
    def points(*scores: float) -> list:  # type: ignore[type-arg]
        sessions = [_done(MONDAY + timedelta(days=i), scores=(s,), n=i) for i, s in enumerate(scores)]
        return adherence([_version(_item(per_week=7))], sessions, MONDAY + timedelta(days=20)).exercises[0].points

    assert falling(points(90, 60, 60)) is None  # too few
    assert falling(points(80, 80, 71, 71)) is None  # 9 points
    assert falling(points(95, 80, 80, 80, 70, 70)) == (80.0, 70.0)  # the 3 before the last 2
    sessions = [_done(MONDAY, pain=3), _done(MONDAY + timedelta(days=1), pain=7, n=1)]
    assert attention([_version(_item(per_week=1))], sessions, MONDAY + timedelta(days=2)) == [
        "pain 7/10 in the last session (2026-12-01)"
    ]
