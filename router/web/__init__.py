"""The queue's web side: access table, pages, live updates and helpers used by the JSON API."""
