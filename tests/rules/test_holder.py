"""Hot reload: a good change takes effect, a broken one is refused and the old set stays live."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rules.engine import evaluate
from rules.errors import RuleFileError
from rules.holder import ReloadStatus, RuleSetHolder
from rules.outcome import QueueName
from tests.rules.conftest import SLA, post

V1 = """\
defaults: {queue: forum, priority: normal, sla: relaxed}
rules:
  - id: legal
    when: {words: [lawyer]}
    then: {queue: pr, sla: urgent}
"""
V2 = V1.replace("queue: pr", "queue: customer_service")
BROKEN = V1.replace("queue: pr", "queue: prr")


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(V1, encoding="utf-8")
    return path


def test_unchanged_file(rules_file: Path) -> None:
    holder = RuleSetHolder(rules_file, known_sla_policies=SLA)
    result = holder.reload_if_changed()
    assert result.status == ReloadStatus.UNCHANGED and not result.changed
    assert result.version == holder.current.version


def test_good_change_takes_effect_and_is_announced(rules_file: Path) -> None:
    calls = []
    holder = RuleSetHolder(rules_file, known_sla_policies=SLA, on_change=lambda *a: calls.append(a))
    old = holder.current.version
    assert evaluate(post("my lawyer"), holder.current).queue == QueueName.PR
    rules_file.write_text(V2, encoding="utf-8")
    result = holder.reload_if_changed()
    assert result.status == ReloadStatus.RELOADED and result.previous == old
    assert holder.current.version == result.version != old
    assert evaluate(post("my lawyer"), holder.current).queue == QueueName.CUSTOMER_SERVICE
    assert calls == [(old, result.version, rules_file)]


def test_broken_change_is_refused_and_old_set_stays(rules_file: Path, caplog) -> None:
    calls = []
    holder = RuleSetHolder(rules_file, known_sla_policies=SLA, on_change=lambda *a: calls.append(a))
    live = holder.current
    rules_file.write_text(BROKEN, encoding="utf-8")
    result = holder.reload_if_changed()
    assert result.status == ReloadStatus.REFUSED
    assert result.version == live.version and result.refused_version not in (None, live.version)
    assert result.error is not None and "unknown queue `prr`" in str(result.error)
    assert holder.current is live and calls == []
    assert "refused" in caplog.text and live.version in caplog.text
    caplog.clear()
    assert holder.reload_if_changed().status == ReloadStatus.REFUSED
    assert caplog.text == ""  # logged once per broken version, not every poll
    rules_file.write_text(V2, encoding="utf-8")
    assert holder.reload_if_changed().status == ReloadStatus.RELOADED
    assert evaluate(post("my lawyer"), holder.current).queue == QueueName.CUSTOMER_SERVICE


def test_unknown_sla_policy_is_refused(rules_file: Path) -> None:
    holder = RuleSetHolder(rules_file, known_sla_policies=SLA)
    rules_file.write_text(V1.replace("sla: urgent", "sla: asap"), encoding="utf-8")
    assert holder.reload_if_changed().status == ReloadStatus.REFUSED


def test_deleted_file_is_refused(rules_file: Path) -> None:
    holder = RuleSetHolder(rules_file)
    rules_file.unlink()
    result = holder.reload_if_changed()
    assert result.status == ReloadStatus.REFUSED and holder.current.rules


def test_broken_file_at_start_raises(rules_file: Path) -> None:
    rules_file.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RuleFileError):
        RuleSetHolder(rules_file)


def test_failing_listener_does_not_undo_the_reload(rules_file: Path) -> None:
    def listener(*_: object) -> None:
        raise RuntimeError("audit down")

    holder = RuleSetHolder(rules_file, on_change=listener)
    rules_file.write_text(V2, encoding="utf-8")
    assert holder.reload_if_changed().status == ReloadStatus.RELOADED


def test_readers_always_see_a_whole_rule_set_while_reloading(rules_file: Path) -> None:
    holder = RuleSetHolder(rules_file, known_sla_policies=SLA)
    seen: set[QueueName] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(evaluate(post("lawyer"), holder.current).queue)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(20):
        rules_file.write_text(V2 if i % 2 else V1, encoding="utf-8")
        holder.reload_if_changed()
    stop.set()
    for t in threads:
        t.join()
    assert seen <= {QueueName.PR, QueueName.CUSTOMER_SERVICE}
