"""The lifecycle facts of the model (issue 9): where a loop's number of passes comes from
(`trip_count`), the most a pool's size can be (`upper_bound`), which calls made the objects a
name holds (`objects.made_by`), how an object is used (`objects.uses`) and whether it is
closed on every path of its scope (`objects.closed_on_every_path`)."""

from __future__ import annotations

import math

import libcst as cst
import pytest

from mpcheck.model import CountKind, Kind, UseKind
from mpcheck.model.counts import DEFAULT, is_worker_name

from .support import find, model_of

# -- trip counts ----------------------------------------------------------------------------------

LOOPS = """\
import glob
import os
import multiprocessing as mp
from pathlib import Path

import more_itertools
import numpy as np
import torch

N_WORKERS = 4


def run(videos, n, devices, args):
    files = sorted(Path(args.folder).glob("*.mp4"))
    jobs = []
    for line in open("list.txt"):
        jobs.append(line)
    procs = [mp.Process(target=print, args=(f,)) for f in files]
    {loop}
"""


@pytest.mark.parametrize(("loop", "kind", "value"), [
    ("for v in videos: pass", CountKind.DATA, None),
    ("for i in range(len(videos)): pass", CountKind.DATA, None),
    ("for f in files: pass", CountKind.DATA, None),
    ("for i, f in enumerate(files): pass", CountKind.DATA, None),
    ("for p in procs: pass", CountKind.DATA, None),
    ("for j in jobs: pass", CountKind.DATA, None),
    ("for f in os.listdir(args.folder): pass", CountKind.DATA, None),
    ("for f in glob.glob('*.wav'): pass", CountKind.DATA, None),
    ("for key, value in load_config().items(): pass", CountKind.DATA, None),
    ("for a, b in zip(videos, range(3)): pass", CountKind.CONSTANT, 3),
    ("for _ in range(1000): pass", CountKind.CONSTANT, 1000),
    ("for i in range(4): pass", CountKind.CONSTANT, 4),
    ("for i in range(1, 9, 2): pass", CountKind.CONSTANT, 4),
    ("for i in range(24, 0, -1): pass", CountKind.CONSTANT, 24),
    ("for i in range(N_WORKERS): pass", CountKind.CONSTANT, 4),
    ("for name in ('left', 'right'): pass", CountKind.CONSTANT, 2),
    ("for i in range(os.cpu_count()): pass", CountKind.WORKERS, None),
    ("for i in range(mp.cpu_count() - 1): pass", CountKind.WORKERS, None),
    ("for i in range(args.num_workers): pass", CountKind.WORKERS, None),
    ("for rank in range(args.world_size): pass", CountKind.WORKERS, None),
    ("for d in devices: pass", CountKind.WORKERS, None),
    ("for i in range(min(len(videos), N_WORKERS)): pass", CountKind.CONSTANT, 4),
    ("for i in range(n): pass", CountKind.UNKNOWN, None),
    ("for size in ModelSize: pass", CountKind.UNKNOWN, None),  # an Enum's members
    ("for worker_id, device in enumerate(self_workers_config()): pass", CountKind.WORKERS, None),
    ("while True: pass", CountKind.UNKNOWN, None),
    # Calls that split the data into as many parts as an argument says.
    ("for part in np.array_split(videos, args.num_workers): pass", CountKind.WORKERS, None),
    ("for part in np.array_split(videos, indices_or_sections=8): pass", CountKind.CONSTANT, 8),
    ("for part in np.split(videos, [100, 200]): pass", CountKind.CONSTANT, 3),
    ("for part in torch.chunk(batch, chunks=len(devices)): pass", CountKind.WORKERS, None),
    ("for part in torch.tensor_split(batch, sections=N_WORKERS): pass", CountKind.CONSTANT, 4),
    ("for part in more_itertools.divide(os.cpu_count(), files): pass", CountKind.WORKERS, None),
    ("for i, part in enumerate(more_itertools.distribute(3, files)): pass", CountKind.CONSTANT, 3),
    ("for part in np.array_split(videos, len(videos) // 100): pass", CountKind.DATA, None),
    ("for part in np.array_split(videos, n): pass", CountKind.UNKNOWN, None),
    ("for part in torch.split(batch, 16): pass", CountKind.DATA, None),  # parts of 16 items each
    ("for part in np.array_split(videos): pass", CountKind.DATA, None),  # (no count: not a call numpy takes)
])
def test_where_a_loops_passes_come_from(loop, kind, value):
    model = model_of(LOOPS.replace("{loop}", loop))
    count = model.trip_count(model.loops[-1].node)
    assert (count.kind, count.value) == (kind, value), count


def test_small_and_data_counts():
    model = model_of(LOOPS.replace("{loop}", "for _ in range(1000): pass"))
    large = model.trip_count(model.loops[-1].node)
    assert large.from_data and not large.is_small  # a literal above 64 is not a setting
    model = model_of(LOOPS.replace("{loop}", "for _ in range(64): pass"))
    assert model.trip_count(model.loops[-1].node).is_small


def test_builtins_are_builtins_under_a_star_import():
    model = model_of("from tools import *\n\nfor i in range(24, 0, -1):\n    pass\nfor f in listdir('.'):\n    pass\n")
    counted = [model.trip_count(site.node) for site in model.loops]
    assert counted[0].kind is CountKind.CONSTANT and counted[0].value == 24
    assert counted[1].kind is CountKind.DATA


def test_a_comprehension_counts_its_iterables_together():
    model = model_of("grid = [(x, y) for x in range(3) for y in range(4)]\npaths = [p for p in sorted(names)]\n")
    first, second = (model.trip_count(site.node) for site in model.loops)
    assert (first.kind, first.value) == (CountKind.CONSTANT, 12)
    assert second.kind is CountKind.UNKNOWN  # `names` is bound nowhere in the file


@pytest.mark.parametrize(("name", "expected"), [
    ("n_workers", True), ("numProcesses", True), ("world_size", True), ("max_jobs", True), ("NUM_GPUS", True),
    ("nprocs", True), ("videos", False), ("n", False), ("batch_size", False), ("items", False),
])
def test_worker_names(name, expected):
    assert is_worker_name(name) is expected


# -- upper bounds of worker counts ----------------------------------------------------------------

BOUNDS = """\
import os
import multiprocessing
from pathos.helpers import cpu_count

LIMIT = 32


def make(processes=None, workers=os.cpu_count(), **kwargs):
    given = kwargs.pop("processes", None)
    n = os.cpu_count()
    if n > 8:
        n = 8
    m = cpu_count()
    return {expr}
"""


@pytest.mark.parametrize(("expr", "limit"), [
    ("64", 64),
    ("LIMIT", 32),
    ("os.cpu_count()", math.inf),
    ("multiprocessing.cpu_count() - 1", math.inf),
    ("os.cpu_count() // 2", math.inf),
    ("max(1, os.cpu_count() - 2)", math.inf),
    ("min(61, os.cpu_count())", 61),
    ("min(os.cpu_count() or 1, LIMIT)", 32),
    ("os.cpu_count() or 1", math.inf),
    ("workers", math.inf),  # a parameter's default
    ("m", math.inf),  # pathos' cpu_count is multiprocess's
    ("n", math.inf),  # one path keeps the CPU count
    ("LIMIT * 3", 96),
    ("16 if LIMIT else 80", 80),
])
def test_the_most_a_worker_count_can_be(expr, limit):
    model = model_of(BOUNDS.replace("{expr}", expr))
    bound = model.upper_bound(find(model, expr))
    assert bound is not None and bound is not DEFAULT and bound.limit == limit


@pytest.mark.parametrize("expr", ["processes", "given", "None"])
def test_a_count_that_may_be_none_is_the_default(expr):
    model = model_of(BOUNDS.replace("{expr}", expr))
    assert model.upper_bound(find(model, expr)) is DEFAULT


@pytest.mark.parametrize("expr", ["len(kwargs)", "kwargs['n']", "min(len(kwargs), os.cpu_count())"])
def test_unknown_counts(expr):
    model = model_of(BOUNDS.replace("{expr}", expr))
    assert model.upper_bound(find(model, expr)) is None


# -- which calls made an object ---------------------------------------------------------------------

MADE = """\
import multiprocessing as mp


def main(files, queue):
    procs = [mp.Process(target=work, args=(queue, f)) for f in files]
    others = []
    for f in files:
        p = mp.Process(target=work, args=(queue,))
        others.append(p)
    by_name = {}
    for f in files:
        by_name[f] = mp.Process(target=print)
    for p in procs:
        p.start()
    for p in others:
        p.join()
    for p in by_name.values():
        p.terminate()
    first, second = mp.Pipe()
    second.close()
"""


@pytest.mark.parametrize(("method", "made"), [
    ("start", "mp.Process(target=work, args=(queue, f))"),
    ("join", "mp.Process(target=work, args=(queue,))"),
    ("terminate", "mp.Process(target=print)"),
])
def test_the_calls_that_made_what_a_name_holds(method, made):
    model = model_of(MADE)
    call = next(site.node for site in model.calls
                if isinstance(site.node.func, cst.Attribute) and site.node.func.attr.value == method)
    assert [model.module.code_for_node(node) for node in model.objects.made_by(call.func.value)] == [made]


def test_an_unpacked_pair_is_not_made_by_the_call():
    model = model_of(MADE)
    # `mp.Pipe()` makes a pair: neither end is the call's own result.
    assert model.objects.made_by(find(model, "second", -1)) == []


# -- uses -------------------------------------------------------------------------------------------

USES = """\
import contextlib
from multiprocessing import Pool


class Holder:
    pass


def use(holder, items):
    pool = Pool(2)
    results = pool.map_async(abs, items)
    print(pool)
    for value in results.get():
        print(value)
    holder.pool = pool
    helper(pool)
    later = lambda: pool.close()
    with contextlib.closing(pool):
        pass
    return pool
"""


def test_every_use_of_an_object_by_kind():
    model = model_of(USES)
    pool = next(b for b in model.bindings if b.name == "pool" and b.kind is Kind.ASSIGN)
    kinds = [(use.kind, use.method) for use in model.objects.uses(pool)]
    assert kinds == [
        (UseKind.METHOD, "map_async"), (UseKind.OTHER, None), (UseKind.ESCAPE, None), (UseKind.ESCAPE, None),
        (UseKind.ESCAPE, None), (UseKind.WITH, None), (UseKind.ESCAPE, None),
    ]
    results = next(b for b in model.bindings if b.name == "results")
    assert [(use.kind, use.method) for use in model.objects.uses(results)] == [(UseKind.METHOD, "get")]


# -- closed on every path ---------------------------------------------------------------------------

CLOSED = {
    "close-and-join": ("pool = Pool()\npool.map(g, x)\npool.close()\npool.join()\n", True),
    "never": ("pool = Pool()\nreturn pool.map(g, x)\n", False),
    "early-return": ("pool = Pool()\nif not x:\n    return []\nr = pool.map(g, x)\npool.close()\nreturn r\n", False),
    "finally": ("pool = Pool()\ntry:\n    if not x:\n        return []\n    return pool.map(g, x)\n"
                "finally:\n    pool.terminate()\n", True),
    "both-branches": ("pool = Pool()\nif x:\n    pool.close()\nelse:\n    pool.terminate()\n", True),
    "one-branch": ("pool = Pool()\nif x:\n    pool.close()\n", False),
    "with-later": ("pool = Pool()\nwith pool:\n    pool.map(g, x)\n", True),
    "made-in-a-loop": ("for x in xs:\n    pool = Pool()\n    pool.map(g, x)\npool.close()\n", False),
    "closed-in-the-loop": ("for x in xs:\n    pool = Pool()\n    pool.map(g, x)\n    pool.close()\n", True),
    "made-in-an-elif": ("if a:\n    pass\nelif b:\n    pool = Pool()\n    pool.map(g, x)\nprint()\npool.close()\n", True),
    "closed-in-a-loop-only": ("pool = Pool()\nfor x in xs:\n    pool.close()\n", False),
    "raise-is-not-a-path": ("pool = Pool()\nif not x:\n    raise ValueError(x)\npool.shutdown()\n", True),
    "endless-loop-with-break": ("pool = Pool()\nwhile True:\n    if done():\n        pool.close()\n        break\n", True),
}


@pytest.mark.parametrize(("body", "closed"), CLOSED.values(), ids=CLOSED)
def test_closed_on_every_path(body, closed):
    source = "def f(x, xs, a, b):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    model = model_of(source)
    pool = next(b for b in model.bindings if b.name == "pool" and b.kind is Kind.ASSIGN)
    assert model.objects.closed_on_every_path(pool, ("close", "terminate", "shutdown")) is closed


def test_runs_before_follows_the_source():
    model = model_of("def f(p, q):\n    p.join()\n    q.get()\n")
    join, get = model.calls
    assert model.objects.runs_before(join, get) and not model.objects.runs_before(get, join)
