from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from workers.paging.base import Severity
from workers.paging.oncall import Override, QuietHours, Rotation, Shift

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def weekly(**kw: object) -> Rotation:
    # Mon 2026-11-02 09:00 CET (08:00 UTC) ana takes over; ben a week later, then cai, then ana again.
    options: dict[str, object] = {
        "name": "pr",
        "people": ("ana", "ben", "cai"),
        "timezone": BERLIN,
        "anchor": date(2026, 11, 2),
    }
    options.update(kw)
    return Rotation(**options)  # type: ignore[arg-type]


def test_weekly_handoff_at_local_nine() -> None:
    rota = weekly()
    # One minute before the first handoff it is still the previous shift, which is cai's (index -1).
    assert rota.shift(utc(2026, 11, 2, 7, 59)) == Shift("cai", utc(2026, 10, 26, 8), utc(2026, 11, 2, 8))
    assert rota.shift(utc(2026, 11, 2, 8)) == Shift("ana", utc(2026, 11, 2, 8), utc(2026, 11, 9, 8))
    assert rota.on_call(utc(2026, 11, 11, 12)) == "ben"  # Wed of the second week
    assert rota.on_call(utc(2026, 11, 16, 8)) == "cai"  # Mon 16th 09:00 CET
    assert rota.on_call(utc(2026, 11, 23, 7, 59)) == "cai"  # 08:59 CET Mon 23rd
    assert rota.on_call(utc(2026, 11, 23, 8)) == "ana"
    # Before the anchor the cycle runs backwards: Oct 5 is 4 weeks earlier -> index -4 % 3 = 2 = cai.
    assert rota.on_call(utc(2026, 10, 7, 12)) == "cai"
    # An instant given in another zone is the same instant.
    assert rota.on_call(datetime(2026, 11, 2, 3, 30, tzinfo=NEW_YORK)) == "ana"  # 08:30 UTC


def test_shifts_keep_local_handoff_across_dst() -> None:
    rota = weekly()
    # Berlin falls back Sun 2026-10-25. The shift from Mon Oct 19 09:00 CEST (07:00 UTC) runs to
    # Mon Oct 26 09:00 CET (08:00 UTC): a week and an hour. Oct 19 is two weeks before the anchor
    # -> index -2 % 3 = 1 = ben.
    shift = rota.shift(utc(2026, 10, 25, 12))
    assert shift == Shift("ben", utc(2026, 10, 19, 7), utc(2026, 10, 26, 8))
    assert shift.end - shift.start == timedelta(days=7, hours=1)
    # New York springs forward Sun 2026-03-08: Mon Mar 2 09:00 EST (14:00 UTC) to Mon Mar 9
    # 09:00 EDT (13:00 UTC) is a week less an hour.
    ny = weekly(timezone=NEW_YORK, anchor=date(2026, 3, 2))
    assert ny.shift(utc(2026, 3, 8, 12)) == Shift("ana", utc(2026, 3, 2, 14), utc(2026, 3, 9, 13))
    assert ny.on_call(utc(2026, 3, 9, 12, 59)) == "ana" and ny.on_call(utc(2026, 3, 9, 13)) == "ben"
    # ...and falls back Sun Nov 1: Mon Oct 26 09:00 EDT (13:00 UTC) to Mon Nov 2 09:00 EST (14:00 UTC).
    assert ny.shift(utc(2026, 11, 1, 12)).end - ny.shift(utc(2026, 11, 1, 12)).start == timedelta(
        days=7, hours=1
    )


def test_handoff_inside_the_skipped_or_repeated_hour() -> None:
    rota = weekly(handoff=time(2, 30), shift_days=1, anchor=date(2026, 3, 28))
    # Sat Mar 28 02:30 CET = 01:30 UTC. Sun 29th 02:30 does not exist: read with the offset before the
    # gap (+01:00) = 01:30 UTC (03:30 CEST). Mon 30th 02:30 CEST = 00:30 UTC: Sunday's shift is 23 h.
    assert rota.shift(utc(2026, 3, 29, 12)) == Shift("ben", utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30))
    # Sun Oct 25 02:30 happens twice; the first (CEST, 00:30 UTC) is the handoff. Mon 26th 02:30 CET =
    # 01:30 UTC: that shift is 25 h. Oct 25 is 211 days after Mar 28 -> 211 % 3 = 1 -> ben.
    assert rota.shift(utc(2026, 10, 25, 12)) == Shift(
        "ben", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)
    )


def test_overrides_win_and_the_latest_override_wins() -> None:
    swap = Override("ben", utc(2026, 11, 4, 18), utc(2026, 11, 5, 6))  # ben covers ana's Wednesday night
    sick = Override("cai", utc(2026, 11, 5, 0), utc(2026, 11, 5, 12))  # then cai takes over from midnight
    rota = weekly(overrides=(swap, sick))
    assert rota.on_call(utc(2026, 11, 4, 17, 59)) == "ana"
    assert rota.on_call(utc(2026, 11, 4, 18)) == "ben"
    assert rota.on_call(utc(2026, 11, 5, 0)) == "cai"
    assert rota.on_call(utc(2026, 11, 5, 12)) == "ana"  # end is exclusive
    with pytest.raises(ValueError):
        Override("x", utc(2026, 1, 2), utc(2026, 1, 1))


def test_re_page_order() -> None:
    rota = weekly(overrides=(Override("cai", utc(2026, 11, 4, 18), utc(2026, 11, 5, 6)),))
    monday = utc(2026, 11, 2, 12)  # ana's week
    assert rota.escalation_order(monday) == ("ana", "ben", "cai")
    assert rota.next_responder(monday, []) == "ana"
    assert rota.next_responder(monday, ["ana"]) == "ben"
    assert rota.next_responder(monday, ["ana", "ben"]) == "cai"
    assert rota.next_responder(monday, ["ana", "ben", "cai"]) is None
    # With an override the covering person comes first, then the rotation from the scheduled one.
    assert rota.escalation_order(utc(2026, 11, 4, 20)) == ("cai", "ana", "ben")
    assert rota.escalation_order(utc(2026, 11, 16, 12)) == ("cai", "ana", "ben")  # cai's week


def test_quiet_hours_hold_non_critical_pages() -> None:
    rota = weekly(quiet_hours=QuietHours(time(22), time(7)))
    night = utc(2026, 11, 4, 22, 30)  # Wed 23:30 CET
    assert rota.quiet_until(night) == utc(2026, 11, 5, 6)  # Thu 07:00 CET
    assert rota.deliver_at(night, Severity.WARNING) == utc(2026, 11, 5, 6)
    assert rota.deliver_at(night, Severity.CRITICAL) == night
    assert rota.quiet_until(utc(2026, 11, 5, 5, 59)) == utc(2026, 11, 5, 6)  # 06:59, window began yesterday
    assert rota.quiet_until(utc(2026, 11, 5, 6)) is None  # 07:00 CET
    assert rota.quiet_until(utc(2026, 11, 4, 20, 59)) is None  # 21:59 CET
    assert rota.deliver_at(utc(2026, 11, 4, 12), Severity.INFO) == utc(2026, 11, 4, 12)
    # Across spring forward: Sat Mar 28 22:00 CET (21:00 UTC) to Sun 07:00 CEST (05:00 UTC).
    assert rota.quiet_until(utc(2026, 3, 28, 21)) == utc(2026, 3, 29, 5)


def test_quiet_hours_on_some_days_only() -> None:
    friday_night = QuietHours(time(23), time(7), days=frozenset({4}))
    rota = weekly(quiet_hours=friday_night)
    assert rota.quiet_until(utc(2026, 11, 6, 22, 30)) == utc(2026, 11, 7, 6)  # Fri 23:30 CET
    assert rota.quiet_until(utc(2026, 11, 7, 0)) == utc(2026, 11, 7, 6)  # Sat 01:00, Friday's window
    assert rota.quiet_until(utc(2026, 11, 7, 22, 30)) is None  # Sat 23:30: no window starts Saturday
    lunch = weekly(quiet_hours=QuietHours(time(12), time(13)))  # a window that does not wrap
    assert lunch.quiet_until(utc(2026, 11, 4, 11, 30)) == utc(2026, 11, 4, 12)


def test_bad_rotations_are_refused() -> None:
    with pytest.raises(ValueError, match="nobody"):
        weekly(people=())
    with pytest.raises(ValueError, match="twice"):
        weekly(people=("ana", "ana"))
    with pytest.raises(ValueError, match="aware"):
        weekly().on_call(datetime(2026, 11, 2, 9))
