"""MP201: processes started while a module is imported, outside a `__main__` guard."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Iterable

import libcst as cst

from ..findings import Applicability, Fix, Violation
from ..fixes import FixBuilder
from ..model import DATA_LOADER_STARTER, SemanticModel
from ..model.toplevel import TopLevel, is_constant_assignment
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_GUARD_TEST = '__name__ == "__main__"'


class UnguardedProcessStart(Rule):
    code = "MP201"
    name = "unguarded-process-start"
    summary = "Processes started at import time, outside an `if __name__ == \"__main__\":` guard"
    unsafe_fix_when = "another module imports the file, or it is a package module or an entry point"
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
            "chain of calls; not where the call's arguments rule the start out (`encode(texts)` of "
            "a function that starts a pool only `if pool is not None or isinstance(devices, "
            "list)`, with `pool=None, devices=None` left out or passed on as such: "
            "sentence-transformers' `encode`). Thread pools (`ThreadPool`, `ThreadPoolExecutor`, "
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
            "which is why the bug goes unnoticed (`mpcheck facts 3`)."
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
            "`mpcheck facts 3` (docs/facts.md section 3): Missing `if __name__ == '__main__':` guard",
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


            def make_loader(dataset):
                return data.DataLoader(dataset, batch_size=2)  # no workers: no processes


            for batch in make_loader(range(10)):
                print(batch)
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
            line=4,
            message="DataLoader(num_workers>0) iterated on line 5 at import time",
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
            import torch
            from torch.utils.data import DataLoader, TensorDataset


            def make_loader(batch_size, workers=4):
                dataset = TensorDataset(torch.arange(100.0))
                return DataLoader(dataset, batch_size=batch_size, num_workers=workers)


            loader = make_loader(8)
            for (batch,) in loader:
                print(batch.sum())
            """,
            line=7,
            message="DataLoader(num_workers>0) iterated on line 11 at import time",
            fixed="""
            import torch
            from torch.utils.data import DataLoader, TensorDataset


            def make_loader(batch_size, workers=4):
                dataset = TensorDataset(torch.arange(100.0))
                return DataLoader(dataset, batch_size=batch_size, num_workers=workers)


            if __name__ == "__main__":
                loader = make_loader(8)
                for (batch,) in loader:
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
        Invalid(
            """
            from multiprocessing import Pool

            LABEL = "draft"
            print("building the", LABEL, "report")
            LABEL = "final"


            def render(page):
                return f"{LABEL} page {page}"


            with Pool(2) as pool:
                print(pool.map(render, range(3)))
            """,
            line=12,
            column=6,
            # The print keeps its place: moved after the rebinding, it would read "final".
            fixed="""
            from multiprocessing import Pool

            LABEL = "draft"

            if __name__ == "__main__":
                print("building the", LABEL, "report")
            LABEL = "final"


            def render(page):
                return f"{LABEL} page {page}"


            if __name__ == "__main__":
                with Pool(2) as pool:
                    print(pool.map(render, range(3)))
            """,
        ),
        Invalid(
            """
            from multiprocessing import Pool


            def square(n):
                return n * n


            with Pool(2) as pool:
                SQUARES = pool.map(square, range(4))


            class Table:
                rows = SQUARES
            """,
            line=8,
            column=6,
            # No fix: the class body reads SQUARES while the module is imported; under a guard
            # SQUARES would not exist there (NameError in every spawned child).
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        if PurePath(context.path).name == "__main__.py":
            return  # spawn never re-runs a package's __main__.py (spawn._fixup_main_from_name)
        starts = model.processes.import_time_starts()
        if not starts:
            return
        fixes: tuple[Fix, ...] = ()
        top = TopLevel(model)
        must_move = {top.of(start.site.top) for start in starts if start.site is not None}
        plan = main_guard_plan(model, top, {statement.index for statement in must_move if statement})
        if plan is not None:
            applicability = Applicability.SAFE if context.is_script() else Applicability.UNSAFE
            description = "Move the module's work under `if __name__ == \"__main__\":`"
            fixes = (_guard_fix(context, plan).build(applicability, description),)
        reported: set[int] = set()
        for start in starts:
            if id(start.node) in reported:
                continue  # one finding per loader, at its first iteration
            reported.add(id(start.node))
            if start.iteration is not None:
                line = model.position(start.iteration.node).start.line
                start = replace(start, starter=f"{DATA_LOADER_STARTER} on line {line}")
            described = start.describe()
            yield Violation(
                start.node,
                f"{described} at import time: spawned and forkserver children re-import this module and "
                "start processes again (RuntimeError: bootstrapping phase); put it under "
                "`if __name__ == \"__main__\":`",
                fixes,
            )


@dataclass(frozen=True)
class MainGuardPlan:
    """Which module-level statements keep running at import (`kept`, indexes into the
    module's body) and which run only in the main process from now on."""

    top: TopLevel
    kept: frozenset[int]


def main_guard_plan(model: SemanticModel, top: TopLevel, must_move: set[int]) -> MainGuardPlan | None:
    """Which module-level statements go under `if __name__ == "__main__":` so that the
    statements `must_move` (indexes) no longer run at import; None when no split keeps the
    program working.

    What a spawned child needs stays: definitions (imports, functions, classes), what kept code
    reads while the module is imported (class bodies, decorators, defaults, functions called at
    import), what functions that may run in a child read later, and -- when what they read
    stays -- constant and harmless assignments and calls that configure the process (logging,
    seeds, `sys.path`): a forked child inherited that configuration; an assignment whose
    object the next statement, which moves, fills in place (`parser = ArgumentParser()`,
    then `parser.add_argument(...)`) moves with it. Everything else is the main script's work
    and goes under guards that keep its order (see `_guard_fix`).
    No plan exists when kept code needs what the process-starting code makes (the NameError
    such a fix would cause), or when that code sits in a guard with an `else` (which runs on
    import and would become dead).
    """
    statements = top.statements
    if any(model.is_main_guard(statements[index].node) for index in must_move):
        return None  # its else branch starts processes on import
    keep = {s.index for s in statements if s.is_definition and s.index not in must_move}
    optional = {s.index for s in statements if s.index not in must_move and s.index not in keep
                and not model.is_main_guard(s.node)
                and (is_constant_assignment(s.node) or top.is_harmless(s) or top.configures_process(s))}
    while True:
        required: set[int] = set()
        for index in keep:
            statement = statements[index]
            for providers in statement.reads_now.values():
                required |= providers
            if top.may_run_in_child(statement):
                for name in statement.reads_later:
                    required |= {other.index for other in statements if name in other.binds or name in other.changes}
        for index in optional - keep:
            statement = statements[index]
            # An object that the moving statement right after it fills in place goes with it
            # (`parser = ArgumentParser()` before `parser.add_argument(...)`): kept alone, it
            # would be made above the guard and set up below it. (What kept code reads is
            # required above. A use further down, `log.info(...)`, leaves it where it is: it
            # would otherwise take a guard of its own.)
            following = statements[index + 1] if index + 1 < len(statements) else None
            if following is not None and following.index not in keep | optional and \
                    statement.binds & following.changes:
                continue
            if all(providers <= keep for providers in statement.reads_now.values()):
                required.add(index)
        required -= keep
        if required & must_move:
            return None  # kept code needs what the process-starting code makes
        if not required:
            break
        keep |= required
    for statement in statements:
        if model.is_main_guard(statement.node) and not model.is_plain_main_guard(statement.node):
            keep.add(statement.index)  # `if __name__ == "__main__" and ...:` / with else: left as written
    return MainGuardPlan(top, frozenset(keep))


def _guard_fix(context: RuleContext, plan: MainGuardPlan) -> FixBuilder:
    """Move the statements the plan does not keep under main guards, in their order: a run
    of them becomes one guard, placed before the next kept statement that does work or
    binds what the run reads or binds (kept definitions in between stay above it).
    Existing plain guards in a run are merged into it."""
    fix = context.fix_context.fix()
    run: list = []
    previous = None  # the last kept statement
    for statement in plan.top.statements:
        if statement.index not in plan.kept:
            run.append(statement)
            continue
        if run and _ends_run(plan, run, statement):
            _place_guard(context, fix, run, previous, statement)
            run = []
        previous = statement
    if run:
        _place_guard(context, fix, run, previous, None)
    return fix


def _place_guard(context: RuleContext, fix: FixBuilder, run: list, previous, following) -> None:
    """One guard holding `run`, right after the kept statement `previous` (or first)."""
    model = context.model
    body: list[cst.BaseStatement] = []
    test: cst.BaseExpression | None = None
    for statement in run:
        node = statement.node
        if isinstance(node, cst.If) and model.is_plain_main_guard(node):
            test = node.test
            inner = list(node.body.body)
            # its first statement takes the guard's own blank and comment lines
            fix.replace(inner[0], lambda first, lines=node.leading_lines: first.with_changes(
                leading_lines=[*lines, *first.leading_lines]))
            body.extend(fix.take(line) for line in inner)
            fix.remove(node, keep_comments_above=False)
        else:
            body.append(fix.take(node))
    guard = cst.If(test=test or fix.expression(_GUARD_TEST), body=cst.IndentedBlock(body=body),
                   leading_lines=[cst.EmptyLine(indent=False)])
    if previous is not None:
        fix.insert_after(previous.node, [guard])
    else:
        fix.insert_before((following or run[-1]).node, [guard])


def _ends_run(plan: MainGuardPlan, run: list, kept) -> bool:
    """A kept statement the run cannot move past: it does work (the order of effects would
    change), or it binds or changes a name the run reads or binds."""
    if not (kept.is_definition or is_constant_assignment(kept.node) or plan.top.is_harmless(kept)):
        return True
    touched = set().union(*(set(statement.reads_now) | statement.binds for statement in run))
    return bool(touched & (kept.binds | kept.changes))
