"""The report's SQL as it stood before the report-speed rewrite, frozen as a reference: the tests
compare router.reports.report.build_report with it on random data, and bench/report_bench.py
--baseline times it. Only the modules whose queries changed are frozen here; the dialect helpers
and the audit event names are the router's own. Do not import it from the router."""
