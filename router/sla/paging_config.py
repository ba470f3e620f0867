"""The `oncall:` and `paging:` sections of the SLA file: rotations of people, and when PR is paged.

```yaml
oncall:
  pr:
    timezone: Europe/London
    people: [dana@acme.example, eli@acme.example]   # email addresses get the email pages
    starts: 2026-11-02          # people[0]'s first shift begins that day at `handoff`
    handoff: "09:00"            # local time; shifts last `shift_days` (default 7)
    quiet_hours: "22:00-07:00"  # non-critical pages wait until it ends
    overrides:
      - {person: eli@acme.example, from: "2026-12-24T18:00:00Z", to: "2026-12-27T09:00:00Z"}
paging:
  rotation: pr                  # who `page: pr` and the `page_pr` stage page (default: pr)
  manager_rotation: managers    # who `page_manager` pages
  risk_threshold: 0.8           # a case this risky pages PR even without `page: pr`
  critical_risk: 0.9            # at or above: critical, ignores quiet hours
  repage_after: 10m             # wall-clock minutes without acknowledgement before the next person
  max_pages: 6                  # pages per incident, re-pages included
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from yaml.nodes import Node

from router.sla import reading
from rules.nodes import Reader, describe, did_you_mean
from workers.paging.oncall import Override, QuietHours, Rotation

ROTATION_FIELDS = ("timezone", "people", "starts", "handoff", "shift_days", "quiet_hours", "overrides")
PAGING_FIELDS = (
    "rotation",
    "manager_rotation",
    "risk_threshold",
    "critical_risk",
    "repage_after",
    "max_pages",
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_SPAN = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class PagingPolicy:
    rotation: str | None = None
    manager_rotation: str | None = None
    risk_threshold: float = 0.8
    critical_risk: float = 0.9
    repage_after: float = 10.0  # minutes of wall-clock time
    max_pages: int = 6


def rotation(reader: Reader, name: str, node: Node) -> Rotation | None:
    what = f"rotation `{name}`"
    entries = reader.mapping(node, what, allowed=ROTATION_FIELDS, required=("timezone", "people", "starts"))
    if entries is None or not {"timezone", "people", "starts"} <= entries.keys():
        return None
    before = len(reader.problems)
    zone = reading.timezone(reader, entries["timezone"], f"{what}: `timezone`")
    people = reader.texts(entries["people"], f"{what}: `people`") or []
    if len(set(people)) != len(people):
        reader.error(entries["people"], f"{what}: someone is listed twice in `people`")
    starts = _date(reader, entries["starts"], f"{what}: `starts`")
    handoff = _time(reader, entries["handoff"], f"{what}: `handoff`") if "handoff" in entries else time(9)
    shift_days = 7
    if "shift_days" in entries:
        shift_days = reader.integer(entries["shift_days"], f"{what}: `shift_days`") or 0
        if shift_days < 1:
            reader.error(entries["shift_days"], f"{what}: `shift_days` must be 1 or more")
    quiet = (
        _quiet(reader, entries["quiet_hours"], f"{what}: `quiet_hours`") if "quiet_hours" in entries else None
    )
    overrides = _overrides(reader, entries["overrides"], what) if "overrides" in entries else ()
    if len(reader.problems) > before or zone is None or starts is None or handoff is None or not people:
        return None
    return Rotation(name, tuple(people), zone, starts, handoff, shift_days, overrides, quiet)


def paging_policy(reader: Reader, node: Node | None, rotations: dict[str, Node]) -> PagingPolicy:
    default = PagingPolicy(
        rotation="pr" if "pr" in rotations else None,
        manager_rotation="managers" if "managers" in rotations else None,
    )
    if node is None:
        return default
    entries = reader.mapping(node, "`paging`", allowed=PAGING_FIELDS) or {}
    values: dict[str, object] = {}
    for field in ("rotation", "manager_rotation"):
        if field in entries:
            name = reader.text(entries[field], f"`paging.{field}`")
            if name is not None and name not in rotations:
                known = did_you_mean(name, rotations)
                reader.error(entries[field], f"`paging.{field}`: no rotation `{name}` under `oncall`{known}")
            values[field] = name
    for field in ("risk_threshold", "critical_risk"):
        if field in entries:
            value = reader.number(entries[field], f"`paging.{field}`")
            if value is not None and not 0 <= value <= 1:
                reader.error(entries[field], f"`paging.{field}` lies between 0 and 1")
            values[field] = value
    if "repage_after" in entries:
        values["repage_after"] = reading.duration(reader, entries["repage_after"], "`paging.repage_after`")
    if "max_pages" in entries:
        value = reader.integer(entries["max_pages"], "`paging.max_pages`")
        if value is not None and value < 1:
            reader.error(entries["max_pages"], "`paging.max_pages` must be 1 or more")
        values["max_pages"] = value
    kept = {k: v for k, v in values.items() if v is not None}
    return PagingPolicy(**{**default.__dict__, **kept})


def _date(reader: Reader, node: Node, what: str) -> date | None:
    try:
        return date.fromisoformat(str(getattr(node, "value", "")))
    except ValueError:
        reader.error(node, f"{what} must be a date such as 2026-11-02, got {describe(node)}")
        return None


def _time(reader: Reader, node: Node, what: str) -> time | None:
    found = _TIME.match(str(getattr(node, "value", "")).strip())
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        reader.error(node, f"{what} must be a local time such as 09:00, got {describe(node)}")
        return None
    return time(int(found[1]), int(found[2]))


def _quiet(reader: Reader, node: Node, what: str) -> QuietHours | None:
    found = _SPAN.match(str(getattr(node, "value", "")).strip())
    parts = [_TIME.match(found[1]), _TIME.match(found[2])] if found else []
    times = [time(int(m[1]), int(m[2])) for m in parts if m and int(m[1]) < 24 and int(m[2]) < 60]
    if len(times) != 2 or times[0] == times[1]:
        reader.error(node, f"{what} must be a span such as 22:00-07:00, got {describe(node)}")
        return None
    return QuietHours(times[0], times[1])


def _overrides(reader: Reader, node: Node, what: str) -> tuple[Override, ...]:
    out = []
    for number, item in enumerate(reader.items(node, f"{what}: `overrides`") or [], start=1):
        label = f"{what}: override {number}"
        entries = reader.mapping(
            item, label, allowed=("person", "from", "to"), required=("person", "from", "to")
        )
        if entries is None or len(entries) != 3:
            continue
        person = reader.text(entries["person"], f"{label}: `person`")
        start = _moment(reader, entries["from"], f"{label}: `from`")
        end = _moment(reader, entries["to"], f"{label}: `to`")
        if person is None or start is None or end is None:
            continue
        if end <= start:
            reader.error(entries["to"], f"{label}: `to` must be after `from`")
            continue
        out.append(Override(person, start, end))
    return tuple(out)


def _moment(reader: Reader, node: Node, what: str) -> datetime | None:
    raw = str(getattr(node, "value", "")).strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        reader.error(
            node, f"{what} must be a time with an offset such as 2026-12-24T18:00:00Z, got {describe(node)}"
        )
        return None
    return value
