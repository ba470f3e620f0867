"""The business clock the reports use: the SLA policies' calendars (router/sla), read once from
the SLA config in settings. Without an SLA config, business time is not reported (null)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalendarClock:
    """Business seconds by policy name, given each policy's calendar object from router/sla."""

    calendars: Mapping[str, Any]  # policy name -> calendar
    fingerprints: Mapping[str, str]

    def seconds(
        self, policy: str, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()
    ) -> int:
        from router.sla.calendar import business_seconds_between

        return int(business_seconds_between(self.calendars[policy], start, end, pauses=tuple(pauses)))


def clock_from_settings() -> CalendarClock | None:
    path = get_settings().sla_config_path
    try:
        from router.sla.policy import load_sla_config
    except ImportError:
        return None
    if not path.exists():
        return None
    config = load_sla_config(path)
    calendars = policy_calendars(config)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return CalendarClock(calendars, {name: digest for name in calendars})


def policy_calendars(config: Any) -> dict[str, Any]:
    """policy name -> calendar, from the loaded SLA config."""
    policies = getattr(config, "policies", {})
    calendars = getattr(config, "calendars", {})
    out = {}
    for name, policy in dict(policies).items():
        calendar = getattr(policy, "calendar", None)
        out[name] = calendars.get(calendar, calendar) if isinstance(calendar, str) else calendar
    return out
