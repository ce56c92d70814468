"""MP501 on a lock, shared value or queue that a module makes at import and its workers use:
a forked worker shares the parent's, a spawned or forkserver one re-imports the module and
makes its own (facts §6c). The rule's own examples run under every start method: each flagged
program gives another answer under spawn and forkserver than under fork, and its portable
twin (the primitive made in the main block and handed over as the worker starts) is silent
and gives the same answer under all three."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mpcheck.engine import Checker
from mpcheck.rules.mp501_parent_only_state import ParentOnlyState

from .oracle import Program, misbehaves, run_all_methods


def _mp501(text: str, path: str = "app.py") -> list[str]:
    return [diagnostic.message for diagnostic in Checker(fix_edits=False).check_text(textwrap.dedent(text), path)
            if diagnostic.code == "MP501"]


def _example(examples, marker: str) -> str:
    """The one rule example whose code holds `marker`, dedented."""
    (found,) = [example.code for example in examples if marker in example.code]
    return textwrap.dedent(found).lstrip("\n")


@pytest.mark.parametrize(("flagged", "portable", "lost"), [
    ("processed = multiprocessing.Value", "initializer=share", "its changes never reach the parent"),
    ("results = multiprocessing.Queue()\n", "args=(path, results)", "what it puts there never reaches the parent"),
], ids=["value", "queue"])
def test_a_primitive_made_at_import_is_flagged_where_spawn_gives_another_answer(tmp_path: Path, flagged, portable,
                                                                                 lost):
    for name, text, expected in (("flagged.py", _example(ParentOnlyState.INVALID, flagged), 1),
                                 ("portable.py", _example(ParentOnlyState.VALID, portable), 0)):
        found = _mp501(text, name)
        assert len(found) == expected and all(lost in message for message in found), found
        (tmp_path / name).write_text(text)
    runs = run_all_methods(Program(cwd=tmp_path, args=("flagged.py",)), python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0, runs["fork"].describe()
    assert misbehaves(runs["spawn"], runs["fork"]) and misbehaves(runs["forkserver"], runs["fork"]), \
        "\n".join(run.describe() for run in runs.values())
    runs = run_all_methods(Program(cwd=tmp_path, args=("portable.py",)), python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0, runs["fork"].describe()
    for method in ("spawn", "forkserver"):
        assert not misbehaves(runs[method], runs["fork"]), runs[method].describe()


_SCRIPT = """\
import multiprocessing

{made}


def work(n):
    with lock:
        return n * 2


{setup}
if __name__ == "__main__":
{main}
    with {pool} as pool:
        print(pool.map(work, range(3)))
"""


def _script(made: str = "lock = multiprocessing.Lock()", setup: str = "", main: str = "    pass",
            pool: str = "multiprocessing.Pool(2)") -> str:
    return _SCRIPT.format(made=made, setup=setup, main=main, pool=pool)


def test_a_lock_made_at_import_and_used_in_a_pool_s_worker_is_flagged_with_the_pool_s_setup():
    found = _mp501(_script())
    assert len(found) == 1, found
    assert "work() runs in a worker (Pool.map() on line 15) and uses lock, the `Lock()` this module makes at " \
           "import (line 3)" in found[0]
    assert found[0].endswith("so it excludes or signals nothing across processes; make it in the main block and "
                             "hand it to each worker through `initializer=` (a task's arguments cannot carry it)")


@pytest.mark.parametrize(("made", "setup", "main", "pool"), [
    # An initializer sets the global in each worker from what the parent hands over.
    ("lock = None", "def share(given):\n    global lock\n    lock = given\n\n",
     "    lock = multiprocessing.Lock()", "multiprocessing.Pool(2, initializer=share, initargs=(lock,))"),
    # Made at import, and set again by an initializer: the workers use the parent's.
    ("lock = multiprocessing.Lock()", "def share(given):\n    global lock\n    lock = given\n\n",
     "    pass", "multiprocessing.Pool(2, initializer=share, initargs=(lock,))"),
    # Workers started by fork on purpose share it (MP101 says where fork is missing).
    ("lock = multiprocessing.Lock()", "", "    pass", "multiprocessing.get_context('fork').Pool(2)"),
    # Imported from a module that is not in the project: nothing tells what it holds.
    ("from locks import lock", "", "    pass", "multiprocessing.Pool(2)"),
    # A threading lock is each process's own under every start method.
    ("import threading\nlock = threading.Lock()", "", "    pass", "multiprocessing.Pool(2)"),
], ids=["initializer-sets-it", "made-and-reset-by-initializer", "fork-context", "imported", "threading-lock"])
def test_primitives_the_workers_share_portably_or_never_are_not_flagged(made, setup, main, pool):
    assert _mp501(_script(made, setup, main, pool)) == []


@pytest.mark.parametrize("made", ["lock = None", "lock = multiprocessing.Lock()"])
def test_a_primitive_made_in_the_main_block_is_the_parent_s_state_reported_once(made):
    found = _mp501(_script(made, "", "    lock = multiprocessing.Lock()"))
    assert len(found) == 1, found
    assert "reads lock, which the parent assigns in the main block" in found[0]


def test_a_primitive_a_function_makes_at_import_is_made_in_every_process_too():
    setup = "def make_lock():\n    global lock\n    lock = multiprocessing.Lock()\n\n\nmake_lock()\n"
    found = _mp501(_script("", setup))
    assert len(found) == 1 and "uses lock, the `Lock()` this module makes at import (line 13)" in found[0], found


def test_a_data_loader_s_dataset_is_told_to_keep_it():
    text = """\
    import multiprocessing

    import torch

    cache_lock = multiprocessing.Lock()


    class Frames(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            with cache_lock:
                return index


    if __name__ == "__main__":
        for batch in torch.utils.data.DataLoader(Frames(), num_workers=2):
            print(batch)
    """
    found = _mp501(text)
    assert len(found) == 1 and found[0].endswith("make it in the main block and keep it on the dataset"), found


def test_a_primitive_only_the_parent_uses_is_not_flagged():
    text = """\
    import multiprocessing

    print_lock = multiprocessing.Lock()


    def report(line):
        with print_lock:
            print(line)


    if __name__ == "__main__":
        with multiprocessing.Pool(2) as pool:
            for line in pool.imap(str, range(3)):
                report(line)
    """
    assert _mp501(text) == []


def test_a_process_s_target_is_told_to_take_it_as_an_argument():
    text = """\
    import multiprocessing

    done = multiprocessing.Event()


    def wait_for_parent():
        done.wait(timeout=1)


    if __name__ == "__main__":
        child = multiprocessing.Process(target=wait_for_parent)
        child.start()
        done.set()
        child.join()
    """
    found = _mp501(text)
    assert len(found) == 1 and found[0].endswith("make it in the main block and pass it to the process as an "
                                                 "argument"), found


def test_a_parameter_of_the_same_name_is_not_the_module_s_primitive():
    text = """\
    import multiprocessing

    lock = multiprocessing.Lock()


    def work(n, lock):
        with lock:
            print(n)


    if __name__ == "__main__":
        children = [multiprocessing.Process(target=work, args=(n, lock)) for n in range(2)]
        for child in children:
            child.start()
        for child in children:
            child.join()
    """
    assert _mp501(text) == []
