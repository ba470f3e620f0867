"""Paging: transports that deliver a Page (Slack webhook, PagerDuty Events v2, email, signed
webhook) behind one Protocol, and the on-call rotation that says who receives it."""
