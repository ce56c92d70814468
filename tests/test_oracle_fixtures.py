"""The start-method oracle over every fixture program (fixtures/README.md).

For each fixture: `mpcheck fix` on a copy of `before/` gives exactly `after/`, and a second
run changes nothing. Then, under every CPython 3.10+ present (absent ones are skipped with a
note), the original's stdout under fork is the reference; the original misbehaves under spawn
(checked on the running interpreter: a broken program hangs or floods, which is slow); and the
fixed copy exits 0 under fork, spawn and forkserver with exactly the reference stdout.
All runs of all interpreters go through one thread pool, so the slow ones overlap.

A fixture's `hazard` says how its original misbehaves: "spawn" (the default) as above;
"hang" when it hangs under fork too (the lifecycle deadlocks): the reference is then the
fixture's `expected-stdout`, and the original must time out (or fail) under fork; "resources"
when it works everywhere and its hazard is what it costs (processes, memory), which
tests/test_lifecycle_fixtures.py measures: the original then only has to work under fork.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mpcheck.cli import main

from .oracle import START_METHODS, Program, Run, interpreters, misbehaves, run_program

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES_ROOT = Path(__file__).resolve().parent.parent / "fixtures"
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
# A broken original under spawn usually hangs (Pool respawns workers forever): give up early.
BROKEN_TIMEOUT = 4.0
FIXED_TIMEOUT = 20.0


HAZARDS = ("spawn", "hang", "resources")
# A hanging original is given this long under fork before it counts as hung.
HANG_TIMEOUT = 6.0


@dataclass(frozen=True)
class Fixture:
    name: str  # "mp201/flat_pool"
    directory: Path
    args: tuple[str, ...]
    unsafe_fixes: bool
    hazard: str = "spawn"
    expected_stdout: str | None = None  # the right output of a program whose original hangs

    @property
    def before(self) -> Path:
        return self.directory / "before"

    @property
    def after(self) -> Path:
        return self.directory / "after"


def _fixtures() -> list[Fixture]:
    found = []
    for config in sorted(FIXTURES_ROOT.glob("*/*/fixture.toml")):
        data = tomllib.loads(config.read_text())
        hazard = data.get("hazard", "spawn")
        assert hazard in HAZARDS, f"{config}: unknown hazard {hazard!r}"
        found.append(Fixture(f"{config.parent.parent.name}/{config.parent.name}", config.parent,
                             tuple(data["args"]), bool(data.get("unsafe-fixes", False)), hazard,
                             data.get("expected-stdout")))
    return found


FIXTURES = _fixtures()


def _fixed_copy(source: Path, destination: Path, unsafe_fixes: bool) -> Path:
    """A copy of the tree `source`, fixed by the `mpcheck fix` command."""
    shutil.copytree(source, destination)
    options = ["--unsafe-fixes"] if unsafe_fixes else []
    result = CliRunner().invoke(main, ["fix", "-q", *options, str(destination)])
    assert result.exit_code in (0, 1), result.output
    return destination


def _tree_differences(left: Path, right: Path) -> list[str]:
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    differences = [f"only in {left}: {name}" for name in comparison.left_only]
    differences += [f"only in {right}: {name}" for name in comparison.right_only]
    _, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    differences += [f"differs: {name}" for name in mismatch + errors]
    for name in comparison.common_dirs:
        differences += _tree_differences(left / name, right / name)
    return differences


def test_there_are_enough_fixtures_for_mp201():
    assert len([f for f in FIXTURES if f.name.startswith("mp201/")]) >= 12


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fix_gives_the_expected_tree(fixture, tmp_path):
    fixed = _fixed_copy(fixture.before, tmp_path / "fixed", fixture.unsafe_fixes)
    assert _tree_differences(fixed, fixture.after) == []
    again = _fixed_copy(fixed, tmp_path / "again", fixture.unsafe_fixes)
    assert _tree_differences(again, fixture.after) == [], "a second `mpcheck fix` changed the code"


@dataclass
class _Runs:
    reference: Future  # the original under fork
    broken: Future | None  # the original under spawn (running interpreter only)
    fixed: dict[str, Future]


@pytest.fixture(scope="session")
def oracle_runs(tmp_path_factory) -> dict[tuple[str, str], _Runs]:
    """Every run for every present interpreter and fixture, started at once."""
    present = {version: path for version, path in interpreters().items() if path}
    runs: dict[tuple[str, str], _Runs] = {}
    pool = ThreadPoolExecutor(max_workers=6)
    fixed_dirs = {
        f.name: _fixed_copy(f.before, tmp_path_factory.mktemp("oracle") / "fixed", f.unsafe_fixes) for f in FIXTURES
    }
    for fixture in FIXTURES:
        original = Program(fixture.before, fixture.args)
        fixed = Program(fixed_dirs[fixture.name], fixture.args)
        for version, python in present.items():
            hangs = fixture.hazard == "hang"
            runs[(version, fixture.name)] = _Runs(
                pool.submit(run_program, original, "fork", python, HANG_TIMEOUT if hangs else FIXED_TIMEOUT),
                pool.submit(run_program, original, "spawn", python, BROKEN_TIMEOUT)
                if version == CURRENT and fixture.hazard == "spawn" else None,
                {method: pool.submit(run_program, fixed, method, python, FIXED_TIMEOUT) for method in START_METHODS},
            )
    yield runs
    pool.shutdown(wait=True)


@pytest.mark.oracle
@pytest.mark.parametrize("version", sorted(interpreters()))
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixed_program_behaves_under_every_start_method(fixture, version, oracle_runs):
    if interpreters()[version] is None:
        pytest.skip(f"CPython {version} is not installed here (looked in ~/.pyenv/versions)")
    runs = oracle_runs[(version, fixture.name)]
    reference: Run = runs.reference.result()
    if fixture.hazard == "hang":  # the original deadlocks under fork too: the fixture says what is right
        assert reference.timed_out or reference.returncode != 0, "the original does not hang:\n" + reference.describe()
        assert fixture.expected_stdout
        reference = Run("expected", 0, fixture.expected_stdout, "")
    assert reference.returncode == 0 and reference.stdout, reference.describe()
    if runs.broken is not None:
        broken: Run = runs.broken.result()
        assert misbehaves(broken, reference), "the original already works under spawn:\n" + broken.describe()
    for method, future in runs.fixed.items():
        run: Run = future.result()
        assert run.returncode == 0, run.describe()
        assert run.stdout == reference.stdout, f"{method} printed something else than the original under fork:\n" + run.describe()
