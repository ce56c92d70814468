"""dispatch.GroupedPool: each job goes to the worker that ran its group last, no worker
waits while another has jobs waiting, and a worker's failure reaches the caller through the
futures of its jobs."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from mpcheck.dispatch import GroupedPool, _next_group


def _pid_after(job: tuple[str, float]) -> tuple[str, int]:
    """Run in a worker: the job's name and the worker's pid, after `seconds`."""
    name, seconds = job
    if name == "die":
        os._exit(3)
    time.sleep(seconds)
    return name, os.getpid()


@pytest.fixture
def executors():
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    made = [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) for _ in range(2)]
    for started in [executor.submit(_pid_after, ("up", 0)) for executor in made]:
        started.result()  # both are up: neither is ahead of the other by its start
    yield made
    for executor in made:
        executor.shutdown(cancel_futures=True)


def _run(executors, jobs):
    pool = GroupedPool(executors, _pid_after)
    futures = [pool.submit(group, (name, seconds)) for group, name, seconds in jobs]
    pool.close()
    return futures


def test_each_group_keeps_to_one_worker_while_both_have_work(executors):
    # (A worker takes another's group only once it has nothing to do: 0.1 s each, both
    # groups end at the same time, unless one worker is slowed down by more than two jobs.)
    jobs = [(group, f"{group}{number}", 0.1) for number in range(6) for group in ("a", "b")]
    futures = _run(executors, jobs)
    ran = {}
    for (group, name, _), future in zip(jobs, futures):
        assert future.result()[0] == name
        ran.setdefault(group, set()).add(future.result()[1])
    assert len(ran["a"]) == 1 and len(ran["b"]) == 1 and ran["a"] != ran["b"]


def test_a_worker_with_nothing_to_do_takes_jobs_of_the_other_workers_group(executors):
    # One group only: both workers share it (a run over one flat package is not serial).
    jobs = [("flat", f"job{number}", 0.1) for number in range(8)]
    futures = _run(executors, jobs)
    assert [future.result()[0] for future in futures] == [name for _, name, _ in jobs]
    assert len({future.result()[1] for future in futures}) == 2


def test_a_worker_takes_its_own_group_then_a_group_nobody_has_then_when_idle_any():
    waiting = {"a": deque([1]), "b": deque([2]), "c": deque([3])}
    assert _next_group(waiting, ["b", "a"], 0, idle=False) == "b"
    assert _next_group(waiting, ["x", "a"], 0, idle=False) == "b"
    assert _next_group({"a": deque([1])}, ["x", "a"], 0, idle=False) is None
    assert _next_group({"a": deque([1])}, ["x", "a"], 0, idle=True) == "a"


def test_a_worker_that_dies_fails_its_jobs_and_the_other_worker_goes_on(executors):
    jobs = [("a", "a0", 0.05), ("b", "b0", 0.05), ("a", "die", 0), ("b", "b1", 0.05), ("b", "b2", 0.05)]
    futures = _run(executors, jobs)
    with pytest.raises(BrokenProcessPool):
        futures[2].result()
    assert [futures[number].result()[0] for number in (1, 3, 4)] == ["b0", "b1", "b2"]


def test_jobs_left_when_the_workers_are_shut_down_fail_and_close_returns(executors):
    pool = GroupedPool(executors, _pid_after)
    futures = [pool.submit(str(number % 2), (f"job{number}", 0.3)) for number in range(8)]
    time.sleep(0.2)
    for executor in executors:
        executor.shutdown(wait=False, cancel_futures=True)
    pool.close()
    failed = 0
    for future in futures:
        try:
            future.result(timeout=30)
        except (CancelledError, RuntimeError, BrokenProcessPool):
            failed += 1
    assert failed >= 4  # those not handed to a worker before the shutdown
