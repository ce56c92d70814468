"""A large run is spread over forked worker processes: the results must be exactly the
serial ones, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpcheck import engine
from mpcheck.engine import Checker

HAZARD = "from multiprocessing.context import ForkProcess\n\ndef work():\n    return ForkProcess\n"
CLEAN = "import os\n\nprint(os.sep)\n"


@pytest.fixture
def many_files(tmp_path: Path) -> list[tuple[Path, str]]:
    files = []
    for number in range(engine._PARALLEL_MIN_FILES + 10):
        path = tmp_path / f"module_{number:03}.py"
        path.write_text(HAZARD if number % 7 == 0 else CLEAN)
        files.append((path, str(path)))
    return files


def _serial(checker: Checker, files, fixing: bool):
    return [checker.fix_file(p, d) if fixing else checker.check_file(p, d) for p, d in files]


@pytest.mark.parametrize("fixing", [False, True])
def test_parallel_results_equal_serial_results(many_files, fixing):
    checker = Checker(project_files=[path for path, _ in many_files])
    parallel = list(checker.run_files(many_files, fixing))
    serial = _serial(checker, many_files, fixing)
    assert [r.path for r in parallel] == [r.path for r in serial]
    assert [r.diagnostics for r in parallel] == [r.diagnostics for r in serial]
    assert [r.fixed_text for r in parallel] == [r.fixed_text for r in serial]
    hazardous = len(range(0, len(many_files), 7))
    if fixing:
        assert sum(1 for r in parallel if r.changed) == hazardous
    else:
        assert sum(1 for r in parallel if r.diagnostics) == hazardous


def test_a_process_with_another_thread_runs_serially(many_files, monkeypatch):
    # Forking next to a live thread can deadlock the child (Python 3.12 warns): no pool.
    import threading

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started next to a live thread")

    monkeypatch.setattr(engine, "ProcessPoolExecutor", no_pool)

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        checker = Checker(project_files=[path for path, _ in many_files])
        parallel = list(checker.run_files(many_files))
    finally:
        stop.set()
        helper.join()
    assert [r.diagnostics for r in parallel] == [r.diagnostics for r in _serial(checker, many_files, False)]
