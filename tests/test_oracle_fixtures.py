"""The start-method oracle over every fixture program (fixtures/README.md).

For each fixture: `mpcheck fix` on a copy of `before/` gives exactly `after/` (`before/` for a
fixture without a fix), and a second run changes nothing; `mpcheck check` of `before/` reports
the rules the fixture names (`codes`), or none of them for a look-alike. Then, under every
CPython 3.10+ present (absent ones are skipped with a note), what each kind of fixture shows:

- "fixed" (the default): the original's stdout under fork is the reference (or, for a program
  that fails under fork too, `expected_stdout.txt`, and the original must misbehave under fork);
  the original misbehaves under spawn (checked on the running interpreter: a broken program
  hangs or floods, which is slow) -- or, when its `breaks-under` names a simulated platform
  (tests/platforms: "windows", "macos"), there; the fixed copy exits 0 under fork, spawn and
  forkserver, and with no fork at all (and on that platform) on the running interpreter, with
  exactly the reference stdout.
- "broken" (a hazard with no automatic fix): the original works under fork and misbehaves
  under spawn.
- "silent" (a look-alike): the original prints the same and exits 0 under every start method
  and with no fork.

A fixture's `hazard` says how its original misbehaves: "spawn" (the default) as above; "hang"
when it hangs under fork too (the lifecycle deadlocks): the reference is then the fixture's
expected stdout and the original must time out (or fail) under fork; "resources" when it works
everywhere and its hazard is what it costs (processes, memory), which
tests/test_lifecycle_fixtures.py measures: the original then only has to work under fork. The
expected stdout of a program that fails under fork too is `expected_stdout.txt` or the
`expected-stdout` key.

All runs of all interpreters go through one thread pool, so the slow ones overlap.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from mpcheck.cli import main

from .oracle import SIMULATED_PLATFORMS, SIMULATED_WINDOWS, START_METHODS, Program, Run, interpreters, misbehaves, \
    run_program

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES_ROOT = Path(__file__).resolve().parent.parent / "fixtures"
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
# A broken original under spawn usually hangs (Pool respawns workers forever): give up early.
BROKEN_TIMEOUT = 4.0
FIXED_TIMEOUT = 20.0


KINDS = ("fixed", "broken", "silent")
HAZARDS = ("spawn", "hang", "resources")
# A hanging original is given this long under fork before it counts as hung.
HANG_TIMEOUT = 6.0


@dataclass(frozen=True)
class Fixture:
    name: str  # "mp201/flat_pool"
    directory: Path
    args: tuple[str, ...]
    unsafe_fixes: bool
    kind: str = "fixed"  # see the module docstring
    codes: tuple[str, ...] = ()  # rules that report on before/ (for "silent": that must not)
    # Where the original misbehaves: "spawn" (the default), or a simulated platform
    # ("windows", "macos"; see tests/platforms), which the fixed copy must then survive too.
    breaks_under: str = "spawn"
    hazard: str = "spawn"
    expected: str | None = None  # the `expected-stdout` key

    @property
    def before(self) -> Path:
        return self.directory / "before"

    @property
    def after(self) -> Path:
        after = self.directory / "after"
        return after if after.is_dir() or self.kind == "fixed" else self.before

    @property
    def expected_stdout(self) -> str | None:
        """What the program is meant to print, for one that fails under fork too."""
        path = self.directory / "expected_stdout.txt"
        return path.read_text() if path.is_file() else self.expected


def _fixtures() -> list[Fixture]:
    found = []
    for config in sorted(FIXTURES_ROOT.glob("*/*/fixture.toml")):
        data = tomllib.loads(config.read_text())
        kind = data.get("expect", "fixed")
        assert kind in KINDS, f"{config}: expect = {kind!r}"
        hazard = data.get("hazard", "spawn")
        assert hazard in HAZARDS, f"{config}: unknown hazard {hazard!r}"
        found.append(Fixture(f"{config.parent.parent.name}/{config.parent.name}", config.parent,
                             tuple(data["args"]), bool(data.get("unsafe-fixes", False)), kind,
                             tuple(data.get("codes", ())), data.get("breaks-under", "spawn"), hazard,
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


def test_there_are_enough_fixtures_for_the_pickling_and_state_rules():
    ours = [f for f in FIXTURES if f.name.split("/")[0] in ("mp401", "mp402", "mp403", "mp501")]
    assert len([f for f in ours if f.kind != "silent"]) >= 15
    assert {f.kind for f in ours} == set(KINDS)


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.codes], ids=lambda f: f.name)
def test_check_reports_the_fixtures_rules(fixture):
    result = CliRunner().invoke(main, ["check", "--output-format", "json", str(fixture.before)])
    assert result.exit_code in (0, 1), result.output
    reported = {finding["code"] for finding in json.loads(result.output)["diagnostics"]}
    if fixture.kind == "silent":
        assert not reported & set(fixture.codes), result.output
    else:
        assert set(fixture.codes) <= reported, result.output


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fix_gives_the_expected_tree(fixture, tmp_path):
    fixed = _fixed_copy(fixture.before, tmp_path / "fixed", fixture.unsafe_fixes)
    assert _tree_differences(fixed, fixture.after) == []
    again = _fixed_copy(fixed, tmp_path / "again", fixture.unsafe_fixes)
    assert _tree_differences(again, fixture.after) == [], "a second `mpcheck fix` changed the code"


@dataclass
class _Runs:
    reference: Future  # the original under fork
    broken: Future | None  # the original where it breaks (running interpreter only)
    fixed: dict[str, Future]  # the runs that must match the reference: the fixed copy, or a look-alike itself


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
            methods = (*START_METHODS, SIMULATED_WINDOWS) if version == CURRENT else START_METHODS
            if version == CURRENT and fixture.breaks_under in SIMULATED_PLATFORMS and fixture.breaks_under not in methods:
                methods = (*methods, fixture.breaks_under)
            if fixture.kind == "fixed":
                checked = {method: pool.submit(run_program, fixed, method, python, FIXED_TIMEOUT) for method in methods}
            elif fixture.kind == "silent":
                checked = {method: pool.submit(run_program, original, method, python, FIXED_TIMEOUT)
                           for method in methods if method != "fork"}
            else:
                checked = {}
            shows_breakage = version == CURRENT and fixture.kind != "silent" and fixture.hazard == "spawn"
            runs[(version, fixture.name)] = _Runs(
                pool.submit(run_program, original, "fork", python,
                            HANG_TIMEOUT if fixture.hazard == "hang" else FIXED_TIMEOUT),
                pool.submit(run_program, original, fixture.breaks_under, python, BROKEN_TIMEOUT)
                if shows_breakage else None,
                checked,
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
    if fixture.expected_stdout is not None:  # the original fails (or hangs) under fork too
        assert misbehaves(reference, replace(reference, returncode=0, stdout=fixture.expected_stdout)), \
            "the original works under fork:\n" + reference.describe()
        reference = replace(reference, returncode=0, stdout=fixture.expected_stdout)
    assert reference.returncode == 0 and reference.stdout, reference.describe()
    if runs.broken is not None:
        broken: Run = runs.broken.result()
        assert misbehaves(broken, reference), \
            f"the original already works under {fixture.breaks_under}:\n" + broken.describe()
    for method, future in runs.fixed.items():
        run: Run = future.result()
        assert run.returncode == 0, run.describe()
        assert run.stdout == reference.stdout, f"{method} printed something else than the original under fork:\n" + run.describe()
