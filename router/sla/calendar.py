"""Business calendars and business-time arithmetic.

A calendar is an IANA time zone, weekly opening hours (any number of ranges per day, e.g. a lunch
break), closed days, and holidays (dates and/or a country's public holidays from `holidays`).
Arithmetic walks open ranges, one range at a time, never minute by minute.

Times in and out are aware datetimes (returned in UTC). Business time is real elapsed time while
open. Each day's ranges are wall-clock times on that local day, turned into instants with
zoneinfo, following RFC 5545: a wall time in a skipped hour (spring forward) is read with the
offset before the gap, so 02:30 on the day Berlin skips 02:00-03:00 is 03:30 CEST; a wall time in
a repeated hour (fall back) is its first occurrence. A range that spans a change therefore lasts
an hour less (spring) or an hour more (autumn) of real time; ranges inside office hours never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_data

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
_MAX_CLOSED_DAYS = 3 * 366  # a calendar closed this long in a row is a mistake, not a schedule
_DAY_CACHE_LIMIT = 20_000

Range = tuple[int, int]  # minutes since local midnight, [start, end), end <= 1440
Interval = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]  # end None: still paused


class ClockPaused(ValueError):
    """The time cannot be reached: an open-ended pause stops the clock before it runs out."""


@dataclass(frozen=True, eq=False)
class Calendar:
    name: str
    timezone: ZoneInfo
    week: tuple[tuple[Range, ...], ...]  # Monday first, seven entries, each sorted and disjoint
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    _days: dict[date, tuple[Interval, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days")
        for ranges in self.week:
            for i, (a, b) in enumerate(ranges):
                if not 0 <= a < b <= MINUTES_PER_DAY or (i and ranges[i - 1][1] > a):
                    raise ValueError(f"bad or overlapping hours in calendar {self.name}: {ranges}")
        if not any(self.week):
            raise ValueError(f"calendar {self.name} is never open")

    @property
    def is_24x7(self) -> bool:
        return all(day == ((0, MINUTES_PER_DAY),) for day in self.week)

    @property
    def continuous(self) -> bool:
        """Always open, no holidays: business time is wall-clock time."""
        return self.is_24x7 and not self.holidays and self.holiday_country is None

    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        if self.holiday_country is None:
            return False
        return day in _country_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def open_ranges(self, day: date) -> tuple[Interval, ...]:
        """The open intervals (UTC) of one local day; cached, as timers revisit the same days."""
        found = self._days.get(day)
        if found is None:
            found = () if self.is_holiday(day) else self._convert(day, self.week[day.weekday()])
            if len(self._days) >= _DAY_CACHE_LIMIT:
                self._days.clear()
            self._days[day] = found
        return found

    def _convert(self, day: date, ranges: tuple[Range, ...]) -> tuple[Interval, ...]:
        out: list[Interval] = []
        for a, b in ranges:
            start, end = self._instant(day, a), self._instant(day, b)
            if out and start <= out[-1][1]:  # e.g. 24x7: one day's end is the next day's start
                start = out[-1][1]
            if start < end:
                out.append((start, end))
        return tuple(out)

    def _instant(self, day: date, minute: int) -> datetime:
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.timezone)  # fold=0
        return local.astimezone(UTC)


@lru_cache(maxsize=256)
def _country_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_data.country_holidays(country, subdiv=subdivision, years=year))


def country_supported(country: str, subdivision: str | None = None) -> str | None:
    """None when `holidays` knows the country (and subdivision); else why not."""
    supported = holiday_data.list_supported_countries()
    if country not in supported:
        return f"unknown holiday country `{country}` (ISO 3166 code, e.g. DE, GB, US)"
    if subdivision is not None and subdivision not in supported[country]:
        return f"unknown subdivision `{subdivision}` of {country}; known: {', '.join(supported[country])}"
    return None


def add_business_time(
    calendar: Calendar, start: datetime, minutes: float, pauses: Sequence[Pause] = ()
) -> datetime:
    """The earliest instant at which `minutes` of open, unpaused time have passed since `start`.

    Raises ClockPaused when an open-ended pause stops the clock first."""
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return _utc(start)
    for a, b in _running(_open_from(calendar, _utc(start)), _normalized(pauses)):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    raise ClockPaused("the clock is paused with no end before the time runs out")


def business_seconds_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> float:
    """Open, unpaused seconds in [start, end); 0 when end is not after start."""
    start, end = _utc(start), _utc(end)
    total = timedelta(0)
    for a, b in _running(_open_from(calendar, start, until=end), _normalized(pauses)):
        if a >= end:
            break
        total += min(b, end) - a
    return total.total_seconds()


def _open_from(calendar: Calendar, start: datetime, until: datetime | None = None) -> Iterator[Interval]:
    """Open intervals from `start` on, in order (endless unless `until` is given)."""
    if calendar.continuous:
        yield start, _FAR_FUTURE
        return
    day = start.astimezone(calendar.timezone).date() - timedelta(days=1)
    closed_run = 0
    while True:
        ranges = calendar.open_ranges(day)
        for a, b in ranges:
            if b > start:
                yield max(a, start), b
        if until is not None and ranges and ranges[-1][1] >= until:
            return
        closed_run = 0 if ranges else closed_run + 1
        if closed_run > _MAX_CLOSED_DAYS:
            if until is not None:
                return
            raise ValueError(f"calendar {calendar.name} has no open time for {_MAX_CLOSED_DAYS} days")
        if until is not None and not ranges and calendar._instant(day, 0) > until:
            return
        day += timedelta(days=1)


def _normalized(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, merged, in UTC; an open-ended pause swallows every later one."""
    merged: list[Pause] = []
    for start, end in sorted(((_utc(s), _utc(e) if e else None) for s, e in pauses), key=lambda p: p[0]):
        if end is not None and end <= start:
            continue
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, None if end is None or last_end is None else max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def _running(intervals: Iterable[Interval], pauses: list[Pause]) -> Iterator[Interval]:
    """The open intervals with the paused time taken out."""
    i = 0
    for a, b in intervals:
        while a < b:
            while i < len(pauses) and (end := pauses[i][1]) is not None and end <= a:
                i += 1
            if i == len(pauses) or pauses[i][0] >= b:
                yield a, b
                break
            pause_start, pause_end = pauses[i]
            if pause_start > a:
                yield a, pause_start
            if pause_end is None:
                return
            a = max(a, pause_end)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: business time needs aware datetimes")
    return value.astimezone(UTC)
