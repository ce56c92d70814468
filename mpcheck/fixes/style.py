"""The look of the code a fix writes: the file's quotes, indentation, newline and line length,
and code parsed from templates in that style."""

from __future__ import annotations

import builtins
import keyword
import re
from functools import cached_property
from typing import AbstractSet

import libcst as cst

from ..source import source_lines

# Fix templates are written with four-space indentation and \n; parsed with this config,
# their blocks and newlines take the target module's own when inserted there.
_TEMPLATE_CONFIG = cst.PartialParserConfig(default_indent="    ", default_newline="\n")
# black's and PEP 8's limit; a file whose own lines are longer keeps its longest as the limit.
DEFAULT_LINE_LENGTH = 88
_HOLE = re.compile(r"\{(\w+)\}")
_BUILTIN_NAMES = frozenset(dir(builtins))


class Style:
    """The style of one module, read lazily from it.

    `quote`: the quote character most of its one-line string literals use (double on a tie
    or when it has none); `indent`: the module's indentation unit (libcst detects it, and
    the newline, which new nodes take from the module when it is written);
    `line_length`: 88, or the module's longest line if that is longer.
    """

    def __init__(self, module: cst.Module, text: str | None = None) -> None:
        self.module = module
        self._text = text

    @property
    def indent(self) -> str:
        return self.module.default_indent

    @cached_property
    def line_length(self) -> int:
        text = self._text if self._text is not None else self.module.code
        longest = max((len(line.rstrip("\r\n")) for line in source_lines(text)), default=0)
        return max(DEFAULT_LINE_LENGTH, longest)

    @cached_property
    def quote(self) -> str:
        counter = _QuoteCounter()
        self.module.visit(counter)
        return "'" if counter.single > counter.double else '"'

    # -- generated code ----------------------------------------------------------------------

    def string(self, value: str) -> cst.SimpleString:
        """A string literal holding `value` (plain text, no escapes needed) in the file's quotes."""
        quote = self.quote if self.quote not in value else ("'" if self.quote == '"' else '"')
        if quote in value or "\\" in value or "\n" in value:
            return cst.SimpleString(repr(value))
        return cst.SimpleString(f"{quote}{value}{quote}")

    def expression(self, template: str, **holes: cst.CSTNode) -> cst.BaseExpression:
        """`template` parsed as an expression, its string literals in the file's quotes;
        `{name}` in it stands for the node given as `name` (kept as it is, identity included).
        Raises libcst.ParserSyntaxError for a template that is not an expression."""
        code, names = _fill(template, holes)
        node = cst.parse_expression(code, config=_TEMPLATE_CONFIG)
        return self._finish(node, names)  # type: ignore[return-value]

    def statement(self, template: str, **holes: cst.CSTNode) -> cst.BaseStatement:
        """`template` parsed as one statement (four-space indented blocks become the file's
        indentation), string literals in the file's quotes; `{name}` holes as in
        `expression`, either expressions or whole statements (a hole alone on a line)."""
        code, names = _fill(template, holes)
        node = cst.parse_statement(code, config=_TEMPLATE_CONFIG)
        return self._finish(node, names)  # type: ignore[return-value]

    def _finish(self, node: cst.CSTNode, names: dict[str, cst.CSTNode]) -> cst.CSTNode:
        return node.visit(_Finisher(self, names))  # type: ignore[return-value]


def _fill(template: str, holes: dict[str, cst.CSTNode]) -> tuple[str, dict[str, cst.CSTNode]]:
    names: dict[str, cst.CSTNode] = {}

    def placeholder(match: re.Match) -> str:
        key = match.group(1)
        if key not in holes:
            return match.group(0)
        name = f"__mpcheck_hole_{key}__"
        names[name] = holes[key]
        return name

    missing = set(holes) - set(_HOLE.findall(template))
    if missing:
        raise ValueError(f"template has no hole for {sorted(missing)}")
    return _HOLE.sub(placeholder, template), names


class _Finisher(cst.CSTTransformer):
    """Puts the holes' nodes in and the file's quotes on the template's own strings."""

    def __init__(self, style: Style, names: dict[str, cst.CSTNode]) -> None:
        super().__init__()
        self.style = style
        self.names = names

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        return requote(updated_node, self.style.quote)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.CSTNode:
        return self.names.get(updated_node.value, updated_node)

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[override]
        body = updated_node.body
        if len(body) == 1 and isinstance(body[0], cst.Expr):
            value = body[0].value
            if isinstance(value, cst.BaseStatement):  # a statement hole, already substituted
                return value
        return updated_node


def requote(node: cst.SimpleString, quote: str) -> cst.SimpleString:
    """`node` written with `quote` when that needs no escaping; otherwise `node` itself."""
    value = node.value
    prefix = node.prefix
    old = node.quote
    if old == quote or len(old) != 1:
        return node
    body = value[len(prefix) + 1:-1]
    if quote in body or "\\" in body:
        return node
    return node.with_changes(value=f"{prefix}{quote}{body}{quote}")


def string_like(original: cst.SimpleString, value: str) -> cst.SimpleString:
    """A string literal holding `value` (no escapes needed), quoted the way `original` is."""
    prefix_length = len(original.prefix)
    quote = original.quote
    return cst.SimpleString(f"{original.value[:prefix_length]}{quote}{value}{quote}")


class _QuoteCounter(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.single = 0
        self.double = 0

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        quote = node.quote
        if quote == "'":
            self.single += 1
        elif quote == '"':
            self.double += 1


def fresh_name(base: str, taken: AbstractSet[str]) -> str:
    """A readable identifier that collides with nothing: `base` itself when it is free,
    else `base_2`, `base_3`, ... Names in `taken`, Python keywords and builtins count as
    taken. Raises ValueError when `base` is not an identifier."""
    if not base.isidentifier():
        raise ValueError(f"{base!r} is not an identifier")

    def free(name: str) -> bool:
        return name not in taken and not keyword.iskeyword(name) and name not in _BUILTIN_NAMES

    if free(base):
        return base
    number = 2
    while not free(f"{base}_{number}"):
        number += 1
    return f"{base}_{number}"
