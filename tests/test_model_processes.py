"""The call graph and the process facts (issue 7 B8, B9): what starts processes while a
module is imported -- itself, through a constructor, a method of an instance made in the
file, a base class of the file or of another module of its project, a function re-exported
by a package `__init__.py` -- and torch DataLoaders iterated through the usual wrappers,
reported once per loader at the `DataLoader(...)` call; the process calls with the callable
and the data they pickle and the start methods under which they do.

Single files go through the model; projects are real trees under tmp_path, checked through
the engine (`mpcheck.check_source(..., path=...)`, which finds the project from the file)
and the CLI.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import mpcheck

from .support import find, model_of


def import_time_starts(source: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(the reported node's text, the starter, the chain) of each start at import time."""
    model = model_of(source)
    return [(model.module.code_for_node(start.node), start.starter, start.chain)
            for start in model.processes.import_time_starts()]


def mp201(source: str, path: str = "app.py") -> list[tuple[int, str]]:
    return [(d.line, d.message.split(" at import time")[0])
            for d in mpcheck.check_source(textwrap.dedent(source), path) if d.code == "MP201"]


# -- the call graph at import time --------------------------------------------------------------

SERVICE = """\
import multiprocessing as mp


def serve(port):
    print("serving", port)


class Service:
    def __init__(self, port):
        self.process = mp.Process(target=serve, args=(port,))
        self.process.start()


service = Service(8080)
"""


def test_a_constructor_that_starts_a_process():
    assert import_time_starts(SERVICE) == [("Service(8080)", "Process.start()", ("Service.__init__",))]


JOB = """\
from multiprocessing import Pool


def count(word):
    return len(word)


class Job:
    def __init__(self, text):
        self.words = text.split()

    def run(self):
        with Pool(2) as pool:
            return pool.map(count, self.words)


class Report(Job):
    def summary(self):
        return sum(self.run())


text = "a bb ccc"
print(Job(text).run())
report = Report(text)
print(report.summary())
"""


def test_a_method_of_an_instance_made_in_the_file_and_an_inherited_one():
    assert import_time_starts(JOB) == [
        ("Job(text).run()", "Pool()", ("Job.run",)),
        ("report.summary()", "Pool()", ("Report.summary", "Job.run")),
    ]


def test_constructors_through_local_base_classes_and_classmethods():
    source = """\
        from concurrent.futures import ProcessPoolExecutor


        def work(n):
            return n


        class Base:
            def __init__(self):
                self.executor = ProcessPoolExecutor(2)
                self.first = self.executor.submit(work, 1)


        class Child(Base):
            @classmethod
            def create(cls):
                return cls()


        child = Child.create()
        """
    assert import_time_starts(source) == [
        ("Child.create()", "ProcessPoolExecutor.submit()", ("Child.create", "Base.__init__"))]


def test_nothing_starts_when_the_work_is_only_defined_or_guarded():
    source = SERVICE.replace("service = Service(8080)", 'if __name__ == "__main__":\n    service = Service(8080)')
    assert import_time_starts(source) == []
    assert import_time_starts(JOB.split("\ntext = ")[0]) == []


def test_recursion_in_the_call_graph_ends():
    source = """\
        from multiprocessing import Pool


        def ping(n):
            return pong(n - 1) if n else Pool(1)


        def pong(n):
            return ping(n)


        ping(3)
        """
    # ping(3) itself takes `pong(n - 1)` (n is 3); the ping that pong calls, with n unknown,
    # may take `Pool(1)`, and is searched again for that (once: the recursion ends there).
    assert import_time_starts(source) == [("ping(3)", "Pool()", ("ping", "pong", "ping"))]


def test_thread_pools_and_fork_contexts_start_no_reimport():
    source = """\
        import multiprocessing as mp
        from multiprocessing.pool import ThreadPool
        from concurrent.futures import ThreadPoolExecutor


        def run():
            with ThreadPool(2) as pool:
                pool.map(print, [1])
            ThreadPoolExecutor().submit(print, 2)
            mp.get_context("fork").Process(target=print).start()


        run()
        """
    assert import_time_starts(source) == []


# -- across the files of a project ------------------------------------------------------------------

BATCH_RUNNER = """\
from multiprocessing import Pool


def square(n):
    return n * n


def run_batch(items):
    with Pool(2) as pool:
        return pool.map(square, items)


class Worker:
    def __init__(self):
        self.pool = Pool(2)

    def close(self):
        self.pool.close()


class Batch:
    def __init__(self, size):
        self.size = size

    def run(self, items):
        return run_batch(items[: self.size])
"""

MAIN = """\
import batch
from batch.runner import Worker


class MyWorker(Worker):
    pass


print(batch.run_batch([1, 2]))
worker = MyWorker()
plain = Worker()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project (pyproject.toml at its root) whose package re-exports a function that
    starts processes, and a script that calls it and subclasses one of its classes."""
    files = {
        "pyproject.toml": '[project]\nname = "batchjobs"\nversion = "1.0"\n',
        "batch/__init__.py": '"""Batch jobs."""\nfrom .runner import run_batch\n\n__all__ = ["run_batch"]\n',
        "batch/runner.py": BATCH_RUNNER,
        "main.py": MAIN,
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_function_re_exported_by_a_package_init(project):
    findings = mp201((project / "main.py").read_text(), str(project / "main.py"))
    assert (9, "Pool() (through batch.run_batch() -> batch.runner.run_batch())") in findings


def test_a_class_of_another_module_and_a_subclass_of_it(project):
    findings = mp201((project / "main.py").read_text(), str(project / "main.py"))
    assert (11, "Pool() (through batch.runner.Worker())") in findings
    assert (10, "Pool() (through batch.runner.Worker())") in findings
    assert len(findings) == 3


def test_a_subclass_made_in_another_module_of_the_project(project):
    (project / "batch/extra.py").write_text("from .runner import Worker\n\n\nclass FastWorker(Worker):\n    pass\n")
    (project / "nightly.py").write_text("from batch.extra import FastWorker\n\nworker = FastWorker()\n")
    findings = mp201((project / "nightly.py").read_text(), str(project / "nightly.py"))
    assert findings == [(3, "Pool() (through batch.extra.FastWorker() -> batch.runner.Worker())")]


def test_the_cli_reports_the_same_for_one_file_as_for_the_tree(project):
    from click.testing import CliRunner

    from mpcheck.cli import main

    alone = CliRunner().invoke(main, ["check", "-q", str(project / "main.py")])
    tree = CliRunner().invoke(main, ["check", "-q", str(project)])
    assert alone.exit_code == tree.exit_code == 1
    lines = [line for line in alone.output.splitlines() if "MP201" in line]
    assert len(lines) == 3
    assert lines == [line for line in tree.output.splitlines() if "MP201" in line]


def test_a_method_of_an_instance_of_another_modules_class(project):
    (project / "tasks.py").write_text(
        "from batch import run_batch as rb\nfrom batch.runner import Batch\n\njob = Batch(2)\n"
        "first = job.run([3, 4, 5])\nsecond = rb([3])\n")
    findings = mp201((project / "tasks.py").read_text(), str(project / "tasks.py"))
    assert findings == [
        (5, "Pool() (through batch.runner.Batch().run() -> run_batch())"),
        (6, "Pool() (through batch.run_batch() -> batch.runner.run_batch())"),
    ]


# -- DataLoader iteration ---------------------------------------------------------------------------

LOADER = "import torch\nfrom torch.utils.data import DataLoader\nfrom tqdm import tqdm\n\n"

ITERATIONS = {
    "for": ("loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)\nfor batch in loader:\n    print(batch)\n",
            [(5, 6)]),
    "enumerate-tqdm": ("loader = DataLoader(torch.arange(8), num_workers=2)\n"
                       "for step, batch in enumerate(tqdm(loader)):\n    print(step, batch)\n", [(5, 6)]),
    "tqdm-keyword": ("loader = DataLoader(torch.arange(8), num_workers=2)\n"
                     "for batch in tqdm(loader, desc='train'):\n    print(batch)\n", [(5, 6)]),
    "zip": ("train = DataLoader(torch.arange(8), num_workers=2)\nvalid = DataLoader(torch.arange(4), num_workers=1)\n"
            "for a, b in zip(train, valid):\n    print(a, b)\n", [(5, 7), (6, 7)]),
    "iter-next": ("loader = DataLoader(torch.arange(8), num_workers=2)\nfirst = next(iter(loader))\n", [(5, 6)]),
    "list": ("loader = DataLoader(torch.arange(8), num_workers=2)\nbatches = list(loader)\n", [(5, 6)]),
    "comprehension": ("loader = DataLoader(torch.arange(8), num_workers=2)\nsizes = [len(b) for b in loader]\n",
                      [(5, 6)]),
    "generator-in-sum": ("loader = DataLoader(torch.arange(8), num_workers=2)\ntotal = sum(b.sum() for b in loader)\n",
                         [(5, 6)]),
    "inline": ("for batch in DataLoader(torch.arange(8), num_workers=2):\n    print(batch)\n", [(5, 5)]),
    "iterated-twice": ("loader = DataLoader(torch.arange(8), num_workers=2)\nfor b in loader:\n    print(b)\n"
                       "for b in loader:\n    print(b)\n", [(5, 6)]),
    "workers-from-a-constant": ("WORKERS = 4\nloader = DataLoader(torch.arange(8), num_workers=WORKERS)\n"
                                "for b in loader:\n    print(b)\n", [(6, 7)]),
    "workers-unknown": ("import os\nloader = DataLoader(torch.arange(8), num_workers=os.cpu_count())\n"
                        "for b in loader:\n    print(b)\n", [(6, 7)]),
    "no-workers": ("loader = DataLoader(torch.arange(8), batch_size=4)\nfor b in loader:\n    print(b)\n", []),
    "zero-workers": ("loader = DataLoader(torch.arange(8), num_workers=0)\nfor b in loader:\n    print(b)\n", []),
    "never-iterated": ("loader = DataLoader(torch.arange(8), num_workers=2)\nprint(len(loader))\n", []),
    "guarded": ("loader = DataLoader(torch.arange(8), num_workers=2)\nif __name__ == '__main__':\n"
                "    for b in loader:\n        print(b)\n", []),
}


@pytest.mark.parametrize(("code", "expected"), ITERATIONS.values(), ids=ITERATIONS.keys())
def test_loader_iterations_are_reported_once_at_the_loader_naming_the_iterating_line(code, expected):
    findings = mp201(LOADER + code, "train.py")
    assert findings == [(line, f"DataLoader(num_workers>0) iterated on line {iterating}")
                        for line, iterating in expected]


TRAINER = LOADER + """\

class Trainer:
    def __init__(self, data):
        self.loader = DataLoader(data, batch_size=4, num_workers=4)

    def fit(self):
        for batch in tqdm(self.loader):
            print(batch)


Trainer(torch.arange(8)).fit()
"""


def test_a_loader_kept_on_self_and_iterated_by_a_method_called_at_import():
    assert mp201(TRAINER, "train.py") == [(8, "DataLoader(num_workers>0) iterated on line 11 (through Trainer.fit())")]


def test_a_loader_iterated_in_two_functions_counts_for_each():
    source = LOADER + textwrap.dedent("""\
        loader = DataLoader(torch.arange(8), num_workers=2)


        def evaluate():
            for batch in loader:
                print("eval", batch)


        def train():
            for batch in loader:
                print("train", batch)


        train()
        """)
    assert mp201(source, "train.py") == [(5, "DataLoader(num_workers>0) iterated on line 14 (through train())")]


def test_one_finding_per_loader_when_iterated_at_module_level_and_through_a_function():
    source = LOADER + textwrap.dedent("""\
        loader = DataLoader(torch.arange(8), num_workers=2)


        def train():
            for batch in loader:
                print("train", batch)


        for batch in loader:
            print(batch)
        train()
        """)
    assert mp201(source, "train.py") == [(5, "DataLoader(num_workers>0) iterated on line 13")]
    # ...but both iterations are import-time work: a fix guards both
    fixed = mpcheck.fix_source(source, "train.py", unsafe_fixes=True).text
    assert fixed != source and mp201(fixed, "train.py") == []


# -- process calls: what is pickled, under which start methods ------------------------------------

ALL = {"fork", "spawn", "forkserver"}
NOT_FORK = {"spawn", "forkserver"}

PROCESS_CALLS = {
    "pool-map": ("import multiprocessing as mp\n\nwith mp.Pool(2) as pool:\n    pool.map(work, items)\n",
                 "pool.map(work, items)", "work", ["items"], ALL),
    "pool-starmap-keywords": ("from multiprocessing import Pool\n\nwith Pool() as pool:\n"
                              "    pool.starmap(func=work, iterable=pairs)\n",
                              "pool.starmap(func=work, iterable=pairs)", "work", ["pairs"], ALL),
    "pool-apply-async": ("from multiprocessing import Pool\n\npool = Pool()\npool.apply_async(work, (1,), {'x': 2})\n",
                         "pool.apply_async(work, (1,), {'x': 2})", "work", ["(1,)", "{'x': 2}"], ALL),
    "pool-initializer": ("import multiprocessing as mp\n\npool = mp.Pool(2, setup, (config,))\n",
                         "mp.Pool(2, setup, (config,))", "setup", ["(config,)"], NOT_FORK),
    "pool-spawn-context": ('import multiprocessing as mp\n\nctx = mp.get_context("spawn")\nwith ctx.Pool(2) as pool:\n'
                           "    pool.map(work, items)\n", "pool.map(work, items)", "work", ["items"], {"spawn"}),
    "process-target": ("import multiprocessing as mp\n\nmp.Process(target=work, args=(1, 2), kwargs={'k': 3})\n",
                       "mp.Process(target=work, args=(1, 2), kwargs={'k': 3})", "work", ["(1, 2)", "{'k': 3}"],
                       NOT_FORK),
    "process-positional": ("from multiprocessing import Process\n\nProcess(None, work, 'name', (1,))\n",
                           "Process(None, work, 'name', (1,))", "work", ["(1,)"], NOT_FORK),
    "process-fork-context": ('import multiprocessing as mp\n\nmp.get_context("fork").Process(target=work)\n',
                             'mp.get_context("fork").Process(target=work)', "work", [], set()),
    "process-forkserver-context": ('import multiprocessing as mp\n\nmp.get_context("forkserver").Process(target=work)\n',
                                   'mp.get_context("forkserver").Process(target=work)', "work", [], {"forkserver"}),
    "executor-submit": ("from concurrent.futures import ProcessPoolExecutor\n\nwith ProcessPoolExecutor() as ex:\n"
                        "    ex.submit(work, 1, 2)\n", "ex.submit(work, 1, 2)", "work", ["1", "2"], ALL),
    "executor-map": ("from concurrent.futures import ProcessPoolExecutor\n\nwith ProcessPoolExecutor() as ex:\n"
                     "    ex.map(work, items, chunksize=4)\n", "ex.map(work, items, chunksize=4)", "work", ["items"], ALL),
    "executor-initializer": ("from concurrent.futures import ProcessPoolExecutor\n\n"
                             "ex = ProcessPoolExecutor(2, None, setup, (config,))\n",
                             "ProcessPoolExecutor(2, None, setup, (config,))", "setup", ["(config,)"], NOT_FORK),
    "torch-spawn": ("import torch.multiprocessing as mp\n\nmp.spawn(train, args=(model,), nprocs=2)\n",
                    "mp.spawn(train, args=(model,), nprocs=2)", "train", ["(model,)"], {"spawn"}),
    "torch-start-processes-forkserver": (
        'import torch.multiprocessing as mp\n\nmp.start_processes(train, (model,), 2, True, False, "forkserver")\n',
        'mp.start_processes(train, (model,), 2, True, False, "forkserver")', "train", ["(model,)"], {"forkserver"}),
    "run-in-executor": ("import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\n\n"
                        "async def main():\n    loop = asyncio.get_running_loop()\n"
                        "    await loop.run_in_executor(ProcessPoolExecutor(), work, 1)\n",
                        "loop.run_in_executor(ProcessPoolExecutor(), work, 1)", "work", ["1"], ALL),
    "queue-put": ("import multiprocessing as mp\n\nq = mp.Queue()\nq.put(payload)\n", "q.put(payload)", None,
                  ["payload"], ALL),
    "dill-pool-map": ("import multiprocess as mp\n\nwith mp.Pool(2) as pool:\n    pool.map(lambda x: x, items)\n",
                      "pool.map(lambda x: x, items)", "lambda x: x", ["items"], set()),
}


@pytest.mark.parametrize(("source", "code", "callable_", "data", "pickled"), PROCESS_CALLS.values(),
                         ids=PROCESS_CALLS.keys())
def test_process_calls_name_what_they_pickle_and_when(source, code, callable_, data, pickled):
    model = model_of(source)
    node = find(model, code)
    site = next(site for site in model.calls if site.node is node)
    call = model.processes.process_call(site)
    assert call is not None
    text = model.module.code_for_node
    assert (text(call.callable) if call.callable is not None else None) == callable_
    assert [text(expression) for expression in call.data] == data
    assert call.pickled_under == pickled


@pytest.mark.parametrize("code", [
    "ThreadPool(2).map(work, items)",
    "ThreadPoolExecutor().submit(work, 1)",
    "threading.Thread(target=work)",
    "loop.run_in_executor(None, work, 1)",
    "pool.map(work, items)",
])
def test_calls_that_pickle_nothing(code):
    model = model_of(f"""\
        import asyncio
        import threading
        from multiprocessing.pool import ThreadPool
        from concurrent.futures import ThreadPoolExecutor

        pool = make_pool()
        loop = asyncio.get_event_loop()
        result = {code}
        """)
    node = find(model, code)
    site = next(site for site in model.calls if site.node is node)
    assert model.processes.process_call(site) is None


def test_star_arguments_hide_what_they_replace():
    model = model_of("import multiprocessing as mp\n\nmp.Process(*spec, args=(1,))\n")
    site = model.calls[-1]
    call = model.processes.process_call(site)
    assert call.callable is None  # `target` may be in *spec
    assert [model.module.code_for_node(expression) for expression in call.data] == ["(1,)"]


def test_a_loader_handed_to_a_function_that_iterates_its_parameter():
    # The training-script shape: `train(model, loader)` iterates its parameter.
    source = """
        import torch
        from torch.utils.data import DataLoader


        class Trainer:
            def fit(self, loader):
                for batch in loader:
                    print(batch)


        def train(model, loader, epochs=1):
            for epoch in range(epochs):
                for batch in loader:
                    model(batch)


        train_loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)
        valid_loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)
        idle_loader = DataLoader(torch.arange(8), batch_size=4, num_workers=2)
        train(print, train_loader)
        Trainer().fit(loader=valid_loader)
    """
    findings = [d for d in mpcheck.check_source(textwrap.dedent(source), "train.py") if d.code == "MP201"]
    assert [(d.line, "through train()" in d.message or "through Trainer" in d.message) for d in findings] == \
        [(18, True), (19, True)]  # train_loader and valid_loader, not idle_loader


def test_every_definition_that_reaches_a_call_is_followed():
    source = """
        import multiprocessing
        import sys

        if sys.argv[1:] == ["--serial"]:
            def start():
                print("serial")
        else:
            def start():
                multiprocessing.Process(target=print).start()

        start()
    """
    findings = [d for d in mpcheck.check_source(textwrap.dedent(source), "two.py") if d.code == "MP201"]
    assert [d.line for d in findings] == [12] and "through start()" in findings[0].message


def test_a_name_with_two_definitions_is_no_one_symbol_for_another_module():
    # What another module's `two.start()` names (symbol_of_name): neither `def`, rather than
    # whichever a set of the two equal symbols kept, which changed from run to run.
    model = model_of("""
        import sys

        if sys.argv[1:] == ["--quiet"]:
            def start():
                pass
        else:
            def start():
                print("loud")
    """, "two.py")
    assert model.symbol_of_name("start") is None
    assert model.symbol_of_name("sys") is not None


# -- what runs in a child, and what flows into a function -------------------------------------

WORKERS = """\
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor


    def parse(path):
        return clean(path)


    def clean(path):
        return path.strip()


    def report(lines):
        print(lines)


    class Loader(mp.Process):
        def run(self):
            clean(" x ")


    class Service:
        def handle(self, item):
            return item


    def main():
        with mp.Pool(2, initializer=report, initargs=([],)) as pool:
            pool.map(parse, ["a", "b"])
        service = Service()
        with ProcessPoolExecutor() as executor:
            executor.submit(service.handle, 1)
        report(["done"])
    """


def test_runs_in_worker_is_asked_of_a_site():
    model = model_of(WORKERS)
    strip = next(site for site in model.calls if model.module.code_for_node(site.node) == "path.strip()")
    done = next(site for site in model.calls if model.module.code_for_node(site.node) == 'report(["done"])')
    assert model.runs_in_worker(strip) and not model.runs_in_worker(done)


FLOWS = """\
    import multiprocessing
    import queue
    from concurrent.futures import ProcessPoolExecutor


    def consume(tasks, results, *, label="worker"):
        return tasks, results, label


    class Pump:
        def drain(self, inbox):
            return inbox


    def main():
        tasks = multiprocessing.Queue()
        local = queue.Queue()
        multiprocessing.Process(target=consume, args=(tasks, local)).start()
        consume(local, tasks, label="inline")
        with ProcessPoolExecutor() as executor:
            executor.submit(consume, multiprocessing.JoinableQueue(), None)
        Pump().drain(tasks)
    """


def _parameter(model, function: str, name: str):
    scope = next(scope for scope in model.scopes() if scope.qualname == function)
    return scope.bindings[name][0]


@pytest.mark.parametrize(("function", "parameter", "passed"), [
    ("consume", "tasks", ["tasks", "local", "multiprocessing.JoinableQueue()"]),
    ("consume", "results", ["local", "tasks", "None"]),
    ("consume", "label", ['"inline"']),
    ("Pump.drain", "inbox", ["tasks"]),
])
def test_passed_to_gives_the_arguments_of_calls_and_process_calls(function, parameter, passed):
    model = model_of(FLOWS)
    values = model.processes.passed_to(_parameter(model, function, parameter))
    assert sorted(model.module.code_for_node(value) for value in values) == sorted(passed)


SPREADS = """\
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import torch.multiprocessing


    def setup(lock, *, verbose=False):
        return lock, verbose


    def train(rank, world, store):
        return rank, world, store


    class Pump:
        def drain(self, inbox):
            return inbox

        @staticmethod
        def check(inbox):
            return inbox


    def main():
        lock = multiprocessing.Lock()
        multiprocessing.Process(target=setup, kwargs={"lock": lock, "verbose": True}).start()
        multiprocessing.Process(target=setup, kwargs=dict(lock=None)).start()
        with multiprocessing.Pool(2, initializer=setup, initargs=(lock,)) as pool:
            pool.map(len, ["a"])
        with ProcessPoolExecutor() as executor:
            executor.submit(setup, "submitted", verbose=1)
            executor.map(setup, ["mapped"])
        torch.multiprocessing.spawn(train, args=(4, "tcp://store"), nprocs=4)
        pump = Pump()
        Pump.drain(pump, "explicit")
        Pump.check("static")
        pump.check("static through an instance")
        multiprocessing.Process(target=pump.drain, args=("bound",)).start()
    """


@pytest.mark.parametrize(("function", "parameter", "passed"), [
    # kwargs= as a dict display and as dict(...), initargs=, submit's further arguments;
    # executor.map's iterable gives items one by one: not a value of the parameter.
    ("setup", "lock", ["lock", "None", "lock", '"submitted"']),
    ("setup", "verbose", ["True", "1"]),
    # torch's spawn calls fn(i, *args): args start at the second parameter.
    ("train", "rank", []),
    ("train", "world", ["4"]),
    ("train", "store", ['"tcp://store"']),
    # Through the class a method is given its instance explicitly; a staticmethod binds nothing.
    ("Pump.drain", "self", ["pump"]),
    ("Pump.drain", "inbox", ['"explicit"', '"bound"']),
    ("Pump.check", "inbox", ['"static"', '"static through an instance"']),
])
def test_passed_to_lines_arguments_up_with_parameters_as_python_does(function, parameter, passed):
    model = model_of(SPREADS)
    values = model.processes.passed_to(_parameter(model, function, parameter))
    assert sorted(model.module.code_for_node(value) for value in values) == sorted(passed)


def test_symbols_reaching_follow_parameters_names_and_displays():
    model = model_of(textwrap.dedent(FLOWS) + "\n\ndef read(tasks):\n    return tasks\n\n"
                     "read([multiprocessing.Queue(), queue.Queue()])\n")
    consume_tasks = find(model, "tasks, results, label")
    symbols = {symbol.qualname for symbol in model.symbols_reaching(consume_tasks.elements[0].value)}
    assert symbols == {"multiprocessing.Queue()", "queue.Queue()", "multiprocessing.JoinableQueue()"}
    listed = find(model, "tasks", occurrence=-1)
    assert {symbol.qualname for symbol in model.symbols_reaching(listed)} == {"multiprocessing.Queue()", "queue.Queue()"}
    # A parameter nothing in the file passes anything to holds nothing the model knows.
    assert model.symbols_reaching(find(model, "label", occurrence=-1)) == []


def _doubling_chain(levels: int, call: str, recursive: bool) -> str:
    """`f{i}` calls `f{i-1}` twice; `leaf` maps with a pool; the guarded main calls the top
    one: every function is reached 2**depth times along distinct paths. Callers come first,
    so that no answer is known before the deepest function is searched. `recursive`: each
    function also calls itself, and `leaf` the top one, so that every search meets a function
    already being searched."""
    top = f"f{levels - 1}"
    lines = ["import multiprocessing as mp"]
    for level in reversed(range(levels)):
        inner = f"f{level - 1}" if level else "leaf"
        lines += ["", "", f"def f{level}(fn, items, depth=0):"]
        lines += ["    if depth:", f"        f{level}(fn, items, depth - 1)"] if recursive else []
        lines += [f"    {inner}(fn, items)", f"    return {inner}(fn, items)"]
    lines += ["", "", "def leaf(fn, items):"]
    lines += ["    if not items:", f"        return {top}(fn, items[1:])"] if recursive else []
    lines += ["    with mp.Pool(2) as pool:", "        return pool.map(fn, items)",
              "", "", 'if __name__ == "__main__":', f"    {call.format(top=top)}", ""]
    return "\n".join(lines)


@pytest.mark.parametrize("recursive", [False, True])
@pytest.mark.parametrize("call", ["print({top}(lambda x: x, [1, 2]))", "mp.freeze_support()"])
def test_each_function_of_a_call_chain_is_searched_once(monkeypatch, call, recursive):
    # A wrapper chain in which each level calls the next twice was searched along every path
    # (2**levels): 18 levels took 30 s. Memoised answers make it one search per function.
    # An answer below a recursion that was stopped was not memoised, so a function that calls
    # itself, or a pair that call each other, was searched once per path again
    # (huggingface/datasets: 800,000 searches for one file); see test_model_searches.py.
    from mpcheck.model.processes import ProcessFacts

    searched = []
    calls_of = ProcessFacts.calls_of
    monkeypatch.setattr(ProcessFacts, "calls_of", lambda self, function: searched.append(function) or
                        calls_of(self, function) if len(searched) < 100_000 else pytest.fail("searched 100,000 times"))
    levels = 12
    found = mpcheck.check_source(_doubling_chain(levels, call, recursive), "app.py")
    assert [d.code for d in found] == (["MP401"] if "lambda" in call else [])
    assert len(searched) < 40 * levels, len(searched)  # (Workers.pickled_parameters asks calls_of too)
