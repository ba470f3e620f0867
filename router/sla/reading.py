"""Reading the SLA file's values from YAML nodes: durations, offsets, opening hours, calendars.
Each reader records a Problem with the node's line and column and returns None on a bad value."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import lru_cache
from itertools import pairwise

from yaml.nodes import MappingNode, Node, ScalarNode

from router.sla.calendar import MINUTES_PER_DAY, WEEKDAYS, Calendar, Range, country_supported
from rules.nodes import NULL_TAG, Reader, describe, did_you_mean

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_OFFSET = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)\s*(%|s|m|h|d)?$")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
UNIT_MINUTES = {"s": 1 / 60, "m": 1.0, "h": 60.0, "d": float(MINUTES_PER_DAY)}
ALWAYS = ("24x7", "24/7")
CALENDAR_FIELDS = ("timezone", "hours", "holidays", "holiday_country", "holiday_subdivision")


def duration(reader: Reader, node: Node, what: str) -> float | None:
    """Minutes of business time from "15m", "1h", "8h", "2d" (a day is 24 hours of the clock);
    seconds ("30s") are allowed for demos and tests that must watch a ladder run."""
    raw = _scalar(node)
    found = _DURATION.match(raw.strip()) if raw is not None else None
    if found is None or float(found[1]) <= 0:
        reader.error(node, f"{what} must be a positive duration such as 15m, 1h or 2d, got {describe(node)}")
        return None
    return float(found[1]) * UNIT_MINUTES[found[2]]


def offset(reader: Reader, node: Node, what: str) -> tuple[float | None, float | None] | None:
    """(percent, minutes) from "-25%", "0", "+15m": one of the two is None."""
    raw = _scalar(node)
    found = _OFFSET.match(raw.strip()) if raw is not None else None
    if found is None or (found[3] is None and float(found[2]) != 0):
        reader.error(
            node, f"{what} must be an offset from the due time such as -25%, 0 or +15m, got {describe(node)}"
        )
        return None
    sign = -1.0 if found[1] == "-" else 1.0
    value = sign * float(found[2])
    if found[3] == "%":
        if not -100 <= value <= 100:
            reader.error(node, f"{what}: a percentage offset lies between -100% and +100%")
            return None
        return value, None
    return None, value * UNIT_MINUTES.get(found[3] or "m", 1.0)


def fraction(reader: Reader, node: Node, what: str) -> float | None:
    """0.75 or "75%", strictly between 0 and 1."""
    raw = _scalar(node)
    value: float | None = None
    if raw is not None:
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            value = None
    if value is None or not 0 < value < 1:
        reader.error(node, f"{what} must be a fraction between 0 and 1 such as 0.75, got {describe(node)}")
        return None
    return value


def calendar(reader: Reader, name: str, node: Node) -> Calendar | None:
    what = f"calendar `{name}`"
    entries = reader.mapping(node, what, allowed=CALENDAR_FIELDS, required=("timezone", "hours"))
    if entries is None or "timezone" not in entries or "hours" not in entries:
        return None
    before = len(reader.problems)
    zone = timezone(reader, entries["timezone"], f"{what}: `timezone`")
    week = hours(reader, entries["hours"], f"{what}: `hours`")
    days = holiday_dates(reader, entries["holidays"], what) if "holidays" in entries else frozenset()
    country = subdivision = None
    if "holiday_country" in entries:
        country = reader.text(entries["holiday_country"], f"{what}: `holiday_country`")
    if "holiday_subdivision" in entries:
        subdivision = reader.text(entries["holiday_subdivision"], f"{what}: `holiday_subdivision`")
        if "holiday_country" not in entries:
            reader.error(entries["holiday_subdivision"], f"{what}: a subdivision needs `holiday_country`")
    if country is not None and (why := country_supported(country.upper(), subdivision)):
        wrong = "holiday_subdivision" if why.startswith("unknown subdivision") else "holiday_country"
        reader.error(entries[wrong], why)
    if zone is None or week is None or days is None or len(reader.problems) > before:
        return None
    return Calendar(
        name,
        zone,
        week,
        holidays=days,
        holiday_country=country.upper() if country else None,
        holiday_subdivision=subdivision,
    )


def timezone(reader: Reader, node: Node, what: str) -> zoneinfo.ZoneInfo | None:
    key = reader.text(node, what)
    if key is None:
        return None
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.error(node, f"{what}: unknown IANA time zone `{key}`{did_you_mean(key, _zone_names())}")
        return None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def hours(reader: Reader, node: Node, what: str) -> tuple[tuple[Range, ...], ...] | None:
    """`24x7`, or a mapping of weekday to ranges ("09:00-12:00"); days left out are closed."""
    if isinstance(node, ScalarNode) and node.value in ALWAYS:
        return tuple(((0, MINUTES_PER_DAY),) for _ in WEEKDAYS)
    if not isinstance(node, MappingNode):
        reader.error(node, f"{what} must be `24x7` or a mapping of weekdays to ranges, got {describe(node)}")
        return None
    entries = reader.mapping(node, what, allowed=WEEKDAYS)
    if entries is None:
        return None
    week: list[tuple[Range, ...]] = []
    ok = True
    for day in WEEKDAYS:
        day_node = entries.get(day)
        ranges = () if day_node is None else day_ranges(reader, day_node, f"{what}: `{day}`")
        ok = ok and ranges is not None
        week.append(ranges or ())
    if ok and not any(week):
        reader.error(node, f"{what}: the calendar is never open")
        return None
    return tuple(week) if ok else None


def day_ranges(reader: Reader, node: Node, what: str) -> tuple[Range, ...] | None:
    if isinstance(node, ScalarNode) and (node.tag == NULL_TAG or node.value == "closed"):
        return ()
    texts = [] if getattr(node, "value", None) == [] else reader.texts(node, what)
    if texts is None:
        return None
    ranges: list[Range] = []
    for text in texts:
        found = _RANGE.match(text.strip())
        start = _minute(int(found[1]), int(found[2])) if found else None
        end = _minute(int(found[3]), int(found[4])) if found else None
        if start is None or end is None or start >= MINUTES_PER_DAY:
            reader.error(node, f"{what}: `{text}` is not a range of times such as 09:00-17:30")
            return None
        if end <= start:
            reader.error(
                node,
                f"{what}: `{text}` ends before it starts; a range across midnight is written as "
                "two, e.g. 22:00-24:00 on one day and 00:00-02:00 on the next",
            )
            return None
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in pairwise(ranges):
        if start < end:
            reader.error(node, f"{what}: ranges overlap")
            return None
    return tuple(ranges)


def _minute(hour: int, minute: int) -> int | None:
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def holiday_dates(reader: Reader, node: Node, what: str) -> frozenset[date] | None:
    items = reader.items(node, f"{what}: `holidays`")
    if items is None:
        return None
    days: set[date] = set()
    for item in items:
        raw = _scalar(item)
        try:
            days.add(date.fromisoformat(raw or ""))
        except ValueError:
            reader.error(item, f"{what}: a holiday is a date such as 2026-12-25, got {describe(item)}")
            return None
    return frozenset(days)


def _scalar(node: Node) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        return str(node.value)
    return None
