"""`# noqa` as flake8 reads it: blanket, exact codes, prefixes, other tools' codes."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck.suppressions import find_suppressions, is_suppressed

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


def test_noqa_through_the_command(cli, write, in_tmp):
    write("app.py", f"{FORK}  # noqa: E402, MP1\nimport os\nos.fork()\n")
    run = cli("check", "app.py")
    assert run.stdout.splitlines()[0].startswith("app.py:3:1: MP101")
    assert "Found 1 finding (0 fixable)." in run.stdout
