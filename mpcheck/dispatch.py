"""Worker processes that keep to a group of jobs: each file to check goes to the worker
that checked the files of its directory last.

A worker keeps the models of the modules its files import (ProjectIndex.model_of, up to
MAX_MODEL_SOURCE characters of source), and the files of one directory mostly import the
same modules. Handed to whichever worker was free (one ProcessPoolExecutor's own queue),
neighbouring files went to both workers, and both parsed what they import: on the 125 files
of the standard library the prefilter keeps, two workers parsed 4.1 million characters where
one process parses 3.2 million. Kept to a directory, they parse 3.4 million.

Each worker is a ProcessPoolExecutor of one process: its processes are started as the caller
asks, and a worker that died is reported as BrokenProcessPool, in the futures of the jobs it
had been handed; the other workers take those still waiting. A thread of the caller
hands out the jobs: to a worker, the next job of the group it had last; otherwise of a group
no other worker has; and to a worker with nothing to do, otherwise the next job of a group
another worker has (the run must not wait for one worker while the other has nothing to do).
Each worker holds up to `_IN_FLIGHT` jobs, so that it does not wait for the next one.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

Job = TypeVar("Job")
Result = TypeVar("Result")

_IN_FLIGHT = 2  # jobs handed to one worker and not yet done


class GroupedPool(Generic[Job, Result]):
    """Runs `run(job)` in `workers` (each an executor of one process), each job in the
    worker that ran its group last where that keeps both busy. `close` once every job is
    submitted."""

    def __init__(self, workers: Sequence[ProcessPoolExecutor], run: Callable[[Job], Result]) -> None:
        self._workers = workers
        self._run = run
        self._events: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._hand_out, name="mpcheck-dispatch", daemon=True)
        self._thread.start()

    def submit(self, group: str, job: Job) -> Future[Result]:
        """The future of `job`'s result (or of the exception its run raised, such as
        BrokenProcessPool when its worker died)."""
        future: Future[Result] = Future()
        self._events.put(("job", group, job, future))
        return future

    def close(self) -> None:
        """Wait until every job submitted has run (or failed: shut its workers down first
        to stop the run)."""
        self._events.put(("close",))
        self._thread.join()

    def _hand_out(self) -> None:
        waiting: dict[str, deque[tuple[Job, Future[Result]]]] = {}  # by group, in the order submitted
        last: list[str | None] = [None] * len(self._workers)  # the group each worker took last
        running = [0] * len(self._workers)
        failed: list[BaseException | None] = [None] * len(self._workers)  # why a worker is out
        closing = False
        while not closing or any(running):
            event = self._events.get()
            if event[0] == "job":
                waiting.setdefault(event[1], deque()).append((event[2], event[3]))
            elif event[0] == "done":
                running[event[1]] -= 1
                if not event[2].cancelled() and isinstance(event[2].exception(), BrokenProcessPool):
                    failed[event[1]] = event[2].exception()
                _pass_on(event[2], event[3])
            else:
                closing = True
            del event  # (nothing of a job stays referenced here once handed over)
            working = [worker for worker in range(len(self._workers)) if failed[worker] is None]
            for worker in sorted(working, key=running.__getitem__):  # the idle first
                while waiting and running[worker] < _IN_FLIGHT and failed[worker] is None:
                    group = _next_group(waiting, last, worker, idle=not running[worker])
                    if group is None:
                        break
                    last[worker] = group
                    failed[worker] = self._start(worker, waiting, group)
                    running[worker] += failed[worker] is None
            if all(failed):  # every worker died: so do the jobs left
                for jobs in waiting.values():
                    for _, future in jobs:
                        future.set_exception(failed[-1])
                waiting.clear()

    def _start(self, worker: int, waiting: dict[str, deque[tuple[Job, Future[Result]]]],
               group: str) -> BaseException | None:
        """Hand the next job of `group` to `worker`; what its executor raised when it refused
        it (the job then waits for another). (A function of its own: nothing of the job stays
        referenced here once it has run.)"""
        jobs = waiting[group]
        job, future = jobs[0]
        try:
            done = self._workers[worker].submit(self._run, job)
        except Exception as error:  # noqa: BLE001 - broken or shut down
            return error
        jobs.popleft()
        if not jobs:
            del waiting[group]
        done.add_done_callback(lambda done: self._events.put(("done", worker, done, future)))
        return None


def _next_group(waiting: dict[str, deque], last: list[str | None], worker: int, idle: bool) -> str | None:
    """The group whose next job `worker` takes: the one it took last, or one no other worker
    took last; when it is `idle`, the first waiting (another worker's) rather than none."""
    if last[worker] in waiting:
        return last[worker]
    others = {group for other, group in enumerate(last) if other != worker}
    fresh = next((group for group in waiting if group not in others), None)
    return fresh if fresh is not None or not idle else next(iter(waiting))


def _pass_on(done: Future, future: Future) -> None:
    """What the worker's future `done` holds, into the caller's `future`."""
    if done.cancelled():  # its executor was shut down before the job ran
        future.set_exception(CancelledError())
        return
    error = done.exception()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(done.result())
