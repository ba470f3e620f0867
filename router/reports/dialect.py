"""The few SQL fragments that differ between PostgreSQL and SQLite. Everything else in the
report queries is plain SQL both understand (CTEs, window functions, CASE, GROUP BY)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str

    @property
    def is_pg(self) -> bool:
        return self.name == "postgresql"

    def epoch(self, expr: str) -> str:
        """Whole seconds since 1970 (fractions dropped on both engines, so differences agree)."""
        if self.is_pg:
            # date_part gives a double (EXTRACT gives numeric since PostgreSQL 14: several
            # times slower); a double holds microsecond epochs well enough for FLOOR to be exact
            return f"CAST(FLOOR(date_part('epoch', {expr})) AS BIGINT)"
        return f"CAST(strftime('%s', {expr}) AS INTEGER)"

    def seconds_between(self, start: str, end: str) -> str:
        return f"({self.epoch(end)} - {self.epoch(start)})"

    def day(self, expr: str) -> str:
        """The UTC calendar day as 'YYYY-MM-DD'."""
        if self.is_pg:
            return f"to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        return f"strftime('%Y-%m-%d', {expr})"

    def weekday(self, expr: str) -> str:
        """0 = Sunday … 6 = Saturday, in UTC."""
        if self.is_pg:
            return f"CAST(date_part('dow', {expr} AT TIME ZONE 'UTC') AS INTEGER)"
        return f"CAST(strftime('%w', {expr}) AS INTEGER)"

    def hour(self, expr: str) -> str:
        if self.is_pg:
            return f"CAST(date_part('hour', {expr} AT TIME ZONE 'UTC') AS INTEGER)"
        return f"CAST(strftime('%H', {expr}) AS INTEGER)"

    def tag_join(self, cases_alias: str) -> str:
        """One row per (case, tag); a case without tags keeps one row with tg.value NULL."""
        if self.is_pg:
            return f"LEFT JOIN LATERAL jsonb_array_elements_text({cases_alias}.tags) AS tg(value) ON TRUE"
        return f"LEFT JOIN json_each({cases_alias}.tags) AS tg ON TRUE"

    def has_tag_in(self, cases_alias: str, values: str) -> str:
        """The case has one of the tags in `values` (an expanding bind): the case counts once."""
        if self.is_pg:
            each = f"jsonb_array_elements_text({cases_alias}.tags) AS t(value)"
        else:
            each = f"json_each({cases_alias}.tags) AS t"
        return f"EXISTS (SELECT 1 FROM {each} WHERE t.value IN {values})"

    def json_text(self, expr: str, key: str) -> str:
        if self.is_pg:
            return f"({expr} ->> '{key}')"
        return f"json_extract({expr}, '$.{key}')"

    def true(self) -> str:
        return "TRUE" if self.is_pg else "1"
