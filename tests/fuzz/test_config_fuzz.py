"""Fuzzed rule files and SLA calendars: the loaders refuse them with file:line errors (never crash
with anything else), and a refused rule file never replaces the live, good set."""

from __future__ import annotations

import random
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.sla.policy import SlaConfigError, load_sla_config
from rules.errors import RuleFileError
from rules.holder import ReloadStatus, RuleSetHolder
from rules.loader import load_ruleset
from tests.fuzz.conftest import CASES_TRIED

ROOT = Path(__file__).resolve().parents[2]
GOOD_RULES = (ROOT / "rules" / "default.yaml").read_text()
GOOD_SLA = (ROOT / "rules" / "sla.yaml").read_text()
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

yaml_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(
        ["08:00", "25:99", "mon", "Europe/London", "Mars/Base", "urgent", "forum", "*", "2026-02-30"]
    )
)
yaml_trees = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | yaml_scalars, inner, max_size=4)
    ),
    max_leaves=25,
)


def _mutate(text: str, seed: int, edits: int) -> str:
    """Cut, duplicate and garble lines of a good file: near-misses, the errors people make."""
    rng = random.Random(seed)
    lines = text.splitlines()
    for _ in range(edits):
        i = rng.randrange(len(lines))
        choice = rng.randrange(6)
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif choice == 2:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif choice == 3:
            lines[i] = "  " * rng.randrange(4) + lines[i].lstrip()
        elif choice == 4:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = (
                lines[i][:j]
                + rng.choice([":", "-", "[", "{", "'", "&a", "*a", "!!python/object", "\t"])
                + lines[i][j:]
            )
        else:
            lines[i] = lines[i].replace(
                rng.choice(["urgent", "forum", "pr", "08:00", "mon", "words"]), "bogus"
            )
    return "\n".join(lines)


def _document(kind: str) -> st.SearchStrategy[str]:
    good = GOOD_RULES if kind == "rules" else GOOD_SLA
    return st.one_of(
        st.text(max_size=300),
        yaml_trees.map(lambda t: yaml.safe_dump(t, allow_unicode=True)),
        st.builds(_mutate, st.just(good), st.integers(0, 2**32), st.integers(1, 6)),
        st.integers(1, 1500).map(lambda n: "a: " + "[" * n + "]" * n),  # deep nesting
        st.just("a: &x [*x]\n"),
    )


@FUZZ
@given(text=_document("rules"))
def test_fuzzed_rule_files_are_refused_cleanly(tmp_path_factory: object, text: str) -> None:
    CASES_TRIED["rule files"] += 1
    path = Path(tmp_path_factory.mktemp("rules")) / "fuzz.yaml"  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_ruleset(path)
    except RuleFileError as exc:
        assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)


@FUZZ
@given(text=_document("sla"))
def test_fuzzed_sla_calendars_are_refused_cleanly(tmp_path_factory: object, text: str) -> None:
    CASES_TRIED["SLA calendars"] += 1
    path = Path(tmp_path_factory.mktemp("sla")) / "sla.yaml"  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_sla_config(path)
    except SlaConfigError as exc:
        assert exc.problems


def test_a_fuzzed_rule_file_never_replaces_the_good_set(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD_RULES)
    holder = RuleSetHolder(path)
    good = holder.current

    @FUZZ
    @given(text=_document("rules"))
    def check(text: str) -> None:
        CASES_TRIED["rule reloads"] += 1
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = holder.reload_if_changed()
        if result.status == ReloadStatus.RELOADED:  # a fuzzed file that is in fact valid
            assert holder.current.version == result.version
            path.write_text(GOOD_RULES)
            assert holder.reload_if_changed().status == ReloadStatus.RELOADED
        else:
            assert holder.current is good or holder.current.version == good.version

    check()
    path.write_text(GOOD_RULES)
    holder.reload_if_changed()
    assert holder.current.version == good.version
