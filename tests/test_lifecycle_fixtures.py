"""What the lifecycle fixtures cost while they run (issue 9): the bounded pool of MP301's fix
really bounds the number of live processes, and MP302's with-block really ends the workers
an unclosed pool leaves behind.

Each program runs in its own process group with a default start method set from outside
(as tests/oracle.py does); the test counts the group's live processes (not the program itself,
nor multiprocessing's resource tracker or forkserver) every few milliseconds, for at most
`SAMPLE_SECONDS`, then ends the whole group (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mpcheck.runtime.startmethod import environment

from .test_oracle_fixtures import FIXTURES, _fixed_copy

SAMPLE_SECONDS = 6.0
_HELPERS = ("resource_tracker", "forkserver")


def _live_children(group: int, leader: int) -> int:
    """Processes of `group` other than `leader` and multiprocessing's helper processes."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == leader:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # gone meanwhile
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z" and not any(helper in command for helper in _HELPERS):
            count += 1
    return count


def peak_children(directory: Path, args: tuple[str, ...], method: str = "fork",
                  seconds: float = SAMPLE_SECONDS) -> tuple[int, int | None]:
    """(the most live child processes seen, the exit status or None when it was ended)."""
    env = environment(method, base={key: value for key, value in os.environ.items() if not key.startswith("PYTHON")})
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen([sys.executable, *args], cwd=directory, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    peak = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and process.poll() is None:
            peak = max(peak, _live_children(process.pid, process.pid))
            time.sleep(0.01)
    finally:
        status = process.poll()
        for signum, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                break
            time.sleep(grace)
        process.wait()
    return peak, status


def _fixture(name: str):
    return next(fixture for fixture in FIXTURES if fixture.name == name)


@pytest.mark.oracle
def test_the_bounded_pool_bounds_live_processes(tmp_path):
    # 50 videos on this machine; each detection takes 2 s, so the original's processes overlap.
    fixture = _fixture("mp301/freemocap_videos")
    args = (fixture.args[0], "--cameras", "50", "--latency", "2")
    fixed = _fixed_copy(fixture.before, tmp_path / "fixed", unsafe_fixes=True)
    original_peak, _ = peak_children(fixture.before, args)
    fixed_peak, _ = peak_children(fixed, args)
    assert original_peak >= 25, f"the original ran only {original_peak} processes at once"
    assert 1 <= fixed_peak <= (os.cpu_count() or 1), f"the pool ran {fixed_peak} processes at once"


@pytest.mark.oracle
def test_the_with_block_ends_the_workers_of_each_pool(tmp_path):
    fixture = _fixture("mp302/thumbnail_batches")
    args = (*fixture.args, "--linger", "3")
    fixed = _fixed_copy(fixture.before, tmp_path / "fixed", unsafe_fixes=False)
    original_peak, _ = peak_children(fixture.before, args)
    fixed_peak, _ = peak_children(fixed, args)
    assert original_peak >= 8, f"the unclosed pools left only {original_peak} workers"
    assert fixed_peak <= 2, f"{fixed_peak} workers were alive at once after the fix"


def test_the_counter_sees_a_programs_children(tmp_path):
    script = tmp_path / "three.py"
    script.write_text(
        "import multiprocessing as mp, time\n\n"
        "if __name__ == '__main__':\n"
        "    children = [mp.Process(target=time.sleep, args=(3,)) for _ in range(3)]\n"
        "    for child in children:\n"
        "        child.start()\n"
        "    for child in children:\n"
        "        child.join()\n"
    )
    peak, status = peak_children(tmp_path, ("three.py",), "spawn", seconds=2.5)
    assert peak == 3 and status is None  # ended while its children slept


def test_no_program_is_left_running(tmp_path):
    script = tmp_path / "stubborn.py"
    script.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(30)\n")
    started = time.monotonic()
    _, status = peak_children(tmp_path, ("stubborn.py",), seconds=0.5)
    assert status is None and time.monotonic() - started < 10
