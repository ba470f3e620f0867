"""SLA reports: figures per period and grouping, aggregated in SQL (PostgreSQL and SQLite).

See README.md in this folder for the definitions (percentile method, breach causes, business time)."""
