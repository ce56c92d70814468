"""MP701: `qsize()` is resolved through the model -- any context's queue, torch's and
billiard's, a queue reached through attributes and arguments -- and look-alikes whose
`qsize()` works on macOS stay silent."""

from __future__ import annotations

import textwrap

import pytest

import mpcheck
from mpcheck import Settings


def findings(source: str, **settings) -> list[tuple[int, str]]:
    return [(d.line, d.text) for d in mpcheck.check_source(textwrap.dedent(source), "jobs.py",
                                                           settings=Settings(select=("MP701",), **settings))]


FLAGGED = {
    "default context": "import multiprocessing\nq = multiprocessing.Queue()\nq.qsize()\n",
    "spawn context": "import multiprocessing as mp\nq = mp.get_context('spawn').Queue()\nq.qsize()\n",
    "forkserver context object": "import multiprocessing as mp\nctx = mp.get_context('forkserver')\nctx.JoinableQueue().qsize()\n",
    "queues module": "from multiprocessing.queues import Queue\nimport multiprocessing\nQueue(ctx=multiprocessing.get_context()).qsize()\n",
    "torch": "import torch.multiprocessing as tmp\nq = tmp.Queue()\nq.qsize()\n",
    "billiard": "import billiard\nq = billiard.Queue()\nq.qsize()\n",
    "dill flavour": "import multiprocess as mp\nmp.Queue().qsize()\n",
    "semaphore": "from multiprocessing import Semaphore\nSemaphore(2).get_value()\n",
    "attribute of self": (
        "import multiprocessing\n\nclass Crawler:\n    def __init__(self):\n        self.frontier = multiprocessing.Queue()\n\n"
        "    def pending(self):\n        return self.frontier.qsize()\n"),
    "argument of a pool worker's initializer": (
        "import multiprocessing\n\ndef init(counter_queue):\n    print(counter_queue.qsize())\n\n"
        "if __name__ == '__main__':\n    q = multiprocessing.Queue()\n"
        "    multiprocessing.Pool(2, init, (q,))\n"),
}


@pytest.mark.parametrize("source", FLAGGED.values(), ids=FLAGGED.keys())
def test_every_spelling_of_a_multiprocessing_queue_is_flagged(source):
    [(_, text)] = findings(source)
    assert text.endswith("(breaks on: macOS)")


SILENT = {
    "manager queue": "import multiprocessing\nm = multiprocessing.Manager()\nm.Queue().qsize()\n",
    "manager queue via with": (
        "import multiprocessing\nwith multiprocessing.Manager() as manager:\n    q = manager.Queue()\n    q.qsize()\n"),
    "queue.Queue": "import queue\nqueue.Queue().qsize()\n",
    "asyncio.Queue": "import asyncio\nasyncio.Queue().qsize()\n",
    "simple queue has no qsize": "import multiprocessing\nq = multiprocessing.SimpleQueue()\nq.empty()\n",
    "unknown object": "def size(q):\n    return q.qsize()\n",
    "a parameter given a thread queue": (
        "import queue\n\ndef size(q):\n    return q.qsize()\n\nsize(queue.Queue())\n"),
    "empty() works": "import multiprocessing\nmultiprocessing.Queue().empty()\n",
    "guarded by platform": (
        "import multiprocessing, platform\nq = multiprocessing.Queue()\n"
        "if platform.system() != 'Darwin':\n    print(q.qsize())\n"),
    "early exit on macOS": (
        "import multiprocessing, sys\n\ndef size(q: multiprocessing.Queue):\n    if sys.platform == 'darwin':\n"
        "        return None\n    return q.qsize()\n\nsize(multiprocessing.Queue())\n"),
    "caught": (
        "import multiprocessing\nq = multiprocessing.Queue()\ntry:\n    n = q.qsize()\nexcept NotImplementedError:\n"
        "    n = -1\n"),
    "type checking only": (
        "from typing import TYPE_CHECKING\nimport multiprocessing\nif TYPE_CHECKING:\n"
        "    multiprocessing.Queue().qsize()\n"),
}


@pytest.mark.parametrize("source", SILENT.values(), ids=SILENT.keys())
def test_look_alikes_and_guarded_calls_are_silent(source):
    assert findings(source) == []


def test_it_only_matters_where_macos_is_a_platform():
    source = FLAGGED["default context"]
    assert findings(source, platforms=("linux", "windows")) == []
    assert len(findings(source, platforms=("macos",), target_version=(3, 14))) == 1


COMPARISONS = {
    "q.qsize() == 0": "q.empty()",
    "0 == q.qsize()": "q.empty()",
    "q.qsize() <= 0": "q.empty()",
    "0 >= q.qsize()": "q.empty()",
    "q.qsize() > 0": "not q.empty()",
    "q.qsize() != 0": "not q.empty()",
    "0 < q.qsize()": "not q.empty()",
    "(q.qsize() > 0)": "(not q.empty())",
    "not q.qsize()": "q.empty()",
}


@pytest.mark.parametrize(("test", "becomes"), COMPARISONS.items(), ids=COMPARISONS.keys())
def test_unsafe_fix_turns_comparisons_with_zero_into_empty(test, becomes):
    source = f"import multiprocessing\nq = multiprocessing.Queue()\nidle = {test}\n"
    fixed = mpcheck.fix_source(source, settings=Settings(select=("MP701",)), unsafe_fixes=True).text
    assert fixed == source.replace(test, becomes)
    # Only with --unsafe-fixes.
    assert mpcheck.fix_source(source, settings=Settings(select=("MP701",))).text == source


@pytest.mark.parametrize("use", ["q.qsize() > 1", "q.qsize() == n", "print(q.qsize())", "total = q.qsize() + 1",
                                 "x = q.qsize() if ready else 0"])
def test_a_count_used_as_a_number_gets_no_fix(use):
    source = f"import multiprocessing\nq = multiprocessing.Queue()\nn = ready = 1\n{use}\n"
    result = mpcheck.fix_source(source, settings=Settings(select=("MP701",)), unsafe_fixes=True)
    assert result.text == source and len(result.remaining) == 1
