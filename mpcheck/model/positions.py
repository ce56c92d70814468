"""Where a node is in the source, computed for the nodes that are asked about only.

libcst's `PositionProvider` over a whole module costs about twice the parse (MODEL.md,
"Cost") and recurses once per nesting level, so a deep file (the standard library's
`pydoc_data/topics.py`) overflows the default recursion limit. A finding needs the
position of one node: the provider runs over the one top-level statement that holds it,
and the statement's first line is found by rendering the statements before it (code
generation alone, a fraction of the provider's cost). Both are kept for the next finding.
"""

from __future__ import annotations


import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from ..source import LINE_BREAK



class Positions:
    """The positions of nodes of `module` (lines 1-based, columns 0-based, as libcst's)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._first_lines: list[int] = []  # first line of body[i], for i < len(self._first_lines)
        self._ranges: dict[int, dict[cst.CSTNode, CodeRange]] = {}  # per top-level statement index
        self._whole: dict[cst.CSTNode, CodeRange] | None = None
        self._indexes: dict[int, int] = {}  # id of a node -> index of its top-level statement
        self._indexed = 0  # statements body[:_indexed] are in _indexes

    def of(self, node: cst.CSTNode) -> CodeRange:
        index = self._statement_index(node)
        if index is None:  # the module itself, or a comment of its header or footer
            if self._whole is None:
                self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
            return self._whole[node]
        ranges = self._ranges.get(index)
        if ranges is None:
            alone = self.module.with_changes(header=(), body=(self.module.body[index],), footer=())
            ranges = self._ranges[index] = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        found = ranges[node]
        offset = self._first_line(index) - 1
        return CodeRange(CodePosition(found.start.line + offset, found.start.column),
                         CodePosition(found.end.line + offset, found.end.column))

    def _statement_index(self, node: cst.CSTNode) -> int | None:
        """The index of the top-level statement holding `node`. Statements are indexed in
        order, once, as far as the findings need (iteratively: trees can be deeper than the
        recursion limit)."""
        body = self.module.body
        while id(node) not in self._indexes and self._indexed < len(body):
            stack: list[cst.CSTNode] = [body[self._indexed]]
            while stack:
                current = stack.pop()
                self._indexes[id(current)] = self._indexed
                stack.extend(current.children)
            self._indexed += 1
        return self._indexes.get(id(node))

    def _first_line(self, index: int) -> int:
        if not self._first_lines:
            self._first_lines.append(1 + len(self.module.header))  # each header line is one EmptyLine
        while len(self._first_lines) <= index:
            previous = len(self._first_lines) - 1
            code = self.module.code_for_node(self.module.body[previous])
            self._first_lines.append(self._first_lines[previous] + len(LINE_BREAK.findall(code)))
        return self._first_lines[index]
