"""The blank and comment lines above a statement (libcst's `leading_lines`)."""

from __future__ import annotations

from typing import Sequence

import libcst as cst


def is_blank(line: cst.EmptyLine) -> bool:
    return line.comment is None


def blank_run(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """The blank lines `lines` start with."""
    run = []
    for line in lines:
        if not is_blank(line):
            break
        run.append(line)
    return run


def split_leading_lines(lines: Sequence[cst.EmptyLine]) -> tuple[list[cst.EmptyLine], list[cst.EmptyLine]]:
    """(detached, attached): the comment lines right above a statement, with no blank line
    between, are attached to it; the lines above them are not."""
    lines = list(lines)
    index = len(lines)
    while index > 0 and not is_blank(lines[index - 1]):
        index -= 1
    return lines[:index], lines[index:]
