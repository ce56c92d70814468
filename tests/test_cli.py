"""The command line as a user meets it: the installed script, `python -m mpcheck` and
click's runner agree; the aliases, output formats, summary line and exit statuses."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from .support import FORK_IMPORT, mpcheck_command, run_command

TWO_FINDINGS = FORK_IMPORT + "import os\n\nif __name__ == '__main__':\n    os.fork()\n"
MESSAGE_1 = "app.py:1:37: MP101 `ForkProcess` does not exist on Windows"
MESSAGE_2 = "app.py:5:5: MP101 `os.fork()` does not exist on Windows"


@pytest.fixture
def project(write, in_tmp):
    write("app.py", TWO_FINDINGS)
    write("clean.py", "import multiprocessing as mp\nctx = mp.get_context('spawn')\n")
    return in_tmp


def test_installed_script_python_m_and_click_runner_agree(cli, project):
    commands = {
        "script": mpcheck_command(),
        "python -m": [sys.executable, "-m", "mpcheck"],
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(commands, pool.map(lambda c: run_command([*c, "check", "."], project), commands.values())))
    in_process = cli("check", ".")
    for name, run in runs.items():
        assert (run.exit_code, run.stdout) == (in_process.exit_code, in_process.stdout), name
    assert in_process.exit_code == 1


def test_text_output_and_summary_line(cli, project):
    run = cli("check", "app.py", "clean.py")
    lines = run.stdout.splitlines()
    assert lines[0].startswith(MESSAGE_1) and lines[1].startswith(MESSAGE_2)
    assert lines[2] == "Found 2 findings (1 fixable). Run `mpcheck fix` to fix them."
    assert len(lines) == 3 and run.exit_code == 1


def test_clean_files_exit_zero(cli, project):
    run = cli("check", "clean.py")
    assert (run.exit_code, run.stdout) == (0, "All checks passed!\n")


def test_plain_paths_mean_check_and_dash_dash_fix_means_fix(cli, project):
    assert cli("app.py").stdout == cli("check", "app.py").stdout
    original = (project / "app.py").read_text()
    fixed_by_flag = cli("--fix", "app.py")
    after_flag = (project / "app.py").read_text()
    (project / "app.py").write_text(original)
    fixed_by_command = cli("fix", "app.py")
    assert (project / "app.py").read_text() == after_flag != original
    assert fixed_by_flag.stdout == fixed_by_command.stdout
    assert fixed_by_flag.exit_code == fixed_by_command.exit_code == 1  # os.fork() remains
    assert "Fixed 1 finding (1 remaining)." in fixed_by_flag.stdout


def test_select_ignore_extend_select(cli, project):
    assert cli("check", "--ignore", "MP101", "app.py").exit_code == 0
    assert cli("check", "--ignore", "MP1", "--extend-select", "MP101", "app.py").exit_code == 1
    assert cli("check", "--select", "MP1", "app.py").exit_code == 1


def test_json_output(cli, project):
    run = cli("check", "--output-format", "json", "app.py")
    assert run.exit_code == 1
    findings = json.loads(run.stdout)["diagnostics"]
    assert [(f["file"], f["code"], f["line"], f["column"]) for f in findings] == [
        ("app.py", "MP101", 1, 37), ("app.py", "MP101", 5, 5),
    ]
    assert findings[0]["name"] == "fork-only-api"
    assert findings[0]["fix"]["applicability"] == "safe"
    assert "ForkOrSpawnProcess" in findings[0]["fix"]["edit"]["content"]
    assert findings[1]["fix"] is None


def test_json_output_includes_input_errors(cli, write, in_tmp):
    write("broken.py", "import os  # fork\ndef f(:\n")
    findings = json.loads(cli("check", "--output-format", "json", "broken.py").stdout)["diagnostics"]
    assert [(f["code"], f["line"]) for f in findings] == [("MP000", 2)]


def test_statistics(cli, project):
    run = cli("check", "--statistics", "app.py")
    assert run.stdout.splitlines()[0] == "2\tMP101\t[*] fork-only-api"
    assert run.exit_code == 1


def test_exit_zero_and_quiet(cli, project):
    run = cli("check", "--exit-zero", "--quiet", "app.py")
    assert run.exit_code == 0
    assert len(run.stdout.splitlines()) == 2 and "Found" not in run.stdout


def test_exit_zero_does_not_hide_files_that_could_not_be_checked(cli, write, project):
    write("broken.py", "import os  # fork\ndef f(:\n")
    assert cli("check", "--exit-zero", ".").exit_code == 2


def test_no_colour_unless_a_terminal(cli, installed, project):
    assert "\x1b[" not in installed("check", "app.py").stdout
    assert "\x1b[" in cli("check", "app.py", color=True).stdout


def test_rules_table(cli):
    run = cli("rules")
    assert run.exit_code == 0
    header, *rows = run.stdout.splitlines()
    assert header.split() == ["CODE", "NAME", "FIX", "SUMMARY"]
    assert any(row.split()[:3] == ["MP101", "fork-only-api", "safe"] for row in rows)


def test_explain(cli):
    run = cli("explain", "mp101")
    assert run.exit_code == 0
    assert run.stdout.startswith("# MP101: fork-only-api")
    assert "cannot import name 'ForkProcess' from 'multiprocessing.context'" in run.stdout


def test_explain_unknown_code_is_a_usage_error(installed):
    run = installed("explain", "MP999")
    assert run.exit_code == 2
    assert "unknown rule code 'MP999'" in run.stderr


@pytest.mark.parametrize(
    "args",
    [["check"], ["check", "--output-format", "xml", "."], ["check", "--no-such-flag", "."], ["fix"]],
    ids=["no-paths", "bad-format", "bad-flag", "fix-no-paths"],
)
def test_usage_errors_exit_2(cli, project, args):
    run = cli(*args)
    assert run.exit_code == 2
    assert "Error:" in run.stderr


def test_version(installed):
    run = installed("--version")
    assert run.exit_code == 0 and run.stdout.startswith("mpcheck, version ")
