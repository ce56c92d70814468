"""The README's first two commands are what a new user runs; .ci/run must run exactly the
second, and the first must have something to find."""

from __future__ import annotations

import re

from .support import REPO

FENCED_SHELL = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def readme_commands() -> list[str]:
    return [block.strip() for block in FENCED_SHELL.findall((REPO / "README.md").read_text())]


def test_first_command_installs_and_checks_the_bundled_app():
    first = readme_commands()[0]
    assert "pip install ." in first
    assert first.endswith("mpcheck check fixtures/legacy_app")
    assert (REPO / "fixtures" / "legacy_app").is_dir()


def test_ci_runs_exactly_the_readmes_test_command():
    test_command = readme_commands()[1].split(" && ", 2)[2]  # after creating and activating the venv
    assert test_command == "python -m pip install -e '.[test]' && python -m pytest"
    ci = (REPO / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
    assert "-m venv" in ci
    assert re.search(r'"\$status" -eq 5 \]; then\n[^\n]*\n\s+exit 1', ci), "pytest's exit 5 (no tests) must fail CI"


def test_ci_runs_the_slow_tests_the_default_run_leaves_out():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    default, slow = ci.index("python -m pip install -e '.[test]' && python -m pytest"), ci.index("python -m pytest -m slow")
    assert default < slow
    assert "-m 'not slow'" in (REPO / "pyproject.toml").read_text()
    assert "`python -m pytest -m slow` runs them" in (REPO / "README.md").read_text()
