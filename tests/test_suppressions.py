"""`# noqa` as flake8 reads it (blanket, exact codes, prefixes, other tools' codes), and the
file-level `# mpcheck: noqa` as ruff reads `# ruff: noqa`."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck.suppressions import FileExemption, find_file_exemption, find_suppressions, is_suppressed

FORK = 'from multiprocessing.context import ForkProcess'


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# noqa", True),
        ("# NOQA", True),
        ("# noqa: MP101", True),
        ("# noqa:MP101", True),
        ("# noqa: mp101", True),
        ("# noqa: MP1", True),  # a prefix silences the family
        ("# noqa: MP", True),  # no digits: not a code, so flake8 reads a blanket noqa
        ("# noqa: E501, MP101", True),  # other tools' codes on the same comment
        ("# noqa: E501,MP101 -- legacy entry point", True),
        ("# type: ignore  # noqa: MP101", True),
        ("# noqa: E501", False),  # another tool's code only
        ("# noqa: MP102", False),
        ("# noqa: MP2", False),
        ("# noqa: XYZ123", False),  # unknown codes are left alone, not errors
        ("# no qa", False),
        ("", False),
    ],
)
def test_noqa_on_the_finding_line(comment, suppressed):
    findings = mpcheck.check_source(f"{FORK}  {comment}\n", "app.py")
    assert (findings == []) is suppressed, findings


def test_noqa_applies_to_its_own_line_only():
    source = f"import os\n{FORK}\nos.fork()  # noqa: MP101\n"
    assert [d.line for d in mpcheck.check_source(source, "app.py")] == [2]


def test_noqa_on_a_later_line_of_a_multiline_call_does_not_reach_its_first_line():
    source = 'import multiprocessing as mp\nctx = mp.get_context(\n    "fork",  # noqa: MP101\n)\n'
    (finding,) = mpcheck.check_source(source, "app.py")
    assert finding.line == 2  # the finding is reported where the call starts, as flake8 would


def test_a_suppressed_finding_is_not_fixed():
    source = f"{FORK}  # noqa: MP101\n"
    assert mpcheck.fix_source(source, "app.py").text == source


def test_noqa_inside_a_string_is_not_a_comment_but_is_read_like_flake8():
    # flake8 reads noqa from the physical line, strings included; mpcheck agrees with it.
    assert find_suppressions('x = "# noqa"\n') == {1: None}


def test_find_suppressions_maps_lines_to_codes():
    found = find_suppressions("a  # noqa\nb\nc  # noqa: MP101, e501\n")
    assert found == {1: None, 3: frozenset({"MP101", "E501"})}
    assert is_suppressed("MP101", 3, found) and not is_suppressed("MP101", 2, found)


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x85", "\u2028"], ids=repr)
def test_characters_str_splitlines_breaks_at_do_not_shift_the_noqa_lines(separator):
    # Python (and flake8) end a line only at \n, \r\n or \r: a form feed line (old GNU
    # style), or any of these in a comment or a string, is one line.
    source = f"import os\n\f\n# {separator} a comment\nx = '{separator}'\nos.fork()  # noqa: MP101\n"
    assert find_suppressions(source) == {5: frozenset({"MP101"})}
    assert mpcheck.check_source(source, "app.py") == []
    assert [d.line for d in mpcheck.check_source(source.replace("  # noqa: MP101", ""), "app.py")] == [5]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=repr)
def test_a_file_directive_after_a_form_feed_line_in_any_line_ending(newline):
    source = SUPERVISOR.format(directive="\f\n# mpcheck: noqa: MP101").replace("\n", newline)
    assert [d.code for d in mpcheck.check_source(source, "supervisor.py")] == ["MP201"]


def test_noqa_through_the_command(cli, write, in_tmp):
    write("app.py", f"{FORK}  # noqa: E402, MP1\nimport os\nos.fork()\n")
    run = cli("check", "app.py")
    assert run.stdout.splitlines()[0].startswith("app.py:3:1: MP101")
    assert "Found 1 finding (0 fixable)." in run.stdout


# -- the whole file: `# mpcheck: noqa` ---------------------------------------------------

# A Linux-only supervisor that forks on purpose, and starts a pool at import time.
SUPERVISOR = '''\
"""Linux-only supervisor: forks its workers on purpose."""
{directive}
import multiprocessing
import os

ctx = multiprocessing.get_context("fork")


def supervise(jobs):
    for job in jobs:
        if os.fork() == 0:
            job()
            os._exit(0)


pool = multiprocessing.Pool(2)
pool.close()
'''


def _codes(directive: str) -> list[str]:
    return sorted(d.code for d in mpcheck.check_source(SUPERVISOR.format(directive=directive), "supervisor.py"))


def test_without_a_directive_every_rule_reports():
    assert _codes("") == ["MP101", "MP101", "MP201"]


@pytest.mark.parametrize(
    ("directive", "codes"),
    [
        ("# mpcheck: noqa", []),
        ("# mpcheck: noqa -- deployed on Linux only", []),
        ("#mpcheck:noqa", []),
        ("# MPCHECK: NOQA", []),
        ("    # mpcheck: noqa", []),  # indented, still a line of its own
        ("# mpcheck: noqa: MP101", ["MP201"]),
        ("# mpcheck: noqa: MP1", ["MP201"]),  # a prefix, as in line-level noqa
        ("# mpcheck: noqa:MP101,MP201", []),
        ("# mpcheck: noqa: MP101 MP2 -- reason", []),
        ("# mpcheck: noqa: mp2", ["MP101", "MP101"]),
        ("# mpcheck: noqa: E501", ["MP101", "MP101", "MP201"]),  # another tool's code
        ("# mpcheck: noqa: all", ["MP101", "MP101", "MP201"]),  # no code listed: nothing
        ("# mpcheck: noqa:", ["MP101", "MP101", "MP201"]),
        ("# ruff: noqa", ["MP101", "MP101", "MP201"]),  # other tools' file directives
        ("# flake8: noqa", ["MP101", "MP101", "MP201"]),
        ("x = 1  # mpcheck: noqa", ["MP101", "MP101", "MP201"]),  # after code: not a file directive
        ('NOTE = """\n# mpcheck: noqa\n"""', ["MP101", "MP101", "MP201"]),  # in a string
    ],
)
def test_file_directive(directive, codes):
    assert _codes(directive) == codes


def test_the_directive_may_stand_anywhere_and_directives_add_up():
    source = SUPERVISOR.format(directive="") + "# mpcheck: noqa: MP101\n\n# mpcheck: noqa: MP201\n"
    assert mpcheck.check_source(source, "supervisor.py") == []


def test_a_file_exemption_is_not_fixed_either():
    source = SUPERVISOR.format(directive="# mpcheck: noqa: MP101")
    assert mpcheck.fix_source(source, "supervisor.py", settings=mpcheck.Settings(select=("MP101",))).text == source


def test_a_wholly_exempt_file_is_not_parsed_so_its_syntax_is_not_mpchecks_business():
    broken = "# mpcheck: noqa\nimport os\nos.fork(\n"
    assert mpcheck.check_source(broken, "vendored.py") == []
    assert [d.code for d in mpcheck.check_source(broken.replace("noqa", "noqa: MP2"), "vendored.py")] == ["MP000"]
    assert mpcheck.check_source(broken.replace("noqa", "noqa: MP000, MP2"), "vendored.py") == []


def test_file_exemption_through_the_command(cli, write, in_tmp):
    write("supervisor.py", SUPERVISOR.format(directive="# mpcheck: noqa: MP101"))
    write("daemon.py", SUPERVISOR.format(directive="# mpcheck: noqa"))
    run = cli("check", ".")
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]] == [["supervisor.py:16:8:", "MP201"]]
    assert run.exit_code == 1


def test_find_file_exemption():
    assert find_file_exemption("import os\n") == FileExemption()
    assert find_file_exemption("# mpcheck: noqa\n").whole_file
    exemption = find_file_exemption("# mpcheck: noqa: MP101, mp2\nx = 1\n# mpcheck: noqa: MP3\n")
    assert exemption == FileExemption(False, frozenset({"MP101", "MP2", "MP3"}))
    assert exemption.exempts("MP201") and not exemption.exempts("MP401")
