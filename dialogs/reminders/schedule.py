"""When reminders go out: monthly on a day at a local time (Pentana-style), and a daily nudge run
for items due exactly N days later. Pure calendar arithmetic in the schedule's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReminderSchedule:
    """Monthly on ``day`` at local ``time``; nudges daily at ``time``, ``days`` before each due date."""

    day: int
    time: dt.time
    tz: dt.tzinfo
    days: int = 14

    def _at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.time, tzinfo=self.tz).astimezone(dt.UTC)

    def monthly(self, now: dt.datetime) -> dt.datetime:
        """The latest monthly slot at or before ``now`` (UTC)."""
        local = now.astimezone(self.tz).date()
        this = self._at(local.replace(day=self.day))
        if this <= now:
            return this
        first = local.replace(day=1) - dt.timedelta(days=1)
        return self._at(first.replace(day=self.day))

    def this_month(self, now: dt.datetime) -> dt.datetime:
        """This month's slot, passed or not."""
        return self._at(now.astimezone(self.tz).date().replace(day=self.day))

    def next_monthly(self, now: dt.datetime) -> dt.datetime:
        this = self.this_month(now)
        if this > now:
            return this
        local = now.astimezone(self.tz).date().replace(day=28) + dt.timedelta(days=4)
        return self._at(local.replace(day=self.day))

    def daily(self, now: dt.datetime) -> dt.datetime:
        """The latest nudge slot at or before ``now``."""
        local = now.astimezone(self.tz).date()
        today = self._at(local)
        return today if today <= now else self._at(local - dt.timedelta(days=1))

    def next_daily(self, now: dt.datetime) -> dt.datetime:
        return self.daily(now) + dt.timedelta(days=1)

    def month_key(self, slot: dt.datetime) -> str:
        """The ledger period of a monthly reminder, e.g. ``2026-12``."""
        return f"{slot.astimezone(self.tz):%Y-%m}"

    def day_key(self, slot: dt.datetime) -> str:
        """The ledger period of a day's nudge, e.g. ``2026-12-02``."""
        return f"{slot.astimezone(self.tz):%Y-%m-%d}"

    def label(self) -> str:
        n = self.day
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"on the {n}{suffix} of each month at {self.time:%H:%M}, and {self.days} days before each due date"
