"""Who is on call: a rotation of people taking turns (weekly by default) with a local handoff time,
overrides on top, the order to re-page in, and quiet hours that hold non-critical pages.

Pure: every answer is a function of the rotation and an aware instant.

Handoffs are local wall time in the rotation's zone, so "Monday 09:00 Europe/Berlin" stays 09:00
across DST; the shift that spans a change is an hour shorter or longer. A handoff time that does
not exist that day (inside the skipped hour) is read with the offset before the gap, as in
router/sla/calendar.py, and a repeated one is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workers.paging.base import Severity


@dataclass(frozen=True)
class Override:
    """`person` covers [start, end), e.g. a swap or sick cover. Later overrides win."""

    person: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("override times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class QuietHours:
    """Local [start, end) each day, wrapping midnight when end <= start (22:00-07:00). `days`
    (0 = Monday) are the days a window starts on; None: every day."""

    start: time
    end: time
    days: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours need a start and an end that differ")


@dataclass(frozen=True)
class Shift:
    person: str
    start: datetime  # UTC
    end: datetime  # UTC, the next handoff


@dataclass(frozen=True)
class Rotation:
    name: str
    people: tuple[str, ...]
    timezone: ZoneInfo
    anchor: date  # the first shift's handoff day: people[0] takes over then
    handoff: time = time(9, 0)
    shift_days: int = 7
    overrides: tuple[Override, ...] = ()
    quiet_hours: QuietHours | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.people:
            raise ValueError(f"rotation {self.name} has nobody in it")
        if len(set(self.people)) != len(self.people):
            raise ValueError(f"rotation {self.name} lists someone twice")
        if self.shift_days < 1:
            raise ValueError("a shift lasts at least one day")
        self._index.update({person: i for i, person in enumerate(self.people)})

    def handoff_at(self, day: date) -> datetime:
        return datetime.combine(day, self.handoff, tzinfo=self.timezone).astimezone(UTC)

    def shift(self, at: datetime) -> Shift:
        """The scheduled shift (overrides aside) that `at` falls in."""
        at = _utc(at)
        number = (at.astimezone(self.timezone).date() - self.anchor).days // self.shift_days
        start_day = self.anchor + timedelta(days=number * self.shift_days)
        if self.handoff_at(start_day) > at:  # before today's handoff: the previous shift
            number -= 1
            start_day -= timedelta(days=self.shift_days)
        end_day = start_day + timedelta(days=self.shift_days)
        person = self.people[number % len(self.people)]
        return Shift(person, self.handoff_at(start_day), self.handoff_at(end_day))

    def on_call(self, at: datetime) -> str:
        at = _utc(at)
        for override in reversed(self.overrides):
            if override.covers(at):
                return override.person
        return self.shift(at).person

    def escalation_order(self, at: datetime) -> tuple[str, ...]:
        """Whom to page, in order: the person on call, then whoever is scheduled next, and so on."""
        first = self.on_call(at)
        scheduled = self._index[self.shift(at).person]
        n = len(self.people)
        following = [self.people[(scheduled + i) % n] for i in range(n)]
        return tuple(dict.fromkeys([first, *following]))

    def next_responder(self, at: datetime, already_paged: Sequence[str]) -> str | None:
        """The next person to re-page when nobody acknowledged; None once everyone was paged."""
        paged = set(already_paged)
        return next((p for p in self.escalation_order(at) if p not in paged), None)

    def quiet_until(self, at: datetime) -> datetime | None:
        """The end of the quiet window `at` is in (UTC), or None when it is not quiet."""
        quiet = self.quiet_hours
        if quiet is None:
            return None
        at = _utc(at)
        today = at.astimezone(self.timezone).date()
        for start_day in (today - timedelta(days=1), today):  # a wrapping window began yesterday
            if quiet.days is not None and start_day.weekday() not in quiet.days:
                continue
            end_day = start_day if quiet.end > quiet.start else start_day + timedelta(days=1)
            begins = datetime.combine(start_day, quiet.start, tzinfo=self.timezone).astimezone(UTC)
            ends = datetime.combine(end_day, quiet.end, tzinfo=self.timezone).astimezone(UTC)
            if begins <= at < ends:
                return ends
        return None

    def deliver_at(self, at: datetime, severity: Severity) -> datetime:
        """When a page raised at `at` goes out: now if critical or outside quiet hours, else when
        the quiet hours end."""
        at = _utc(at)
        if severity is Severity.CRITICAL:
            return at
        return self.quiet_until(at) or at


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: on-call needs aware datetimes")
    return value.astimezone(UTC)
