"""What a rule uses to describe a fix: edits of the tree it saw, the imports and new names
they need, and code in the file's style."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import AbstractSet, Callable, Iterable, Sequence, Union

import libcst as cst

from ..findings import Applicability, Fix
from .imports import ImportRequest, ModuleLayout
from .style import Style, fresh_name

Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]
# A replacement computed from the node with the inner edits (of every fix applied in the
# same round) already made.
ReplacementFunction = Callable[[cst.CSTNode], Replacement]


@dataclass(frozen=True, eq=False)
class Replace:
    node: cst.CSTNode
    value: Replacement | ReplacementFunction

    @property
    def composes(self) -> bool:
        """A function composes with edits inside the node; a fixed value would drop them."""
        return callable(self.value)


@dataclass(frozen=True, eq=False)
class Insert:
    anchor: cst.BaseStatement
    statements: tuple[cst.BaseStatement, ...]
    after: bool


@dataclass(frozen=True, eq=False)
class Remove:
    statement: cst.BaseStatement
    keep_comments_above: bool = True


@dataclass(frozen=True, eq=False)
class Take:
    """`statement` leaves its place; `placeholder` stands where it goes (in inserted
    statements or in a replacement), and becomes the statement with its inner edits made."""

    statement: cst.BaseStatement
    placeholder: cst.SimpleStatementLine


FixEdit = Union[Replace, Insert, Remove, Take]

_placeholder_numbers = itertools.count(1)
PLACEHOLDER_PREFIX = "__mpcheck_moved_"


class FixContext:
    """What the fixes of one module are built against: the module the rules saw, the names
    in use anywhere in it (bound or read, in any scope: the semantic model supplies them),
    and its style (`text`: the module's source, when at hand). One per module per round;
    `fix()` starts a fix."""

    def __init__(self, module: cst.Module, names_in_use: AbstractSet[str] = frozenset(),
                 text: str | None = None) -> None:
        self.module = module
        self.names_in_use = frozenset(names_in_use)
        self.style = Style(module, text)
        self.layout = ModuleLayout(module)

    def fix(self) -> FixBuilder:
        return FixBuilder(self)


class FixBuilder:
    """Collects the edits of one fix; `build()` gives the `Fix`.

    Nodes are nodes of the tree the rule saw (`FixContext.module`). Statement edits take
    statements of a module or an indented block (not the small statements of a `;` line).
    Edits that overlap within one fix raise ValueError when the fix is applied (a fixed
    replacement of a node whose subtree holds another edit of the same fix, two edits of
    one node, a statement moved into itself, a placeholder not used once); across fixes
    they are a conflict, and the later fix waits for the next round. Statement methods
    raise TypeError for a node that is not a statement.
    """

    def __init__(self, context: FixContext) -> None:
        self.context = context
        self.style = context.style
        self._edits: list[FixEdit] = []
        self._imports: dict[tuple, ImportRequest] = {}
        self._new_names: dict[str, object] = {}  # name -> what binds it (an import key or "fresh")

    # -- editing ------------------------------------------------------------------------------

    def replace(self, node: cst.CSTNode, value: Replacement | ReplacementFunction) -> None:
        """Replace `node` with `value`: a node, `FlattenSentinel` or `RemovalSentinel`, or a
        function that receives the node with the inner edits (of this fix and of the other
        fixes of the round) already made and returns one. Use a function whenever other
        edits may sit inside `node`: a fixed value there is an error within this fix and a
        conflict with another. A statement replaced keeps only the comments `value` has."""
        self._edits.append(Replace(node, value))

    def insert_before(self, anchor: cst.BaseStatement, statements: Sequence[cst.BaseStatement]) -> None:
        """Insert `statements` before `anchor`, in its block. They go above the comment lines
        directly over `anchor` (which stay with it) and take the blank lines before them."""
        self._edits.append(Insert(_statement(anchor), tuple(statements), after=False))

    def insert_after(self, anchor: cst.BaseStatement, statements: Sequence[cst.BaseStatement]) -> None:
        """Insert `statements` right after `anchor`, in its block."""
        self._edits.append(Insert(_statement(anchor), tuple(statements), after=True))

    def remove(self, statement: cst.BaseStatement, *, keep_comments_above: bool = True) -> None:
        """Remove `statement`; its comments stay where it was (those above it, at the end
        of its lines and inside it), except, with `keep_comments_above=False`, the comment
        lines above it (a fix that put them elsewhere). A block left empty gets `pass`."""
        self._edits.append(Remove(_statement(statement), keep_comments_above))

    def take(self, statement: cst.BaseStatement) -> cst.SimpleStatementLine:
        """Move `statement` away from where it is: returns a placeholder to put where it goes
        (in statements given to `insert_*` or inside a replacement). It arrives with its
        leading comments and blank lines, its inner edits made, re-indented for its new
        block. Every placeholder must be used exactly once."""
        number = next(_placeholder_numbers)
        placeholder = cst.SimpleStatementLine([cst.Expr(cst.Name(f"{PLACEHOLDER_PREFIX}{number}__"))])
        self._edits.append(Take(_statement(statement), placeholder))
        return placeholder

    def move(self, statements: Iterable[cst.BaseStatement], *, before: cst.BaseStatement | None = None,
             after: cst.BaseStatement | None = None) -> None:
        """Move `statements` (in this order) before or after another statement, in any block."""
        if (before is None) == (after is None):
            raise ValueError("move() needs exactly one of before= and after=")
        placeholders = [self.take(statement) for statement in statements]
        if before is not None:
            self.insert_before(before, placeholders)
        else:
            assert after is not None
            self.insert_after(after, placeholders)

    # -- names and imports ------------------------------------------------------------------

    def taken_names(self) -> frozenset[str]:
        """The names in use in the module and those this fix has added."""
        return self.context.names_in_use | frozenset(self._new_names)

    def fresh_name(self, base: str, *, reusable: AbstractSet[str] = frozenset()) -> str:
        """A name that collides with nothing in the module nor with what this fix already
        added (see `fresh_name`); the fix now binds it. `reusable`: names in use in the
        module that the caller has shown are free where the fix binds its name (the name of
        a nested function hoisted to module level, whose old binding goes)."""
        name = fresh_name(base, (self.taken_names() - reusable) | frozenset(self._new_names))
        self._new_names[name] = ("fresh", id(self), name)
        return name

    def need_module(self, module: str, *, before: cst.CSTNode) -> str:
        """The expression that names `module` in code placed at `before`: the name an
        existing module-level import made ahead of `before` binds (`mp` for `import
        multiprocessing as mp`), else `module` itself with `import module` added (or
        `import module as module_2` when the top name is taken by something else).
        Raises ValueError when `before` is not in the module."""
        layout = self.context.layout
        index = layout.top_index(before)
        existing = layout.module_expression(module, index)
        if existing is not None:
            return existing
        for request in self._imports.values():
            if request.name is None and request.module == module:
                return request.alias or module
        top = module.partition(".")[0]
        if top not in self.taken_names() or layout.bound_only_by_imports_of(top, top):
            self._request(ImportRequest(module), index)
            return module
        alias = fresh_name(module.rpartition(".")[2], self.taken_names())
        self._request(ImportRequest(module, alias=alias), index)
        return alias

    def need_name(self, module: str, name: str, *, before: cst.CSTNode) -> str:
        """The expression for `module.name` in code placed at `before`: the name bound by an
        existing `from module import name` ahead of it; else `alias.name` through an existing
        import of `module`; else `name` with `from module import name` added when `name` is
        free; else `module.name` through `need_module`. Raises ValueError when `before` is
        not in the module."""
        layout = self.context.layout
        index = layout.top_index(before)
        existing = layout.name_expression(module, name, index)
        if existing is not None:
            return existing
        module_expression = layout.module_expression(module, index)
        if module_expression is not None:
            return f"{module_expression}.{name}"
        key = (module, name, None)
        if key in self._imports:
            return name
        if name not in self.taken_names():
            self._request(ImportRequest(module, name), index)
            return name
        return f"{self.need_module(module, before=before)}.{name}"

    def _request(self, request: ImportRequest, index: int) -> None:
        layout = self.context.layout
        if layout.insertion_index() > index:
            # The import block ends after the code that needs it: after the last import
            # ahead of that code, or else right before it.
            last = layout.last_import_before(index)
            if last is not None:
                request = ImportRequest(request.module, request.name, request.alias, after=last)
            else:
                request = ImportRequest(request.module, request.name, request.alias, before=layout.body[index])
        self._imports[request.key] = request
        self._new_names.setdefault(request.bound, ("import", request.key))

    # -- code in the file's style --------------------------------------------------------------

    def expression(self, template: str, **holes: cst.CSTNode) -> cst.BaseExpression:
        """See `Style.expression`."""
        return self.style.expression(template, **holes)

    def statement(self, template: str, **holes: cst.CSTNode) -> cst.BaseStatement:
        """See `Style.statement`."""
        return self.style.statement(template, **holes)

    def string(self, value: str) -> cst.SimpleString:
        """See `Style.string`."""
        return self.style.string(value)

    # -- the result -----------------------------------------------------------------------------

    def build(self, applicability: Applicability, description: str) -> Fix:
        """The fix. Raises ValueError when it has no edits."""
        if not self._edits:
            raise ValueError("a fix needs at least one edit")
        return Fix(applicability, description, tuple(self._edits), tuple(self._imports.values()),
                   tuple(self._new_names.items()))


def _statement(node: cst.CSTNode) -> cst.BaseStatement:
    if not isinstance(node, cst.BaseStatement):
        raise TypeError(f"a statement edit needs a statement, not {type(node).__name__}")
    return node
