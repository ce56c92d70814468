"""Mutation tests: try to break every safe MP201 fix (STYLE.md, "A fix is safe only with an
argument"; issue 7 E).

Each MP201 fixture script is mutated the ways real scripts differ from ours -- code that reads,
at import time, a name the fix would move (a class body, a default argument, a decorator
argument, an annotation, a module-level reader), the script renamed, moved into a package, or
imported by a sibling module -- and `mpcheck fix` (safe fixes only) is run on it. Every safe
fix must then be either declined (the file is unchanged) or proven: the fixed program prints,
under fork, spawn, forkserver and with no fork at all (as on Windows), exactly what the
mutated original printed under fork, and exits 0.
"""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from mpcheck.cli import main
from mpcheck.model import Kind, SemanticModel
from mpcheck.model.toplevel import is_definition

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, Run, run_program
from .test_oracle_fixtures import FIXTURES

METHODS = (*START_METHODS, SIMULATED_WINDOWS)
TIMEOUT = 20.0


def _moved_name(source: str) -> str | None:
    """A module-level name that the script's work binds (not a definition): what a fix that
    guards the work would take away from code that stays at module level."""
    model = SemanticModel(cst.parse_module(source), "script.py")
    for binding in reversed(model.bindings):
        if binding.scope is model.module_scope and binding.kind in (Kind.ASSIGN, Kind.WITH, Kind.LOOP) \
                and binding.site.top is not None and not is_definition(binding.site.top) \
                and not binding.nested and not binding.site.in_function:
            return binding.name
    return None


# Code appended to the script; each reads {name} while the module is imported.
READERS = {
    "class-body": "\n\nclass Mutant:\n    value = {name}\n\n\nprint('mutant', type(Mutant.value).__name__)\n",
    "default-argument": "\n\ndef mutant(value={name}):\n    return type(value).__name__\n\n\nprint('mutant', mutant())\n",
    "decorator-argument": (
        "\n\nimport functools\n\n\n@functools.lru_cache(maxsize=len(str({name})))\ndef mutant():\n"
        "    return 'cached'\n\n\nprint('mutant', mutant())\n"
    ),
    "annotation": "\n\ndef mutant(value: type({name}) = None):\n    return 'annotated'\n\n\nprint('mutant', mutant())\n",
    "module-level-reader": "\nprint('mutant', type({name}).__name__)\n",
}


@dataclass(frozen=True)
class Mutant:
    name: str  # "mp201/flat_pool/class-body"
    tree: Path  # the mutated program, before fixing
    args: tuple[str, ...]
    fix_paths: tuple[str, ...]  # what `mpcheck fix` is given, relative to the tree
    changed_file: str  # the file whose change means the fix was not declined


def _single_script_fixtures():
    for fixture in FIXTURES:
        if fixture.name.startswith("mp201/") and fixture.args[0].endswith(".py") and not fixture.unsafe_fixes \
                and len(list(fixture.before.rglob("*.py"))) == 1:
            yield fixture


def _mutants(root: Path) -> list[Mutant]:
    mutants = []
    for fixture in _single_script_fixtures():
        script = fixture.args[0]
        source = (fixture.before / script).read_text()
        name = _moved_name(source)
        base = fixture.name.replace("/", "__")
        if name is not None:
            for kind, template in READERS.items():
                tree = root / f"{base}__{kind}"
                shutil.copytree(fixture.before, tree)
                (tree / script).write_text(source + template.format(name=name))
                mutants.append(Mutant(f"{fixture.name}/{kind}", tree, fixture.args, (".",), script))
        tree = root / f"{base}__renamed"
        tree.mkdir()
        (tree / f"renamed_{script}").write_text(source)
        mutants.append(Mutant(f"{fixture.name}/renamed", tree, (f"renamed_{script}", *fixture.args[1:]), (".",),
                              f"renamed_{script}"))
        module = Path(script).stem
        tree = root / f"{base}__in-a-package"
        (tree / "tool").mkdir(parents=True)
        (tree / "tool" / "__init__.py").write_text("")
        (tree / "tool" / script).write_text(source)
        mutants.append(Mutant(f"{fixture.name}/in-a-package", tree, ("-m", f"tool.{module}", *fixture.args[1:]),
                              (".",), f"tool/{script}"))
        if name is not None:
            tree = root / f"{base}__imported"
            shutil.copytree(fixture.before, tree)
            (tree / "user.py").write_text(f"import {module}\n\nprint('user', type({module}.{name}).__name__)\n")
            # Only the script is named, as pre-commit names only the staged file.
            mutants.append(Mutant(f"{fixture.name}/imported-by-a-sibling", tree, ("user.py",), (script,), script))
    return mutants


@dataclass
class _Outcome:
    mutant: Mutant
    declined: bool
    reference: Run | None = None
    fixed: dict[str, Run] | None = None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> list[_Outcome]:
    root = tmp_path_factory.mktemp("mutants")
    mutants = _mutants(root / "before")
    results = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = []
        for mutant in mutants:
            fixed_tree = root / "fixed" / mutant.tree.name
            shutil.copytree(mutant.tree, fixed_tree)
            run = CliRunner().invoke(main, ["fix", "-q", "--select", "MP201",
                                            *[str(fixed_tree / path) for path in mutant.fix_paths]])
            assert run.exit_code in (0, 1), run.output
            declined = (fixed_tree / mutant.changed_file).read_bytes() == (mutant.tree / mutant.changed_file).read_bytes()
            reference = pool.submit(run_program, Program(mutant.tree, mutant.args), "fork", sys.executable, TIMEOUT)
            fixed = {} if declined else {
                method: pool.submit(run_program, Program(fixed_tree, mutant.args), method, sys.executable, TIMEOUT)
                for method in METHODS
            }
            jobs.append((mutant, declined, reference, fixed))
        for mutant, declined, reference, fixed in jobs:
            results.append(_Outcome(mutant, declined, reference.result(),
                                    {method: future.result() for method, future in fixed.items()}))
    return results


def test_there_are_mutants_of_every_kind(outcomes):
    kinds = {outcome.mutant.name.rsplit("/", 1)[1] for outcome in outcomes}
    assert kinds == {*READERS, "renamed", "in-a-package", "imported-by-a-sibling"}
    assert len(outcomes) >= 60


@pytest.mark.oracle
def test_every_safe_fix_is_declined_or_keeps_the_program_working(outcomes):
    failures = []
    for outcome in outcomes:
        reference = outcome.reference
        if reference is None or reference.returncode != 0:
            continue  # the mutation broke the program itself: nothing to keep
        for method, run in (outcome.fixed or {}).items():
            if run.returncode != 0 or run.stdout != reference.stdout:
                failures.append(f"{outcome.mutant.name} under {method}:\nreference:\n{reference.stdout}\n"
                                + run.describe())
    assert not failures, "\n\n".join(failures)


def test_the_fix_is_declined_where_the_module_may_be_imported(outcomes):
    for outcome in outcomes:
        if outcome.mutant.name.endswith(("/in-a-package", "/imported-by-a-sibling")):
            assert outcome.declined, outcome.mutant.name  # it may be imported: never a safe guard


def test_readers_of_the_work_at_import_time_decline_some_fixes(outcomes):
    # Where the name read is the work's own result, no split keeps the reader working: the
    # fix is declined (elsewhere the name stays at module level and the fix is proven above).
    declined = {outcome.mutant.name.rsplit("/", 1)[1] for outcome in outcomes if outcome.declined}
    assert set(READERS) - {"module-level-reader"} <= declined


def test_renamed_and_late_readers_are_still_fixed(outcomes):
    fixed = {outcome.mutant.name.rsplit("/", 1)[1] for outcome in outcomes if not outcome.declined}
    assert {"renamed", "module-level-reader"} <= fixed
