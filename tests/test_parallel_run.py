"""Files that must be parsed are spread over worker processes started with forkserver or
spawn (never by forking the caller): the results are exactly the serial ones, in the order
given, whatever the number of jobs."""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import weakref
from pathlib import Path

import pytest

from mpcheck.engine import Checker

HAZARD = "from multiprocessing.context import ForkProcess\n\ndef work():\n    return ForkProcess\n"
CLEAN = "import os\n\nprint(os.sep)\n"


@pytest.fixture
def many_files(tmp_path: Path) -> list[tuple[Path, str]]:
    files = []
    for number in range(30):
        path = tmp_path / f"module_{number:03}.py"
        path.write_text(HAZARD if number % 3 == 0 else CLEAN)
        files.append((path, str(path)))
    (tmp_path / "module_004.py").write_bytes(b"\xff\xfe not utf-8")  # an input error keeps its place
    return files


def _summary(results):
    return [(r.path, r.diagnostics, r.fixed_text) for r in results]


@pytest.mark.parametrize("fixing", [False, True])
def test_parallel_results_equal_serial_results_in_the_same_order(many_files, fixing):
    checker = Checker()
    parallel = list(checker.run_files(many_files, fixing, jobs=2))
    serial = list(checker.run_files(many_files, fixing, jobs=1))
    assert [r.path for r in parallel] == [display for _, display in many_files]
    assert _summary(parallel) == _summary(serial)
    hazards = [r for r in parallel if (r.changed if fixing else any(d.code == "MP101" for d in r.diagnostics))]
    assert len(hazards) == 10
    assert parallel[4].has_input_error


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_workers_start_without_fork(many_files, monkeypatch, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    used = []
    real = concurrent.futures.ProcessPoolExecutor

    def recording(workers, mp_context, **kwargs):
        used.append(mp_context.get_start_method())
        return real(workers, mp_context=mp_context, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", recording)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: [method])
    checker = Checker()
    assert _summary(checker.run_files(many_files, jobs=2)) == _summary(checker.run_files(many_files, jobs=1))
    assert used == [method]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_holds_no_result_it_has_handed_over_nor_the_text_of_a_clean_file(many_files, jobs):
    """Memory that grows with the tree: every file's text, held to the end of the run."""
    previous = None
    held = []
    for result in Checker(fix_edits=False).run_files(many_files * 3, jobs=jobs):
        assert result.source is None or result.diagnostics
        if previous is not None:
            gc.collect()
            held.append(previous() is not None)
        previous = weakref.ref(result)
        del result
    assert held and not any(held)
