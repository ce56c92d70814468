"""The searches through functions (which functions start processes, which parameters a
wrapper hands to a child) memoise their answers with what they depend on (project.Searches):
a memoised answer must be the one a new search would find, wherever the search stands (that
recursion does not make a function be searched once per path to it is tested with the other
call-chain costs, in test_model_processes.py)."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest

from mpcheck.engine import Checker

from .support import model_of, project_index


def _functions(model) -> dict[str, cst.FunctionDef]:
    return {node.name.value: node for node in model.module.body if isinstance(node, cst.FunctionDef)}


def _recursive_program(rng: random.Random, count: int) -> str:
    """`count` functions that call each other at random (recursion included), passing their
    parameters on in another order; some hand one to a process or a pool."""
    lines = ["from multiprocessing import Pool, Process", ""]
    for index in range(count):
        lines.append(f"def f{index}(a, b, c):")
        for _ in range(rng.randint(1, 3)):
            arguments = rng.sample(["a", "b", "c", "None"], 3)
            lines.append(f"    f{rng.randrange(count)}({', '.join(arguments)})")
        if rng.random() < 0.3:
            lines.append(f"    Process(target={rng.choice('abc')}).start()")
        if rng.random() < 0.2:
            lines.append(f"    Pool().map({rng.choice('abc')}, [1])")
        lines += ["", ""]
    return "\n".join(lines)


def _parameters(model, name: str, above: list[str]):
    functions = _functions(model)
    seen = frozenset(model.processes.key(functions[caller]) for caller in above)
    return [(p.name, p.index, p.carried, p.through) for p in model.workers.pickled_parameters(functions[name], seen)]


def _start(model, name: str, above: list[str]):
    functions = _functions(model)
    seen = frozenset(model.processes.key(functions[caller]) for caller in above)
    found = model.processes.function_process_start(functions[name], seen)
    return None if found is None else (found.starter, found.chain)


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("question", [_parameters, _start])
def test_a_memoised_answer_is_the_one_a_new_search_finds(seed, question):
    # One model answers every function in turn, under functions being searched above it
    # (what a caller's search passes down); a model made afresh for each question is the
    # reference. An answer memoised below a function that recursion stopped at, or through
    # one now above, must not be reused.
    rng = random.Random(seed)
    source = _recursive_program(rng, 7)
    names = [f"f{index}" for index in range(7)]
    memoising = model_of(source)
    for _ in range(20):
        name = rng.choice(names)
        above = rng.sample([other for other in names if other != name], rng.randint(0, 3))
        assert question(memoising, name, above) == question(model_of(source), name, above), (name, above, source)


WRAPPERS = {
    "tools/__init__.py": "",
    "tools/pool.py": """
        from multiprocessing import Pool

        from tools import retry


        def parmap(fn, items, again=True):
            if again:
                return retry.again(fn, items)
            with Pool(2) as pool:
                return pool.map(fn, items)
        """,
    "tools/retry.py": """
        from tools import pool


        def again(fn, items):
            return pool.parmap(fn, items, again=False)


        def nested(items):
            return again(lambda item: item * 2, items)
        """,
    "first.py": """
        from tools import retry


        def main():
            return retry.again(lambda item: item + 1, [1, 2])


        if __name__ == "__main__":
            main()
        """,
    "second.py": """
        from tools.pool import parmap


        def main():
            return parmap(lambda item: item - 1, [1, 2])


        if __name__ == "__main__":
            main()
        """,
}


def test_findings_do_not_depend_on_the_order_files_are_checked_in(tmp_path):
    # The wrappers of two modules call each other; one checker keeps the other modules'
    # models, and their memoised answers, from file to file.
    project_index(tmp_path, WRAPPERS)
    files = [tmp_path / name for name in ("first.py", "second.py", "tools/retry.py", "tools/pool.py")]

    def findings(order: list[Path]) -> dict[str, list[tuple[str, int]]]:
        checker = Checker(fix_edits=False)
        return {path.name: sorted((d.code, d.line) for d in checker.check_file(path).diagnostics) for path in order}

    alone = {path.name: findings([path])[path.name] for path in files}
    assert alone["first.py"] == [("MP401", 5)] and alone["second.py"] == [("MP401", 5)], alone
    assert alone["retry.py"] == [("MP401", 9)], alone
    for seed in range(4):
        order = random.Random(seed).sample(files, len(files))
        assert findings(order) == {path.name: alone[path.name] for path in order}
