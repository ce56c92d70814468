"""The legacy app of fixtures/: `mpcheck check` finds its fork-only code, `mpcheck fix`
turns it into fixtures/legacy_app.fixed byte for byte, and the fixed app still works on
Linux (same output) and also where spawn or forkserver is the default, or spawn the only
start method (the oracle's Windows simulation, see tests/oracle.py)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .oracle import SIMULATED_WINDOWS, Program, Run, run_program
from .support import FIXTURES, REPO, mpcheck_command, run_command

ORIGINAL = FIXTURES / "legacy_app"
EXPECTED = FIXTURES / "legacy_app.fixed"
# scripts/daemon.py detaches from the terminal: it is checked, not run.
PROGRAMS = (("transcode.py",), ("transcode.py", "1.2"), ("probe.py",))
TIMEOUT = 120


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def run_all(app: Path, method: str = "fork") -> list[Run]:
    with ThreadPoolExecutor(max_workers=len(PROGRAMS)) as pool:
        return list(pool.map(lambda args: run_program(Program(app, args), method, timeout=TIMEOUT), PROGRAMS))


@pytest.fixture(scope="module")
def fixed_app(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("legacy") / "legacy_app"
    shutil.copytree(ORIGINAL, copy, ignore=shutil.ignore_patterns("__pycache__"))
    run = run_command([*mpcheck_command(), "fix", "."], copy)
    # scripts/daemon.py's os.fork() has no automatic fix, nor has the renderer's process per
    # clip (the loop reads each worker's name and exit code): they are left, and reported.
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("clipforge/render.py:30:9: MP301 starts one process per item")
    assert run.stdout.splitlines()[1].startswith("scripts/daemon.py:9:8: MP101 `os.fork()`")
    assert run.stdout.splitlines()[2].startswith("Fixed 3 findings (2 remaining).")
    return copy


@pytest.fixture(scope="module")
def original_output() -> list[str]:
    runs = run_all(ORIGINAL)
    for run in runs:
        assert run.returncode == 0, run.describe()
    return [run.stdout for run in runs]


def test_check_finds_the_fork_only_code(installed):
    run = installed("check", "fixtures/legacy_app", cwd=REPO)
    assert run.exit_code == 1
    assert [line.split(" ")[0:2] for line in run.stdout.splitlines()[:-1]] == [
        ["fixtures/legacy_app/clipforge/audio.py:9:9:", "MP101"],
        ["fixtures/legacy_app/clipforge/render.py:10:37:", "MP101"],
        ["fixtures/legacy_app/clipforge/render.py:27:9:", "MP301"],
        ["fixtures/legacy_app/probe.py:13:5:", "MP101"],
        ["fixtures/legacy_app/scripts/daemon.py:9:8:", "MP101"],
    ]
    assert run.stdout.splitlines()[-1].startswith("Found 5 findings (3 fixable).")


def test_expected_tree_has_only_the_unfixable_findings_left(installed):
    run = installed("check", "fixtures/legacy_app.fixed", cwd=REPO)
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0].startswith("fixtures/legacy_app.fixed/clipforge/render.py:30:9: MP301")
    assert run.stdout.splitlines()[1].startswith("fixtures/legacy_app.fixed/scripts/daemon.py:9:8: MP101 `os.fork()`")
    assert run.stdout.splitlines()[2] == "Found 2 findings (0 fixable)."


def test_fix_gives_the_expected_tree_byte_for_byte(fixed_app):
    assert tree(fixed_app) == tree(EXPECTED)
    assert (fixed_app / "transcode.py").stat().st_mode == (ORIGINAL / "transcode.py").stat().st_mode


def test_second_fix_changes_nothing(fixed_app):
    run = run_command([*mpcheck_command(), "fix", "--diff", "."], fixed_app)
    assert (run.exit_code, run.stdout.splitlines()[2:]) == (0, [])  # only the two findings with no fix


def test_fixed_app_prints_what_the_original_printed(fixed_app, original_output):
    assert "clipforge 0.3.1: 4 clips, gamma 0.8" in original_output[0]
    assert [run.stdout for run in run_all(fixed_app)] == original_output


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_fixed_app_runs_where_another_start_method_is_the_default(fixed_app, original_output, method):
    runs = run_all(fixed_app, method)
    assert [(run.returncode, run.stdout) for run in runs] == [(0, out) for out in original_output]


def test_fixed_app_runs_where_spawn_is_the_only_start_method(fixed_app, original_output):
    runs = run_all(fixed_app, SIMULATED_WINDOWS)
    assert [(run.returncode, run.stdout) for run in runs] == [(0, out) for out in original_output]


def test_original_app_fails_where_spawn_is_the_only_start_method():
    """The simulation is faithful: it reproduces the MuseTalk error on the original."""
    run = run_program(Program(ORIGINAL, ("-c", "import clipforge.render")), SIMULATED_WINDOWS)
    assert run.returncode == 1
    assert "ImportError: cannot import name 'ForkProcess' from 'multiprocessing.context'" in run.stderr
    run = run_program(Program(ORIGINAL, ("transcode.py",)), SIMULATED_WINDOWS)
    assert run.returncode == 1 and "ValueError: cannot find context for 'fork'" in run.stderr
