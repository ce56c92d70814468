"""pytest options `--mp-start-method=spawn|forkserver|fork` and `--mp-no-fork`: run a test
suite as it would start on macOS/Windows (spawn), Linux from Python 3.14 (forkserver), or
Windows with fork absent. Registered through the `pytest11` entry point; without the options
it does nothing and imports nothing (not multiprocessing, not mpcheck's checker).

With an option the pytest process itself gets the start method (as `mpcheck run` gives it to
every Python process: startmethod.apply()) before any conftest is imported, and its
environment gets the variables that give it to every Python process the tests start:
multiprocessing's spawn and forkserver children, `subprocess` interpreters, pytest-xdist workers.
"""

from __future__ import annotations

import os
import sys

import pytest

_CHOICES = ("fork", "spawn", "forkserver")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mpcheck", "multiprocessing start method (mpcheck)")
    group.addoption("--mp-start-method", choices=_CHOICES, default=None, metavar="METHOD",
                    help="Make METHOD (fork, spawn, forkserver) the default multiprocessing start method of "
                         "pytest and of every Python process the tests start, as a platform's default would be.")
    group.addoption("--mp-no-fork", action="store_true", default=False,
                    help="Also remove fork as Windows lacks it (spawn is then the only start method).")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    options = early_config.known_args_namespace
    method = options.mp_start_method or ("spawn" if options.mp_no_fork else None)
    if method is None:
        return
    # In a process `mpcheck run` started, the injected sitecustomize has loaded the same code
    # under another name: use that copy, whose state is this process's.
    startmethod = sys.modules.get("_mpcheck_startmethod")
    if startmethod is None:
        from . import startmethod
    try:
        os.environ.update(startmethod.environment(method, options.mp_no_fork))
        startmethod.apply(method, options.mp_no_fork)
    except ValueError as error:
        given = f"--mp-start-method={method}" + (" --mp-no-fork" if options.mp_no_fork else "")
        raise pytest.UsageError(f"{given}: {error}") from None


def pytest_report_header(config: pytest.Config) -> str | None:
    method = config.getoption("mp_start_method") or ("spawn" if config.getoption("mp_no_fork") else None)
    if method is None:
        return None
    return f"multiprocessing: default start method {method}{', fork removed' if config.getoption('mp_no_fork') else ''} (mpcheck)"
