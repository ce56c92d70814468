"""The start method replaced from outside (mpcheck/runtime/startmethod.py, loaded by the
injected sitecustomize), checked on real programs: what a program, its children, a
`subprocess` interpreter started by a child, see under each mode, on every CPython present;
what stays as the user had it; and the processes that cannot be reached being reported."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from mpcheck.runtime.runner import run
from mpcheck.runtime.startmethod import INJECT_DIRECTORY, environment, launch_problem

from .oracle import interpreters

DATA = Path(__file__).resolve().parent / "data" / "start_methods"
REPORT = DATA / "platform_report.py"
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
MODES = {"fork": ("fork", False), "spawn": ("spawn", False), "forkserver": ("forkserver", False),
         "no-fork": ("spawn", True)}


def expected_report(method: str, no_fork: bool) -> dict:
    """What docs/facts.md §1-2 say a program sees where `method` is the platform's default
    (no_fork: on Windows)."""
    others = [name for name in ("fork", "spawn", "forkserver") if name != method]
    child_origin = "changed by main" if method == "fork" else "set at import"
    report = {
        "explicitly_set": None,
        "all_start_methods": ["spawn"] if no_fork else [method, *others],
        "os": [] if no_fork else ["fork", "forkpty", "register_at_fork"],
        "import_fork_process": "ImportError: cannot import name 'ForkProcess' from 'multiprocessing.context'" if no_fork else None,
        "get_context_fork": "ValueError: cannot find context for 'fork'" if no_fork else None,
        "get_context_forkserver": "ValueError: cannot find context for 'forkserver'" if no_fork else None,
        "set_start_method": None,
        "set_start_method_again": "RuntimeError: context has already been set",
        "child": {"start_method": method, "os_fork": not no_fork, "origin": child_origin,
                  "subprocess": {"start_method": method, "os_fork": not no_fork}},
    }
    if not no_fork:  # get_context("fork") still forks, and the fork child's own interpreters get the default
        report["fork_child"] = {"start_method": "fork", "os_fork": True, "origin": "changed by main",
                                "subprocess": {"start_method": method, "os_fork": True}}
    return report


def report_under(python: str, mode: str) -> dict:
    method, no_fork = MODES[mode]
    outcome = run([python, str(REPORT)], method, no_fork=no_fork, timeout=60, capture=True, notify=pytest.fail)
    assert outcome.returncode == 0, outcome.stderr
    return json.loads(outcome.stdout)


@pytest.mark.parametrize("mode", MODES)
def test_the_program_its_children_and_their_interpreters_see_the_platform_default(mode):
    assert report_under(sys.executable, mode) == expected_report(*MODES[mode])


@pytest.mark.parametrize("version", sorted(interpreters()))
def test_every_python_gets_it_without_mpcheck_installed(version):
    python = interpreters()[version]
    if python is None:
        pytest.skip(f"CPython {version} is not installed here (looked in ~/.pyenv/versions)")
    if version == CURRENT:
        pytest.skip("the running interpreter is the test above")
    assert report_under(python, "no-fork") == expected_report("spawn", True)
    assert report_under(python, "forkserver") == expected_report("forkserver", False)


def test_the_users_pythonpath_environment_and_sitecustomize_are_kept(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import os\nos.environ['APP_PROFILE'] = 'ci'\n")
    (site / "appconfig.py").write_text("NAME = 'from the user path'\n")
    program = tmp_path / "show.py"
    program.write_text(textwrap.dedent("""\
        import os, sys
        import appconfig, sitecustomize
        print(appconfig.NAME, os.environ["APP_PROFILE"], os.environ["TEAM"])
        print(sitecustomize.__file__)
        print(sys.argv[1] in sys.path, "multiprocessing" in sys.modules)
    """))
    outcome = run([sys.executable, str(program), INJECT_DIRECTORY], "spawn", capture=True, notify=pytest.fail,
                  env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "TEAM": "render"})
    assert outcome.returncode == 0, outcome.stderr
    # The user's sitecustomize ran after mpcheck's; sys.path is the one without mpcheck, and
    # a program that does not use multiprocessing does not have it imported for it.
    assert outcome.stdout.splitlines() == ["from the user path ci render", str(site / "sitecustomize.py"), "False False"]


def test_environment_puts_the_injection_first_and_keeps_the_rest():
    env = environment("forkserver", base={"PYTHONPATH": "/src:/lib", "PYTHONHASHSEED": "0", "HOME": "/home/u"})
    assert env["PYTHONPATH"].split(":") == [INJECT_DIRECTORY, "/src", "/lib"]
    assert (env["PYTHONHASHSEED"], env["HOME"], env["MPCHECK_START_METHOD"]) == ("0", "/home/u", "forkserver")
    assert "MPCHECK_NO_FORK" not in env
    assert environment("spawn", True, base=env)["PYTHONPATH"] == env["PYTHONPATH"]  # not twice
    with pytest.raises(ValueError, match="spawn is the only start method"):
        environment("forkserver", no_fork=True)


@pytest.mark.parametrize(("argv", "problem"), [
    (["python3", "app.py"], None),
    (["/usr/bin/python3.12", "-u", "-X", "dev", "-m", "pkg"], None),
    (["python3", "-c", "-I"], None),  # after -c comes the program text
    (["python3", "-I", "app.py"], "with -I (isolated mode ignores PYTHONPATH)"),
    (["python", "-Es", "app.py"], "with -E (PYTHONPATH is ignored)"),
    (["python3.13", "-W", "error", "-S", "-m", "pkg"], "with -S (site, which imports sitecustomize, is not imported)"),
    (["git", "-I"], None),
])
def test_launch_problem_reads_interpreter_options(argv, problem):
    assert launch_problem(argv, environment("spawn")) == problem


def test_a_python_that_cannot_be_reached_is_reported_not_silently_run_under_fork(tmp_path):
    program = tmp_path / "launcher.py"
    program.write_text(textwrap.dedent("""\
        import subprocess, sys
        # Tools start interpreters isolated (pip's build isolation) or with a cleaned environment.
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
        subprocess.run([sys.executable, "-c", "pass"], env={"PATH": "/usr/bin"}, check=True)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    """))
    notes: list[str] = []
    outcome = run([sys.executable, str(program)], "spawn", capture=True, notify=notes.append)
    assert (outcome.returncode, notes) == (0, [])
    warnings = outcome.stderr.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith(f"mpcheck: warning: {sys.executable} is started with -I (isolated mode ignores PYTHONPATH): ")
    assert "with an environment that lacks mpcheck's PYTHONPATH entry" in warnings[1]
    assert all(line.endswith("it keeps its own default start method instead of spawn") for line in warnings)
    # Three Python processes ran: only the launcher and the last one had the start method.
    assert outcome.python_processes == 2

    # The command itself isolated: mpcheck says so; only the last child, which inherits the
    # environment, runs with spawn (the launcher, unreached, cannot warn about the others).
    notes.clear()
    outcome = run([sys.executable, "-I", str(program)], "spawn", capture=True, notify=notes.append)
    assert (outcome.returncode, outcome.stderr, outcome.python_processes) == (0, "", 1)
    assert notes == [f"warning: {sys.executable} is started with -I (isolated mode ignores PYTHONPATH): "
                     "it keeps its own default start method"]


def test_a_command_in_which_no_python_gets_the_start_method_is_reported(tmp_path):
    notes: list[str] = []
    outcome = run([sys.executable, "-S", "-c", "import sys; sys.exit(4)"], "forkserver", capture=True, notify=notes.append)
    assert (outcome.returncode, outcome.python_processes) == (4, 0)
    assert notes[1].startswith("warning: no Python process of the command ran with forkserver as the default start method")
