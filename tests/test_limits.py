"""Limits: inputs far outside what people write (huge files, deep nesting, long lines, many
files, special files) are each checked or reported with a clear reason, within bounded
time and memory, without a traceback. The README's "Limits" section states the figures
these tests hold mpcheck to.

Each run is a subprocess of the installed command: a crash of libcst's native parser or an
exhausted stack must show as a failed test, not kill the test run."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import FORK_IMPORT, mpcheck_command

# A worker module with one MP101 finding: it must be reported next to whatever a test
# puts beside it.
WORKER = '''\
import multiprocessing


def start(task):
    context = multiprocessing.get_context("fork")
    worker = context.Process(target=task)
    worker.start()
    return worker
'''


@dataclass
class Measured:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float


def measured(*args: str, cwd: Path, timeout: float = 300) -> Measured:
    """Run mpcheck in its own process group; its wall time and peak resident memory (of it
    and any worker it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    process = subprocess.Popen([*mpcheck_command(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux; the largest child so far
    return Measured(process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                    seconds, max(peak, before) / 1024)


def assert_clean_exit(run: Measured) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr
    assert run.exit_code in (0, 1, 2), (run.exit_code, run.stderr)
    assert "MP999" not in run.stdout, run.stdout


@pytest.fixture
def tree(tmp_path):
    """A project directory with its own (empty) configuration and the worker module."""
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    (tmp_path / "worker.py").write_text(WORKER)
    return tmp_path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_among_the_files_is_reported_not_read(tree):
    # Reading it would wait for a writer forever.
    os.mkfifo(tree / "pipe.py")
    for command in ("check", "fix"):
        run = measured(command, ".", cwd=tree, timeout=60)
        assert_clean_exit(run)
        assert "pipe.py:1:1: MP000 is a named pipe (FIFO), not a regular file, so it was not read" in run.stdout
    assert "get_all_start_methods()" in (tree / "worker.py").read_text()  # the rest was fixed


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_named_on_the_command_line_is_reported_not_read(tree):
    run = measured("check", "/dev/zero", "worker.py", cwd=tree, timeout=60)
    assert_clean_exit(run)
    assert "/dev/zero:1:1: MP000 is a character device, not a regular file, so it was not read" in run.stdout
    assert "worker.py:5:15: MP101" in run.stdout


@pytest.mark.slow
def test_pydoc_topics_with_a_finding_is_checked_and_fixed(tree):
    """pydoc_data/topics.py (long implicitly concatenated strings: a tree deeper than the
    default recursion limit, where Fixit's PositionProvider fails) keeps its findings, and
    its fix is printed and written: every walk of the tree runs on the deep thread."""
    topics = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
    path = tree / "topics.py"
    path.write_text(topics.read_text(encoding="utf-8") + "\n\n" + WORKER, encoding="utf-8")
    run = measured("fix", "--unsafe-fixes", "topics.py", cwd=tree)
    assert_clean_exit(run)
    assert run.exit_code == 0, run.stdout
    fixed = path.read_text(encoding="utf-8")
    assert fixed.startswith(topics.read_text(encoding="utf-8"))
    assert 'multiprocessing.get_context("spawn")' in fixed
    compile(fixed, "topics.py", "exec")
