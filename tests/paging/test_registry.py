from __future__ import annotations

import pytest

from workers.paging.base import Page, PageAction
from workers.paging.registry import TRANSPORTS, PagerSettings, configured_pagers


def test_only_transports_with_settings_are_built() -> None:
    assert configured_pagers(PagerSettings(_env_file=None)) == []  # type: ignore[call-arg]
    settings = PagerSettings(
        _env_file=None,  # type: ignore[call-arg]
        slack_webhook_url="http://127.0.0.1:9/services/T/B/X",
        pagerduty_routing_key="k" * 32,
        pagerduty_url="http://127.0.0.1:9",
        webhook_url="http://127.0.0.1:9/hook",
        webhook_secret="s",
        smtp_host="127.0.0.1",
        email_from="engage@acme.test",
    )
    assert [p.name for p in configured_pagers(settings)] == list(TRANSPORTS)


def test_env_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGER_PAGERDUTY_ROUTING_KEY", "k" * 32)
    monkeypatch.setenv("PAGER_EMAIL_TO", '["a@acme.test", "b@acme.test"]')
    settings = PagerSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.email_to == ["a@acme.test", "b@acme.test"]
    assert "k" * 32 not in repr(settings)
    assert [p.name for p in configured_pagers(settings)] == ["pagerduty"]


def test_a_page_is_checked() -> None:
    with pytest.raises(ValueError, match="dedup key"):
        Page("has space", PageAction.TRIGGER, "s")
    with pytest.raises(ValueError, match="dedup key"):
        Page("k" * 256, PageAction.TRIGGER, "s")
    with pytest.raises(ValueError, match="summary"):
        Page("k", PageAction.TRIGGER, " ")
    from datetime import datetime

    with pytest.raises(ValueError, match="aware"):
        Page("k", PageAction.TRIGGER, "s", at=datetime(2026, 1, 1))
