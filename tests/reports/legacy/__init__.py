"""The report's SQL as it stood before the report-speed rewrite, frozen as a reference: the tests
compare router.reports.report.build_report with it on random data, and bench/report_bench.py
--baseline times it. Do not import it from the router."""
