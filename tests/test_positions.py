"""Positions computed per top-level statement (model/positions.py) are the ones libcst's
PositionProvider gives over the whole module, for every node, whatever the line endings."""

from __future__ import annotations

import sys

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mpcheck.model.positions import Positions

from .support import FIXTURES

_HAND_WRITTEN = '''\
#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""A module docstring."""

import multiprocessing as mp


@decorated(  # a comment in the decorator
    1,
)
class Worker(mp.Process):
    """Runs jobs."""

    def run(self):
        x = [
            i for i in range(3)
        ]; y = 2
        return f"{x} {y}"


if __name__ == "__main__":
    Worker().start()  # trailing comment
# the footer's comment
'''


def _sources() -> list[tuple[str, str]]:
    sources = [("hand-written", _HAND_WRITTEN), ("crlf", _HAND_WRITTEN.replace("\n", "\r\n")),
               ("lone cr", _HAND_WRITTEN.replace("\n", "\r")), ("empty", ""), ("comments only", "# a\n\n# b\n")]
    for path in sorted(FIXTURES.rglob("*.py"))[:15]:
        sources.append((str(path.relative_to(FIXTURES)), path.read_text(encoding="utf-8")))
    return sources


@pytest.mark.parametrize(("name", "text"), _sources(), ids=[name for name, _ in _sources()])
def test_every_node_has_the_position_the_whole_module_provider_gives(name: str, text: str) -> None:
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    # Asked in reverse order, so that statements are not always met first to last.
    for node in reversed(list(expected)):
        assert positions.of(node) == expected[node], (name, type(node).__name__)


def test_a_finding_in_a_deep_file_needs_no_more_recursion_than_its_statement() -> None:
    # pydoc_data/topics.py is one long dict of concatenated strings: the whole-module provider
    # overflows the default recursion limit on it. Only the statement holding the node is walked.
    deep = "x = (" + " + ".join(["'a'"] * 2000) + ")\n"
    module = cst.parse_module("import os\n\nos.fork()\n" + deep)
    call = module.body[1].body[0].value
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        position = Positions(module).of(call)
    finally:
        sys.setrecursionlimit(limit)
    assert (position.start.line, position.start.column, position.end.column) == (3, 0, 9)


def test_a_fix_edit_is_rendered_only_when_asked_for() -> None:
    from mpcheck.engine import Checker

    text = "import multiprocessing\n\nmultiprocessing.set_start_method('fork')\n"
    with_edit = Checker().check_text(text, "job.py")
    without = Checker(fix_edits=False).check_text(text, "job.py")
    assert [d.fix.edit is not None for d in with_edit] == [True]
    assert [d.fix.edit for d in without] == [None]
    assert [(d.line, d.column, d.fix.description) for d in with_edit] == \
        [(d.line, d.column, d.fix.description) for d in without]
