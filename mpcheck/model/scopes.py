"""What the model records about one file: scopes, bindings, references, and sites.

Vocabulary as in ruff's semantic model and CPython's symtable:

- A *scope* is a module, class body, function, lambda or comprehension.
- A *binding* is one place that gives a name a value in a scope (an import, an assignment, a
  `def`, a loop target, a parameter, ...), in source order.
- A *reference* is one read of a name; it resolves to the bindings that can reach it at
  that point of the flow (`p = Process(...); p.start(); for p in procs: p.join()`: the first
  `p.start()` sees only the Process). Code in a function body runs later than the code
  around it, so its reads of enclosing names see the bindings live when that scope ends.
- A *site* is a node with where it is: scope, the regions around it (conditions, `try`,
  loops, `with`), how many function bodies enclose it, its statement and block.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst


class Kind(str, enum.Enum):
    """How a binding gives its name a value."""

    IMPORT = "import"  # `import a.b` binds `a` (qualname "a"); `import a.b as c` binds c -> "a.b"
    STAR_IMPORT = "star-import"  # `from m import *`: name "*", qualname "m"
    ASSIGN = "assign"  # `x = value`, `x: T = value`, `(x := value)`
    AUGMENT = "augment"  # `x += value`: changes the value the name holds
    ANNOTATION = "annotation"  # `x: T` with no value: declares, binds nothing at run time
    UNPACK = "unpack"  # one target of `a, b = value` (value: the whole right-hand side)
    LOOP = "loop"  # `for x in iterable` / comprehension target (value: the iterable)
    WITH = "with"  # `with value as x`
    DEF = "def"
    CLASS = "class"
    PARAMETER = "parameter"
    EXCEPT = "except"  # `except E as x`
    MATCH = "match"  # a capture pattern of `case`
    DELETE = "delete"  # `del x`: unbinds
    TYPE = "type"  # `type X = ...` (3.12) and type parameters


@dataclass(frozen=True, eq=False)
class Condition:
    """Code under this region runs only when `test` is truthy (`holds`) or falsy."""

    test: cst.BaseExpression
    holds: bool
    scope: Scope


@dataclass(frozen=True, eq=False)
class TryRegion:
    """Code in the body of `node`, whose handlers catch `caught` (names as written, the last
    dotted part; "*" for a bare `except:`)."""

    node: cst.CSTNode
    caught: frozenset[str]


@dataclass(frozen=True, eq=False)
class TryElseRegion:
    """Code in the `else:` clause of `node`: it runs only when the whole body raised nothing
    (its handlers do not cover it)."""

    node: cst.CSTNode


@dataclass(frozen=True, eq=False)
class LoopRegion:
    """Code that runs once per item of a loop: the body of a `for`/`while`, or the parts of
    a comprehension after its first `for`."""

    node: cst.CSTNode


@dataclass(frozen=True, eq=False)
class WithRegion:
    """Code in the body of a `with` statement."""

    node: cst.With


@dataclass(frozen=True, eq=False)
class SkipDecorator:
    """Code in a function or class that `decorator`, written in `scope`, may mark as a test
    to skip: where it is `@pytest.mark.skipif(test)`, `@unittest.skipIf(test)` or
    `@unittest.skipUnless(test)`, the code runs only where the test lets it (FactFinder);
    any other decorator tells nothing."""

    decorator: cst.Call
    scope: Scope


Region = Condition | TryRegion | TryElseRegion | LoopRegion | WithRegion | SkipDecorator


@dataclass(frozen=True, eq=False)
class Site:
    """A node and where it is.

    `regions`: outermost first. A function body keeps the conditions its `def` is under (the
    function exists only there) but not the `try`, loop and `with` regions: it runs later,
    outside them. `statement`: the innermost statement holding the node; `block`: the
    Module or IndentedBlock whose body holds `statement`; `top`: the module-level statement
    holding the node. `in_annotation`: inside an annotation.
    """

    node: cst.CSTNode
    scope: Scope
    regions: tuple[Region, ...]
    function_depth: int
    statement: cst.CSTNode | None
    block: cst.CSTNode | None
    top: cst.CSTNode | None
    in_annotation: bool = False

    @property
    def in_function(self) -> bool:
        return self.function_depth > 0

    def conditions(self) -> Iterator[Condition]:
        return (region for region in self.regions if isinstance(region, Condition))

    def loops(self) -> Iterator[LoopRegion]:
        return (region for region in self.regions if isinstance(region, LoopRegion))

    def withs(self) -> Iterator[WithRegion]:
        return (region for region in self.regions if isinstance(region, WithRegion))


@dataclass(frozen=True, eq=False)
class Store:
    """An assignment to an attribute or item (`CONFIG.level = 2`, `TABLE[k] = v`,
    `self.loader = DataLoader(...)`): `target` is the Attribute or Subscript, `value` what
    is assigned (None for `del` and augmented assignments)."""

    site: Site
    target: cst.BaseExpression
    value: cst.BaseExpression | None


@dataclass(eq=False)
class Binding:
    """One place that binds `name` in `scope`.

    `node`: the statement (or Param, ImportAlias, CompFor, ExceptHandler, MatchAs...) that
    binds. `target`: the Name node bound, when there is one. `value`: the expression assigned
    (the whole right-hand side for UNPACK, the iterable for LOOP, the context manager for
    WITH). `qualname`: for imports, the dotted name imported. `nested`: made by a nested
    scope through `global`/`nonlocal`. `references`: the reads it reaches.
    """

    name: str
    kind: Kind
    node: cst.CSTNode
    scope: Scope
    site: Site
    target: cst.Name | None = None
    value: cst.BaseExpression | None = None
    qualname: str | None = None
    nested: bool = False
    path: tuple[int, ...] = ()  # UNPACK/LOOP into a tuple target: the position of this name
    order: int = 0  # source order of bindings in the file
    references: list[Reference] = field(default_factory=list, repr=False)

    @property
    def statement(self) -> cst.CSTNode | None:
        return self.site.statement


@dataclass(eq=False)
class Reference:
    """One read of `name` (a Name node in load context, or the read half of `x += 1`).

    `bindings`: those that can reach it. `owner`: the scope whose binding it reads; None when
    no scope binds the name (a builtin, a star import, or a NameError).
    """

    name: str
    node: cst.Name
    site: Site
    bindings: tuple[Binding, ...] = ()
    owner: Scope | None = None

    @property
    def scope(self) -> Scope:
        return self.site.scope


class ScopeKind(str, enum.Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


@dataclass(eq=False)
class Scope:
    """A scope: its bindings (every one, in source order), its declarations, its reads.

    `final`: the bindings live where the scope's code ends (what code that runs later --
    a function called after import, a nested function -- sees). `frees`: the names it reads
    from an enclosing function scope (its free variables, as `symtable` gives them).
    """

    kind: ScopeKind
    node: cst.CSTNode
    parent: Scope | None
    name: str = ""
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    # Comprehension: names its walrus targets bind in the enclosing function or module.
    assigned_outward: set[str] = field(default_factory=set)
    references: list[Reference] = field(default_factory=list)
    children: list[Scope] = field(default_factory=list)
    final: dict[str, frozenset[Binding]] = field(default_factory=dict)
    frees: frozenset[str] = frozenset()
    uses_super: bool = False  # reads `super` or `__class__`: the method needs its class

    @property
    def is_function(self) -> bool:
        return self.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA)

    @property
    def qualname(self) -> str:
        """`Outer.method.<locals>.inner`-style path without the `<locals>` parts."""
        names = []
        scope: Scope | None = self
        while scope is not None and scope.kind is not ScopeKind.MODULE:
            names.append(scope.name)
            scope = scope.parent
        return ".".join(reversed(names))

    def binds(self, name: str) -> bool:
        """True when `name` is local to this scope: bound here and not declared global or
        nonlocal (bindings made through such declarations belong to the other scope)."""
        return any(not binding.nested for binding in self.bindings.get(name, ()))

    def local_names(self) -> set[str]:
        return {name for name in self.bindings if self.binds(name)}

    def walk(self) -> Iterator[Scope]:
        """This scope and every scope nested in it."""
        stack = [self]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(reversed(scope.children))

    def is_within(self, ancestor: Scope) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if scope is ancestor:
                return True
            scope = scope.parent
        return False

    def enclosing_function(self) -> Scope | None:
        """The innermost function or lambda scope this scope is (or is in), if any."""
        scope: Scope | None = self
        while scope is not None and not scope.is_function:
            scope = scope.parent
        return scope
