"""pytest's --mp-start-method and --mp-no-fork (mpcheck/runtime/pytest_plugin.py, found
through the `pytest11` entry point), tried with pytester on a small suite whose first test
passes under fork only: the option reaches the pytest process itself, the processes the tests
start, and the interpreters they run; without it nothing changes and nothing is imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = Path(__file__).resolve().parent / "data" / "start_methods" / "test_report.py"
# Prints, with -s, what the pytest process and its children see; and what was imported
# before any test module was (conftest.py is imported after the plugin has acted).
PROBES = {
    "conftest.py": """\
        import sys

        IMPORTED_BEFORE_TESTS = sorted({"multiprocessing", "libcst"} & set(sys.modules))
    """,
    "test_where_it_runs.py": """\
        import json, multiprocessing, os, subprocess, sys

        import conftest


        def describe(queue=None):
            def fails(action):
                try:
                    action()
                except ValueError as error:
                    return str(error)
            seen = {"default": multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_context().get_start_method(),
                    "os_fork": hasattr(os, "fork"), "get_context_fork": fails(lambda: multiprocessing.get_context("fork"))}
            if queue is None:
                return seen
            queue.put(seen)


        def test_report_where_it_runs():
            child_queue = multiprocessing.SimpleQueue()
            child = multiprocessing.Process(target=describe, args=(child_queue,))
            child.start()
            interpreter = subprocess.run([sys.executable, "-c", "import json, test_where_it_runs as t; print(json.dumps(t.describe()))"],
                                         capture_output=True, text=True, check=True, cwd=os.path.dirname(__file__))
            report = {"imported_before_tests": conftest.IMPORTED_BEFORE_TESTS, "pytest": describe(),
                      "child": child_queue.get(), "subprocess": json.loads(interpreter.stdout)}
            child.join()
            print("REPORT", json.dumps(report, sort_keys=True))
    """,
}


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_report=SUITE.read_text(), **{name[:-3]: textwrap.dedent(text) for name, text in PROBES.items()})
    return pytester


def run_suite(suite: pytest.Pytester, *options: str) -> tuple[pytest.RunResult, dict]:
    result = suite.runpytest_subprocess("-s", "-p", "no:cacheprovider", *options, timeout=120)
    reports = [line.partition("REPORT ")[2] for line in result.outlines if "REPORT " in line]
    return result, json.loads(reports[0]) if reports else {}


def seen(method: str, no_fork: bool = False) -> dict:
    return {"default": method, "os_fork": not no_fork,
            "get_context_fork": "cannot find context for 'fork'" if no_fork else None}


def test_without_the_option_nothing_changes(suite):
    result, report = run_suite(suite)
    result.assert_outcomes(passed=4)
    assert report == {"imported_before_tests": [], "pytest": seen("fork"), "child": seen("fork"), "subprocess": seen("fork")}
    assert not any(line.startswith("multiprocessing:") for line in result.outlines)  # no header line


def test_spawn_reaches_pytest_its_children_and_their_interpreters(suite):
    result, report = run_suite(suite, "--mp-start-method=spawn")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["multiprocessing: default start method spawn (mpcheck)",
                                 "*AssertionError: assert 'latency 12ms' == 'latency 12s'"])
    # The option imports neither multiprocessing (it is patched when the program imports it) nor libcst.
    assert report == {"imported_before_tests": [], "pytest": seen("spawn"), "child": seen("spawn"), "subprocess": seen("spawn")}


def test_no_fork_removes_fork_everywhere(suite):
    result, report = run_suite(suite, "--mp-no-fork")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["multiprocessing: default start method spawn, fork removed (mpcheck)"])
    assert report["pytest"] == report["child"] == report["subprocess"] == seen("spawn", no_fork=True)


def test_forkserver(suite):
    result, report = run_suite(suite, "--mp-start-method", "forkserver")
    result.assert_outcomes(passed=3, failed=1)
    assert report["pytest"] == report["child"] == report["subprocess"] == seen("forkserver")


def test_fork_without_fork_is_a_usage_error(suite):
    result = suite.runpytest_subprocess("--mp-start-method=fork", "--mp-no-fork")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*without fork, spawn is the only start method (as on Windows), not 'fork'"])


def test_importing_the_plugin_imports_neither_multiprocessing_nor_the_checker():
    probe = ("import sys, pytest; before = set(sys.modules); import mpcheck.runtime.pytest_plugin; "
             "print(sorted(m for m in set(sys.modules) - before if not m.startswith('mpcheck')))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout == "[]\n"
