"""One pytest run per service: pytest-django configures one settings module
per process, so ``uv run pytest`` (and ``uv run pytest <paths>``) starts one
pytest process per group of test trees below, each under its own settings,
and ends with one combined summary line.

A run given ``--ds`` (or started by this dispatcher) runs in-process as usual.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GROUP_ENV = "MADOGUCHI_TEST_GROUP"
REPORT_ENV = "MADOGUCHI_TEST_GROUP_REPORT"
# pytest's exit code when a run collected no test (e.g. -m e2e in a group without any).
NO_TESTS = 5
COUNTED = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "error")


@dataclass(frozen=True)
class Group:
    name: str
    settings: str
    trees: tuple[str, ...]  # relative to the rootdir; "" is "everything else"


GROUPS = (
    Group("kessai", "tests.settings_kessai", ("tests/kessai",)),
    Group("shinsei", "tests.settings_shinsei", ("tests/shinsei",)),
    # Cross-service journeys, the contract, the CLI, security and the browser
    # tests: both services in one process (tests/settings.py).
    Group("integration", "tests.settings", ("",)),
)


def _group_of(path: Path, root: Path) -> Group:
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        return GROUPS[-1]
    for group in GROUPS:
        if any(tree and (relative + "/").startswith(tree + "/") for tree in group.trees):
            return group
    return GROUPS[-1]


def _plan(config: pytest.Config) -> dict[Group, list[str]]:
    """Which group runs which of the given paths; a path holding several
    groups' trees (``tests``, ``.``) is split into them."""
    root = config.rootpath
    plan: dict[Group, list[str]] = {}
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        path = path.resolve()
        inside = [
            tree
            for g in GROUPS
            for tree in g.trees
            if tree and (root / tree).is_relative_to(path) and root / tree != path
        ]
        if not (path.is_dir() and inside):
            plan.setdefault(_group_of(path, root), []).append(arg)
            continue
        for group in GROUPS:
            own = [t for t in group.trees if t and (root / t).is_relative_to(path)]
            if own:
                plan.setdefault(group, []).extend(str(root / t) for t in own)
            else:  # everything under path outside the other groups' trees
                ignores = [f"--ignore={root / t}" for t in inside]
                plan.setdefault(group, []).extend([arg, *ignores])
    return {group: plan[group] for group in GROUPS if group in plan}


def _options(config: pytest.Config) -> list[str]:
    """The command line without its positional paths."""
    positional = set(config.args) if config.args_source == pytest.Config.ArgsSource.ARGS else set()
    return [a for a in config.invocation_params.args if a not in positional]


def dispatch(config: pytest.Config) -> int | None:
    if os.environ.get(GROUP_ENV) or config.option.ds:
        return None
    if config.option.help or config.option.version or config.option.collectonly:
        return None
    plan = _plan(config)
    options = _options(config)
    stop_on_failure = bool(config.option.maxfail)
    totals: dict[str, int] = {}
    codes: list[int] = []
    started = time.monotonic()
    for group, paths in plan.items():
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as report:
            report_path = report.name
        print(f"\n##### {group.name} tests under {group.settings}", flush=True)
        env = {**os.environ, GROUP_ENV: group.name, REPORT_ENV: report_path}
        code = subprocess.call(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "pytest", *paths, f"--ds={group.settings}", *options],
            env=env,
            cwd=config.invocation_params.dir,
        )
        try:
            counts = json.loads(Path(report_path).read_text() or "{}")
        except json.JSONDecodeError:
            counts = {}
        Path(report_path).unlink(missing_ok=True)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        codes.append(code)
        if code not in (0, NO_TESTS) and stop_on_failure:
            break
    if len(codes) == 1:
        return codes[0]
    failed = [c for c in codes if c not in (0, NO_TESTS)]
    code = failed[0] if failed else (NO_TESTS if all(c == NO_TESTS for c in codes) else 0)
    _print_summary(totals, time.monotonic() - started, [g.name for g in plan])
    return code


def _print_summary(totals: dict[str, int], seconds: float, groups: list[str]) -> None:
    parts = [
        f"{totals[key]} {'errors' if key == 'error' else key}" for key in COUNTED if totals.get(key)
    ]
    text = f" {', '.join(parts) or 'no tests ran'} in {seconds:.2f}s ({' + '.join(groups)}) "
    width = max(len(text) + 2, 80)
    pad = (width - len(text)) // 2
    print("=" * pad + text + "=" * (width - len(text) - pad), flush=True)


def record(terminalreporter: Any) -> None:
    """In a group's process: leave its counts for the dispatcher."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    counts = {
        key: len([r for r in terminalreporter.stats.get(key, []) if _counts(r)]) for key in COUNTED
    }
    Path(path).write_text(json.dumps(counts))


def _counts(report: Any) -> bool:
    # Like pytest's own summary: setup/teardown reports count only when they failed.
    return getattr(report, "count_towards_summary", True)
