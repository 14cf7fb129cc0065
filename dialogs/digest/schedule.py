"""When the weekly digest is due: pure calendar arithmetic in the schedule's time zone."""

from __future__ import annotations

import datetime as dt


def _slot(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    # A wall time that does not exist (spring forward) lands just after the gap; one that happens
    # twice (fall back) is taken the first time (fold=0): either way exactly one instant a week.
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def next_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The first scheduled instant strictly after ``now_utc`` (in UTC): ``weekday`` at local ``time``."""
    today = now_utc.astimezone(tz).date()
    for days in range(15):  # bounded: a match always comes within 8 days
        day = today + dt.timedelta(days=days)
        if day.weekday() == weekday and (slot := _slot(day, time, tz)) > now_utc:
            return slot
    raise ValueError(f"no slot for weekday {weekday}")


def previous_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The latest scheduled instant at or before ``now_utc`` (in UTC)."""
    today = now_utc.astimezone(tz).date()
    for days in range(15):
        day = today - dt.timedelta(days=days)
        if day.weekday() == weekday and (slot := _slot(day, time, tz)) <= now_utc:
            return slot
    raise ValueError(f"no slot for weekday {weekday}")


def this_weeks_run(now_utc: dt.datetime, weekday: int, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The scheduled instant in the current ISO week (local time), passed or not."""
    today = now_utc.astimezone(tz).date()
    return _slot(today + dt.timedelta(days=weekday - today.weekday()), time, tz)


def week_key(slot: dt.datetime, tz: dt.tzinfo) -> str:
    """The ledger's week: the ISO week of the slot's local date, e.g. ``2026-W48``."""
    year, week, _ = slot.astimezone(tz).date().isocalendar()
    return f"{year}-W{week:02d}"
