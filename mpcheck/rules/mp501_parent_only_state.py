"""MP501: a worker reads module state that only the parent sets after import, or uses a
primitive the module makes at import, which only a forked worker shares with the parent."""

from __future__ import annotations

from typing import Iterable

from .. import apis
from ..findings import Violation
from ..model import Kind, SemanticModel, TryRegion
from ..model.state import ParentChange, PrimitiveUse
from ..model.workers import Worker
from .base import Explanation, Invalid, Rule, RuleContext, Valid


class ParentOnlyState(Rule):
    code = "MP501"
    name = "parent-only-state"
    summary = ("A worker reads a module global or class attribute that the parent sets after import, or uses a "
               "lock, queue or shared value the module makes at import")
    explanation = Explanation(
        what=(
            "Flags a read, in a function that runs in a worker process, of a module-level "
            "variable or class attribute that the parent sets or changes after the module was "
            "imported: in the `if __name__ == \"__main__\":` block, in a function through "
            "`global`, by a setup call (`CONFIG.update(...)`, `ITEMS.append(...)`, "
            "`Settings.level = ...`, `cache[key] = value`, `settings.DEBUG = True` on an "
            "imported module). Workers are the targets, map and submit functions, initializers "
            "and `functools.partial`s handed to processes (through the project's own wrappers "
            "too), `run` of a `Process` subclass, `__getitem__`/`__iter__` of a torch "
            "DataLoader's dataset when it has workers, and the functions of the file they call. "
            "Not flagged: state set while the module is imported, state an initializer sets in "
            "each worker, changes made after the processes started, and explicitly forked "
            "children.\n\n"
            "Also flags a use, in such a function, of a lock-like primitive (`Lock`, `RLock`, "
            "`Semaphore`, `Condition`, `Event`, `Barrier`), a shared `Value` or `Array`, or a "
            "queue that the module makes at import (`counter = multiprocessing.Value(\"i\", 0)` "
            "at module level), or that another module of the project makes so and the function "
            "imports (`from shared import counter`, `import shared` then `shared.counter`, through a "
            "package's re-export too), or whose function it calls (`shared.count()` using `counter` "
            "in its own body; the functions that one calls are not followed): workers share it with "
            "the parent only when they are forked. "
            "Not flagged when the name is also bound elsewhere (in the main block: the first case; by "
            "an initializer that sets the global, or the other module's attribute, from its "
            "arguments: the portable way)."
        ),
        why=(
            "A forked child is a copy of the parent and sees every value set before it started. "
            "A spawned or forkserver child starts a fresh interpreter and re-imports the main "
            "module as `__mp_main__`, without running its main block: it sees the import-time "
            "value, or no value at all (`NameError`). The program then computes with the wrong "
            "configuration and still exits 0 (`mpcheck facts 6`: with `CONFIG['set_in_main'] = "
            "True` in the main block, the fork child prints `{'set_in_main': True}`, the spawn "
            "and forkserver children `{'set_in_main': False}`). A primitive made at import is the "
            "same case: the multiprocessing documentation's \"Explicitly pass resources to child "
            "processes\" says a forked child can use a resource the parent made as a global, and "
            "a re-imported module makes a new one in each spawned child. Workers that add to a "
            "module-level `Value` leave the parent's at 0, and what they put in a module-level "
            "`Queue` never reaches the parent, whose `get(timeout=...)` raises `queue.Empty` "
            "(`mpcheck facts 6`, 6c); a module-level `Lock` excludes nothing across processes. "
            "Where: Windows, macOS (Python 3.8+), Linux from Python 3.14, and wherever spawn or "
            "forkserver is chosen."
        ),
        example=(
            "import multiprocessing\n\nCONFIG = {\"scale\": 1}\n\n"
            "def work(n):\n    return n * CONFIG[\"scale\"]\n\n"
            "if __name__ == \"__main__\":\n"
            "    CONFIG[\"scale\"] = 10\n"
            "    with multiprocessing.Pool(2) as pool:\n"
            "        print(pool.map(work, range(3)))\n"
        ),
        use_instead=(
            "import multiprocessing\n\nCONFIG = {\"scale\": 1}\n\n"
            "def configure(scale):\n    CONFIG[\"scale\"] = scale\n\n"
            "def work(n):\n    return n * CONFIG[\"scale\"]\n\n"
            "if __name__ == \"__main__\":\n"
            "    with multiprocessing.Pool(2, initializer=configure, initargs=(10,)) as pool:\n"
            "        print(pool.map(work, range(3)))\n"
        ),
        fix_safety=(
            "No automatic fix: passing the value as an argument or through "
            "`Pool(initializer=..., initargs=...)` changes the worker's signature or the pool's "
            "construction, which the author should choose. A primitive has to be made in the "
            "main block and handed to the workers when they start: in `Process(args=...)`, or "
            "through a pool's `initializer=`/`initargs=` (as an argument of `map` or `submit` it "
            "raises `RuntimeError: Lock objects should only be shared between processes through "
            "inheritance`, under every start method)."
        ),
        references=(
            "`mpcheck facts 6` (docs/facts.md section 6): Global state is not shared with spawn/forkserver children",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing

            debug = 0


            def work(x):
                if debug:
                    print("working on", x)
                return x * 2


            def reset():
                # the value the module has after import: a re-imported module has it too
                global debug
                debug = 0


            if __name__ == "__main__":
                reset()
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(work, [1, 2]))
            """
        ),
        Valid(
            """
            import multiprocessing

            SCALE = 10
            TABLE = {n: n * SCALE for n in range(5)}


            def work(n):
                return TABLE[n]


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(work, range(5)))
            """
        ),
        Valid(
            """
            import multiprocessing

            CONFIG = {}


            def configure(scale):
                CONFIG["scale"] = scale


            def work(n):
                return n * CONFIG["scale"]


            if __name__ == "__main__":
                CONFIG["scale"] = 10
                with multiprocessing.Pool(2, initializer=configure, initargs=(10,)) as pool:
                    print(pool.map(work, range(3)))
            """
        ),
        Valid(
            """
            import multiprocessing

            RESULTS = []


            def work(n):
                return n * n


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    squares = pool.map(work, range(3))
                RESULTS.extend(squares)
                print(RESULTS)
            """
        ),
        Valid(
            """
            import multiprocessing

            processed = None


            def share(counter):
                # Each worker keeps the counter the parent made, handed over as it starts.
                global processed
                processed = counter


            def convert(path):
                with processed.get_lock():
                    processed.value += 1
                return path.upper()


            if __name__ == "__main__":
                counter = multiprocessing.Value("i", 0)
                with multiprocessing.Pool(2, initializer=share, initargs=(counter,)) as pool:
                    print(pool.map(convert, ["a.txt", "b.txt"]))
                print("converted", counter.value)
            """
        ),
        Valid(
            """
            import multiprocessing

            print_lock = multiprocessing.Lock()


            def report(line):
                # Only the parent prints under the module's lock; the workers return their lines.
                with print_lock:
                    print(line)


            def measure(path):
                return f"{path}: {len(path)}"


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    for line in pool.imap(measure, ["a.txt", "bb.txt"]):
                        report(line)
            """
        ),
        Valid(
            """
            import multiprocessing
            import queue


            def measure(path, results):
                results.put((path, len(path)))


            if __name__ == "__main__":
                # Made in the main block and passed to each process: the same queue everywhere.
                results = multiprocessing.Queue()
                workers = [multiprocessing.Process(target=measure, args=(path, results)) for path in ("a", "bb")]
                for worker in workers:
                    worker.start()
                try:
                    print(sorted(results.get(timeout=5) for _ in workers))
                except queue.Empty:
                    print("no results")
                for worker in workers:
                    worker.join()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            # coqui-ai/TTS find_unique_phonemes.py: tqdm's process_map is a process pool.
            from tqdm.contrib.concurrent import process_map


            def compute(item):
                return phonemizer(item)


            def main():
                global phonemizer
                phonemizer = str.upper
                print(process_map(compute, ["a", "b"], max_workers=2))


            if __name__ == "__main__":
                main()
            """,
            line=6,
            message="compute() runs in a worker (process_map() on line 12) and reads phonemizer",
        ),
        Invalid(
            """
            import multiprocessing


            def work(x):
                try:
                    if verbose:
                        print("working on", x)
                except NameError:  # a child under spawn takes this branch: it is never verbose
                    pass
                return x * 2


            def enable_verbose():
                global verbose
                verbose = True


            if __name__ == "__main__":
                enable_verbose()
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(work, [1, 2]))
            """,
            line=6,
            message="has no such name (its `except NameError:` runs instead)",
        ),
        Invalid(
            """
            import multiprocessing

            CONFIG = {"scale": 1}


            def work(n):
                return n * CONFIG["scale"]


            if __name__ == "__main__":
                CONFIG.update(scale=10)
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(work, range(3)))
            """,
            line=7,
            column=16,
            message="work() runs in a worker (Pool.map() on line 13) and reads CONFIG, which the parent "
                    "changes by CONFIG.update() in the main block (line 11)",
        ),
        Invalid(
            """
            import multiprocessing

            VERBOSE = False


            def enable_verbose():
                global VERBOSE
                VERBOSE = True


            def work(name):
                if VERBOSE:
                    print("working on", name)


            if __name__ == "__main__":
                enable_verbose()
                multiprocessing.Process(target=work, args=("a",)).start()
            """,
            line=12,
            message="reads VERBOSE, which the parent assigns in enable_verbose() (line 8)",
        ),
        Invalid(
            """
            import argparse
            import multiprocessing


            def work(n):
                return n * options.scale


            if __name__ == "__main__":
                parser = argparse.ArgumentParser()
                parser.add_argument("--scale", type=int, default=2)
                options = parser.parse_args()
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(work, range(3)))
            """,
            line=6,
            message="which the parent assigns in the main block (line 12): a spawned or forkserver child "
                    "re-imports the module and has no such name (NameError)",
        ),
        Invalid(
            """
            import multiprocessing


            class Settings:
                level = "info"


            class Reporter(multiprocessing.Process):
                def run(self):
                    print("level:", Settings.level)


            if __name__ == "__main__":
                Settings.level = "debug"
                reporter = Reporter()
                reporter.start()
                reporter.join()
            """,
            line=10,
            message="Reporter.run() runs in a worker (run() of a Process subclass) and reads Settings.level, "
                    "which the parent sets in the main block (line 14)",
        ),
        Invalid(
            """
            import multiprocessing

            processed = multiprocessing.Value("i", 0)


            def convert(path):
                with processed.get_lock():
                    processed.value += 1
                return path.upper()


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(convert, ["a.txt", "b.txt"]))
                print("converted", processed.value)  # 0 under spawn and forkserver
            """,
            line=7,
            column=10,
            message="convert() runs in a worker (Pool.map() on line 14) and uses processed, the `Value()` this "
                    "module makes at import (line 3): a forked worker shares the parent's, but a spawned or "
                    "forkserver worker re-imports the module and makes its own, so its changes never reach the "
                    "parent (nor the parent's, the worker); make it in the main block and hand it to each worker "
                    "through `initializer=`",
        ),
        Invalid(
            """
            import multiprocessing
            import queue

            results = multiprocessing.Queue()


            def measure(path):
                results.put((path, len(path)))


            if __name__ == "__main__":
                workers = [multiprocessing.Process(target=measure, args=(path,)) for path in ("a", "bb")]
                for worker in workers:
                    worker.start()
                try:
                    print(sorted(results.get(timeout=5) for _ in workers))
                except queue.Empty:
                    print("no results")  # under spawn and forkserver
                for worker in workers:
                    worker.join()
            """,
            line=8,
            message="uses results, the `Queue()` this module makes at import (line 4): a forked worker shares the "
                    "parent's, but a spawned or forkserver worker re-imports the module and makes its own, so what "
                    "it puts there never reaches the parent (nor what the parent puts, the worker); make it in the "
                    "main block and pass it to the process as an argument",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        if model.project is None and not model.parent_state.changes() and \
                not model.parent_state.inherited_primitives():
            return  # (with a project, a worker may use another module's primitive)
        reported: set[int] = set()
        for worker in model.workers.worker_functions().values():
            if not worker.start_methods - {"fork"}:
                continue  # an explicitly forked child inherits the parent's state
            for use in model.parent_state.primitive_uses(worker.function):
                if id(use.node) in reported:
                    continue
                reported.add(id(use.node))
                maker = "this module" if use.module is None else f"module {use.module}"
                line = f"line {use.line}" if use.module is None else f"its line {use.line}"
                uses = f"uses {use.written}" if use.through is None else \
                    f"calls {use.through}(), which uses {use.written}"
                yield Violation(
                    use.node,
                    f"{_worker_name(model, worker)} runs in a worker ({_how(model, worker)}) and {uses}, "
                    f"the `{use.made}` {maker} makes at import ({line}): a forked worker shares "
                    f"the parent's, but a spawned or forkserver worker re-imports {use.module or 'the module'} and "
                    f"makes its own, so {_lost(use)}; make it in the main block and {_handed(worker)}",
                )
            for read in model.parent_state.stale_reads(worker.function):
                changes = [change for change in read.changes if not _after_the_start(model, change, worker)]
                if not changes or id(read.node) in reported:
                    continue
                reported.add(id(read.node))
                change = changes[0]
                written = model.module.code_for_node(read.node)
                line = model.position(change.node).start.line
                if _bound_at_import(model, read.name):
                    sees = "sees the import-time value"
                elif any(isinstance(region, TryRegion) and "NameError" in region.caught
                         for region in read.site.regions):
                    sees = "has no such name (its `except NameError:` runs instead)"
                else:
                    sees = "has no such name (NameError)"
                yield Violation(
                    read.node,
                    f"{_worker_name(model, worker)} runs in a worker ({_how(model, worker)}) and reads {written}, "
                    f"which the parent {change.how} {change.where} (line {line}): a spawned or forkserver "
                    f"child re-imports the module and {sees}; {_advice(worker)}",
                )


def _advice(worker: Worker) -> str:
    """Pass the value, or set it where the API lets each worker run a function first (a
    Process has no such argument: its target is that function)."""
    setup = worker.handoff.api.worker_setup if worker.handoff is not None else None
    return "pass it as an argument" + (f" or set it in the worker through `{setup}=`" if setup else "")


def _lost(use: PrimitiveUse) -> str:
    """What a worker's own copy of the primitive `use` uses loses."""
    if use.role is apis.Role.QUEUE:
        return "what it puts there never reaches the parent (nor what the parent puts, the worker)"
    if use.made in ("Value()", "Array()"):
        return "its changes never reach the parent (nor the parent's, the worker)"
    return "it excludes or signals nothing across processes"


def _handed(worker: Worker) -> str:
    """How to hand a primitive to the worker: where a pool lets each worker run a function
    first (its tasks cannot carry one), else as the process's argument."""
    setup = worker.handoff.api.worker_setup if worker.handoff is not None else None
    if setup == "worker_init_fn":  # a DataLoader hands each worker its dataset as the worker starts
        return "keep it on the dataset"
    if setup:
        return f"hand it to each worker through `{setup}=` (a task's arguments cannot carry it)"
    return "pass it to the process as an argument"


def _worker_name(model: SemanticModel, worker: Worker) -> str:
    scope = model.scope_of_definition(worker.function)
    if scope is None or scope.kind.value == "lambda":
        return "a lambda"
    return f"{scope.qualname}()"


def _how(model: SemanticModel, worker: Worker) -> str:
    if worker.handoff is None:
        return "run() of a Process subclass" if not worker.via else f"through {' -> '.join(worker.via)}"
    line = model.position(worker.handoff.site.node).start.line
    how = f"{worker.handoff.describe()} on line {line}"
    return how if not worker.via else f"{how}, through {' -> '.join(worker.via)}"


def _bound_at_import(model: SemanticModel, name: str) -> bool:
    """`name` has a binding that a re-import makes (module level, outside the main block)."""
    return any(binding.kind is not Kind.ANNOTATION and not binding.site.in_function and not binding.nested
               and not model.under_main_guard(binding.site) and model.runs_at_runtime(binding.site)
               for binding in model.module_scope.bindings.get(name, ()))


def _after_the_start(model: SemanticModel, change: ParentChange, worker: Worker) -> bool:
    """The change is made in the main block after the call that hands the worker over, and
    not in a loop: no child of that call can have seen it, fork or not."""
    handoff = worker.handoff
    if handoff is None or change.site.in_function or handoff.site.in_function or any(change.site.loops()):
        return False
    return model.position(change.node).start.line > model.position(handoff.site.node).end.line
