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
    assert used == [method, method]  # one executor per worker (dispatch.py)


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


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_cycles_are_collected_between_files_once_enough_objects_were_made(monkeypatch):
    """The collector's automatic runs are off during a run (engine.pause_cycle_collection):
    a full collection runs between files once more objects were made since the last one
    than it left alive, and at least the floor."""
    import mpcheck.engine as engine

    monkeypatch.setattr(engine, "_MIN_OBJECTS_BETWEEN_COLLECTIONS", 10_000)
    monkeypatch.setattr(engine, "_alive_after_collection", 0)
    resume = engine.pause_cycle_collection()
    try:
        gc.collect()
        cycle = _Cycle()
        garbage = weakref.ref(cycle)
        del cycle
        engine.collect_cycles_when_due()
        assert garbage() is not None  # too few objects made since: not collected yet
        made = [[] for _ in range(20_000)]
        engine.collect_cycles_when_due()
        assert garbage() is None
        assert engine._alive_after_collection > len(made)  # the next one waits for as many more
        assert not gc.isenabled()
    finally:
        resume()
    assert gc.isenabled()


def test_the_command_gives_the_collector_back(cli, tmp_path):
    (tmp_path / "app.py").write_text(HAZARD)
    assert gc.isenabled()
    assert cli("check", str(tmp_path / "app.py")).exit_code == 1
    assert gc.isenabled()


def test_a_run_in_one_process_looks_for_a_due_collection_after_each_file_it_checks(many_files, monkeypatch):
    import mpcheck.engine as engine

    asked = []
    monkeypatch.setattr(engine, "collect_cycles_when_due", lambda: asked.append(1))
    list(Checker(fix_edits=False).run_files(many_files, jobs=1))
    assert len(asked) == sum(1 for path, _ in many_files if path.read_text(errors="replace") == HAZARD) > 0


def test_a_files_codes_are_worked_out_once_and_its_result_depends_on_what_they_came_from(many_files, monkeypatch):
    """The prefilter's codes for a file are worked out by run_files; its check (here or in a
    worker) uses them instead of working them out again, and what they were worked out from
    (noted while the prefilter read the project) is among what the result depends on."""
    from mpcheck.dependencies import note_file

    asked: list[str] = []
    sentinel = str(many_files[1][0].parent / "read_by_the_prefilter.py")
    real = Checker.verdict

    def verdict(self, text, path, suppressions=None):
        asked.append(path)
        note_file(sentinel)
        return real(self, text, path, suppressions)

    monkeypatch.setattr(Checker, "verdict", verdict)
    results = list(Checker().run_files(many_files, jobs=1))
    checked = [result for result in results if result.diagnostics and not result.has_input_error]
    assert len(checked) == 10
    assert sorted(asked) == sorted(str(path) for path, _ in many_files if path.name != "module_004.py")
    assert all(sentinel in result.reads.files for result in checked)


def test_given_codes_are_used_only_for_the_text_they_were_worked_out_from(many_files):
    from mpcheck.dependencies import content_digest

    path, display = many_files[0]
    digest = content_digest(path.read_bytes())
    checker = Checker()
    assert checker._job(path, display, False, (digest, frozenset())).diagnostics == []  # no rule applies
    assert [d.code for d in checker._job(path, display, False, ("another text", frozenset())).diagnostics] == ["MP101"]
    assert [d.code for d in checker._job(path, display, False).diagnostics] == ["MP101"]
