"""The start-method oracle: run a program under fork, spawn and forkserver and compare.

The start method is forced from outside the program (DESIGN.md "Testing notes"): a
`sitecustomize.py` on PYTHONPATH swaps multiprocessing's default context before the program
starts, so the program's own `set_start_method`/`get_context` calls still behave as they
would on a platform whose default is that method. Each run gets its own process group and
a timeout that kills the whole group: an unguarded `Pool` under spawn respawns dying workers
forever instead of failing.

Usable by every rule's fixtures:

    runs = run_all_methods(Program(cwd=fixture_dir, args=("app.py",)), python=sys.executable)
    assert runs["spawn"].stdout == runs["fork"].stdout
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

START_METHODS = ("fork", "spawn", "forkserver")
# Not a start method: spawn as the only one, with the fork-only names of
# multiprocessing.context missing and get_context("fork") failing, as on Windows.
SIMULATED_WINDOWS = "windows"
DEFAULT_TIMEOUT = 10.0

# Runs in every interpreter that starts with this PYTHONPATH, children included. It swaps
# the default only; an explicit get_context("fork") in the program still forks.
_SITECUSTOMIZE = """\
import os
_method = os.environ.get("MPCHECK_ORACLE_START_METHOD")
if _method:
    import multiprocessing
    import multiprocessing.context as _context
    _spawn = _context._concrete_contexts["spawn"]
    # multiprocessing's functions are bound to this DefaultContext object: change what it
    # defaults to, not which object it is.
    _context._default_context._default_context = _context._concrete_contexts.get(_method, _spawn)
    if _method == "windows":
        _context._concrete_contexts = {"spawn": _spawn}
        for _name in ("ForkProcess", "ForkServerProcess", "ForkContext", "ForkServerContext"):
            if hasattr(_context, _name):
                delattr(_context, _name)
        _context.DefaultContext.get_all_start_methods = lambda self: ["spawn"]
        # Bound when multiprocessing was imported: rebind the one just replaced.
        multiprocessing.get_all_start_methods = _context._default_context.get_all_start_methods
"""


@dataclass(frozen=True)
class Program:
    """What to run: `args` after the interpreter (`("app.py",)` or `("-m", "pkg")`) in `cwd`."""

    cwd: Path
    args: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    method: str
    returncode: int | None  # None: killed by the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def describe(self) -> str:
        status = "timed out" if self.timed_out else f"exit {self.returncode}"
        return f"{self.method}: {status}\n--- stdout\n{self.stdout}--- stderr (last 1500 chars)\n{self.stderr[-1500:]}"


@functools.lru_cache(maxsize=None)
def _sitecustomize_dir() -> str:
    directory = Path(tempfile.gettempdir()) / f"mpcheck-oracle-{os.getuid()}"
    directory.mkdir(exist_ok=True)
    target = directory / "sitecustomize.py"
    if not target.exists() or target.read_text() != _SITECUSTOMIZE:
        temporary = directory / f".sitecustomize.{os.getpid()}.{threading.get_ident()}.tmp"
        temporary.write_text(_SITECUSTOMIZE)
        os.replace(temporary, target)
    return str(directory)


def run_program(program: Program, method: str, python: str = sys.executable,
                timeout: float = DEFAULT_TIMEOUT) -> Run:
    """Run `program` with `method` as the default start method (or SIMULATED_WINDOWS)."""
    if method not in (*START_METHODS, SIMULATED_WINDOWS):
        raise ValueError(f"unknown start method {method!r}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(
        PYTHONPATH=_sitecustomize_dir(),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        MPCHECK_ORACLE_START_METHOD=method,
    )
    process = subprocess.Popen(
        [python, *program.args], cwd=program.cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return Run(method, process.returncode, stdout, stderr)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
        return Run(method, None, stdout, stderr)
    finally:
        _kill_group(process.pid)  # workers a finished parent left behind


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
