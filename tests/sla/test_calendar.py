"""Business-time arithmetic, checked by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from router.sla.calendar import Calendar, ClockPaused, add_business_time, business_seconds_between
from router.sla.policy import parse_sla_config

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CALENDARS = parse_sla_config(
    """
calendars:
  office-de:                       # lunch break 12:00-13:00, German public holidays
    timezone: Europe/Berlin
    hours:
      mon: &day ["09:00-12:00", "13:00-17:00"]
      tue: *day
      wed: *day
      thu: *day
      fri: *day
    holiday_country: DE
  office-ny:
    timezone: America/New_York
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
            thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
  night-de:                        # Sundays 01:00-05:00, across the small hours DST moves
    timezone: Europe/Berlin
    hours: {sun: ["01:00-05:00"]}
  odd-de:                          # boundaries inside the skipped / repeated hour
    timezone: Europe/Berlin
    hours: {sun: ["02:30-04:00"]}
  always:
    timezone: UTC
    hours: 24x7
  always-ny:
    timezone: America/New_York
    hours: 24x7
""",
    "test.yaml",
).calendars


def cal(name: str) -> Calendar:
    return CALENDARS[name]


def at(tz: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_after_hours_on_friday_runs_on_monday() -> None:
    # Fri 2026-11-20 18:00 CET is after closing; the 60 minutes start Mon 09:00 CET -> 10:00 CET = 09:00 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 11, 20, 18, 0), 60) == utc(2026, 11, 23, 9, 0)
    # Fri 16:30 CET + 60: 30 minutes to 17:00, 30 more from Mon 09:00 -> Mon 09:30 CET = 08:30 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 11, 20, 16, 30), 60) == utc(
        2026, 11, 23, 8, 30
    )


def test_lunch_break_is_skipped() -> None:
    # Mon 11:30 CET + 60: 30 minutes to 12:00, lunch, 30 more from 13:00 -> 13:30 CET = 12:30 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 11, 23, 11, 30), 60) == utc(
        2026, 11, 23, 12, 30
    )
    # 11:00 -> 14:00 CET is 3 h on the wall but 2 h open.
    seconds = business_seconds_between(
        cal("office-de"), at(BERLIN, 2026, 11, 23, 11), at(BERLIN, 2026, 11, 23, 14)
    )
    assert seconds == 2 * 3600


def test_holidays_by_country_are_closed() -> None:
    # Thu 2026-12-24 16:30 CET + 60: 30 minutes on Thursday (Christmas Eve is no public holiday in DE),
    # Fri 25th and Sat 26th are holidays, Sunday closed -> Mon 28th 09:00 + 30 = 09:30 CET = 08:30 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 12, 24, 16, 30), 60) == utc(
        2026, 12, 28, 8, 30
    )


def test_holidays_by_date_and_the_issue_example_calendar() -> None:
    issue = parse_sla_config(
        """
calendars:
  support-de:
    timezone: Europe/Berlin
    hours:                      # days without an entry are closed
      mon: ["09:00-12:00", "13:00-17:00"]
      tue: ["09:00-17:00"]
      sat: ["10:00-14:00"]
    holidays: ["2026-12-25", "2026-12-26"]   # optional; `holiday_country: DE` also allowed
  always:
    timezone: UTC
    hours: 24x7
""",
        "issue.yaml",
    )
    support = issue.calendar("support-de")
    # Tue 2026-12-22 16:00 CET + 120: 60 minutes to 17:00; Wed-Fri closed; Sat 26th is a listed holiday;
    # Mon 28th 09:00 + 60 = 10:00 CET = 09:00 UTC.
    assert add_business_time(support, at(BERLIN, 2026, 12, 22, 16), 120) == utc(2026, 12, 28, 9, 0)
    # The week before, Saturday 19th is open: Tue 15th 16:00 + 120 -> Sat 19th 11:00 CET = 10:00 UTC.
    assert add_business_time(support, at(BERLIN, 2026, 12, 15, 16), 120) == utc(2026, 12, 19, 10, 0)


def test_office_hours_follow_the_clocks_in_berlin() -> None:
    # Spring: Sun 2026-03-29 02:00 CET -> 03:00 CEST. Fri 27th 16:30 CET (15:30 UTC) + 60: 30 minutes,
    # then Mon 30th 09:00 CEST (07:00 UTC) + 30 -> 07:30 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 3, 27, 16, 30), 60) == utc(2026, 3, 30, 7, 30)
    # Autumn: Sun 2026-10-25 03:00 CEST -> 02:00 CET. Fri 23rd 16:30 CEST (14:30 UTC) + 60 ->
    # Mon 26th 09:30 CET = 08:30 UTC.
    assert add_business_time(cal("office-de"), at(BERLIN, 2026, 10, 23, 16, 30), 60) == utc(
        2026, 10, 26, 8, 30
    )


def test_office_hours_follow_the_clocks_in_new_york() -> None:
    # Spring: Sun 2026-03-08 02:00 EST -> 03:00 EDT. Fri 6th 16:00 EST (21:00 UTC) + 120: 60 minutes,
    # then Mon 9th 09:00 EDT (13:00 UTC) + 60 -> 14:00 UTC.
    assert add_business_time(cal("office-ny"), at(NEW_YORK, 2026, 3, 6, 16), 120) == utc(2026, 3, 9, 14, 0)
    # Autumn: Sun 2026-11-01 02:00 EDT -> 01:00 EST. Fri Oct 30th 16:00 EDT (20:00 UTC) + 120 ->
    # Mon Nov 2nd 10:00 EST = 15:00 UTC.
    assert add_business_time(cal("office-ny"), at(NEW_YORK, 2026, 10, 30, 16), 120) == utc(2026, 11, 2, 15, 0)


def test_a_range_across_the_change_lasts_the_real_time() -> None:
    night = cal("night-de")
    # 01:00-05:00 on the spring Sunday: 01:00 CET = 00:00 UTC to 05:00 CEST = 03:00 UTC: 3 real hours.
    assert business_seconds_between(night, utc(2026, 3, 28), utc(2026, 3, 30)) == 3 * 3600
    # On the autumn Sunday: 01:00 CEST = 23:00 UTC (Sat) to 05:00 CET = 04:00 UTC: 5 real hours.
    assert business_seconds_between(night, utc(2026, 10, 24), utc(2026, 10, 26)) == 5 * 3600
    # An ordinary Sunday: 4 hours.
    assert business_seconds_between(night, utc(2026, 11, 7), utc(2026, 11, 9)) == 4 * 3600


def test_a_boundary_in_the_skipped_or_repeated_hour_follows_rfc_5545() -> None:
    odd = cal("odd-de")
    # Spring: 02:30 does not exist; it is read with the offset before the gap (+01:00) = 01:30 UTC =
    # 03:30 CEST. To 04:00 CEST (02:00 UTC): 30 minutes.
    assert business_seconds_between(odd, utc(2026, 3, 28), utc(2026, 3, 30)) == 30 * 60
    assert add_business_time(odd, utc(2026, 3, 28), 10) == utc(2026, 3, 29, 1, 40)
    # Autumn: 02:30 happens twice; the first (CEST, 00:30 UTC) counts. To 04:00 CET (03:00 UTC): 2.5 h.
    assert business_seconds_between(odd, utc(2026, 10, 24), utc(2026, 10, 26)) == 150 * 60


def test_24x7_is_wall_clock_time_even_across_a_change() -> None:
    start = utc(2026, 11, 20, 23, 50)
    assert add_business_time(cal("always"), start, 15) == utc(2026, 11, 21, 0, 5)
    # Sat 2026-03-07 23:00 EST (04:00 UTC) + 4 h: 08:00 UTC, which New York reads as 04:00 EDT.
    due = add_business_time(cal("always-ny"), at(NEW_YORK, 2026, 3, 7, 23), 240)
    assert due == utc(2026, 3, 8, 8, 0)
    assert due.astimezone(NEW_YORK).isoformat() == "2026-03-08T04:00:00-04:00"


def test_pauses_stop_the_clock() -> None:
    office = cal("office-de")
    start = at(BERLIN, 2026, 11, 23, 9)  # Mon 09:00 CET
    pause = (at(BERLIN, 2026, 11, 23, 9, 30), at(BERLIN, 2026, 11, 23, 10, 30))
    # 30 minutes run, 60 paused, 90 more from 10:30 reach 12:00 exactly: the earliest such instant is
    # 12:00 CET (11:00 UTC), not 13:00 after lunch.
    assert add_business_time(office, start, 120, [pause]) == utc(2026, 11, 23, 11, 0)
    # 24x7: 15 minutes from 10:00 with 10:05-10:20 paused -> 10:30.
    paused = [(utc(2026, 11, 23, 10, 5), utc(2026, 11, 23, 10, 20))]
    assert add_business_time(cal("always"), utc(2026, 11, 23, 10), 15, paused) == utc(2026, 11, 23, 10, 30)
    assert (
        business_seconds_between(cal("always"), utc(2026, 11, 23, 10), utc(2026, 11, 23, 11), paused)
        == 45 * 60
    )
    # Overlapping and unordered pauses merge: 10:05-10:20 and 10:10-10:25 pause 20 minutes -> 10:35.
    both = [(utc(2026, 11, 23, 10, 10), utc(2026, 11, 23, 10, 25)), *paused]
    assert add_business_time(cal("always"), utc(2026, 11, 23, 10), 15, both) == utc(2026, 11, 23, 10, 35)


def test_an_open_pause_stops_the_clock_for_good() -> None:
    open_pause = [(utc(2026, 11, 23, 10, 5), None)]
    with pytest.raises(ClockPaused):
        add_business_time(cal("always"), utc(2026, 11, 23, 10), 15, open_pause)
    # ...unless the time runs out before the pause starts.
    assert add_business_time(cal("always"), utc(2026, 11, 23, 10), 5, open_pause) == utc(2026, 11, 23, 10, 5)
    assert (
        business_seconds_between(cal("always"), utc(2026, 11, 23, 10), utc(2026, 11, 24), open_pause) == 300
    )


def test_edges() -> None:
    office = cal("office-de")
    start = at(BERLIN, 2026, 11, 21, 12)  # a Saturday
    assert add_business_time(office, start, 0) == start
    assert business_seconds_between(office, start, start - timedelta(hours=1)) == 0
    with pytest.raises(ValueError, match="naive"):
        add_business_time(office, datetime(2026, 11, 23, 9), 10)


@pytest.mark.parametrize("name", ["office-de", "office-ny", "night-de", "odd-de", "always", "always-ny"])
def test_adding_then_measuring_gives_the_minutes_back(name: str) -> None:
    rng = random.Random(6)
    for _ in range(300):
        start = utc(2026, 1, 1) + timedelta(minutes=rng.randrange(366 * 24 * 60))
        minutes = rng.choice([1, 15, 60, 119, 480, 1440, 4320])
        pauses = [(start + timedelta(minutes=10), start + timedelta(minutes=10 + rng.randrange(2000)))]
        due = add_business_time(cal(name), start, minutes, pauses)
        assert business_seconds_between(cal(name), start, due, pauses) == minutes * 60
        assert business_seconds_between(cal(name), start, due - timedelta(seconds=1), pauses) < minutes * 60


def test_many_timers_are_cheap() -> None:
    office, start = cal("office-de"), utc(2026, 11, 20, 15)
    began = datetime.now(UTC)
    for i in range(20_000):
        add_business_time(office, start + timedelta(minutes=i), 4320)  # 3 days of business time each
    assert datetime.now(UTC) - began < timedelta(seconds=10)
