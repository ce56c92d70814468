"""Mutation tests: try to break every safe MP401 hoisting fix (STYLE.md, "A fix is safe only
with an argument"; issue 8).

Each MP401 fixture whose fix is safe is mutated the ways real closures differ from ours: the
nested function assigns a captured variable through `nonlocal`, a default argument reads a
variable of the enclosing function (or of the main block), the function is also used directly
in the parent, it is decorated, a captured variable is rebound after the hand-off, its body
reads a name only the main block binds, and a module-level function of the same name exists.
Every mutant keeps the program's output. `mpcheck fix --select MP401` (safe fixes only) must
then either decline (the file is unchanged) or give a program that prints, under fork, spawn,
forkserver and with no fork at all, exactly what the fixture's reference is, and exits 0.
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
from mpcheck.model import ScopeKind, SemanticModel

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, Run, run_program
from .test_oracle_fixtures import FIXTURES

METHODS = (*START_METHODS, SIMULATED_WINDOWS)
TIMEOUT = 20.0


def _hoisted(module: cst.Module, path: str) -> list[cst.FunctionDef | cst.Lambda]:
    """The functions and lambdas MP401 reports in the module, as the model sees them."""
    model = SemanticModel(module, path)
    found = []
    for handoff in model.workers.handoffs():
        for expression, _ in model.workers.pickled_values(handoff):
            for target in model.workers.targets(expression):
                if model.workers.reference_problem(target) and not isinstance(target.node, cst.ClassDef) \
                        and target.node not in found:
                    found.append(target.node)
    return found


def _statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def _mutations(module: cst.Module, path: str) -> dict[str, tuple[cst.Module, bool]]:
    """Mutants of `module`, each keeping what the program prints, and whether the hoist must
    be declined for it (it would change the meaning, or break under spawn)."""
    mutants: dict[str, tuple[cst.Module, bool]] = {}
    model = SemanticModel(module, path)
    for node in _hoisted(module, path):
        scope = model.scope_of_definition(node)
        assert scope is not None and scope.parent is not None
        captured = sorted(scope.frees)
        in_main = scope.parent.kind is ScopeKind.MODULE
        params = node.params
        if captured:
            name = captured[0]
            default = cst.Param(cst.Name("_mutant"), default=cst.Name(name))
            mutants["default-reads-a-local"] = module.deep_replace(
                node, node.with_changes(params=params.with_changes(params=[*params.params, default]))), True
        if isinstance(node, cst.FunctionDef):
            body = list(node.body.body)
            if captured:
                name = captured[0]
                mutants["nonlocal-writer"] = module.deep_replace(node, node.with_changes(body=node.body.with_changes(
                    body=[_statement(f"nonlocal {name}"), _statement(f"{name} = {name}"), *body]))), True
            mutants["decorated"] = module.deep_replace(node, node.with_changes(
                decorators=[cst.Decorator(cst.parse_expression("(lambda function: function)"))])), True
            # A main-block function keeps its name and signature: using it in the parent is fine.
            mutants["used-in-parent"] = module.deep_replace(node, cst.FlattenSentinel(
                [node, _statement(f"assert callable({node.name.value})")])), not in_main
            if in_main:
                mutants["reads-a-main-block-name"] = module.deep_replace(node, cst.FlattenSentinel([
                    _statement("_mutant_value = 1"),
                    node.with_changes(body=node.body.with_changes(
                        body=[_statement("assert _mutant_value == 1"), *body]))])), True
            taken = node.name.value
        else:
            taken = "task"
        outer = next(statement for statement in module.body if _contains(statement, node))
        mutants["name-taken-at-module-level"] = module.deep_replace(outer, cst.FlattenSentinel([
            _statement(f"def {taken}():\n    return 'mutant'\n"), _statement(f"assert {taken}() == 'mutant'"), outer])), \
            in_main  # a nested function takes a fresh name; a main-block one would rebind the other
        if captured and not in_main:
            enclosing = scope.parent.node
            assert isinstance(enclosing, cst.FunctionDef)
            last = enclosing.body.body[-1]
            rebind = _statement(f"{captured[0]} = {captured[0]}")
            replacement = [rebind, last] if isinstance(last, cst.SimpleStatementLine) and \
                isinstance(last.body[0], cst.Return) else [last, rebind]
            mutants["rebound-after-the-hand-off"] = module.deep_replace(last, cst.FlattenSentinel(replacement)), True
        break  # one target per fixture: each fixture has one
    return mutants


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    stack = [tree]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(current.children)
    return False


@dataclass(frozen=True)
class Mutant:
    name: str  # "mp401/nested_render_target/nonlocal-writer"
    tree: Path
    args: tuple[str, ...]
    script: str
    reference: str  # what the program must print
    must_decline: bool


def _fixtures():
    for fixture in FIXTURES:
        if fixture.name.startswith("mp401/") and fixture.kind == "fixed" and not fixture.unsafe_fixes:
            yield fixture


@dataclass
class _Outcome:
    mutant: Mutant
    declined: bool
    fixed: dict[str, Run]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> list[_Outcome]:
    root = tmp_path_factory.mktemp("hoist-mutants")
    mutants = []
    for fixture in _fixtures():
        script = fixture.args[0]
        source = (fixture.before / script).read_text()
        reference = fixture.expected_stdout or run_program(Program(fixture.before, fixture.args), "fork",
                                                           sys.executable, TIMEOUT).stdout
        for kind, (mutated, must_decline) in _mutations(cst.parse_module(source), script).items():
            tree = root / "before" / f"{fixture.name.replace('/', '__')}__{kind}"
            shutil.copytree(fixture.before, tree)
            (tree / script).write_text(mutated.code)
            mutants.append(Mutant(f"{fixture.name}/{kind}", tree, fixture.args, script, reference, must_decline))
    results = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = []
        for mutant in mutants:
            fixed_tree = root / "fixed" / mutant.tree.name
            shutil.copytree(mutant.tree, fixed_tree)
            run = CliRunner().invoke(main, ["fix", "-q", "--select", "MP401", str(fixed_tree)])
            assert run.exit_code in (0, 1), run.output
            declined = (fixed_tree / mutant.script).read_bytes() == (mutant.tree / mutant.script).read_bytes()
            fixed = {} if declined else {
                method: pool.submit(run_program, Program(fixed_tree, mutant.args), method, sys.executable, TIMEOUT)
                for method in METHODS
            }
            jobs.append((mutant, declined, fixed))
        for mutant, declined, fixed in jobs:
            results.append(_Outcome(mutant, declined, {method: future.result() for method, future in fixed.items()}))
    return results


def test_there_are_mutants_of_every_kind(outcomes):
    kinds = {outcome.mutant.name.rsplit("/", 1)[1] for outcome in outcomes}
    assert kinds == {"default-reads-a-local", "nonlocal-writer", "decorated", "used-in-parent",
                     "reads-a-main-block-name", "name-taken-at-module-level", "rebound-after-the-hand-off"}
    assert len(outcomes) >= 25


@pytest.mark.oracle
def test_every_safe_hoist_is_declined_or_keeps_the_program_working(outcomes):
    failures = []
    for outcome in outcomes:
        for method, run in outcome.fixed.items():
            if run.returncode != 0 or run.stdout != outcome.mutant.reference:
                failures.append(f"{outcome.mutant.name} under {method}:\nreference:\n{outcome.mutant.reference}\n"
                                + run.describe())
    assert not failures, "\n\n".join(failures)


def test_hoists_that_would_change_the_meaning_are_declined(outcomes):
    assert sum(outcome.mutant.must_decline for outcome in outcomes) >= 20
    for outcome in outcomes:
        if outcome.mutant.must_decline:
            assert outcome.declined, outcome.mutant.name


def test_a_taken_name_gets_a_fresh_one(outcomes):
    taken = [outcome for outcome in outcomes if outcome.mutant.name.endswith("/name-taken-at-module-level")
             and not outcome.mutant.must_decline]
    assert len(taken) >= 4 and not any(outcome.declined for outcome in taken)

