"""SLA: business calendars, policies and escalation ladders (rules/sla.yaml), and the clock
that turns a case's timeline into due times."""
