"""The start-method oracle: run a program under fork, spawn and forkserver and compare.

A thin user of `mpcheck run`'s code (mpcheck/runtime/runner.py): the start method is made
the default from outside the program, so its own `set_start_method`/`get_context` calls still
behave as they would on a platform whose default is that method; each run has a process group
of its own and a timeout that ends the group (SIGTERM, then SIGKILL), because an unguarded
`Pool` under spawn respawns dying workers forever instead of failing. What the oracle adds is
its own environment: no PYTHON* variable of the test run, unbuffered output.

Usable by every rule's fixtures:

    runs = run_all_methods(Program(cwd=fixture_dir, args=("app.py",)), python=sys.executable)
    assert runs["spawn"].stdout == runs["fork"].stdout
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mpcheck.runtime.runner import run
from mpcheck.runtime.startmethod import START_METHODS

# Not start methods: platforms simulated on Linux (tests/platforms/README.md). "windows":
# spawn as the only start method (`mpcheck run --no-fork`) and no socket.SO_REUSEPORT;
# "macos": spawn, and no sem_getvalue() (Queue.qsize() raises NotImplementedError).
SIMULATED_WINDOWS = "windows"
SIMULATED_MACOS = "macos"
SIMULATED_PLATFORMS = (SIMULATED_WINDOWS, SIMULATED_MACOS)
_PLATFORMS = Path(__file__).resolve().parent / "platforms"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Program:
    """What to run: `args` after the interpreter (`("app.py",)` or `("-m", "pkg")`) in `cwd`."""

    cwd: Path
    args: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    method: str
    returncode: int | None  # None: ended by the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def describe(self) -> str:
        status = "timed out" if self.timed_out else f"exit {self.returncode}"
        return f"{self.method}: {status}\n--- stdout\n{self.stdout}--- stderr (last 1500 chars)\n{self.stderr[-1500:]}"


def current_environment() -> dict[str, str]:
    """A copy of os.environ made while other threads may change it: the oracle runs
    programs on threads while the tests go on, and a test's monkeypatch.setenv (conftest's
    MPCHECK_CACHE_DIR) mid-copy made the copy fail with KeyError."""
    while True:
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):  # changed while it was being read: read it again
            continue


def run_program(program: Program, method: str, python: str = sys.executable,
                timeout: float = DEFAULT_TIMEOUT) -> Run:
    """Run `program` with `method` as the default start method, or as on a simulated
    platform (SIMULATED_WINDOWS, SIMULATED_MACOS)."""
    if method not in (*START_METHODS, *SIMULATED_PLATFORMS):
        raise ValueError(f"unknown start method {method!r}")
    env = {key: value for key, value in current_environment().items() if not key.startswith("PYTHON")}
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    if method in SIMULATED_PLATFORMS:
        env["PYTHONPATH"] = str(_PLATFORMS / method)
    windows = method == SIMULATED_WINDOWS
    outcome = run([python, *program.args], "spawn" if method in SIMULATED_PLATFORMS else method, no_fork=windows,
                  timeout=timeout, cwd=program.cwd, env=env, capture=True, notify=lambda message: None)
    assert outcome.stdout is not None and outcome.stderr is not None
    return Run(method, outcome.returncode, outcome.stdout, outcome.stderr)


def run_all_methods(program: Program, python: str = sys.executable, timeout: float = DEFAULT_TIMEOUT,
                    methods: Sequence[str] = START_METHODS) -> dict[str, Run]:
    """Every start method at once (the runs are independent processes)."""
    with ThreadPoolExecutor(len(methods)) as pool:
        runs = pool.map(lambda method: run_program(program, method, python, timeout), methods)
        return dict(zip(methods, runs))


def misbehaves(run: Run, reference: Run) -> bool:
    """True when `run` failed, hung, or printed something other than `reference` did."""
    return run.returncode != 0 or run.stdout != reference.stdout


def interpreters() -> dict[str, str | None]:
    """CPython 3.10+ interpreters to run fixtures under: version -> path (None: absent).
    The running interpreter always counts; pyenv installs are found in ~/.pyenv/versions."""
    found: dict[str, str | None] = {version: None for version in ("3.10", "3.11", "3.12", "3.13", "3.14")}
    found[f"{sys.version_info.major}.{sys.version_info.minor}"] = sys.executable
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(root.glob("3.*/bin/python")):
        minor = ".".join(candidate.parent.parent.name.split(".")[:2])
        if minor in found and found[minor] is None:
            found[minor] = str(candidate)
    return found
