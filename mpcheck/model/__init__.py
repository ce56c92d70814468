"""The semantic model: the shared questions about one file, answered once.

One pass (builder.py) records scopes, bindings in flow order and their references, calls,
attributes, imports, loops, `with` blocks and assignments to attributes, each with its site.
Rules then ask this object:

- names (names.py): `resolve(expr)` -> Symbol, canonical at every step (`multiprocessing.pool.Pool`
  and `torch.multiprocessing.Pool` are `multiprocessing.Pool`); `value_of(expr)` for
  constants; `reference(name_node)` for the bindings that reach a read;
- where code runs (regions.py): `facts(site)` (platforms, main script only, type checking
  only, never), `runs_at_import(site)`, `fork_is_guarded(site, raises)`, `is_main_guard`;
- scopes (scopes.py): `module_scope`, every scope's bindings and free variables;
- processes (processes.py): the call graph, process calls with what they pickle, what starts
  processes (through this file's functions and, given a project index, other modules'),
  DataLoader iterations, fork-only uses;
- workers (workers.py): everything handed to a child by pickle (through the project's own
  wrappers too), what it names, why pickling it fails, and the functions that run in workers;
- parent state (state.py): the module-level state the parent changes after import, which a
  spawned child does not see.

Nothing here runs libcst's metadata providers over the whole tree: positions are computed only
when a file has a finding (`position`).
"""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Iterable

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from .. import apis
from .builder import ModelBuilder
from .names import UNKNOWN, Symbol, argument, binding_symbol, call_result, dotted_name, dotted_name_of, \
    imported_symbol, keyword_argument, literal_string, member, symbol_of_name, value_of
from .processes import DATA_LOADER_STARTER, ProcessCall, ProcessFacts, ProcessStart, ProjectIndex, Search, \
    binding_values
from .regions import FORK_PLATFORMS, PLATFORMS, Facts, FactFinder, catches
from .state import ParentState
from .workers import Workers
from .scopes import (
    Binding, Condition, Kind, LoopRegion, Reference, Region, Scope, ScopeKind, Site, Store, TryElseRegion,
    TryRegion, WithRegion,
)

__all__ = [
    "Binding", "Condition", "DATA_LOADER_STARTER", "FORK_PLATFORMS", "Facts", "Kind", "LoopRegion",
    "PLATFORMS", "ProcessCall", "ProcessStart", "ProjectIndex", "Reference", "Region", "Scope", "ScopeKind",
    "Search", "SemanticModel", "Site", "Store", "Symbol", "TryElseRegion", "TryRegion", "UNKNOWN", "WithRegion",
    "argument", "dotted_name", "dotted_name_of", "keyword_argument", "literal_string",
]

_BUILTIN_NAMES = frozenset(dir(builtins))


class SemanticModel:
    """The model of one parsed module. `path` is the file's path as given (for messages and
    the project index); `process_apis` are the project's own process-starting functions
    (qualified names) and `project` answers for other modules (both optional)."""

    def __init__(self, module: cst.Module, path: str = "<stdin>", process_apis: Iterable[str] = (),
                 project: ProjectIndex | None = None) -> None:
        self.module = module
        self.path = path
        self.module_scope = Scope(ScopeKind.MODULE, module, None)
        self.bindings: list[Binding] = []
        self.imports: list[Binding] = []  # IMPORT and STAR_IMPORT bindings, in order
        self.calls: list[Site] = []
        self.attributes: list[Site] = []  # Attribute nodes read (not assignment targets)
        self.definitions: list[Site] = []  # FunctionDef, ClassDef and Lambda nodes
        self.loops: list[Site] = []  # For, While and comprehension nodes
        self.withs: list[Site] = []  # With nodes
        self.stores: list[Store] = []
        self._references: dict[int, Reference] = {}
        self._scopes: dict[int, Scope] = {}
        self._resolved: dict[int, Symbol | None] = {}
        self._resolving: set[int] = set()
        self._positions = None
        ModelBuilder(self).build()
        self.future_annotations = any(b.qualname == "__future__.annotations" for b in self.imports)
        self._facts = FactFinder(self)
        self.processes = ProcessFacts(self, process_apis, project)

    @cached_property
    def workers(self) -> Workers:
        """What goes to children by pickle, and which functions run there (workers.py)."""
        return Workers(self)

    @cached_property
    def parent_state(self) -> ParentState:
        """The module-level state the parent changes after import (state.py)."""
        return ParentState(self)

    # -- names -------------------------------------------------------------------------------

    def reference(self, node: cst.CSTNode) -> Reference | None:
        """The read `node` (a Name in load context) is, with the bindings that reach it."""
        return self._references.get(id(node))

    def resolve(self, expr: cst.CSTNode | None) -> Symbol | None:
        """What `expr` names, or None when it is not a name this model can follow (or names
        different things on different paths)."""
        if expr is None:
            return None
        key = id(expr)
        if key in self._resolved:
            return self._resolved[key]
        if key in self._resolving:  # x = x.y and other cycles
            return None
        self._resolving.add(key)
        try:
            symbol = self._resolve(expr)
        finally:
            self._resolving.discard(key)
        self._resolved[key] = symbol
        return symbol

    def _resolve(self, expr: cst.CSTNode) -> Symbol | None:
        if isinstance(expr, cst.Name):
            reference = self.reference(expr)
            if reference is None:
                return None
            if not reference.bindings:
                if reference.owner is not None:
                    return None  # bound, but not at this point
                star = self._star_import(expr.value)
                if star is not None:
                    return star
                return Symbol(expr.value, expr.value) if expr.value in _BUILTIN_NAMES else None
            symbols = {binding_symbol(self, binding) for binding in reference.bindings}
            if len(symbols) != 1:
                return None
            return symbols.pop()
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value)
            return member(self, base, expr.attr.value) if base is not None else None
        if isinstance(expr, cst.Call):
            function = self.resolve(expr.func)
            return call_result(self, function, expr) if function is not None else None
        return None

    def _star_import(self, name: str) -> Symbol | None:
        stars = self.module_scope.bindings.get("*", ())
        if len(stars) != 1 or stars[0].qualname is None or stars[0].qualname.startswith("."):
            return None
        return imported_symbol(f"{stars[0].qualname}.{name}")

    def symbol_of_name(self, dotted: str) -> Symbol | None:
        """What a module-level name of this file names (`run`, `Runner().run`)."""
        return symbol_of_name(self, dotted)

    def value_of(self, expr: cst.CSTNode | None):
        """The constant value of `expr` where it stands, or `UNKNOWN` (see names.value_of)."""
        return value_of(self, expr)

    def values_of(self, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The expressions a name or `self.attribute` can hold where `expr` stands."""
        return binding_values(self, expr)

    def scope_of_definition(self, definition: cst.CSTNode) -> Scope | None:
        """The scope a FunctionDef, ClassDef, Lambda or comprehension opens."""
        return self._scopes.get(id(definition))

    def scopes(self) -> Iterable[Scope]:
        return self.module_scope.walk()

    def names_in_use(self) -> set[str]:
        """Every name bound or read anywhere in the file: what a new name must avoid."""
        names = {binding.name for binding in self.bindings}
        names.update(reference.name for reference in self._references.values())
        return names

    # -- where code runs -----------------------------------------------------------------------

    def facts(self, site: Site) -> Facts:
        """What holds wherever `site` runs (see regions.Facts)."""
        return self._facts.of_site(site)

    def test_facts(self, test: cst.BaseExpression, holds: bool, scope: Scope | None = None) -> Facts:
        return self._facts.of_test(test, holds, scope or self.module_scope)

    def runs_at_runtime(self, site: Site) -> bool:
        """False for code only type checkers see (`if TYPE_CHECKING:`), dead code (`if
        False:`), and annotations that are never evaluated (`from __future__ import
        annotations`)."""
        if site.in_annotation and (self.future_annotations or _annotates_a_local(site)):
            return False
        return self.facts(site).runs

    def runs_at_import(self, site: Site) -> bool:
        """True when `site` runs while the module is imported, as a spawned child re-imports
        the main module: not inside a function body, not under `if __name__ ==
        "__main__":`, and at run time."""
        return not site.in_function and not self.facts(site).main and self.runs_at_runtime(site)

    def under_main_guard(self, site: Site) -> bool:
        return self.facts(site).main

    def fork_is_guarded(self, site: Site, raises: tuple[str, ...] = ()) -> bool:
        """True when `site` runs only where fork exists (a platform test, `hasattr(os,
        "fork")`, `"fork" in get_all_start_methods()`, a flag derived from those or from a
        fork probe, an early exit on Windows), or a `try` around it catches one of `raises`."""
        return self.facts(site).has_fork or catches(site, raises)

    def is_main_guard(self, statement: cst.CSTNode) -> bool:
        """`if __name__ == "__main__":` (and equivalent tests) at module level."""
        return isinstance(statement, cst.If) and self.test_facts(statement.test, True).main

    def needs_fork(self, statement: cst.CSTNode) -> bool:
        """True when running `statement` uses an API that exists only where fork does."""
        for site in (*self.calls, *self.attributes):
            if site.statement is statement and self.processes.fork_only_use(site) is not None:
                return True
        return any(binding.site.statement is statement and binding.qualname is not None
                   and _is_fork_only_import(binding.qualname) for binding in self.imports)

    # -- positions -------------------------------------------------------------------------------

    def position(self, node: cst.CSTNode) -> CodeRange:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions[node]


def _annotates_a_local(site: Site) -> bool:
    """An annotation of a variable in a function body: never evaluated (PEP 526)."""
    statement = site.statement
    return site.scope.is_function and isinstance(statement, cst.SimpleStatementLine) and \
        any(isinstance(small, cst.AnnAssign) for small in statement.body)


def _is_fork_only_import(qualname: str) -> bool:
    return apis.has_role(imported_symbol(qualname).spelled, apis.Role.FORK_ONLY)
