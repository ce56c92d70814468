"""Shared helpers: run mpcheck the three ways a user can (click's runner, the installed
console script, `python -m mpcheck`), and write small source trees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mpcheck.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

FORK_IMPORT = "from multiprocessing.context import ForkProcess\n"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli():
    """Invoke the click command in-process: cli("check", "x.py", input=...)."""

    def invoke(*args: str, input: str | bytes | None = None, color: bool = False) -> Run:
        result = CliRunner().invoke(main, list(args), input=input, color=color, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


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


@pytest.fixture
def installed(tmp_path):
    """Run the installed `mpcheck` command as a subprocess, in tmp_path unless told."""

    def invoke(*args: str, cwd: Path | None = None, input: bytes | None = None) -> Run:
        return run_command([*mpcheck_command(), *args], cwd or tmp_path, input)

    return invoke


@pytest.fixture
def write(tmp_path):
    """write("pkg/mod.py", source) creates the file (dedented) under tmp_path."""

    def create(relative: str, source: str | bytes = "") -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return create


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Work in tmp_path, so that paths are printed relative; its empty [tool.mpcheck]
    stops the search for a configuration above it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    return tmp_path
