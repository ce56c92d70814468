"""Mutation tests of the lifecycle rules' safe fixes (issue 9; STYLE.md, "A fix is safe only
with an argument"): MP302's `with` block, MP303's drain before the join, MP304's clamp, MP305's
`close()`+`join()`, MP306's keep-and-join.

Each base program is mutated the ways real programs differ from it -- a result read later, a
result handed back, an exception path, more code after the main block, a drain that depends on
the children having ended, a name that shadows an import -- and `mpcheck fix --select CODE`
(safe fixes only) is run on it. Every fix must be declined (the file unchanged) or proven: the
fixed program prints, under fork, spawn, forkserver and with no fork at all (as on Windows),
what the mutant printed under fork, and exits 0.

Where the mutant itself deadlocks (MP305: results read after `Pool.__exit__` terminated the
pool), the reference is the mutant run under fork with the pool's exit made `close()` and
`join()`: what it would print had the pool lived, the fix's own argument. MP303's programs take
the size of what the children send: the reference runs them with small items, which fit in the
pipe and do not deadlock.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mpcheck.cli import main

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, Run, run_program

METHODS = (*START_METHODS, SIMULATED_WINDOWS)
TIMEOUT = 20.0
# Runs the script named next with `Pool.__exit__` closing and joining instead of terminating.
POOL_LIVES = (
    "import multiprocessing.pool as p, runpy, sys; "
    "p.Pool.__exit__ = lambda self, *exc: (self.close(), self.join()); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@dataclass(frozen=True)
class Base:
    rule: str
    source: str
    args: tuple[str, ...] = ()
    pool_lives: bool = False  # the reference keeps the pool alive to the end of its work


MP302 = Base("MP302", '''\
import sys
from multiprocessing import Pool


def square(n):
    return n * n


def squares(numbers):
    pool = Pool(2)
    results = pool.map(square, numbers)
    return sorted(results)


if __name__ == "__main__":
    print(squares(range(int(sys.argv[1]))))
''', ("5",))

MP303 = Base("MP303", '''\
import multiprocessing as mp
import sys


def work(queue, n, size):
    queue.put((n, "x" * size))


def main(count, size):
    queue = mp.Queue()
    workers = [mp.Process(target=work, args=(queue, n, size)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results = sorted(queue.get() for _ in workers)
    print([(n, len(text)) for n, text in results])


if __name__ == "__main__":
    main(3, int(sys.argv[1]))
''', ("100",))

MP304 = Base("MP304", '''\
import os
from concurrent.futures import ProcessPoolExecutor


def double(n):
    return 2 * n


def run(numbers):
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as executor:
        return list(executor.map(double, numbers))


if __name__ == "__main__":
    print(run(range(4)))
''')

MP305 = Base("MP305", '''\
import time
from multiprocessing import Pool


def count_words(text):
    time.sleep(0.02)
    return len(text.split())


def word_counts(chapters):
    with Pool(2) as pool:
        pending = pool.map_async(count_words, chapters)
    return pending.get()


if __name__ == "__main__":
    print(word_counts(["a b", "c d e", "f"]))
''', pool_lives=True)

MP306 = Base("MP306", '''\
import multiprocessing as mp


def printer(turn, ready, number):
    with ready:
        ready.wait_for(lambda: turn.value == number)
        print("ticket", number)
        turn.value += 1
        ready.notify_all()


if __name__ == "__main__":
    turn = mp.Value("i", 0)
    ready = mp.Condition()
    for number in range(4):
        mp.Process(target=printer, args=(turn, ready, number)).start()
''')

# name -> (base, [(old, new), ...]): the mutant is the base with each `old` replaced by `new`.
MUTANTS: dict[str, tuple[Base, list[tuple[str, str]]]] = {
    "mp302/as-written": (MP302, []),
    "mp302/async-read-later": (MP302, [(
        "    results = pool.map(square, numbers)\n",
        "    pending = pool.map_async(square, numbers)\n    print('submitted')\n    results = pending.get()\n")]),
    "mp302/async-returned": (MP302, [
        ("    results = pool.map(square, numbers)\n    return sorted(results)\n",
         "    return pool.map_async(square, numbers)\n"),
        ("print(squares(range(int(sys.argv[1]))))", "print(sorted(squares(range(int(sys.argv[1]))).get()))")]),
    "mp302/fire-and-forget": (MP302, [("    results = pool.map(", "    pool.apply_async(square, (3,))\n    results = pool.map(")]),
    "mp302/early-return": (MP302, [("    results = pool.map(", "    if not numbers:\n        return []\n    results = pool.map(")]),
    "mp302/used-by-a-nested-function": (MP302, [(
        "    results = pool.map(square, numbers)\n",
        "    def run():\n        return pool.map(square, numbers)\n    results = run()\n")]),
    "mp302/closed-on-one-branch": (MP302, [(
        "    return sorted(results)\n", "    if len(results) > 3:\n        pool.close()\n    return sorted(results)\n")]),
    "mp302/made-per-batch": (MP302, [(
        "    pool = Pool(2)\n    results = pool.map(square, numbers)\n",
        "    results = []\n    for half in (numbers[:2], numbers[2:]):\n        pool = Pool(2)\n"
        "        results += pool.map(square, half)\n")]),
    "mp302/module-level": (MP302, [(
        '    print(squares(range(int(sys.argv[1]))))\n',
        '    pool = Pool(2)\n    print(pool.map(square, range(int(sys.argv[1]))))\n    print("done")\n')]),
    "mp303/as-written": (MP303, []),
    "mp303/drain-until-empty": (MP303, [(
        "    results = sorted(queue.get() for _ in workers)\n",
        "    results = []\n    while not queue.empty():\n        results.append(queue.get())\n    results.sort()\n")]),
    "mp303/print-between": (MP303, [("        worker.join()\n", "        worker.join()\n    print('joined')\n")]),
    "mp303/exitcode-in-the-drain": (MP303, [(
        "    results = sorted(queue.get() for _ in workers)\n",
        "    results = sorted(queue.get() for worker in workers if worker.exitcode == 0)\n")]),
    "mp303/timeout-in-the-drain": (MP303, [("queue.get() for _ in workers", "queue.get(timeout=5) for _ in workers")]),
    "mp303/drain-in-a-loop": (MP303, [(
        "    results = sorted(queue.get() for _ in workers)\n",
        "    results = []\n    for _ in range(len(workers)):\n        results.append(queue.get())\n    results.sort()\n")]),
    "mp303/one-worker": (MP303, [
        ("    workers = [mp.Process(target=work, args=(queue, n, size)) for n in range(count)]\n"
         "    for worker in workers:\n        worker.start()\n    for worker in workers:\n        worker.join()\n"
         "    results = sorted(queue.get() for _ in workers)\n",
         "    worker = mp.Process(target=work, args=(queue, count, size))\n    worker.start()\n    worker.join()\n"
         "    results = [queue.get()]\n")]),
    "mp304/as-written": (MP304, []),
    "mp304/through-a-name": (MP304, [("max_workers=os.cpu_count()", "max_workers=workers"),
                                     ("def run(numbers):\n", "def run(numbers):\n    workers = os.cpu_count() - 1 or 1\n")]),
    "mp304/a-local-named-sys": (MP304, [("def run(numbers):\n", "def run(numbers, sys='cli'):\n")]),
    "mp304/multiprocessing-cpu-count": (MP304, [("import os\n", "import os\nimport multiprocessing\n"),
                                                ("os.cpu_count()", "2 * multiprocessing.cpu_count()")]),
    "mp305/as-written": (MP305, []),
    "mp305/imap-iterated-after": (MP305, [("pool.map_async(count_words, chapters)", "pool.imap(count_words, chapters)"),
                                          ("    return pending.get()", "    return [count for count in pending]")]),
    "mp305/closed-already": (MP305, [("        pending = pool.map_async(count_words, chapters)\n",
                                      "        pending = pool.map_async(count_words, chapters)\n        pool.close()\n")]),
    "mp305/block-ends-with-break": (MP305, [(
        "    with Pool(2) as pool:\n        pending = pool.map_async(count_words, chapters)\n",
        "    for attempt in range(3):\n        with Pool(2) as pool:\n"
        "            pending = pool.map_async(count_words, chapters)\n            break\n")]),
    "mp305/early-return-in-the-block": (MP305, [(
        "        pending = pool.map_async(count_words, chapters)\n",
        "        if not chapters:\n            return []\n        pending = pool.map_async(count_words, chapters)\n"
        "        print('queued')\n")]),
    "mp305/results-in-a-list": (MP305, [
        ("        pending = pool.map_async(count_words, chapters)\n",
         "        pending = []\n        for chapter in chapters:\n"
         "            pending.append(pool.apply_async(count_words, (chapter,)))\n"),
        ("    return pending.get()", "    return [result.get() for result in pending]")]),
    "mp306/as-written": (MP306, []),
    "mp306/code-after-the-guard": (MP306, [(".start()\n", ".start()\n\n\nif __name__ == '__main__':\n    print('bye')\n")]),
    "mp306/ends-with-sys-exit": (MP306, [("import multiprocessing as mp\n", "import multiprocessing as mp\nimport sys\n"),
                                         (".start()\n", ".start()\n    sys.exit(0)\n")]),
    "mp306/kept-in-a-list": (MP306, [(
        "    for number in range(4):\n        mp.Process(target=printer, args=(turn, ready, number)).start()\n",
        "    printers = [mp.Process(target=printer, args=(turn, ready, number)) for number in range(4)]\n"
        "    for worker in printers:\n        worker.start()\n")]),
    "mp306/named-and-sleeping": (MP306, [
        ("import multiprocessing as mp\n", "import multiprocessing as mp\nimport time\n"),
        ("        mp.Process(target=printer, args=(turn, ready, number)).start()\n",
         "        worker = mp.Process(target=printer, args=(turn, ready, number))\n        worker.start()\n"
         "    time.sleep(0.01)\n")]),
}


def _mutant_source(base: Base, edits: list[tuple[str, str]]) -> str:
    source = base.source
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


@dataclass
class _Outcome:
    name: str
    declined: bool
    reference: Run
    fixed: dict[str, Run]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> list[_Outcome]:
    root = tmp_path_factory.mktemp("lifecycle-mutants")
    results = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = []
        for name, (base, edits) in MUTANTS.items():
            source = _mutant_source(base, edits)
            original = root / name.replace("/", "__") / "before"
            fixed = root / name.replace("/", "__") / "after"
            for directory in (original, fixed):
                directory.mkdir(parents=True)
                (directory / "app.py").write_text(source)
            run = CliRunner().invoke(main, ["fix", "-q", "--select", base.rule, str(fixed / "app.py")])
            assert run.exit_code in (0, 1), run.output
            declined = (fixed / "app.py").read_text() == source
            args = ("-c", POOL_LIVES, "app.py", *base.args) if base.pool_lives else ("app.py", *base.args)
            reference = pool.submit(run_program, Program(original, args), "fork", sys.executable, TIMEOUT)
            runs = {} if declined else {
                method: pool.submit(run_program, Program(fixed, ("app.py", *base.args)), method, sys.executable, TIMEOUT)
                for method in METHODS
            }
            jobs.append((name, declined, reference, runs))
        for name, declined, reference, runs in jobs:
            results.append(_Outcome(name, declined, reference.result(),
                                    {method: future.result() for method, future in runs.items()}))
    return results


def test_every_rule_has_mutants_and_a_fixed_base(outcomes):
    rules = {outcome.name.split("/")[0] for outcome in outcomes}
    assert rules == {"mp302", "mp303", "mp304", "mp305", "mp306"}
    for rule in rules:  # the base program itself is fixed: the mutants try to break a real fix
        assert not next(o for o in outcomes if o.name == f"{rule}/as-written").declined, rule


@pytest.mark.oracle
def test_every_safe_fix_is_declined_or_keeps_the_program_working(outcomes):
    failures = []
    for outcome in outcomes:
        reference = outcome.reference
        assert reference.returncode == 0, f"{outcome.name}: the mutant itself fails\n{reference.describe()}"
        for method, run in outcome.fixed.items():
            if run.returncode != 0 or run.stdout != reference.stdout:
                failures.append(f"{outcome.name} under {method}:\nreference:\n{reference.stdout}\n{run.describe()}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", [
    "mp302/async-returned", "mp302/used-by-a-nested-function", "mp303/drain-until-empty", "mp303/print-between",
    "mp303/exitcode-in-the-drain", "mp303/timeout-in-the-drain", "mp305/block-ends-with-break",
    "mp306/code-after-the-guard", "mp306/ends-with-sys-exit",
])
def test_shapes_the_fix_cannot_keep_are_declined(outcomes, name):
    assert next(outcome for outcome in outcomes if outcome.name == name).declined


@pytest.mark.parametrize("name", [
    "mp302/async-read-later", "mp302/early-return", "mp302/closed-on-one-branch", "mp302/made-per-batch",
    "mp302/module-level", "mp303/drain-in-a-loop", "mp303/one-worker", "mp304/through-a-name",
    "mp304/a-local-named-sys", "mp305/imap-iterated-after", "mp305/closed-already", "mp305/results-in-a-list",
    "mp305/early-return-in-the-block",
    "mp306/kept-in-a-list", "mp306/named-and-sleeping",
])
def test_plain_variations_are_still_fixed(outcomes, name):
    assert not next(outcome for outcome in outcomes if outcome.name == name).declined


def test_the_pool_lives_wrapper_runs_a_script(tmp_path):
    script = Path(tmp_path) / "app.py"
    script.write_text(MP305.source)
    run = run_program(Program(tmp_path, ("-c", POOL_LIVES, "app.py")), "fork", sys.executable, TIMEOUT)
    assert run.returncode == 0 and run.stdout == "[2, 3, 1]\n", run.describe()
