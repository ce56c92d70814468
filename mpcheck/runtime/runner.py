"""Run a command with another default start method in every Python process it starts.

`run()` starts the command in a process group of its own, with the environment of
startmethod.environment(), and waits for it. When it exits, or the timeout expires, or mpcheck
itself is interrupted (SIGINT, SIGTERM, SIGHUP), the processes left in the group are ended:
SIGTERM first, so that multiprocessing's resource tracker (which ignores SIGTERM) outlives the
workers and unlinks the named semaphores they leave (`/dev/shm/sem.mp-*` on Linux), then
SIGKILL for whatever still runs after `kill_after` seconds. A plain SIGKILL of the group
leaks those semaphores on every timeout (docs/facts.md §13.11). Once the group is gone, the
semaphores its processes had mapped (Linux: /proc) are unlinked too: a process ended between
making one and telling the tracker leaves it otherwise.

On a terminal the command's group becomes the foreground one, so that it reads the terminal,
gets Ctrl-C and Ctrl-Z, as it would when run directly.

`compare()` runs the command under fork and under other start methods, one after the other
(two copies of a program at once could share its files, ports and sockets), and says whether
their exit status and standard output agree. POSIX only, like the start methods it swaps.
"""

from __future__ import annotations

import difflib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from . import DEFAULT_KILL_AFTER, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_RUN_ERROR, EXIT_TIMED_OUT  # noqa: F401
from .startmethod import environment, launch_problem
_POLL = 0.02
# How long to wait for the end of the output once the group is gone: a process that left the
# group (setsid) may still hold the pipe.
_READER_GRACE = 5.0
# Importable on Windows too (the CLI imports this module), where there is no SIGHUP.
_INTERRUPTING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

Notify = Callable[[str], None]


def notify_stderr(message: str) -> None:
    """The default `notify`: one `mpcheck run: ...` line on standard error."""
    sys.stderr.write(f"mpcheck run: {message}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Outcome:
    """How a run ended. `returncode` is subprocess's (negative: killed by that signal), None
    when mpcheck ended the command (the timeout, or mpcheck was interrupted by `interrupted`).
    `stdout`/`stderr` are None unless captured. `python_processes`: how many Python processes
    ran with the start method (None: not counted)."""

    method: str
    no_fork: bool
    returncode: int | None
    stdout: str | None
    stderr: str | None
    timed_out: bool = False
    interrupted: int | None = None
    python_processes: int | None = None

    @property
    def exit_status(self) -> int:
        """What `mpcheck run` exits with: the command's status, 128+N when a signal N ended
        it or interrupted mpcheck, EXIT_TIMED_OUT after the timeout."""
        if self.timed_out:
            return EXIT_TIMED_OUT
        if self.interrupted is not None:
            return 128 + self.interrupted
        assert self.returncode is not None
        return 128 - self.returncode if self.returncode < 0 else self.returncode

    def describe_status(self) -> str:
        if self.timed_out:
            return "timed out"
        if self.interrupted is not None:
            return f"interrupted by {signal.Signals(self.interrupted).name}"
        assert self.returncode is not None
        return f"killed by {signal.Signals(-self.returncode).name}" if self.returncode < 0 else f"exit {self.returncode}"


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run(command: Sequence[str], method: str = "spawn", *, no_fork: bool = False, timeout: float | None = None,
        kill_after: float = DEFAULT_KILL_AFTER, cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None, capture: bool = False, notify: Notify = notify_stderr) -> Outcome:
    """Run `command` (program and arguments) in `cwd` with `env` (default: os.environ) plus
    what makes `method` the default start method of its Python processes (`no_fork`: and fork
    absent). `capture`: collect stdout and stderr (stdin is then /dev/null), else the command
    shares mpcheck's. What mpcheck does on its own (a timeout, processes it ends, a Python
    process it cannot reach) is said through `notify`. Raises ValueError for a bad
    method/no_fork pair and OSError when the command cannot be started."""
    descriptor, log = tempfile.mkstemp(prefix="mpcheck-run-", suffix=".pids")
    os.close(descriptor)
    try:
        full_env = environment(method, no_fork, env, log)
        problem = launch_problem(command, full_env)
        if problem:
            notify(f"warning: {command[0]} is started {problem}: it keeps its own default start method")
        outcome = _Run(command, full_env, cwd, capture, notify).wait(timeout, kill_after)
        with open(log, encoding="ascii") as pids:
            count = len(pids.read().split())
    finally:
        os.unlink(log)
    if count == 0:
        notify(f"warning: no Python process of the command ran with {method} as the default start method"
               " (one started with -I, -E or -S, or with PYTHONPATH or MPCHECK_* variables removed,"
               " cannot be reached)")
    return Outcome(method, no_fork, *outcome, python_processes=count)


class _Run:
    """One started command: its process group, the terminal, and captured output."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], cwd, capture: bool, notify: Notify) -> None:
        self.notify = notify
        self.terminal = _foreground_terminal() if not capture else None
        pipe = subprocess.PIPE if capture else None
        # A group of its own; on 3.10 (no process_group) a session of its own unless it needs
        # the terminal (preexec_fn is not safe where other threads run, as in the test oracle).
        if sys.version_info >= (3, 11):
            group: dict = {"process_group": 0}
        else:
            group = {"preexec_fn": os.setpgrp} if self.terminal is not None else {"start_new_session": True}
        self.process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=pipe, stderr=pipe,
                                        stdin=subprocess.DEVNULL if capture else None, **group)
        self.group = self.process.pid
        self.output: dict[str, bytes] = {}
        self.readers = [self._reader(name, stream) for name, stream in
                        (("stdout", self.process.stdout), ("stderr", self.process.stderr)) if stream is not None]
        if self.terminal is not None:
            _give_terminal(self.terminal, self.group)
            _signal_group(self.group, signal.SIGCONT)  # in case it read the terminal before it had it

    def _reader(self, name: str, stream) -> threading.Thread:
        def read() -> None:
            self.output[name] = stream.read()
            stream.close()

        thread = threading.Thread(target=read, name=f"mpcheck-run-{name}", daemon=True)
        thread.start()
        return thread

    def wait(self, timeout: float | None, kill_after: float) -> tuple:
        """(returncode, stdout, stderr, timed_out, interrupted), once the group is empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        returncode = interrupted = None
        timed_out = False
        with _signals_interrupt():
            try:
                returncode = self._wait_main(deadline)
                if returncode is None:
                    timed_out = True
                    self._take_terminal()
                    self.notify(f"timed out after {timeout:g}s: ending the command's process group")
                    self._end_group(kill_after)
                else:
                    self._take_terminal()
                    if not self._drained(time.monotonic() + kill_after):
                        self.notify(f"the command exited ({returncode}) leaving processes in its process group: ending them")
                        self._end_group(kill_after)
            except (KeyboardInterrupt, _Interrupted) as error:
                interrupted = error.signum if isinstance(error, _Interrupted) else signal.SIGINT
                self._take_terminal()
                self.notify(f"interrupted by {signal.Signals(interrupted).name}: ending the command's process group")
                try:
                    self._end_group(kill_after)
                except (KeyboardInterrupt, _Interrupted):  # asked again: no more waiting
                    _signal_group(self.group, signal.SIGKILL)
        for reader in self.readers:
            reader.join(timeout=_READER_GRACE)
        stdout, stderr = (self.output.get(name, b"").decode("utf-8", "replace") if self.readers else None
                          for name in ("stdout", "stderr"))
        return (None if timed_out or interrupted is not None else returncode), stdout, stderr, timed_out, interrupted

    def _wait_main(self, deadline: float | None) -> int | None:
        """The command's returncode, or None at the deadline. On a terminal, a command
        stopped by Ctrl-Z stops mpcheck too (the shell then has the terminal back)."""
        flags = os.WNOHANG | (os.WUNTRACED if self.terminal is not None else 0)
        pause = 0.001
        while True:
            pid, status = os.waitpid(self.process.pid, flags)
            if pid and os.WIFSTOPPED(status):
                self._suspend()
                continue
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return self.process.returncode
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _suspend(self) -> None:
        assert self.terminal is not None
        self._take_terminal()
        os.kill(os.getpid(), signal.SIGSTOP)
        # `fg` gives the terminal back to mpcheck's group; `bg` does not.
        if _foreground_terminal() == self.terminal:
            _give_terminal(self.terminal, self.group)
        _signal_group(self.group, signal.SIGCONT)

    def _take_terminal(self) -> None:
        if self.terminal is not None:
            _give_terminal(self.terminal, os.getpgrp())

    def _reap(self) -> None:
        if self.process.returncode is None:
            pid, status = os.waitpid(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)

    def _drained(self, deadline: float) -> bool:
        """Wait until no live process is left in the group, or the deadline; True if none is."""
        while True:
            self._reap()
            if not _group_members(self.group):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)

    def _end_group(self, kill_after: float) -> None:
        semaphores = _mapped_semaphores(_group_pids(self.group) or ())
        _signal_group(self.group, signal.SIGTERM)
        if not self._drained(time.monotonic() + kill_after):
            left = _group_members(self.group)
            self.notify(f"{left} process{'es' if left != 1 else ''} still running {kill_after:g}s after SIGTERM: "
                        "sending SIGKILL")
            semaphores.update(_mapped_semaphores(_group_pids(self.group) or ()))  # those made since
            _signal_group(self.group, signal.SIGKILL)
            if not self._drained(time.monotonic() + kill_after):
                return  # what is left may still use them
        # The resource tracker unlinks the semaphores it was told of; one a process made and
        # was ended before it told the tracker (or one the tracker, killed, could not unlink)
        # is left in /dev/shm until the machine restarts. No process of the group is left to
        # use those it had mapped. (One made by a process born after the last look, and ended
        # before it told the tracker, can still be left.)
        for path, inode in semaphores.items():
            try:
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
            except OSError:  # unlinked already (the tracker), or not ours to remove
                pass


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_members(group: int) -> int:
    """How many processes of process group `group` are alive (zombies, which wait for a
    parent to reap them, do not count). Linux reads /proc; elsewhere 1 stands for "some"."""
    pids = _group_pids(group)
    if pids is not None:
        return len(pids)
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return 0
    return 1


def _group_pids(group: int) -> list[int] | None:
    """The live processes (not zombies) of process group `group`, from /proc; None where
    there is no /proc."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    found = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue  # it exited meanwhile
        # After "(comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == group and fields[0] not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def _mapped_semaphores(pids: Iterable[int]) -> dict[str, int]:
    """The named semaphores multiprocessing made (`/dev/shm/sem.mp-*`, Linux's files for
    its sem_open(3) names `/mp-*`: multiprocessing/synchronize.py) that the processes `pids`
    have mapped, by path, with their inode. (/proc/PID/maps names the file glibc made the
    semaphore in before linking it to its name, since deleted: the inode is what tells.)"""
    inodes = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps", "rb") as maps:
                for line in maps:
                    fields = line.split(maxsplit=5)
                    if len(fields) == 6 and fields[5].startswith(b"/dev/shm/sem."):
                        inodes.add(int(fields[4]))
        except (OSError, ValueError):
            continue  # it exited meanwhile, or is not ours to read
    found = {}
    if inodes:
        try:
            with os.scandir("/dev/shm") as entries:
                for entry in entries:
                    if entry.name.startswith("sem.mp-") and entry.inode() in inodes:
                        found[entry.path] = entry.inode()
        except OSError:
            pass
    return found


def _foreground_terminal() -> int | None:
    """The file descriptor of mpcheck's terminal when mpcheck's group is its foreground group."""
    try:
        if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
            return 0
    except OSError:
        pass
    return None


def _give_terminal(descriptor: int, group: int) -> None:
    # A background process that changes the terminal's group gets SIGTTOU unless it blocks it.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
    try:
        os.tcsetpgrp(descriptor, group)
    except OSError:
        pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _signals_interrupt:
    """While active (main thread only), SIGTERM and SIGHUP raise _Interrupted, as SIGINT
    raises KeyboardInterrupt, so that the command's group is ended before mpcheck exits."""

    def __enter__(self) -> None:
        self.previous: dict = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in _INTERRUPTING_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self.previous[signum] = signal.signal(signum, _raise_interrupted)

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _raise_interrupted(signum: int, frame) -> None:
    raise _Interrupted(signum)


@dataclass(frozen=True)
class Comparison:
    """A run under `outcome.method` against the reference run under fork."""

    reference: Outcome
    outcome: Outcome

    @property
    def agrees(self) -> bool:
        """Same exit status (or both timed out) and the same stdout, byte for byte."""
        return (self.outcome.describe_status() == self.reference.describe_status()
                and self.outcome.stdout == self.reference.stdout)

    def stdout_diff(self) -> list[str]:
        """A unified diff from the fork run's stdout to this run's (lines end with newlines)."""
        lines = difflib.unified_diff(
            (self.reference.stdout or "").splitlines(keepends=True), (self.outcome.stdout or "").splitlines(keepends=True),
            fromfile="stdout under fork", tofile=f"stdout under {_label(self.outcome)}",
        )
        return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]


def compare(command: Sequence[str], methods: Sequence[str], *, no_fork: bool = False,
            env: Mapping[str, str] | None = None, **options) -> tuple[Outcome, list[Comparison]]:
    """Run `command` under fork, then under each of `methods`; the fork run and how each other
    run compares with it. Output is captured, with PYTHONUNBUFFERED=1 (the output of workers a
    pool ends would otherwise be lost in their buffers, differently under each method).
    `options` are run()'s. Stops after a run that was interrupted."""
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
    reference = run(command, "fork", env=env, capture=True, **options)
    comparisons: list[Comparison] = []
    for method in methods:
        if (comparisons[-1].outcome if comparisons else reference).interrupted is not None:
            break
        comparisons.append(Comparison(reference, run(command, method, no_fork=no_fork, env=env, capture=True, **options)))
    return reference, comparisons


def _label(outcome: Outcome) -> str:
    return f"{outcome.method} without fork" if outcome.no_fork else outcome.method


def format_comparison(reference: Outcome, comparisons: Sequence[Comparison], stderr_lines: int = 20) -> list[str]:
    """The report of `mpcheck run --compare`, as lines ending with newlines: each run's exit
    status, the diff of stdout where it differs from fork's, and the end of the standard
    error of runs that disagree (and of the fork run when it failed and another disagrees)."""
    lines = [f"fork: {reference.describe_status()}\n"]
    disagreeing = [comparison for comparison in comparisons if not comparison.agrees]
    if disagreeing and reference.describe_status() != "exit 0":
        lines += _stderr_tail(reference, stderr_lines)
    for comparison in comparisons:
        outcome = comparison.outcome
        if comparison.agrees:
            lines.append(f"{_label(outcome)}: {outcome.describe_status()}, stdout as under fork\n")
            continue
        differences = [text for text, differs in (
            ("exit status", outcome.describe_status() != reference.describe_status()),
            ("stdout", outcome.stdout != reference.stdout)) if differs]
        lines.append(f"{_label(outcome)}: {outcome.describe_status()}; {' and '.join(differences)} differ from fork's\n")
        lines += comparison.stdout_diff()
        lines += _stderr_tail(outcome, stderr_lines)
    if disagreeing:
        lines.append(f"{len(disagreeing)} of {len(comparisons)} runs behave differently from the run under fork.\n")
    elif comparisons:
        lines.append("Every run behaves as the run under fork (exit status and stdout).\n")
    return lines


def _stderr_tail(outcome: Outcome, count: int) -> list[str]:
    tail = (outcome.stderr or "").splitlines()[-count:]
    if not tail:
        return []
    return [f"--- stderr under {_label(outcome)} (last {len(tail)} lines)\n", *(f"  {line}\n" for line in tail)]
