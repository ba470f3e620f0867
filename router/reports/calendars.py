"""The business clock the reports use: the SLA policies' calendars (router/sla), read once from
the SLA config in settings. Without an SLA config, business time is not reported (null).
A policy's fingerprint is its version, which changes when the policy or its calendar does."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from router.settings import get_settings
from router.sla.calendar import Calendar, business_seconds_between
from router.sla.policy import SlaConfig, load_sla_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalendarClock:
    """Business seconds by policy name, given each policy's calendar object from router/sla."""

    calendars: Mapping[str, Calendar]  # policy name -> calendar
    fingerprints: Mapping[str, str]

    def seconds(
        self, policy: str, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]] = ()
    ) -> int:
        return int(business_seconds_between(self.calendars[policy], start, end, pauses=tuple(pauses)))


def clock_from_settings() -> CalendarClock | None:
    path = get_settings().sla_config_path
    if not path.exists():
        return None
    return clock_from_config(load_sla_config(path))


def clock_from_config(config: SlaConfig) -> CalendarClock:
    return CalendarClock(
        policy_calendars(config), {name: policy.version for name, policy in config.policies.items()}
    )


def policy_calendars(config: SlaConfig) -> dict[str, Calendar]:
    """policy name -> calendar, from the loaded SLA config."""
    return {name: config.calendar(policy.calendar) for name, policy in config.policies.items()}
