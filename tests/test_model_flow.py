"""Flow-sensitive bindings (issue 7 B6): a read resolves to the bindings that reach it where
it stands, as ruff's semantic model does -- in order, through branches, loops, `try`, early
exits, class bodies that run at import time and function bodies that run later, with
`global`/`nonlocal`, walrus targets, `del`, the end of an `except ... as` handler, `match`
captures, and methods reached through instances and base classes of the file.

`reaching(model, code)` lists the bindings that reach a read, each as its kind and the
text of the value it binds; `named(model, code)` is the canonical name the expression
resolves to (the callee of a call), or None when the model must not claim to know.
"""

from __future__ import annotations

import libcst as cst
import pytest

from mpcheck.model import UNKNOWN, Kind

from .support import find, model_of


def _name(model, code: str, occurrence: int) -> cst.Name:
    node = find(model, code, occurrence)
    while not isinstance(node, cst.Name):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node


def reaching(model, code: str, occurrence: int = -1) -> list[str]:
    """The bindings that reach the leftmost name of the expression `code` (`p` of `p.start()`)."""
    reference = model.reference(_name(model, code, occurrence))
    assert reference is not None, code
    return [f"{binding.kind.value} {model.module.code_for_node(binding.value)}" if binding.value is not None
            else binding.kind.value for binding in reference.bindings]


def named(model, code: str, occurrence: int = -1) -> str | None:
    node = find(model, code, occurrence)
    symbol = model.resolve(node.func if isinstance(node, cst.Call) else node)
    return symbol.qualname if symbol is not None else None


SCRIPT = """\
import multiprocessing as mp


def work(n):
    print(n * n)


p = mp.Process(target=work, args=(1,))
p.start()
procs = [mp.Process(target=work, args=(i,)) for i in range(4)]
for p in procs:
    p.start()
for p in procs:
    p.join()
p.join()
"""


def test_the_canonical_script_shape_resolves_the_first_start_to_its_process():
    model = model_of(SCRIPT)
    assert reaching(model, "p.start()", 0) == ["assign mp.Process(target=work, args=(1,))"]
    assert named(model, "p.start()", 0) == "multiprocessing.Process().start"
    # the loop variable: every item of a list of processes is a process
    assert reaching(model, "p.start()", 1) == ["loop procs"]
    assert named(model, "p.start()", 1) == "multiprocessing.Process().start"
    # after the loops: the first process (no items) or the last item of either loop
    assert reaching(model, "p.join()", -1) == ["assign mp.Process(target=work, args=(1,))", "loop procs",
                                               "loop procs"]
    assert named(model, "p.join()", -1) == "multiprocessing.Process().join"


def test_a_later_rebinding_does_not_hide_an_earlier_use():
    model = model_of("""\
        from multiprocessing import Pool

        pool = None
        pool = Pool(2)
        squares = pool.map(abs, range(4))
        pool = None
        """)
    assert reaching(model, "pool.map(abs, range(4))") == ["assign Pool(2)"]
    assert named(model, "pool.map(abs, range(4))") == "multiprocessing.Pool().map"


def test_reads_before_the_binding_reach_nothing_in_order():
    model = model_of("""\
        import multiprocessing as mp

        count = 0
        count = count + 1
        total += 1
        """)
    assert reaching(model, "count", 2) == ["assign 0"]  # the read in `count = count + 1`
    assert reaching(model, "total") == []  # NameError at run time: nothing reaches it


IF_ELSE = """\
import os
from multiprocessing import Pool
from multiprocessing.pool import ThreadPool

if os.environ.get("THREADS"):
    pool = ThreadPool(4)
else:
    pool = Pool(4)
results = pool.map(abs, range(8))
"""


def test_if_else_branches_merge_and_an_ambiguous_name_resolves_to_nothing():
    model = model_of(IF_ELSE)
    assert reaching(model, "pool.map(abs, range(8))") == ["assign ThreadPool(4)", "assign Pool(4)"]
    assert named(model, "pool.map(abs, range(8))") is None


def test_if_without_else_keeps_the_binding_from_before():
    model = model_of("""\
        import sys
        from multiprocessing import Pool

        pool = None
        if len(sys.argv) > 1:
            pool = Pool(int(sys.argv[1]))
        print(pool)
        """)
    assert reaching(model, "pool") == ["assign None", "assign Pool(int(sys.argv[1]))"]


def test_elif_chains_merge_every_branch():
    model = model_of("""\
        import sys
        import multiprocessing as mp

        if sys.platform == "win32":
            method = "spawn"
        elif sys.platform == "darwin":
            method = "forkserver"
        else:
            method = "fork"
        ctx = mp.get_context(method)
        """)
    assert reaching(model, "method", -1) == ['assign "spawn"', 'assign "forkserver"', 'assign "fork"']
    assert model.value_of(find(model, "method")) is UNKNOWN  # not one of the three constants
    assert model.resolve(find(model, "mp.get_context(method)")).start_method == "unknown"


def test_conditional_definitions_both_reach_the_call():
    model = model_of("""\
        import sys
        import multiprocessing as mp

        if sys.platform == "win32":
            def start(target):
                return mp.get_context("spawn").Process(target=target)
        else:
            def start(target):
                return mp.get_context("fork").Process(target=target)

        worker = start(print)
        """)
    assert reaching(model, "start(print)") == ["def", "def"]


LOOP = """\
import multiprocessing as mp


def work(n):
    return n


previous = None
for item in range(3):
    if previous is not None:
        previous.join()
    previous = mp.Process(target=work, args=(item,))
    previous.start()
previous.join()
"""


def test_a_loop_body_sees_what_its_previous_pass_bound():
    model = model_of(LOOP)
    assert reaching(model, "previous.join()", 0) == ["assign None", "assign mp.Process(target=work, args=(item,))"]
    assert reaching(model, "previous.start()") == ["assign mp.Process(target=work, args=(item,))"]
    assert named(model, "previous.start()") == "multiprocessing.Process().start"
    # after the loop: it may have run no pass at all
    assert reaching(model, "previous.join()", -1) == ["assign None", "assign mp.Process(target=work, args=(item,))"]


def test_while_loops_break_and_continue_carry_their_states():
    model = model_of("""\
        import queue

        job = None
        pending = queue.Queue()
        while True:
            job = pending.get()
            if job is None:
                break
            if job == "skip":
                job = "skipped"
                continue
            job = "done"
        print(job)
        """)
    # `job` after the loop comes only from the break (the loop has no other exit)
    assert reaching(model, "job") == ["assign pending.get()"]
    # within a pass, a read after the assignment sees only it
    assert reaching(model, "job", 2) == ["assign pending.get()"]


def test_a_for_else_runs_only_when_no_break_left_the_loop():
    model = model_of("""\
        found = None
        for candidate in ("fork", "spawn"):
            if candidate == "spawn":
                found = candidate
                break
        else:
            found = "forkserver"
        print(found)
        """)
    assert reaching(model, "found") == ["assign candidate", 'assign "forkserver"']


TRY = """\
from multiprocessing import Pool

pool = None
try:
    pool = Pool(2)
    results = pool.map(abs, [-1, 2])
except OSError as error:
    print("no pool:", error)
    if pool is not None:
        pool.terminate()
    results = []
else:
    pool.close()
finally:
    print(pool)
print(results)
"""


def test_a_handler_may_start_anywhere_in_the_try_body():
    model = model_of(TRY)
    assert reaching(model, "pool.terminate()") == ["assign None", "assign Pool(2)"]
    assert reaching(model, "pool.close()") == ["assign Pool(2)"]
    assert named(model, "pool.close()") == "multiprocessing.Pool().close"
    assert reaching(model, "pool") == ["assign None", "assign Pool(2)"]  # in `finally`
    assert reaching(model, "results") == ["assign pool.map(abs, [-1, 2])", "assign []"]


def test_try_import_fallbacks_merge():
    model = model_of("""\
        try:
            import ujson as json
        except ImportError:
            import json

        text = json.dumps({})
        """)
    assert reaching(model, "json.dumps({})") == ["import", "import"]
    assert named(model, "json.dumps({})") is None


def test_the_except_name_is_deleted_when_the_handler_ends():
    model = model_of("""\
        error = None
        try:
            value = int("x")
        except ValueError as error:
            print(error)
        print(error)
        """)
    assert reaching(model, "error", -2) == ["except"]
    # after the handler Python unbinds `error`: only the path through the body keeps a value
    assert reaching(model, "error") == ["assign None"]


def test_del_unbinds():
    model = model_of("""\
        from multiprocessing import Pool

        pool = Pool(2)
        pool.close()
        del pool
        print(pool)
        """)
    assert reaching(model, "pool.close()") == ["assign Pool(2)"]
    assert reaching(model, "pool") == []
    assert model.resolve(find(model, "pool", -1)) is None


EARLY_EXIT = """\
import os
import sys

mode = "daemon"
if sys.platform == "win32":
    mode = "foreground"
    sys.exit("POSIX only")
pid = os.fork()
print(mode)
"""


def test_an_early_exit_guards_what_follows_and_adds_no_bindings():
    model = model_of(EARLY_EXIT)
    assert reaching(model, "mode") == ['assign "daemon"']
    fork = next(site for site in model.calls if model.module.code_for_node(site.node) == "os.fork()")
    assert model.facts(fork).platforms == {"linux", "macos"}
    assert model.fork_is_guarded(fork)


@pytest.mark.parametrize("leave", ["raise SystemExit(1)", "exit(1)", "os._exit(1)", 'raise RuntimeError("no fork")'])
def test_every_kind_of_early_exit(leave):
    model = model_of(f"""\
        import os

        if os.name == "nt":
            {leave}
        os.fork()
        """)
    fork = next(site for site in model.calls if model.module.code_for_node(site.node) == "os.fork()")
    assert model.fork_is_guarded(fork)


def test_a_call_that_only_looks_like_exit_does_not_stop_the_flow():
    model = model_of("""\
        import os

        class Session:
            def exit(self):
                pass

        session = Session()
        if os.name == "nt":
            session.exit()
        os.fork()
        """)
    fork = next(site for site in model.calls if model.module.code_for_node(site.node) == "os.fork()")
    assert not model.fork_is_guarded(fork)


def test_return_in_a_function_ends_its_flow():
    model = model_of("""\
        import os

        def detach():
            status = "started"
            if os.name == "nt":
                status = "unsupported"
                return status
            os.fork()
            return status
        """)
    assert reaching(model, "status", -1) == ['assign "started"']
    fork = next(site for site in model.calls if model.module.code_for_node(site.node) == "os.fork()")
    assert model.fork_is_guarded(fork)


CLASS_BODY = """\
from multiprocessing import Pool


def square(n):
    return n * n


class Early:
    table = RESULT


with Pool(2) as pool:
    RESULT = pool.map(square, range(4))


class Lookup:
    table = RESULT
    size = len(table)

    def get(self, key):
        return table[key]
"""


def test_a_class_body_reads_module_names_at_import_time_in_order():
    model = model_of(CLASS_BODY)
    # before the binding: nothing reaches (NameError when the module is imported)
    assert reaching(model, "RESULT", 0) == []
    assert model.reference(_name(model, "RESULT", 0)).owner is model.module_scope
    assert reaching(model, "RESULT", -1) == ["assign pool.map(square, range(4))"]
    # a name the class body bound just before
    assert reaching(model, "table", 2) == ["assign RESULT"]
    # a method does not see the class body's names: `table` there is a (missing) global
    method_read = model.reference(_name(model, "table[key]", -1))
    assert method_read.bindings == () and method_read.owner is None


def test_a_class_body_that_reads_a_name_it_binds_later_reads_the_global():
    model = model_of("""\
        import multiprocessing

        method = "spawn"

        class Settings:
            start = method
            method = "fork"
        """)
    assert reaching(model, "method", -2) == ['assign "spawn"']


FUNCTIONS = """\
from multiprocessing import Pool

pool = None


def run(items):
    return pool.map(abs, items)


pool = Pool(2)
print(run([-1, -2]))
"""


def test_function_bodies_see_the_bindings_live_when_the_module_ends():
    model = model_of(FUNCTIONS)
    assert reaching(model, "pool.map(abs, items)") == ["assign Pool(2)"]
    assert named(model, "pool.map(abs, items)") == "multiprocessing.Pool().map"


def test_a_nested_function_sees_its_enclosing_function_at_its_end():
    model = model_of("""\
        import multiprocessing as mp

        def launch():
            ctx = mp.get_context("spawn")

            def start(target):
                return ctx.Process(target=target)

            ctx = mp.get_context("forkserver")
            return start
        """)
    assert reaching(model, "ctx.Process(target=target)") == ['assign mp.get_context("forkserver")']
    assert model.resolve(find(model, "ctx.Process")).start_method == "forkserver"


def test_global_assignments_reach_every_reader_of_the_module_name():
    model = model_of("""\
        from multiprocessing import Pool

        POOL = None


        def setup():
            global POOL
            POOL = Pool(2)


        def run(items):
            return POOL.map(abs, items)


        setup()
        """)
    assert sorted(reaching(model, "POOL.map(abs, items)")) == ["assign None", "assign Pool(2)"]
    assert model.module_scope.binds("POOL")
    setup = model.scope_of_definition(find_def(model, "setup"))
    assert not setup.binds("POOL") and "POOL" in setup.declared_global


def find_def(model, name: str) -> cst.CSTNode:
    return next(binding.node for binding in model.bindings if binding.kind in (Kind.DEF, Kind.CLASS)
                and binding.name == name)


def test_nonlocal_assignments_belong_to_the_enclosing_function():
    model = model_of("""\
        def counter():
            count = 0

            def bump():
                nonlocal count
                count += 1
                return count

            bump()
            return count
        """)
    counter = model.scope_of_definition(find_def(model, "counter"))
    bump = model.scope_of_definition(find_def(model, "bump"))
    assert [binding.kind for binding in counter.bindings["count"]] == [Kind.ASSIGN, Kind.AUGMENT]
    assert not bump.binds("count") and bump.frees == {"count"}
    assert reaching(model, "count", -1) == ["assign 0", "augment 1"]


def test_walrus_in_a_comprehension_binds_in_the_enclosing_scope():
    model = model_of("""\
        import re

        pattern = re.compile("workers=(\\\\d+)")
        lines = ["a", "workers=4"]
        if any((match := pattern.search(line)) for line in lines):
            print(match.group(1))
        """)
    assert reaching(model, "match.group(1)") == ["assign pattern.search(line)"]
    genexp = next(scope for scope in model.scopes() if scope.name == "<generatorexp>")
    assert "match" in genexp.assigned_outward and not genexp.binds("match")
    assert model.module_scope.binds("match")


def test_comprehension_variables_stay_inside_it():
    model = model_of("""\
        import multiprocessing as mp

        worker = "main"
        workers = [mp.Process(target=print) for worker in range(3)]
        print(worker)
        """)
    assert reaching(model, "worker") == ['assign "main"']


MATCH = """\
import multiprocessing as mp

command = input().split()
match command:
    case ["run", script]:
        target = script
    case ["pool", size] if size.isdigit():
        target = mp.Pool(int(size))
    case {"method": method, **rest}:
        target = mp.get_context(method)
    case _:
        target = None
print(target, script)
"""


def test_match_captures_bind_and_cases_merge():
    model = model_of(MATCH)
    assert reaching(model, "script", 1) == ["match"]
    assert reaching(model, "size.isdigit()") == ["match"]
    assert reaching(model, "method") == ["match"]
    assert reaching(model, "target") == \
        ["assign script", "assign mp.Pool(int(size))", "assign mp.get_context(method)", "assign None"]
    # `script` is bound only where the first case matched
    assert reaching(model, "script", -1) == ["match"]
    match_rest = [binding for binding in model.bindings if binding.name == "rest"]
    assert [binding.kind for binding in match_rest] == [Kind.MATCH]


def test_with_targets_and_unpacking():
    model = model_of("""\
        import multiprocessing as mp

        with mp.Pool(2) as pool, open("log.txt") as log:
            pool.map(print, range(3))
        inbox, outbox = mp.Queue(), mp.Queue()
        reader, writer = mp.Pipe()
        outbox.put(1)
        writer.send(1)
        """)
    assert named(model, "pool.map(print, range(3))") == "multiprocessing.Pool().map"
    assert named(model, "outbox.put(1)") == "multiprocessing.Queue().put"
    assert named(model, "writer.send(1)") is None  # an element of a call's result: not known


CLASSES = """\
import multiprocessing as mp


class Base:
    def run(self):
        return mp.Pool(2)


class Job(Base):
    def __init__(self, text):
        self.text = text

    def start(self):
        return self.run()

    @classmethod
    def make(cls, text):
        return cls(text)

    @classmethod
    def build(cls):
        return cls.make("default")

    @staticmethod
    def helper(self):
        return self.run()


job = Job("text").run()
other = Job.make("x")
"""


def test_methods_and_constructors_resolve_to_their_definitions():
    model = model_of(CLASSES)
    run = model.resolve(find(model, "Job(\"text\").run"))
    assert run.qualname == "Base().run" and run.definition is find_def(model, "run")
    assert model.resolve(find(model, "self.run", 0)).definition is find_def(model, "run")
    assert model.resolve(find(model, "cls.make")).definition is find_def(model, "make")
    assert model.resolve(find(model, "Job.make")).definition is find_def(model, "make")
    made = model.resolve(find(model, 'Job("text")'))
    assert made.qualname == "Job()" and made.definition is find_def(model, "Job")
    # a static method's first parameter is not the instance
    assert model.resolve(find(model, "self.run", -1)) is None
    # the call graph: the constructor runs __init__, the methods their bodies
    calls = {model.module.code_for_node(site.node): site for site in model.calls}
    assert model.processes.callees(calls['Job("text")'].node) == [find_def(model, "__init__")]
    assert model.processes.callees(calls['Job("text").run()'].node) == [find_def(model, "run")]
    assert model.processes.callees(calls['cls.make("default")'].node) == [find_def(model, "make")]


def test_a_class_of_the_file_without_the_attribute_resolves_to_nothing():
    model = model_of("""\
        import multiprocessing as mp

        class Config:
            workers = 2
            context = mp.get_context("spawn")

        Config.context.Process(target=print).start()
        print(Config.workers, Config.missing)
        """)
    assert model.resolve(find(model, "Config.missing")) is None
    assert model.resolve(find(model, "Config.workers")) is None  # a number names nothing
    process = model.resolve(find(model, "Config.context.Process"))
    assert process.qualname == "multiprocessing.Process" and process.start_method == "spawn"
