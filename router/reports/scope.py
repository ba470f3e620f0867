"""Which cases a report covers, and how they are grouped.

A report covers the live cases (not merged into another) whose first customer post falls in
[start, end). Groups come from a fixed table of dimensions, so no user text reaches the SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.sql.elements import BindParameter

from router.reports.dialect import Dialect
from router.timeutil import UTCDateTime, utcnow
from rules.outcome import Priority

# dimension name -> SQL expression over the cases alias `c` (and `tg` for tags)
DIMENSIONS: dict[str, str] = {
    "queue": "c.queue",
    "channel": "c.channel",
    "account": "c.account",
    "priority": "c.priority",
    "agent": "c.assignee",
    "tag": "tg.value",
}


class ReportError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ReportFilter:
    start: datetime | None = None
    end: datetime | None = None
    group_by: tuple[str, ...] = ()
    where: Mapping[str, Sequence[str]] = field(default_factory=dict)  # dimension -> allowed values
    as_of: datetime = field(default_factory=utcnow)  # "now" for open cases past their due time

    def __post_init__(self) -> None:
        for name in (*self.group_by, *self.where):
            if name not in DIMENSIONS:
                raise ReportError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSIONS)}")
        for moment in (self.start, self.end, self.as_of):
            if moment is not None and moment.tzinfo is None:
                raise ReportError("report times must be timezone-aware")
        if self.start and self.end and self.end <= self.start:
            raise ReportError("the period ends before it starts")


@dataclass(frozen=True, slots=True)
class Scope:
    """SQL for `FROM cases c [tag join] WHERE …` plus its parameters. With `table`, the FROM is
    that per-report table of the scope's cases instead (see snapshot.py): period and filters are
    already applied there, one row per case."""

    dialect: Dialect
    flt: ReportFilter
    exprs: tuple[str, ...] | None = None  # raw group expressions instead of the filter's dimensions
    table: str | None = None

    @property
    def group_exprs(self) -> list[str]:
        if self.exprs is not None:
            return list(self.exprs)
        # byte order sorts several times faster than a locale's, and groups need no locale
        collate = ' COLLATE "C"' if self.dialect.is_pg else ""
        return [DIMENSIONS[n] + ("" if n == "priority" else collate) for n in self.flt.group_by]

    @property
    def has_tags(self) -> bool:
        """Grouped by tag: a case counts once per tag, so totals need their own query."""
        return any(expr.startswith("tg.value") for expr in self.group_exprs)

    def regroup(self, *exprs: str) -> Scope:
        return Scope(self.dialect, self.flt, exprs, self.table)

    def on(self, table: str | None) -> Scope:
        """The same scope read from `table` (None: from the cases table)."""
        return Scope(self.dialect, self.flt, self.exprs, table)

    def select_keys(self, prefix: str = "g") -> str:
        """`c.queue AS g0, c.channel AS g1, ` (with the trailing comma) or nothing."""
        return "".join(f"{expr} AS {prefix}{i}, " for i, expr in enumerate(self.group_exprs))

    def key_names(self, prefix: str = "g") -> list[str]:
        return [f"{prefix}{i}" for i in range(len(self.group_exprs))]

    def from_cases(
        self,
        *,
        period_column: str | None = "c.first_inbound_at",
        join: str = "",
        where: str = "",
        cases: str = "cases c",
    ) -> str:
        """A case counts once, unless grouped by tag (then once per tag; with a tag filter, once
        per matching tag). `cases` may replace the cases table with a FROM item that yields it
        as `c`."""
        joins = (self.dialect.tag_join("c") if self.has_tags else "") + " " + join
        clauses = [where] if where else []
        for i, name in enumerate(sorted(self.flt.where)):
            if name == "tag" and self.has_tags:
                clauses.append(f"tg.value IN :w{i}")
            elif name == "tag":
                clauses.append(self.dialect.has_tag_in("c", f":w{i}"))
            elif self.table is None:
                clauses.append(f"{DIMENSIONS[name]} IN :w{i}")
        if self.table is not None:
            return f"FROM {self.table} c {joins}" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
        clauses = ["c.merged_into_id IS NULL", "c.first_inbound_at IS NOT NULL", *clauses]
        return f"FROM {cases} {joins} WHERE " + " AND ".join(clauses) + self.in_period(period_column)

    def in_period(self, column: str | None) -> str:
        """` AND column >= :p_start AND column < :p_end`, for the bounds the report has."""
        if column is None:
            return ""
        return (f" AND {column} >= :p_start" if self.flt.start else "") + (
            f" AND {column} < :p_end" if self.flt.end else ""
        )

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"p_start": self.flt.start, "p_end": self.flt.end, "as_of": self.flt.as_of}
        for i, name in enumerate(sorted(self.flt.where)):
            values = list(self.flt.where[name])
            out[f"w{i}"] = [_priority(v) for v in values] if name == "priority" else values
        return out

    def binds(self) -> list[BindParameter[Any]]:
        binds: list[BindParameter[Any]] = [
            bindparam("p_start", type_=UTCDateTime),
            bindparam("p_end", type_=UTCDateTime),
            bindparam("as_of", type_=UTCDateTime),
        ]
        binds += [bindparam(f"w{i}", expanding=True) for i in range(len(self.flt.where))]
        return binds


def _priority(value: str) -> int:
    try:
        return int(value) if value.strip().isdigit() else int(Priority.parse(value))
    except KeyError:
        raise ReportError(f"unknown priority {value!r}") from None
