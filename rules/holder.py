"""The live rule set of a running service, reloaded when its file changes and only if it passes
`check`: a broken file is refused, logged once, and the last good set stays live."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rules.engine import RuleSet
from rules.errors import RuleFileError
from rules.loader import content_version, load_ruleset, parse_sources, read_sources

log = logging.getLogger(__name__)

OnChange = Callable[[str | None, str, Path], None]


class ReloadStatus(StrEnum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    REFUSED = "refused"  # the file changed but does not pass check; the old set stays live


@dataclass(frozen=True, slots=True)
class ReloadResult:
    status: ReloadStatus
    version: str  # the live version after this call
    previous: str | None = None  # the version replaced, when reloaded
    refused_version: str | None = None  # the content hash of the refused file
    error: RuleFileError | None = None

    @property
    def changed(self) -> bool:
        return self.status == ReloadStatus.RELOADED


class RuleSetHolder:
    """Loads `path` now (raising RuleFileError if it is broken: there is no last good set yet).

    `on_change(old_version, new_version, path)` is called after each successful reload, not for
    the initial load; an exception it raises is logged and does not undo the reload.
    """

    def __init__(
        self,
        path: Path,
        known_sla_policies: Collection[str] | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        self.path = Path(path)
        self._known = frozenset(known_sla_policies) if known_sla_policies is not None else None
        self._on_change = on_change
        self._lock = threading.Lock()
        self._current = load_ruleset(self.path, known_sla_policies=self._known)
        self._refused: tuple[str, RuleFileError] | None = None

    @property
    def current(self) -> RuleSet:
        return self._current  # one attribute read: atomic; a swap replaces the whole object

    def reload_if_changed(self) -> ReloadResult:
        with self._lock:
            old = self._current
            try:
                sources = read_sources(self.path)
            except (RuleFileError, OSError) as exc:
                error = exc if isinstance(exc, RuleFileError) else _as_error(self.path, exc)
                return self._refuse("missing", error)
            version = content_version(sources)
            if version == old.version:
                self._refused = None
                return ReloadResult(ReloadStatus.UNCHANGED, old.version)
            if self._refused is not None and self._refused[0] == version:
                return ReloadResult(ReloadStatus.REFUSED, old.version, None, version, self._refused[1])
            try:
                new = parse_sources(self.path, sources, known_sla_policies=self._known)
            except RuleFileError as exc:
                return self._refuse(version, exc)
            self._current = new
            self._refused = None
        log.info("rules %s: now %s (was %s)", self.path, new.version, old.version)
        if self._on_change is not None:
            try:
                self._on_change(old.version, new.version, self.path)
            except Exception:  # a loop boundary: the reload stands whatever the listener does
                log.exception("rules %s: on_change listener failed for %s", self.path, new.version)
        return ReloadResult(ReloadStatus.RELOADED, new.version, old.version)

    def _refuse(self, version: str, error: RuleFileError) -> ReloadResult:
        live = self._current.version
        if self._refused is None or self._refused[0] != version:
            log.warning(
                "rules %s: refused the changed file (%s); %s stays live:\n%s", self.path, version, live, error
            )
        self._refused = (version, error)
        return ReloadResult(ReloadStatus.REFUSED, live, None, version, error)


def _as_error(path: Path, exc: OSError) -> RuleFileError:
    from rules.errors import Problem

    return RuleFileError([Problem(str(path), 1, 1, f"cannot read: {exc}")])
