"""MP402: an argument that cannot be pickled, handed to a child process by pickle."""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from ..findings import Violation
from ..model import SemanticModel
from ..model.workers import Carried, Handoff, Unpicklable
from .base import Explanation, Invalid, Rule, RuleContext, Valid, breakage_under, under_methods


class UnpicklableArgument(Rule):
    code = "MP402"
    name = "unpicklable-argument"
    summary = "A lock, open file, generator, connection or foreign-context lock handed to a child by pickle"
    explanation = Explanation(
        what=(
            "Flags values that pickle refuses, handed to a child process: in `Process(args=..., "
            "kwargs=...)`, `Pool.apply*`'s arguments, the items of a map's iterable, "
            "`executor.submit`'s arguments, `initargs=`, values bound by `functools.partial`, a "
            "DataLoader's dataset when it has workers, the arguments of the project's own "
            "wrappers that pass them on, and the instance of a bound-method target or of a "
            "dataset whose methods store such a value on `self`. The values: `threading` "
            "`Lock`/`RLock`/`Condition`/`Semaphore`/`Event`/`Barrier`, `queue.Queue`, files from "
            "`open()`, generators and generator expressions, `sqlite3` connections, a "
            "multiprocessing lock or queue given to a pool's or executor's task, and a "
            "multiprocessing lock made by another context than the process's. Sockets are not "
            "flagged: multiprocessing sends them by handle. Neither is what is handed to the "
            "dill-based `multiprocess` or `pathos`; where multiprocess is imported with "
            "multiprocessing's as the fallback (`try: from multiprocess import Pool` / `except "
            "ImportError: from multiprocessing import Pool`), only a multiprocessing lock or queue "
            "given where it cannot go is, which both refuse."
        ),
        why=(
            "These objects hold operating-system state that pickle cannot copy, so the hand-off "
            "fails in the parent:\n\n"
            "    TypeError: cannot pickle '_thread.lock' object\n"
            "    TypeError: cannot pickle '_io.TextIOWrapper' object\n"
            "    TypeError: cannot pickle 'generator' object\n"
            "    TypeError: cannot pickle 'sqlite3.Connection' object\n\n"
            "(3.12.1 and 3.13 word the file case `cannot pickle 'TextIOWrapper' instances`). A "
            "multiprocessing lock or queue may only travel as a process is created: given to a "
            "pool's task it raises `RuntimeError: Lock objects should only be shared between "
            "processes through inheritance`, and made by a fork context but given to a spawn "
            "process it raises `RuntimeError: A SemLock created in a fork context is being "
            "shared with a process in a spawn context` (3.11+). `Pool.*` and executors pickle "
            "under every start method, fork included; `Process(args=...)` and `initargs=` only "
            "under spawn and forkserver, so code tested on Linux with fork breaks on Windows, "
            "macOS and Linux from Python 3.14 (`mpcheck facts 5`)."
        ),
        example=(
            "import multiprocessing\nimport threading\n\n"
            "def work(lock, n):\n    with lock:\n        print(n)\n\n"
            "if __name__ == \"__main__\":\n"
            "    lock = threading.Lock()\n"
            "    multiprocessing.Process(target=work, args=(lock, 1)).start()\n"
        ),
        use_instead=(
            "import multiprocessing\n\n"
            "def work(lock, n):\n    with lock:\n        print(n)\n\n"
            "if __name__ == \"__main__\":\n"
            "    lock = multiprocessing.Lock()\n"
            "    multiprocessing.Process(target=work, args=(lock, 1)).start()\n"
        ),
        fix_safety=(
            "No automatic fix: what replaces the object (a multiprocessing lock, a path opened in "
            "the child, a list) depends on what the program means; the message says which."
        ),
        references=(
            "`mpcheck facts 5` (docs/facts.md section 5): Picklability of targets and arguments",
            "https://docs.python.org/3/library/multiprocessing.html#programming-guidelines",
        ),
    )

    VALID = [
        Valid(
            """
            import threading

            try:
                from multiprocess import Pool  # installed, it runs: dill pickles the lock
            except ImportError:
                from multiprocessing import Pool


            def work(lock, n):
                with lock:
                    return n


            if __name__ == "__main__":
                with Pool(2) as pool:
                    print(pool.apply(work, (threading.Lock(), 3)))
            """
        ),
        Valid(
            """
            import multiprocessing


            def work(lock, queue, n):
                with lock:
                    queue.put(n * n)


            if __name__ == "__main__":
                lock = multiprocessing.Lock()
                queue = multiprocessing.Queue()
                worker = multiprocessing.Process(target=work, args=(lock, queue, 3))
                worker.start()
                print(queue.get())
                worker.join()
            """
        ),
        Valid(
            """
            import threading
            from concurrent.futures import ThreadPoolExecutor


            def work(lock, n):
                with lock:
                    return n


            if __name__ == "__main__":
                lock = threading.Lock()
                with ThreadPoolExecutor() as executor:
                    print(executor.submit(work, lock, 1).result())
            """
        ),
        Valid(
            """
            import multiprocessing


            def count_lines(path):
                with open(path) as handle:
                    return sum(1 for _ in handle)


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    # the generator is consumed in the parent; only paths are pickled
                    print(pool.map(count_lines, (name for name in ["a.txt", "b.txt"])))
            """
        ),
        Valid(
            """
            import multiprocessing
            import threading


            class Exporter:
                def __init__(self):
                    self.lock = threading.Lock()

                @staticmethod
                def export(n):
                    print("exported", n)

                @classmethod
                def report(cls, n):
                    print(cls.__name__, n)

                def run(self):
                    # through self, a staticmethod is the function and a classmethod is bound
                    # to the class: the instance and its lock are not pickled
                    exporting = multiprocessing.Process(target=self.export, args=(1,))
                    exporting.start()
                    exporting.join()
                    reporting = multiprocessing.Process(target=self.report, args=(2,))
                    reporting.start()
                    reporting.join()


            if __name__ == "__main__":
                Exporter().run()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing
            import threading


            def work(lock, n):
                with lock:
                    print(n)


            if __name__ == "__main__":
                lock = threading.Lock()
                multiprocessing.Process(target=work, args=(lock, 1)).start()
            """,
            line=12,
            column=48,
            message="a threading.Lock() (line 11) is given to Process(), which pickles it under spawn and forkserver "
                    "(TypeError: cannot pickle '_thread.lock' object)",
        ),
        Invalid(
            """
            from concurrent.futures import ProcessPoolExecutor


            def first_line(handle):
                return handle.readline()


            if __name__ == "__main__":
                with open(__file__) as handle, ProcessPoolExecutor() as executor:
                    print(executor.submit(first_line, handle).result())
            """,
            line=10,
            message="an open file (line 9) is given to ProcessPoolExecutor.submit(), which pickles it under every",
        ),
        Invalid(
            """
            import multiprocessing


            def total(numbers):
                return sum(numbers)


            if __name__ == "__main__":
                squares = (n * n for n in range(10))
                with multiprocessing.Pool(2) as pool:
                    print(pool.apply(total, (squares,)))
            """,
            line=11,
            message="a generator (line 9)",
        ),
        Invalid(
            """
            import multiprocessing


            def work(lock, n):
                with lock:
                    return n


            if __name__ == "__main__":
                lock = multiprocessing.Lock()
                with multiprocessing.Pool(2) as pool:
                    print(pool.apply_async(work, (lock, 1)).get())
            """,
            line=12,
            message="RuntimeError: Lock objects should only be shared between processes through inheritance",
        ),
        Invalid(
            """
            import multiprocessing
            import threading


            class Counter:
                def __init__(self):
                    self.lock = threading.Lock()
                    self.value = 0

                def run(self):
                    with self.lock:
                        self.value += 1
                        print(self.value)


            if __name__ == "__main__":
                multiprocessing.Process(target=Counter().run).start()
            """,
            line=17,
            message="the Counter instance, whose self.lock is a threading.Lock() (line 7), is given to Process()",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        workers = model.workers
        reported: set[int] = set()
        for handoff in workers.handoffs():
            for expression, carried in workers.pickled_values(handoff):
                if carried is Carried.ITEMS or id(expression) in reported:
                    continue
                for what, problem in _problems(model, expression, carried, handoff):
                    reported.add(id(expression))
                    yield Violation(
                        expression,
                        f"{what} is given to {handoff.describe()}, which pickles it "
                        f"{under_methods(handoff.pickled_under)} ({problem.error}); {problem.advice}",
                        breaks_on=breakage_under(handoff.pickled_under, handoff.start_method),
                    )
                    break


def _problems(model: SemanticModel, expression: cst.BaseExpression, carried: Carried,
              handoff: Handoff) -> Iterator[tuple[str, Unpicklable]]:
    """What pickle refuses in the value `expression` hands over (when pickle, not dill or
    cloudpickle, pickles it: Handoff.pickled_by_pickle_under), and a multiprocessing lock or
    queue that cannot go where `handoff` sends it, described."""
    workers = model.workers
    by_pickle = bool(handoff.pickled_by_pickle_under)
    if carried is Carried.VALUE:
        problem = (workers.unpicklable(expression) if by_pickle else None) or workers.sync_problem(expression, handoff)
        if problem is not None:
            yield f"{problem.what} (line {_line(model, problem)})", problem
            return
    if not by_pickle:
        return
    for target in workers.targets(expression) if carried is Carried.CALLABLE else ():
        if target.owner is not None:  # a bound method pickles its instance
            owner = model.resolve(target.owner)
            if owner is not None and isinstance(owner.definition, cst.ClassDef):
                yield from _instance(model, owner.definition)
        elif target.instance and isinstance(target.node, cst.ClassDef):
            yield from _instance(model, target.node)
    if carried is Carried.VALUE:
        symbol = model.resolve(expression)
        if symbol is not None and symbol.is_instance and isinstance(symbol.definition, cst.ClassDef):
            yield from _instance(model, symbol.definition)


def _instance(model: SemanticModel, definition: cst.ClassDef) -> Iterator[tuple[str, Unpicklable]]:
    for attribute, problem in model.workers.instance_unpicklables(definition):
        yield (f"the {definition.name.value} instance, whose self.{attribute} is {problem.what} "
               f"(line {_line(model, problem)}),"), problem


def _line(model: SemanticModel, problem: Unpicklable) -> int:
    return model.position(problem.made_by).start.line
