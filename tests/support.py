"""Helpers the tests share: where things are, running a command the way a user would, and
the semantic model of a snippet with the expressions in it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest

from mpcheck.model import SemanticModel
from mpcheck.prefilter import Prefilter, Verdict
from mpcheck.project import ProjectIndex

from .oracle import current_environment

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
        env={**current_environment(), "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return Run(completed.returncode, completed.stdout.decode("utf-8", "replace"),
               completed.stderr.decode("utf-8", "replace"))


@dataclass
class Measured:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float  # of the command and every process it started
    peak_mib: float  # the largest resident set of the command or of any process it started


# Runs a command, waits for every process it started, and prints their CPU time and peak
# memory on its last stderr line. mpcheck's workers are children of the forkserver, which outlives
# mpcheck by a moment: as a subreaper (Linux), the launcher inherits and waits for them, so
# that their memory counts in RUSAGE_CHILDREN.
_LAUNCHER = """\
import ctypes, os, resource, subprocess, sys
if sys.platform == "linux":
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
code = subprocess.run(sys.argv[1:]).returncode
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"usage={usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def measured(command: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> Measured:
    """Run `command` (in its own process group, killed at `timeout`; `env` added to the
    environment): its output, wall time and peak memory, also printed (`pytest -s` shows
    the figures of the README's limits)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, *command], cwd=cwd,
                               env={**current_environment(), **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    seconds = time.perf_counter() - start
    errors, _, usage = stderr.decode("utf-8", "replace").rpartition("usage=")
    cpu, peak_kib = usage.split()
    run = Measured(process.returncode, stdout.decode("utf-8", "replace"), errors, seconds, float(cpu),
                   int(peak_kib) / 1024)
    shown = " ".join(Path(part).name if index == 0 else part for index, part in enumerate(command))
    print(f"{shown}: exit {run.exit_code}, {run.seconds:.1f} s ({run.cpu_seconds:.1f} s CPU), "
          f"{run.peak_mib:.0f} MiB", flush=True)
    return run


class EveryRule(Prefilter):
    """A prefilter that keeps every file for every rule: a checker given it parses every file
    and runs every rule on it (`checker.prefilter = EveryRule(())`)."""

    def verdict(self, text, path, codes, project) -> Verdict:
        return Verdict(frozenset(codes))


def reported(output: str, name: str) -> list[str]:
    """The `line:column: CODE` of each text-format finding in the file `name`."""
    found = []
    for line in output.splitlines():
        location, _, rest = line.partition(" ")
        path = location.rstrip(":").rsplit(":", 2)[0].replace(os.sep, "/").removeprefix("./")
        if path == name:
            found.append(f"{location.split(':', 1)[1]} {rest.split(' ', 1)[0]}")
    return found


def project_index(root: Path, files: dict[str, str]) -> ProjectIndex:
    """The index of a project made of `files` (name -> dedented text), written under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return ProjectIndex(root, sorted(root.rglob("*.py")))


def model_of(source: str, path: str = "app.py", project=None) -> SemanticModel:
    """The semantic model of `source` (dedented) as the file `path`."""
    return SemanticModel(cst.parse_module(textwrap.dedent(source)), path, project=project)


def find(model: SemanticModel, code: str, occurrence: int = -1) -> cst.BaseExpression:
    """The expression of `model`'s module whose source text is `code`: the last one in
    source order unless `occurrence` says which."""
    found = []
    stack = [model.module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BaseExpression) and model.module.code_for_node(node) == code:
            found.append(node)
        stack.extend(reversed(node.children))
    if not found:
        raise AssertionError(f"no expression {code!r} in the snippet")
    return found[occurrence]
