"""Where a finding breaks: `Breakage`, the `platforms` and `target-version` settings, and the
"breaks on" verdict every adapter (CLI, flake8, library API) filters and prints the same way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterable

import libcst as cst
import pytest
from click.testing import CliRunner

import mpcheck
from mpcheck import engine
from mpcheck.cli import main
from mpcheck.config import ConfigError, Settings, load_settings
from mpcheck.explain import render_rule
from mpcheck.findings import WHERE_FORK_IS_MISSING, WHERE_FORK_IS_NOT_THE_DEFAULT, Breakage, Violation, narrow
from mpcheck.rules import ALL_RULES, Rule, RuleContext, RuleSpec
from mpcheck.rules.base import Explanation

BIN = Path(sys.executable).parent
ALL = ("windows", "macos", "linux")


@pytest.mark.parametrize(("breakage", "text"), [
    (Breakage("windows"), "Windows"),
    (Breakage("linux", since=(3, 14)), "Linux with Python ≥ 3.14"),
    (Breakage("macos", until=(3, 13)), "macOS with Python < 3.13"),
    (Breakage("linux", since=(3, 8), until=(3, 13)), "Linux with Python ≥ 3.8, < 3.13"),
])
def test_a_breakage_describes_itself(breakage, text):
    assert breakage.describe() == text


NARROWING = {
    "nothing configured keeps every bound": (ALL, ((0, 0), (99, 0)), WHERE_FORK_IS_NOT_THE_DEFAULT),
    "a platform left out": (("linux", "macos"), ((0, 0), (99, 0)),
                            (Breakage("macos", since=(3, 8)), Breakage("linux", since=(3, 14)))),
    "a lowest version drops the bounds below it": (
        ALL, ((3, 10), (99, 0)), (Breakage("windows"), Breakage("macos"), Breakage("linux", since=(3, 14)))),
    "code only run before 3.14 cannot meet Linux's forkserver": (
        ALL, ((0, 0), (3, 14)), (Breakage("windows"), Breakage("macos", since=(3, 8)))),
    "no platform left": (("linux",), ((0, 0), (3, 14)), ()),
}


@pytest.mark.parametrize(("platforms", "versions", "expected"), NARROWING.values(), ids=NARROWING.keys())
def test_narrow_keeps_what_can_be_reached(platforms, versions, expected):
    assert narrow(WHERE_FORK_IS_NOT_THE_DEFAULT, platforms, versions) == expected


def test_a_hazard_of_old_pythons_is_gone_from_the_target_version_on():
    before_313 = (Breakage("linux", until=(3, 13)), Breakage("macos", until=(3, 13)))
    assert Settings(target_version=(3, 12)).reachable(before_313) == before_313
    assert Settings(target_version=(3, 13)).reachable(before_313) == ()
    assert Settings(target_version=(3, 13), platforms=("windows",)).reachable(WHERE_FORK_IS_MISSING) == \
        WHERE_FORK_IS_MISSING


@pytest.mark.parametrize(("value", "expected"), [("3.10", (3, 10)), ("py310", (3, 10)), ("py38", (3, 8)),
                                                  ("3.14", (3, 14))])
def test_target_version_spellings(tmp_path, value, expected):
    config = tmp_path / "pyproject.toml"
    config.write_text(f'[tool.mpcheck]\ntarget-version = "{value}"\n')
    assert load_settings(config).target_version == expected


@pytest.mark.parametrize("value", ['"2.7"', '"3"', '"python3.10"', "3.10", '"py3.10"'])
def test_a_bad_target_version_is_an_error_that_names_it(tmp_path, value):
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.mpcheck]\ntarget-version = {value}\n")
    with pytest.raises(ConfigError, match="`target-version` must be a Python version"):
        load_settings(config)


def test_flags_override_the_file(tmp_path):
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.mpcheck]\nplatforms = ["windows"]\ntarget-version = "3.8"\n')
    settings = load_settings(config, overrides={"platforms": ["linux", "macos"], "target-version": "3.12"})
    assert (settings.platforms, settings.target_version) == (("linux", "macos"), (3, 12))


# -- the engine: one filter for every adapter ----------------------------------------------------


class _PerFindingVerdicts(Rule):
    """A rule whose findings each say where they break: every `print` call, breaking where
    its first argument (a string) says."""

    code = "MP999"
    name = "test-verdicts"
    summary = "test"
    explanation = Explanation("", "", "", "", "")
    breaks_on = WHERE_FORK_IS_MISSING

    def check(self, context: RuleContext) -> Iterable[Violation]:
        verdicts = {"macos": (Breakage("macos"),), "old": (Breakage("linux", until=(3, 13)),), "rule": None}
        for site in context.model.calls:
            call = site.node
            if isinstance(call.func, cst.Name) and call.func.value == "print":
                yield Violation(call, "printed", breaks_on=verdicts[call.args[0].value.evaluated_value])


def test_the_engine_drops_findings_per_verdict(monkeypatch):
    monkeypatch.setattr(engine, "RULES", (RuleSpec("MP999", f"{__name__}:_PerFindingVerdicts", ("print",)),))
    source = 'print("macos")\nprint("old")\nprint("rule")\n'

    def verdicts(**settings) -> list[tuple[int, str]]:
        return [(d.line, d.text.split("breaks on: ")[1]) for d in mpcheck.check_source(source, settings=Settings(**settings))]

    assert verdicts() == [(1, "macOS)"), (2, "Linux with Python < 3.13)"), (3, "Windows)")]
    assert verdicts(platforms=("linux", "macos")) == [(1, "macOS)"), (2, "Linux with Python < 3.13)")]
    assert verdicts(target_version=(3, 13)) == [(1, "macOS)"), (3, "Windows)")]
    assert verdicts(platforms=("linux",), target_version=(3, 13)) == []
    # What is silenced is not fixed either: `fix` sees the same findings.
    assert mpcheck.fix_source(source, settings=Settings(platforms=("linux",), target_version=(3, 13))).remaining == []


# -- every adapter agrees -------------------------------------------------------------------------

SCRIPT = '''\
"""Nightly thumbnails: one worker per CPU."""
import multiprocessing
from multiprocessing.context import ForkProcess

pool = multiprocessing.Pool(2)


def thumbnail(path):
    return path.upper()


def render_all(paths):
    worker = ForkProcess(target=print, args=(paths,))
    worker.start()
    return pool.map(thumbnail, paths)
'''

CONFIGURATIONS = {
    "everything": ("", ["5:8 MP201 (breaks on: Windows; macOS with Python ≥ 3.8; Linux with Python ≥ 3.14)",
                        "3:37 MP101 (breaks on: Windows)"]),
    "posix from 3.10": ('platforms = ["linux", "macos"]\ntarget-version = "py310"\n',
                        ["5:8 MP201 (breaks on: macOS; Linux with Python ≥ 3.14)"]),
    "linux": ('platforms = ["linux"]\n', ["5:8 MP201 (breaks on: Linux with Python ≥ 3.14)"]),
    "windows only": ('platforms = ["windows"]\n', ["3:37 MP101 (breaks on: Windows)",
                                                   "5:8 MP201 (breaks on: Windows)"]),
}


def _summaries(lines: list[str]) -> list[str]:
    """`path:5:8: MP201 message (breaks on: ...)` -> `5:8 MP201 (breaks on: ...)`."""
    summaries = []
    for line in lines:
        location, code, rest = line.split(" ", 2)
        summaries.append(f"{':'.join(location.rstrip(':').split(':')[-2:])} {code} ({rest.rsplit(' (', 1)[1]}")
    return sorted(summaries)


@pytest.mark.parametrize(("config", "expected"), CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_cli_flake8_and_library_report_the_same_verdicts(tmp_path, config, expected):
    (tmp_path / "pyproject.toml").write_text(f"[tool.mpcheck]\n{config}")
    (tmp_path / "thumbnails.py").write_text(SCRIPT)
    check = subprocess.run([str(BIN / "mpcheck"), "check", "-q", "thumbnails.py"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    flake8 = subprocess.run([str(BIN / "flake8"), "--select", "MP", "thumbnails.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    library = mpcheck.check_source(SCRIPT, "thumbnails.py", settings=load_settings(tmp_path / "pyproject.toml"))
    assert _summaries(check.stdout.splitlines()) == sorted(expected), check.stderr
    assert flake8.stdout.splitlines() == check.stdout.splitlines()
    assert [f"thumbnails.py:{d.line}:{d.column}: {d.code} {d.text}" for d in library] == check.stdout.splitlines()


def test_the_flags_do_what_the_settings_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thumbnails.py").write_text(SCRIPT)
    result = CliRunner().invoke(main, ["check", "-q", "--platforms", "linux,macos", "--target-version", "3.10",
                                       "thumbnails.py"])
    assert _summaries(result.stdout.splitlines()) == CONFIGURATIONS["posix from 3.10"][1]
    result = CliRunner().invoke(main, ["check", "--platforms", "beos", "thumbnails.py"])
    assert result.exit_code == 2 and "unknown platform `beos`" in result.output


def test_every_rule_says_where_it_breaks():
    for rule in ALL_RULES:
        assert rule.breaks_on, rule.code
        assert all(breakage.platform in ALL for breakage in rule.breaks_on), rule.code
        assert f"## Where it breaks\n\n{'; '.join(b.describe() for b in rule.breaks_on)}." in \
            render_rule(rule)
