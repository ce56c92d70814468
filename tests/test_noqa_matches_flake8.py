"""`# noqa` means the same to mpcheck as to flake8: the docs promise one comment serves both."""

from __future__ import annotations

import re

import pytest
from flake8.defaults import NOQA_INLINE_REGEXP

import mpcheck
from mpcheck.suppressions import find_suppressions

COMMENTS = [
    "# noqa",
    "# NOQA",
    "# noqa: MP101",
    "# noqa:MP101",
    "# noqa: MP1",
    "# noqa: E501, MP101",
    "# noqa: E501,MP101 W291",
    "# noqa: mp101",
    "# noqa: MP102",
    "# noqa: E501",
    "# noqa: MP101 -- deployed on Linux servers only",
    "# noqa : MP101",  # not a code list: flake8 reads a blanket noqa
]


def _flake8_codes(comment: str) -> frozenset[str] | None:
    match = NOQA_INLINE_REGEXP.search(comment)
    assert match is not None
    codes = match.group("codes")
    return None if codes is None else frozenset(code.upper() for code in re.split(r"[,\s]+", codes) if code)


@pytest.mark.parametrize("comment", COMMENTS)
def test_codes_read_as_flake8_reads_them(comment):
    assert find_suppressions(f"pid = os.fork()  {comment}\n") == {1: _flake8_codes(comment)}


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [("# noqa: MP101", True), ("# noqa: MP1", True), ("# noqa: E501, MP101", True),
     ("# noqa", True), ("# noqa: MP102", False), ("# noqa: E501", False)],
)
def test_a_listed_code_or_prefix_silences_the_finding(comment, suppressed):
    findings = mpcheck.check_source(f"import os\npid = os.fork()  {comment}\n", "daemon.py")
    assert [d.code for d in findings] == ([] if suppressed else ["MP101"])
