"""Wiring: the objects a router process (web, CLI, worker) builds once from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from router import audit
from router.db import get_engine, make_engine, session_scope
from router.ingest import AfterCommit, Ingestor
from router.settings import Settings, get_settings
from router.sla.policy import SlaConfig, load_sla_config
from router.timeutil import utcnow
from rules.engine import RuleSet, evaluate
from rules.facts import PostFacts
from rules.holder import RuleSetHolder
from rules.outcome import Decision

log = logging.getLogger(__name__)


class RuleSetRouter:
    """Routes with whatever rule set is live in the holder (which hot-reloads it)."""

    def __init__(self, holder: RuleSetHolder) -> None:
        self._holder = holder

    @property
    def version(self) -> str:
        return self._holder.current.version

    def decide(self, facts: PostFacts) -> Decision:
        return evaluate(facts, self._holder.current)


def _load_sla_config(settings: Settings) -> SlaConfig | None:
    """The SLA config, read once. Without one, cases get no due times and rule files may name
    any SLA policy; a broken one stops the process (SlaConfigError names file:line:column)."""
    if not settings.sla_config_path.exists():
        log.warning(
            "no SLA config at %s: no due times, SLA policy names in rules are not checked",
            settings.sla_config_path,
        )
        return None
    return load_sla_config(settings.sla_config_path)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    after_commit: AfterCommit | None = None

    @cached_property
    def sla(self) -> SlaConfig | None:
        return _load_sla_config(self.settings)

    @cached_property
    def rules(self) -> RuleSetHolder:
        return RuleSetHolder(
            self.settings.rules_path,
            known_sla_policies=frozenset(self.sla.policy_names) if self.sla else None,
            on_change=self._audit_rules_change,
        )

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            engine=self.engine, router=RuleSetRouter(self.rules), after_commit=self.after_commit, sla=self.sla
        )

    def _audit_rules_change(self, old_version: str | None, new_version: str, path: object) -> None:
        log.info("rule set %s is live (was %s)", new_version, old_version)
        with session_scope(self.engine) as session:
            audit.record(
                session,
                action="rules.changed",
                old_version=old_version,
                new_version=new_version,
                path=str(path),
            )

    @property
    def ruleset(self) -> RuleSet:
        return self.rules.current

    def warm_up(self) -> None:
        """Load the rule set and the lazily loaded language models now, not on the first post."""
        probe = PostFacts(
            text="warm up: is my order late? 😀",
            channel="x",
            account="warmup",
            author_handle="warmup",
            created_at=utcnow(),
        )
        RuleSetRouter(self.rules).decide(probe)
        self.ingestor  # noqa: B018  (built once, here)


def build_services(settings: Settings | None = None, *, with_followups: bool = True) -> Services:
    settings = settings or get_settings()
    after_commit = None
    if with_followups:
        from workers.followups import after_ingest

        after_commit = after_ingest
    engine = get_engine() if settings is get_settings() else make_engine(settings.effective_database_url)
    return Services(settings=settings, engine=engine, after_commit=after_commit)
