"""Building fixes by hand in tests of the fix engine: find nodes by their code, build fixes
against one parsed module, apply them, get the text."""

from __future__ import annotations

import textwrap
from typing import Callable, Sequence

import libcst as cst

from mpcheck.findings import Applicability, Fix
from mpcheck.fixes import FixBuilder, FixContext, apply_fixes

SAFE = Applicability.SAFE


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


class Module:
    """A parsed source and the FixContext its fixes are built against."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = cst.parse_module(text)
        self.context = FixContext(self.tree, names_in_use(self.tree), text)

    def fix(self) -> FixBuilder:
        return self.context.fix()

    def statement(self, first_line: str, nth: int = 0) -> cst.BaseStatement:
        """The statement (at any depth) whose own first line starts with `first_line`."""
        found = [node for node in _walk(self.tree) if isinstance(node, cst.BaseStatement)
                 and self._own_code(node).lstrip().startswith(first_line)]
        return found[nth]

    def node(self, code: str, kind: type = cst.BaseExpression, nth: int = 0) -> cst.CSTNode:
        """The node of `kind` whose code is exactly `code`."""
        found = [node for node in _walk(self.tree) if isinstance(node, kind) and self.tree.code_for_node(node) == code]
        return found[nth]

    def _own_code(self, node: cst.BaseStatement) -> str:
        return self.tree.code_for_node(node.with_changes(leading_lines=()))

    def apply(self, fixes: Sequence[Fix]) -> tuple[str, list[Fix]]:
        fixed, applied = apply_fixes(self.tree, fixes, self.text)
        return fixed.code, applied


def names_in_use(tree: cst.Module) -> set[str]:
    """What the semantic model supplies: every name bound or read anywhere; the module
    paths of imports are neither."""
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
            bound = node.asname.name if node.asname else node.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            assert isinstance(bound, cst.Name)
            names.add(bound.value)
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    self.visit_ImportAlias(alias)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    tree.visit(Names())
    return names


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def fixed_text(text: str, *builders: Callable[[Module, FixBuilder], None]) -> str:
    """`text` with one fix per builder applied (each builder edits its own FixBuilder); all
    of them must apply in this one round."""
    module = Module(text)
    fixes = []
    for build in builders:
        builder = module.fix()
        build(module, builder)
        fixes.append(builder.build(SAFE, build.__name__))
    result, applied = module.apply(fixes)
    assert len(applied) == len(fixes), "a fix did not apply in the first round"
    return result
