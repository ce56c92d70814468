"""What a run says about itself: paths that do not exist, trees without Python files, fixes
that only `--unsafe-fixes` would apply, and files left unchecked on purpose (`ignore MP000`).
The last line is never "All checks passed!" unless every given path was checked."""

from __future__ import annotations

import json

import pytest

from .support import FORK_IMPORT, REPO

# A module that computes a table at import time with a pool, and a script that reads it:
# moving the pool under a main guard would leave `tables.SQUARES` undefined for the script,
# so the MP201 fix is offered as unsafe only.
TABLES = '''\
"""Lookup tables, computed in parallel when the module is imported."""
from multiprocessing import Pool


def square(n):
    return n * n


with Pool(2) as pool:
    SQUARES = pool.map(square, range(16))
'''
REPORT = '''\
import tables


def main():
    print("squares:", tables.SQUARES)


if __name__ == "__main__":
    main()
'''
# A script run directly, nothing imports it: the same fix is safe there.
BATCH = '''\
from multiprocessing import Pool


def resize(name):
    return name.upper()


with Pool(2) as pool:
    print(pool.map(resize, ["a.png", "b.png"]))
'''
# Files are parsed only when a rule could fire (the prefilter): this one mentions fork.
BROKEN = 'import multiprocessing\nctx = multiprocessing.get_context("fork")\ndef start(:\n    pass\n'


@pytest.fixture
def imported_pool(write, in_tmp):
    write("tables.py", TABLES)
    write("report.py", REPORT)
    write("batch.py", BATCH)
    return in_tmp


# -- paths that do not exist -----------------------------------------------------------

def test_a_missing_path_is_an_error_on_stderr_and_the_rest_is_checked(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    run = cli("check", "no/such/dir", "app.py")
    assert run.exit_code == 2
    assert run.stderr == "error: no/such/dir: no such file or directory\n"
    assert run.stdout.splitlines()[0].startswith("app.py:1:37: MP101 ")
    assert run.stdout.splitlines()[-1] == (
        "Found 1 finding (1 fixable). Run `mpcheck fix` to fix them. 1 path does not exist.")


def test_only_missing_paths_never_pass(installed, in_tmp):
    run = installed("check", "src", "tests", cwd=in_tmp)
    assert run.exit_code == 2
    assert "All checks passed!" not in run.stdout
    assert run.stdout == "2 paths do not exist.\n"
    assert run.stderr.splitlines() == ["error: src: no such file or directory", "error: tests: no such file or directory"]


def test_fix_with_a_missing_path_fixes_the_rest_and_exits_2(cli, write, in_tmp):
    app = write("app.py", FORK_IMPORT)
    run = cli("fix", "app.py", "typo.py")
    assert run.exit_code == 2
    assert "ForkOrSpawnProcess" in app.read_text()
    assert run.stdout == "Fixed 1 finding (0 remaining). 1 path does not exist.\n"


# -- no Python files ---------------------------------------------------------------------

def test_a_tree_without_python_files_warns_and_exits_0_like_ruff(installed, write, in_tmp):
    write("docs/index.md", "# Docs\n")
    write("scripts/deploy.sh", "#!/bin/sh\nexec gunicorn app:app\n")
    run = installed("check", "docs", "scripts", cwd=in_tmp)
    assert (run.exit_code, run.stdout) == (0, "")
    assert run.stderr == "warning: No Python files found under the given path(s)\n"


def test_a_tree_whose_python_files_are_all_excluded_has_none_either(cli, write, in_tmp):
    write("build/lib/app.py", FORK_IMPORT)  # build/ is excluded by default
    write("vendor/legacy.py", FORK_IMPORT)
    for command in ("check", "fix"):
        run = cli(command, "--extend-exclude", "vendor", ".")
        assert (run.exit_code, run.stdout) == (0, ""), command
        assert "No Python files found" in run.stderr


def test_machine_formats_still_print_their_empty_document(cli, write, in_tmp):
    write("README.md", "nothing to lint\n")
    run = cli("check", "--output-format", "json", ".")
    assert run.exit_code == 0
    assert json.loads(run.stdout)["diagnostics"] == []
    assert "No Python files found" in run.stderr


def test_an_empty_file_is_a_python_file_that_passes(cli, write, in_tmp):
    write("pkg/__init__.py", "")
    run = cli("check", "pkg")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "All checks passed!\n", "")


# -- fixes that need --unsafe-fixes ------------------------------------------------------

def test_check_counts_the_fixes_only_unsafe_fixes_would_apply(cli, imported_pool):
    run = cli("check", ".")
    assert run.exit_code == 1
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]] == [
        ["batch.py:8:6:", "MP201"], ["tables.py:9:6:", "MP201"]]
    assert run.stdout.splitlines()[-1] == (
        "Found 2 findings (1 fixable, 1 more with `--unsafe-fixes`). Run `mpcheck fix` to fix them.")
    with_unsafe = cli("check", "--unsafe-fixes", ".")
    assert with_unsafe.stdout.splitlines()[-1] == "Found 2 findings (2 fixable). Run `mpcheck fix` to fix them."


def test_fix_and_diff_say_how_many_more_unsafe_fixes_would_fix(cli, imported_pool):
    diff = cli("fix", "--diff", ".")
    assert diff.stderr.splitlines()[-1] == "Would fix 1 finding (1 more with `--unsafe-fixes`)."
    fixed = cli("fix", ".")
    assert fixed.exit_code == 1
    assert fixed.stdout.splitlines()[-1] == "Fixed 1 finding (1 remaining; 1 more fixable with `--unsafe-fixes`)."
    assert 'if __name__ == "__main__":' in (imported_pool / "batch.py").read_text()
    assert (imported_pool / "tables.py").read_text() == TABLES
    unsafe = cli("fix", "--unsafe-fixes", ".")
    assert (unsafe.exit_code, unsafe.stdout) == (0, "Fixed 1 finding (0 remaining).\n")


def test_json_has_no_fix_for_a_finding_whose_fix_is_hidden(cli, imported_pool):
    findings = json.loads(cli("check", "--output-format", "json", "tables.py", "report.py").stdout)["diagnostics"]
    assert [(f["file"], f["fix"]) for f in findings] == [("tables.py", None)]


# -- ignoring MP000 ----------------------------------------------------------------------

def test_mp000_is_a_known_code_for_ignore(cli, write, in_tmp):
    write("broken.py", BROKEN)
    write("app.py", FORK_IMPORT)
    reported = cli("check", ".")
    assert reported.exit_code == 2 and "broken.py:3:11: MP000" in reported.stdout
    ignored = cli("check", "--ignore", "MP000", ".")
    assert ignored.exit_code == 1  # the findings of the files that could be checked decide
    assert "MP000" not in ignored.stdout.replace("(MP000 is ignored)", "")
    assert ignored.stdout.splitlines()[-1] == (
        "Found 1 finding (1 fixable). Run `mpcheck fix` to fix them. 1 file could not be checked (MP000 is ignored).")


def test_an_ignored_mp000_still_never_says_all_checks_passed(cli, write, in_tmp):
    write("broken.py", BROKEN)
    run = cli("check", "--ignore", "MP000", "broken.py")
    assert (run.exit_code, run.stdout) == (0, "1 file could not be checked (MP000 is ignored).\n")


@pytest.mark.parametrize("selector", ["MP", "ALL"])
def test_ignoring_every_rule_is_not_ignoring_input_errors(cli, write, in_tmp, selector):
    write("broken.py", BROKEN)
    run = cli("check", "--ignore", selector, "--extend-select", "MP101", "broken.py")
    assert run.exit_code == 2 and "MP000" in run.stdout


def test_per_file_ignores_can_name_mp000_for_one_directory(cli, write, in_tmp):
    write("pyproject.toml", '[tool.mpcheck]\nper-file-ignores = { "py2/*" = ["MP000"] }\n')
    write("py2/legacy.py", BROKEN)
    write("src/broken.py", BROKEN)
    run = cli("check", ".")
    assert run.exit_code == 2
    assert [line.split(":")[0] for line in run.stdout.splitlines()[:-1]] == ["src/broken.py"]
    assert run.stdout.splitlines()[-1] == (
        "1 file could not be checked. 1 file could not be checked (MP000 is ignored).")


def test_ignoring_mp000_leaves_a_broken_file_alone_under_fix(cli, write, in_tmp):
    broken = write("broken.py", BROKEN)
    good = write("good.py", FORK_IMPORT)
    run = cli("fix", "--ignore", "MP000", ".")
    assert run.exit_code == 0
    assert broken.read_text() == BROKEN and "ForkOrSpawnProcess" in good.read_text()


def test_an_unknown_code_is_still_a_usage_error(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    run = cli("check", "--ignore", "MP001", "app.py")
    assert run.exit_code == 2
    assert "unknown rule code `MP001`" in run.stderr and "MP000, MP101" in run.stderr


def test_the_guide_quotes_these_lines_as_they_are_printed():
    guide = (REPO / "docs" / "guide.md").read_text(encoding="utf-8")
    for printed in (
        "Found 2 findings (1 fixable, 1 more with `--unsafe-fixes`).",  # test_check_counts_...
        "Fixed 1 finding (1 remaining; 1 more fixable with `--unsafe-fixes`).",  # test_fix_and_diff_...
        "No Python files found under the given path(s)",
        "1 file could not be checked (MP000 is ignored).",
        "error: src/ap.py: no such file or directory",
    ):
        assert printed in guide, printed
