"""Applying fixes to a parsed module, describing them as text edits, and writing files.

Fixes are node replacements on the tree the rules saw, so everything outside the replaced
nodes (comments, formatting, line endings) comes back exactly as it was. Fixes whose
nodes overlap are not applied together: the engine applies the first, re-parses, re-checks
and lets the rest try again on the new tree.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst

from .findings import Edit, Fix


def apply_fixes(module: cst.Module, fixes: Sequence[Fix]) -> tuple[cst.Module, list[Fix]]:
    """The module with every fix applied that does not overlap an earlier one."""
    taken: set[int] = set()  # ids of every node inside a replaced subtree
    replacements: dict[cst.CSTNode, object] = {}
    imports: list[str] = []
    applied: list[Fix] = []
    for fix in fixes:
        subtrees = [_subtree_ids(node) for node in fix.replacements]
        if any(ids & taken for ids in subtrees):
            continue
        for ids in subtrees:
            taken |= ids
        replacements.update(fix.replacements)
        imports.extend(statement for statement in fix.imports if statement not in imports)
        applied.append(fix)
    if not applied:
        return module, []
    fixed = module.visit(_Replacer(replacements))
    assert isinstance(fixed, cst.Module)
    return add_imports(fixed, imports), applied


def _subtree_ids(node: cst.CSTNode) -> set[int]:
    ids: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        ids.add(id(current))
        stack.extend(current.children)
    return ids


class _Replacer(cst.CSTTransformer):
    def __init__(self, replacements: dict) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        return self.replacements.get(original_node, updated_node)


def add_imports(module: cst.Module, statements: Iterable[str]) -> cst.Module:
    """Insert each import statement after the module's leading imports, unless present."""
    body = list(module.body)
    index = 0
    if body and _is_docstring(body[0]):
        index = 1
    while index < len(body) and _is_import_line(body[index]):
        index += 1
    # Only the leading imports count: one further down binds its name too late for code above it.
    existing = {module.code_for_node(line).strip() for line in body[:index] if _is_import_line(line)}
    missing = [statement for statement in statements if statement not in existing]
    if not missing:
        return module
    new_lines = [cst.parse_statement(statement) for statement in missing]
    if index == 0 and body:
        # Nothing precedes: the new imports take the first statement's leading comments.
        new_lines[0] = new_lines[0].with_changes(leading_lines=body[0].leading_lines)
        body[0] = body[0].with_changes(leading_lines=[])
    body[index:index] = new_lines
    return module.with_changes(body=body)


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def text_edit(original: str, fixed: str) -> Edit:
    """The one contiguous replacement that turns `original` into `fixed`."""
    start = 0
    limit = min(len(original), len(fixed))
    while start < limit and original[start] == fixed[start]:
        start += 1
    end_original, end_fixed = len(original), len(fixed)
    while end_original > start and end_fixed > start and original[end_original - 1] == fixed[end_fixed - 1]:
        end_original -= 1
        end_fixed -= 1
    line, column = _line_column(original, start)
    end_line, end_column = _line_column(original, end_original)
    return Edit(line, column, end_line, end_column, fixed[start:end_fixed])


_LINE_BREAK = re.compile(r"\r\n?|\n")


def _line_column(text: str, offset: int) -> tuple[int, int]:
    # Lines end as Python (and the reported positions) count them: \n, \r\n or a lone \r.
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that no reader ever sees a half-written file: write a
    temporary file in the same directory, copy the mode, fsync, rename over."""
    target = path.resolve()  # a symlinked file: replace what it points to, keep the link
    status = target.stat()
    mode = stat.S_IMODE(status.st_mode)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".mpcheck-tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
            # Root fixing someone else's file must not make it root's; others cannot chown.
            # (Windows has no owners to keep here, nor os.chown.)
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except PermissionError:
                pass
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
