"""Helpers the tests share: where things are, and running a command the way a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

FORK_IMPORT = "from multiprocessing.context import ForkProcess\n"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def mpcheck_command() -> list[str]:
    """The console script installed next to the interpreter running the tests."""
    script = Path(sys.executable).with_name("mpcheck")
    if not script.exists():
        found = shutil.which("mpcheck")
        if found is None:
            pytest.fail("the mpcheck console script is not installed (pip install -e '.[test]')")
        script = Path(found)
    return [str(script)]


def run_command(command: list[str], cwd: Path, input: bytes | None = None, env: dict | None = None,
                timeout: float = 60) -> Run:
    completed = subprocess.run(
        command, cwd=cwd, input=input, capture_output=True, timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return Run(completed.returncode, completed.stdout.decode("utf-8", "replace"),
               completed.stderr.decode("utf-8", "replace"))
