"""MP201: processes started while a module is imported, outside a `__main__` guard."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable

import libcst as cst

from ..findings import Applicability, Fix, Violation
from ..fixes import FixBuilder, blank_run, split_leading_lines
from ..model import PROCESS_STARTER_WORDS, MainGuardPlan, SemanticModel
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_GUARD_TEST = '__name__ == "__main__"'


class UnguardedProcessStart(Rule):
    code = "MP201"
    name = "unguarded-process-start"
    summary = "Processes started at import time, outside an `if __name__ == \"__main__\":` guard"
    # Processes started through another checked module's function: the project index
    # (project.py) has the engine parse the file anyway.
    triggers = PROCESS_STARTER_WORDS
    explanation = Explanation(
        what=(
            "Flags code that starts processes while its module is being imported: at module "
            "level and not under `if __name__ == \"__main__\":`. Starters are resolved, not "
            "matched as text (aliases, `from ... import ... as ...`, contexts from "
            "`get_context()`, subclasses of `Process`): `Process(...).start()`, `Pool(...)`, "
            "`ProcessPoolExecutor(...).submit()`/`.map()` (the executor starts its workers "
            "there), `Manager()`, `SyncManager().start()`, "
            "`torch.multiprocessing.spawn()`/`start_processes()`, a torch `DataLoader` with "
            "`num_workers` > 0 that is iterated, `loop.run_in_executor()` with a process pool, "
            "`joblib.Parallel(backend=\"multiprocessing\")`, and the functions listed in the "
            "`process-apis` option. A module-level call to a function of the same file, or of "
            "another checked module, that starts processes is reported at the call, naming the "
            "chain of calls. Thread pools (`ThreadPool`, `ThreadPoolExecutor`, "
            "`multiprocessing.dummy`), contexts that explicitly fork, and `__main__.py` files "
            "(which spawn never re-runs) are not flagged."
        ),
        why=(
            "Under the `spawn` and `forkserver` start methods every child re-imports the main "
            "module (as `__mp_main__`) and with it every module the main module imports. Code "
            "that starts processes at import time then runs again in each child, where "
            "multiprocessing refuses it:\n\n"
            "    RuntimeError:\n"
            "            An attempt has been made to start a new process before the\n"
            "            current process has finished its bootstrapping phase.\n\n"
            "            This probably means that you are not using fork to start your\n"
            "            child processes and you have forgotten to use the proper idiom\n"
            "            in the main module:\n\n"
            "                if __name__ == '__main__':\n"
            "                    freeze_support()\n"
            "                    ...\n\n"
            "The parent sees it differently per API: after `Process.start()` the child exits "
            "with code 1 and the parent carries on; `ProcessPoolExecutor` raises "
            "`concurrent.futures.process.BrokenProcessPool: A process in the process pool was "
            "terminated abruptly while the future was running or pending.`; `Manager()` raises "
            "`EOFError`; `Pool` re-spawns dying workers forever and the program hangs; a torch "
            "`DataLoader` raises `RuntimeError: DataLoader worker (pid(s) ...) exited "
            "unexpectedly`. Top-level `print`s and loops also run again once per child.\n\n"
            "Where: Windows (spawn, every version), macOS (spawn by default since Python 3.8), "
            "Linux from Python 3.14 (forkserver by default), and any platform where the program "
            "picks spawn or forkserver. Linux with fork (Python 3.13 and older) is not affected, "
            "which is why the bug goes unnoticed (docs/facts.md section 3)."
        ),
        example=(
            "from multiprocessing import Pool\n\n"
            "def square(n):\n    return n * n\n\n"
            "with Pool(4) as pool:\n"
            "    print(pool.map(square, range(10)))\n"
        ),
        use_instead=(
            "from multiprocessing import Pool\n\n"
            "def square(n):\n    return n * n\n\n"
            "if __name__ == \"__main__\":\n"
            "    with Pool(4) as pool:\n"
            "        print(pool.map(square, range(10)))\n"
        ),
        fix_safety=(
            "The fix moves the module-level statements that do work (calls, loops, `with` "
            "blocks, and the assignments only they use) under `if __name__ == \"__main__\":` at "
            "the end of the module, merging into an existing guard. Imports, functions, classes, "
            "and the assignments that functions, classes or other kept statements read (with the "
            "statements that change those values in place) stay at module level, so spawned "
            "children still find them. Comments and blank lines move with their statements. "
            "Run as a script, the program does what it did under fork, now under every start "
            "method. The fix is safe unless another checked module imports this one: importing "
            "it then no longer does that work, so the fix needs `--unsafe-fixes`. No fix is "
            "offered when moving the work would change the order in which a name is read and "
            "rebound."
        ),
        options=(
            "`process-apis`: qualified names of the project's own functions that start processes "
            "(`[\"myproject.workers.start_pool\"]`); a call to one at import time is reported like "
            "a call to `Pool()`",
        ),
        references=(
            "docs/facts.md section 3: Missing `if __name__ == '__main__':` guard",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
    )

    VALID = [
        Valid(
            """
            from multiprocessing import Pool

            def square(n):
                return n * n

            if __name__ == "__main__":
                with Pool(2) as pool:
                    print(pool.map(square, range(4)))
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor

            def run(items):
                with ProcessPoolExecutor() as executor:
                    return list(executor.map(abs, items))
            """
        ),
        Valid(
            """
            from multiprocessing.pool import ThreadPool
            from concurrent.futures import ThreadPoolExecutor
            import multiprocessing.dummy as threads

            pool = ThreadPool(4)
            executor = ThreadPoolExecutor(4)
            workers = threads.Pool(2)
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            # An explicit fork context never re-imports the module (MP101 covers Windows).
            ctx = mp.get_context("fork")
            ctx.Process(target=print).start()
            """
        ),
        Valid(
            """
            # python -m tool: spawn never re-runs a __main__.py
            from multiprocessing import Pool
            with Pool(2) as pool:
                pool.map(abs, [1, -2])
            """,
            path="tool/__main__.py",
        ),
        Valid(
            """
            from joblib import Parallel, delayed

            squares = Parallel(n_jobs=2)(delayed(pow)(i, 2) for i in range(4))  # loky: no re-import
            """
        ),
        Valid(
            """
            import torch.utils.data as data

            loader = data.DataLoader(range(10), batch_size=2)  # no workers: no processes
            for batch in loader:
                print(batch)
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor

            # Made at import, used only in the main process: its workers start at map().
            executor = ProcessPoolExecutor(2)

            if __name__ == "__main__":
                print(list(executor.map(abs, [-1, -2])))
            """
        ),
        Valid(
            """
            import multiprocessing

            def main():
                multiprocessing.Process(target=print).start()

            if __name__ == "__main__":
                main()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            from multiprocessing import Pool

            def square(n):
                return n * n

            # Square the numbers in parallel.
            with Pool(2) as pool:
                print(pool.map(square, range(4)))
            """,
            line=7,
            column=6,
            message="Pool() at import time",
            fixed="""
            from multiprocessing import Pool

            def square(n):
                return n * n


            if __name__ == "__main__":
                # Square the numbers in parallel.
                with Pool(2) as pool:
                    print(pool.map(square, range(4)))
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            SCALE = 10
            TABLE = {}
            for key in range(3):
                TABLE[key] = key * SCALE

            def work(key):
                return TABLE[key]

            print("starting")
            worker = mp.Process(target=work, args=(1,))
            worker.start()
            worker.join()
            """,
            line=13,
            message="Process.start() at import time",
            fixed="""
            import multiprocessing as mp

            SCALE = 10
            TABLE = {}
            for key in range(3):
                TABLE[key] = key * SCALE

            def work(key):
                return TABLE[key]


            if __name__ == "__main__":
                print("starting")
                worker = mp.Process(target=work, args=(1,))
                worker.start()
                worker.join()
            """,
        ),
        Invalid(
            """
            from concurrent import futures

            def fetch(url):
                return len(url)

            def crawl(urls):
                with futures.ProcessPoolExecutor(2) as executor:
                    return list(executor.map(fetch, urls))

            def main():
                print(crawl(["a", "bb"]))

            main()
            if __name__ == "__main__":
                print("done")
            """,
            line=13,
            message="ProcessPoolExecutor.map() (through main() -> crawl())",
            fixed="""
            from concurrent import futures

            def fetch(url):
                return len(url)

            def crawl(urls):
                with futures.ProcessPoolExecutor(2) as executor:
                    return list(executor.map(fetch, urls))

            def main():
                print(crawl(["a", "bb"]))


            if __name__ == "__main__":
                main()
                print("done")
            """,
        ),
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader

            loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)
            for batch in loader:
                print(batch.sum())
            """,
            line=5,
            message="DataLoader(num_workers>0) iterated at import time",
            fixed="""
            import torch
            from torch.utils.data import DataLoader

            if __name__ == "__main__":
                loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)
                for batch in loader:
                    print(batch.sum())
            """,
        ),
        Invalid(
            """
            import multiprocessing

            class Renderer(multiprocessing.Process):
                def run(self):
                    print("rendering")

            manager = multiprocessing.Manager()
            Renderer().start()
            """,
            count=2,
            message="Manager() at import time",
            fixed="""
            import multiprocessing

            class Renderer(multiprocessing.Process):
                def run(self):
                    print("rendering")


            if __name__ == "__main__":
                manager = multiprocessing.Manager()
                Renderer().start()
            """,
        ),
        Invalid(
            """
            import torch.multiprocessing as tmp

            def train(rank, world_size):
                print("rank", rank, "of", world_size)

            tmp.spawn(train, args=(2,), nprocs=2)
            """,
            line=6,
            message="torch.multiprocessing.spawn() at import time",
            fixed="""
            import torch.multiprocessing as tmp

            def train(rank, world_size):
                print("rank", rank, "of", world_size)


            if __name__ == "__main__":
                tmp.spawn(train, args=(2,), nprocs=2)
            """,
        ),
        Invalid(
            """
            from joblib import Parallel, delayed
            from math import sqrt

            # loky (the default backend) needs no guard; the multiprocessing backend does.
            roots = Parallel(n_jobs=2, backend="multiprocessing")(delayed(sqrt)(i) for i in range(4))
            """,
            line=5,
            message='Parallel(backend="multiprocessing") at import time',
            fixed="""
            from joblib import Parallel, delayed
            from math import sqrt

            if __name__ == "__main__":
                # loky (the default backend) needs no guard; the multiprocessing backend does.
                roots = Parallel(n_jobs=2, backend="multiprocessing")(
                    delayed(sqrt)(i) for i in range(4)
                )
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        if PurePath(context.path).name == "__main__.py":
            return  # spawn never re-runs a package's __main__.py (spawn._fixup_main_from_name)
        starts = model.import_time_process_starts(context.settings.process_apis, context.project)
        if not starts:
            return
        fixes: tuple[Fix, ...] = ()
        must_move = {model.top_level_statement(start.node) for start in starts}
        plan = model.main_guard_plan(must_move)
        if plan is not None:
            imported = context.project is not None and context.project.is_imported(context.path)
            applicability = Applicability.UNSAFE if imported else Applicability.SAFE
            description = "Move the module's work under `if __name__ == \"__main__\":`"
            fixes = (_guard_fix(context, plan).build(applicability, description),)
        for start in starts:
            yield Violation(
                start.node,
                f"{start.describe()} at import time: spawned and forkserver children re-import this module and "
                "start processes again (RuntimeError: bootstrapping phase); put it under "
                "`if __name__ == \"__main__\":`",
                fixes,
            )


def _guard_fix(context: RuleContext, plan: MainGuardPlan) -> FixBuilder:
    """Move `plan.moved` into one main guard at the end of the module; the bodies of
    existing plain guards join it (with the comments right above those guards)."""
    model = context.model
    fix = context.fix_context.fix()
    test: cst.BaseExpression | None = None
    body: list[cst.BaseStatement] = []
    for statement in plan.moved:
        if isinstance(statement, cst.If) and _is_plain_guard(model, statement):
            test = statement.test
            inner = list(statement.body.body)
            # its first statement takes the guard's blank lines and the comments right above it
            lines = [*blank_run(statement.leading_lines), *split_leading_lines(statement.leading_lines)[1]]
            fix.replace(inner[0], lambda node, lines=lines: node.with_changes(
                leading_lines=[*lines, *node.leading_lines]))
            body.extend(fix.take(line) for line in inner)
            fix.remove(statement)
        else:
            body.append(fix.take(statement))
    guard = cst.If(
        test=test or fix.expression(_GUARD_TEST),
        body=cst.IndentedBlock(body),
        leading_lines=[cst.EmptyLine(indent=False)],
    )
    fix.insert_after(model.module.body[-1], [guard])
    return fix


def _is_plain_guard(model: SemanticModel, statement: cst.If) -> bool:
    """A main guard whose test is the one comparison, with no else: its body can join the
    new guard. (A guard with a further condition, `and ...`, stays whole, nested in it.)"""
    return (
        model.is_main_guard(statement)
        and isinstance(statement.test, cst.Comparison)
        and statement.orelse is None
        and isinstance(statement.body, cst.IndentedBlock)
    )
