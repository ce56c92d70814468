"""The progress bar: on stderr for a long run on a terminal, never in a pipe or a log.

The terminal is a real pseudo-terminal, so click's own isatty check is what is tested.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mpcheck.cli import PROGRESS_BAR_MIN_FILES


@pytest.fixture(scope="module")
def many_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("legacy")
    for number in range(PROGRESS_BAR_MIN_FILES):
        (root / f"job_{number:03}.py").write_text(f"JOB_ID = {number}\n")
    (root / "launcher.py").write_text('import os\n\nif os.fork() == 0:\n    os._exit(0)\n')
    return root


def _read_all(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end of the terminal is closed
            return
        if not chunk:
            return
        into.extend(chunk)


def mpcheck(*args: str, cwd: Path, stderr_on_terminal: bool) -> tuple[str, str]:
    """Run mpcheck with stdout piped and stderr on a terminal or a pipe: (stdout, stderr)."""
    command = [sys.executable, "-m", "mpcheck", *args]
    if not stderr_on_terminal:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
        return result.stdout, result.stderr
    controller, terminal = pty.openpty()
    received = bytearray()
    reader = threading.Thread(target=_read_all, args=(controller, received))
    reader.start()
    try:
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=120)
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    return result.stdout, received.decode()


def test_bar_only_on_a_terminal_and_only_for_many_files(many_files):
    launcher = "launcher.py:3:4: MP101"
    with ThreadPoolExecutor(4) as pool:
        check_on_terminal = pool.submit(mpcheck, "check", ".", cwd=many_files, stderr_on_terminal=True)
        fix_on_terminal = pool.submit(mpcheck, "fix", "--diff", ".", cwd=many_files, stderr_on_terminal=True)
        in_pipe = pool.submit(mpcheck, "check", ".", cwd=many_files, stderr_on_terminal=False)
        few_on_terminal = pool.submit(mpcheck, "check", "launcher.py", cwd=many_files, stderr_on_terminal=True)

    stdout, stderr = check_on_terminal.result()
    assert launcher in stdout
    assert f"Checking {PROGRESS_BAR_MIN_FILES + 1} files" in stderr and "100%" in stderr
    assert launcher not in stderr  # the findings stay on stdout, apart from the bar

    assert f"Fixing {PROGRESS_BAR_MIN_FILES + 1} files" in fix_on_terminal.result()[1]

    stdout, stderr = in_pipe.result()
    assert launcher in stdout
    assert stderr == ""

    stdout, stderr = few_on_terminal.result()
    assert launcher in stdout
    assert stderr == ""
