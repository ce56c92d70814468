"""What goes to a child by pickle and which functions run there (model/workers.py), and the
module state only the parent changes (model/state.py): the facts MP401, MP402, MP403 and MP501
are built on (issue 8).

Single files go through the model; a wrapper in another module goes through a real project
tree under tmp_path and the engine, which finds the project from the file.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

import mpcheck
from mpcheck.model.workers import Carried

from .support import find, model_of

ALL = {"fork", "spawn", "forkserver"}
NOT_FORK = {"spawn", "forkserver"}


def handoffs(source: str, path: str = "app.py") -> list[tuple[str, str, str, set[str]]]:
    """(expression, how it is carried, through, pickled under) of each hand-off."""
    model = model_of(source, path)
    code = model.module.code_for_node
    return [(code(h.expression), h.carried.value, h.describe(), set(h.pickled_under))
            for h in model.workers.handoffs()]


def values(source: str) -> list[tuple[str, str]]:
    model = model_of(source)
    code = model.module.code_for_node
    return [(code(expression), carried.value) for handoff in model.workers.handoffs()
            for expression, carried in model.workers.pickled_values(handoff)]


# -- hand-offs ------------------------------------------------------------------------------------

def test_the_apis_hand_over_their_callable_and_data():
    found = handoffs("""\
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        mp.Process(target=work, args=(1,), kwargs={"k": 2})
        with mp.Pool(2, initializer=setup, initargs=(cfg,)) as pool:
            pool.map(work, items)
        with ProcessPoolExecutor() as executor:
            executor.submit(work, 1, key=2)
            executor.map(work, xs, ys)
        """)
    assert found == [
        ("work", "callable", "Process()", NOT_FORK),
        ("(1,)", "items", "Process()", NOT_FORK),
        ('{"k": 2}', "items", "Process()", NOT_FORK),
        ("setup", "callable", "Pool()", NOT_FORK),
        ("(cfg,)", "items", "Pool()", NOT_FORK),
        ("work", "callable", "Pool.map()", ALL),
        ("items", "items", "Pool.map()", ALL),
        ("work", "callable", "ProcessPoolExecutor.submit()", ALL),
        ("1", "value", "ProcessPoolExecutor.submit()", ALL),
        ("work", "callable", "ProcessPoolExecutor.map()", ALL),
        ("xs", "items", "ProcessPoolExecutor.map()", ALL),
        ("ys", "items", "ProcessPoolExecutor.map()", ALL),
    ]


def test_threads_dill_and_fork_contexts_hand_nothing_over_by_reference():
    assert handoffs("""\
        import multiprocess
        import multiprocessing as mp
        from concurrent.futures import ThreadPoolExecutor

        ThreadPoolExecutor().submit(lambda: 1)
        multiprocess.Pool(2).map(lambda x: x, items)
        mp.get_context("fork").Process(target=lambda: 1).start()
        """) == []


def test_a_dataloader_with_workers_hands_over_its_dataset_and_functions():
    found = handoffs("""\
        from torch.utils.data import DataLoader

        loader = DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=merge, worker_init_fn=seed)
        for batch in loader:
            print(batch)
        quiet = DataLoader(dataset, 4, True)  # shuffle=True is not num_workers
        for batch in quiet:
            print(batch)
        """)
    assert found == [("seed", "callable", "DataLoader(num_workers>0)", NOT_FORK),
                     ("dataset", "value", "DataLoader(num_workers>0)", NOT_FORK),
                     ("merge", "callable", "DataLoader(num_workers>0)", NOT_FORK)]


WRAPPERS = """\
import multiprocessing


def parmap(fn, items, label="job"):
    workers = [multiprocessing.Process(target=fn, args=(item, label)) for item in items]
    for worker in workers:
        worker.start()


def via_runner(task, items):
    parmap(task, items)


class Runner:
    def __init__(self, setup):
        self.pool = multiprocessing.Pool(2, initializer=setup)

    def run(self, fn, items):
        return self.pool.map(fn, items)


def main():
    parmap(lambda item, label: print(item), [1, 2], label=open("log.txt"))
    via_runner(report, [3])
    runner = Runner(configure)
    runner.run(render, [4])
"""


def test_project_wrappers_hand_over_what_their_parameters_receive():
    found = [row for row in handoffs(WRAPPERS) if "->" in row[2]]
    assert found == [
        ("task", "callable", "parmap() -> Process()", NOT_FORK),  # in via_runner()
        ("items", "items", "parmap() -> Process()", NOT_FORK),
        ("lambda item, label: print(item)", "callable", "parmap() -> Process()", NOT_FORK),
        ("[1, 2]", "items", "parmap() -> Process()", NOT_FORK),
        ('open("log.txt")', "value", "parmap() -> Process()", NOT_FORK),
        ("report", "callable", "via_runner() -> parmap() -> Process()", NOT_FORK),
        ("[3]", "items", "via_runner() -> parmap() -> Process()", NOT_FORK),
        ("configure", "callable", "Runner.__init__() -> Pool()", NOT_FORK),
        ("render", "callable", "Runner.run() -> Pool.map()", ALL),
        ("[4]", "items", "Runner.run() -> Pool.map()", ALL),
    ]


def test_pickled_parameters_are_indexed_among_the_functions_parameters():
    model = model_of(WRAPPERS)
    parmap = next(d for d in model.module.body if isinstance(d, cst.FunctionDef) and d.name.value == "parmap")
    found = [(p.name, p.index, p.carried) for p in model.workers.pickled_parameters(parmap)]
    assert found == [("fn", 0, Carried.CALLABLE), ("items", 1, Carried.ITEMS), ("label", 2, Carried.VALUE)]


def test_a_wrapper_in_another_module_is_followed_through_the_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'thumbs'\n")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("from .parallel import parmap\n")  # a re-export
    (tmp_path / "jobs" / "parallel.py").write_text(textwrap.dedent("""\
        import multiprocessing


        def parmap(fn, items):
            with multiprocessing.Pool(2) as pool:
                return pool.map(fn, items)
        """))
    main = tmp_path / "main.py"
    main.write_text(textwrap.dedent("""\
        from jobs import parmap


        def sizes(box):
            return parmap(lambda size: size * box, [1, 2])
        """))
    findings = mpcheck.check_source(main.read_text(), str(main))
    assert [(d.code, d.line) for d in findings] == [("MP401", 5)]
    assert "parmap() -> Pool.map()" in findings[0].message


def test_pickled_values_are_the_items_written_and_partials_bound_values():
    assert values("""\
        import functools
        import multiprocessing as mp

        job = (lock, 2)
        mp.Process(target=functools.partial(work, handle, key=conn), args=job)
        mp.Pool().map(work, [a, b])
        mp.Pool().map(work, (make(x) for x in xs))
        """) == [
        ("functools.partial(work, handle, key=conn)", "callable"), ("work", "callable"),
        ("handle", "value"), ("conn", "value"),
        ("lock", "value"), ("2", "value"),
        ("work", "callable"), ("a", "value"), ("b", "value"),
        ("work", "callable"), ("make(x)", "value"),
    ]


def test_a_wrapper_that_zips_the_function_into_the_items_hands_it_over():
    # zeehio/parmap's shape: pool.map_async(helper, zip(repeat(function), iterable, ...))
    found = handoffs("""\
        import multiprocessing
        from itertools import repeat


        def _star(packed):
            function, item = packed
            return function(item)


        def pmap(function, iterable):
            with multiprocessing.Pool(2) as pool:
                return pool.map(_star, zip(repeat(function), iterable))


        def main(scale):
            return pmap(lambda n: n * scale, range(3))
        """)
    assert ("lambda n: n * scale", "value", "pmap() -> Pool.map()", ALL) in found
    assert ("range(3)", "items", "pmap() -> Pool.map()", ALL) in found


# -- what a pickled callable names, and why pickling it fails -------------------------------------

PROBLEMS = {
    "lambda-in-function": ("def main():\n    pool.map(lambda x: x, xs)\n", "lambda x: x",
                           "a lambda", ALL, "Can't pickle local object 'main.<locals>.<lambda>'"),
    "module-lambda": ("square = lambda x: x\npool.map(square, xs)\n", "square", "a lambda", ALL,
                      "attribute lookup <lambda> on __main__ failed"),
    "nested": ("def main():\n    def work(x):\n        return x\n    pool.map(work, xs)\n", "work",
               "the local function 'main.<locals>.work'", ALL, "Can't pickle local object 'main.<locals>.work'"),
    "closure-through-partial": (
        "import functools\n\ndef main(k):\n    def work(x):\n        return x * k\n"
        "    pool.map(functools.partial(work, 2), xs)\n", "functools.partial(work, 2)",
        "the closure 'main.<locals>.work'", ALL, "main.<locals>.work"),
    "local-class-instance": ("def main():\n    class Job:\n        def __call__(self):\n            pass\n"
                             "    pool.apply(Job())\n", "Job()", "an instance of the local class 'main.<locals>.Job'",
                             ALL, "main.<locals>.Job"),
    "method-of-local-class": ("def main():\n    class Job:\n        def run(self):\n            pass\n"
                              "    pool.apply(Job().run)\n", "Job().run",
                              "the method run() of the local class 'main.<locals>.Job'", ALL, "main.<locals>.Job"),
    "main-block": ('if __name__ == "__main__":\n    def work(x):\n        return x\n    pool.map(work, xs)\n',
                   "work", "the function 'work' defined under", NOT_FORK,
                   "Can't get attribute 'work' on <module '__mp_main__'>"),
    "main-block-with": ('if __name__ == "__main__":\n    with open("f") as f:\n        class Job:\n'
                        '            pass\n        pool.apply(Job)\n', "Job", "the class 'Job' defined under",
                        NOT_FORK, "Can't get attribute 'Job'"),
    "unwrapped-decorator": ("def deco(f):\n    def inner(*a):\n        return f(*a)\n    return inner\n\n"
                            "@deco\ndef work(x):\n    return x\n\npool.map(work, xs)\n", "work",
                            "'work', whose decorator returns its nested function 'deco.<locals>.inner'", ALL,
                            "deco.<locals>.inner"),
}


@pytest.mark.parametrize(("body", "code", "what", "breaks", "error"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_reference_problems(body, code, what, breaks, error):
    model = model_of("import multiprocessing\npool = multiprocessing.Pool()\n" + body)
    targets = model.workers.targets(find(model, code))
    problems = [model.workers.reference_problem(target) for target in targets]
    assert len(problems) == 1 and problems[0] is not None
    assert what in problems[0].what
    assert problems[0].breaks_under == breaks
    assert error in problems[0].error


@pytest.mark.parametrize("body, code", [
    ("def work(x):\n    return x\n\npool.map(work, xs)\n", "work"),
    ("class Job:\n    def run(self):\n        pass\n\npool.apply(Job().run)\n", "Job().run"),
    ("class Outer:\n    class Inner:\n        def __call__(self):\n            pass\n\npool.apply(Outer.Inner())\n",
     "Outer.Inner()"),
    ("import functools\n\ndef deco(f):\n    @functools.wraps(f)\n    def inner(*a):\n        return f(*a)\n"
     "    return inner\n\n@deco\ndef work(x):\n    return x\n\npool.map(work, xs)\n", "work"),
    ("import functools\n\n@functools.lru_cache\ndef work(x):\n    return x\n\npool.map(work, xs)\n", "work"),
])
def test_what_pickles_by_reference(body, code):
    model = model_of("import multiprocessing\npool = multiprocessing.Pool()\n" + body)
    for target in model.workers.targets(find(model, code)):
        assert model.workers.reference_problem(target) is None


def test_functions_of_a_packages_main_module_are_not_found_by_a_spawned_child():
    model = model_of("import multiprocessing\n\ndef work():\n    pass\n\nmultiprocessing.Process(target=work).start()\n",
                     "tool/__main__.py")
    problem = model.workers.reference_problem(model.workers.targets(find(model, "work"))[0])
    assert problem is not None and problem.breaks_under == NOT_FORK


# -- objects pickle refuses ---------------------------------------------------------------------------

@pytest.mark.parametrize(("setup", "expression", "error"), [
    ("import threading\nvalue = threading.Lock()\n", "value", "'_thread.lock'"),
    ("from threading import RLock\n", "RLock()", "'_thread.RLock'"),
    ("import queue\n", "queue.Queue()", "'_thread.lock'"),
    ("with open('x') as value:\n    pass\n", "value", "_io.TextIOWrapper"),
    ("import sqlite3\nvalue = sqlite3.connect(':memory:')\n", "value", "sqlite3.Connection"),
    ("value = (n for n in range(3))\n", "value", "'generator'"),
    ("def numbers():\n    yield 1\n", "numbers()", "'generator'"),
])
def test_unpicklable_objects(setup, expression, error):
    model = model_of(setup + f"use({expression})\n")
    problem = model.workers.unpicklable(find(model, expression))
    assert problem is not None and error in problem.error


@pytest.mark.parametrize(("setup", "expression"), [
    ("import socket\n", "socket.socket()"),  # multiprocessing sends sockets by handle
    ("import multiprocessing\n", "multiprocessing.Lock()"),
    ("def numbers():\n    return [1]\n", "numbers()"),
    ("value = [n for n in range(3)]\n", "value"),
])
def test_picklable_objects(setup, expression):
    model = model_of(setup + f"use({expression})\n")
    assert model.workers.unpicklable(find(model, expression)) is None


def test_instances_carry_what_their_methods_store_on_self():
    model = model_of("""\
        import threading

        class Counter:
            def __init__(self, path):
                self.lock = threading.Lock()
                self.handle = open(path)
                self.count = 0

        class Portable(Counter):
            def __getstate__(self):
                return {"count": self.count}
        """)
    classes = [node for node in model.module.body if isinstance(node, cst.ClassDef)]
    assert [name for name, _ in model.workers.instance_unpicklables(classes[0])] == ["lock", "handle"]
    assert model.workers.instance_unpicklables(classes[1]) == []


def test_multiprocessing_locks_travel_only_at_creation_and_within_their_context():
    model = model_of("""\
        import multiprocessing as mp

        lock = mp.Lock()
        fork_lock = mp.get_context("fork").Lock()
        proxy = mp.Manager().Lock()
        spawn = mp.get_context("spawn")
        mp.Pool().apply_async(work, (lock,))
        mp.Pool().apply_async(work, (proxy,))
        spawn.Process(target=work, args=(fork_lock,))
        spawn.Process(target=work, args=(spawn.Lock(),))
        mp.Process(target=work, args=(lock,))
        """)
    found = []
    for handoff in model.workers.handoffs():
        for expression, carried in model.workers.pickled_values(handoff):
            problem = model.workers.sync_problem(expression, handoff) if carried is Carried.VALUE else None
            if problem is not None:
                found.append((model.module.code_for_node(expression), problem.error.split(":")[0]))
    assert found == [("lock", "RuntimeError"), ("fork_lock", "RuntimeError")]


# -- which functions run in a worker --------------------------------------------------------------------

def worker_names(source: str) -> dict[str, tuple[str, ...]]:
    model = model_of(source)
    return {model.workers._name(worker.function): worker.via for worker in model.workers.worker_functions().values()}


def test_workers_are_what_is_handed_over_and_what_it_calls():
    assert worker_names("""\
        import multiprocessing
        from torch.utils.data import DataLoader


        def setup():
            pass


        def helper():
            pass


        def work(item):
            helper()


        def only_in_parent():
            pass


        class Dataset:
            def __getitem__(self, index):
                return load(index)

            def __len__(self):
                return 4


        def load(index):
            return index


        class Reporter(multiprocessing.Process):
            def run(self):
                helper()


        if __name__ == "__main__":
            only_in_parent()
            with multiprocessing.Pool(2, initializer=setup) as pool:
                pool.map(work, range(3))
            for batch in DataLoader(Dataset(), num_workers=2):
                print(batch)
        """) == {
        "setup": (), "work": (), "helper": ("work", "helper"), "Dataset.__getitem__": (),
        "load": ("Dataset.__getitem__", "load"), "Reporter.run": (),
    }


# -- state only the parent changes -------------------------------------------------------------------

STATE = """\
import multiprocessing
import settings

CONFIG = {"scale": 1}
TABLE = {n: n for n in range(3)}
TABLE[3] = 3
COUNT = 0


class Options:
    level = "info"


def load_defaults():
    CONFIG.setdefault("unit", "mm")


def enable():
    global COUNT
    COUNT += 1


def init(level):
    Options.level = level


def work(n):
    return n * CONFIG["scale"], TABLE[n], COUNT, Options.level, settings.DEBUG, settings.PATH


load_defaults()

if __name__ == "__main__":
    CONFIG.update(scale=3)
    enable()
    Options.level = "debug"
    settings.DEBUG = True
    with multiprocessing.Pool(2, initializer=init, initargs=("debug",)) as pool:
        pool.map(work, range(3))
"""


def test_changes_the_parent_makes_after_import():
    model = model_of(STATE)
    found = [(c.name, c.attribute, c.how, c.where) for c in model.parent_state.changes()]
    assert sorted(found) == [
        ("CONFIG", None, "changes by CONFIG.update()", "in the main block"),
        ("COUNT", None, "assigns", "in enable()"),
        ("pool", None, "assigns", "in the main block"),
        ("settings", "DEBUG", "sets", "in the main block"),
    ]  # TABLE[3] and load_defaults() run at import; init() sets Options.level in each worker


def test_stale_reads_of_a_worker():
    model = model_of(STATE)
    work = next(d for d in model.module.body if isinstance(d, cst.FunctionDef) and d.name.value == "work")
    reads = [(model.module.code_for_node(read.node), read.name) for read in model.parent_state.stale_reads(work)]
    assert reads == [("CONFIG", "CONFIG"), ("COUNT", "COUNT"), ("settings.DEBUG", "settings")]


def test_a_name_bound_only_in_the_main_block_is_a_change():
    model = model_of("""\
        import multiprocessing

        def work():
            return options.scale

        if __name__ == "__main__":
            options = parse()
            for job in range(2):
                multiprocessing.Process(target=work).start()
        """)
    assert [(c.name, c.how) for c in model.parent_state.changes()] == [("options", "assigns"), ("job", "assigns")]
