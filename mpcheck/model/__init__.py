"""The semantic model: the shared questions about one file, answered once.

One pass (builder.py) records scopes, bindings in flow order and their references, calls,
attributes, imports, loops, `with` blocks and assignments to attributes, each with its site.
Rules then ask this object:

- names (names.py): `resolve(expr)` -> Symbol, canonical at every step (`multiprocessing.pool.Pool`
  and `torch.multiprocessing.Pool` are `multiprocessing.Pool`); `value_of(expr)` for
  constants; `reference(name_node)` for the bindings that reach a read;
- where code runs (regions.py): `facts(site)` (platforms, main script only, type checking
  only, never), `runs_at_import(site)`, `fork_is_guarded(site, raises)`, `is_main_guard`,
  and for the whole module, given a project index, `imported_only_where_fork_exists()`;
- scopes (scopes.py): `module_scope`, every scope's bindings and free variables;
- processes (processes.py): the call graph, process calls with what they pickle, what starts
  processes (through this file's functions and, given a project index, other modules'),
  DataLoader iterations, fork-only uses, calls that fix the global start method;
  `symbols_reaching(expr)` for what a name may hold, through the arguments this file passes
  to a parameter;
- workers (workers.py): everything handed to a child by pickle (through the project's own
  wrappers too), what it names, why pickling it fails, and the functions that run in workers
  (`runs_in_worker(site)`);
- parent state (state.py): the module-level state the parent changes after import, which a
  spawned child does not see;
- output (output.py): what importing the module writes to the console (prints, stream
  writes, logging calls that reach a console handler), through the functions it calls.
- objects (objects.py): what happens to an object after it is made -- `objects.made_by`,
  `objects.uses`, `objects.closed_on_every_path`, `objects.runs_before`;
- counts (counts.py): `trip_count(loop)` (a constant, a worker count, data) and
  `upper_bound(expr)` (the most a pool's size can be).

Nothing here runs libcst's metadata providers over the whole tree: positions are computed only
for the nodes asked about, over the top-level statement holding each (`position`).
"""

from __future__ import annotations

import builtins
from functools import cached_property
from typing import Iterable

import libcst as cst
from libcst.metadata import CodeRange

from .. import apis
from .builder import ModelBuilder
from .counts import Bound, Count, CountKind, trip_count, upper_bound
from .positions import Positions
from .names import UNKNOWN, Symbol, argument, bindings_symbol, call_result, dotted_name, dotted_name_of, \
    imported_symbol, keyword_argument, literal_string, member, reexported, symbol_of_name, value_of
from .objects import ObjectFacts, Use, UseKind
from .output import Output, OutputFacts
from .processes import DATA_LOADER_STARTER, Handed, ProcessCall, ProcessFacts, ProcessStart, ProjectIndex, Search, \
    StartMethodChoice, binding_values
from .regions import FORK_PLATFORMS, PLATFORMS, Facts, FactFinder, catches
from .state import ParentState
from .workers import Workers
from .scopes import (
    Binding, Condition, Kind, LoopRegion, Reference, Region, Scope, ScopeKind, Site, Store, TryElseRegion,
    TryRegion, WithRegion,
)

__all__ = [
    "Binding", "Bound", "Condition", "Count", "CountKind", "DATA_LOADER_STARTER", "FORK_PLATFORMS", "Facts", "Handed",
    "Kind", "LoopRegion", "Output", "Use", "UseKind",
    "PLATFORMS", "ProcessCall", "ProcessStart", "ProjectIndex", "Reference", "Region", "Scope", "ScopeKind",
    "Search", "SemanticModel", "Site", "StartMethodChoice", "Store", "Symbol", "TryElseRegion", "TryRegion", "UNKNOWN", "WithRegion",
    "argument", "dotted_name", "dotted_name_of", "keyword_argument", "literal_string",
]

_BUILTIN_NAMES = frozenset(dir(builtins))


class SemanticModel:
    """The model of one parsed module. `path` is the file's path as given (for messages and
    the project index); `process_apis` are the project's own process-starting functions
    (qualified names) and `project` answers for other modules (both optional)."""

    released = False  # `release` emptied it

    def __init__(self, module: cst.Module, path: str = "<stdin>", process_apis: Iterable[str] = (),
                 project: ProjectIndex | None = None) -> None:
        self.module = module
        self.path = path
        self.project = project
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
        self._positions: Positions | None = None
        ModelBuilder(self).build()
        self.future_annotations = any(b.qualname == "__future__.annotations" for b in self.imports)
        self._facts = FactFinder(self)
        self.processes = ProcessFacts(self, process_apis, project)
        self.objects = ObjectFacts(self)

    def release(self) -> None:
        """Break the model's reference cycles (a scope and its bindings, a binding and its
        reads, the facts and the model) and empty it, so that reference counting frees the
        model and its tree at once. Left to the cycle collector, a dropped model is found only
        by a full collection, which traverses every object the process holds (a model of a
        3,000-line module is about 100,000 objects): on the standard library that was a third
        of the run. The model answers nothing afterwards (`released`): call it only when
        nothing uses it."""
        scopes = list(self.module_scope.walk())
        for scope in scopes:
            for bindings in scope.bindings.values():
                for binding in bindings:
                    binding.references.clear()
            scope.bindings.clear()
            scope.references.clear()
            scope.final.clear()
            scope.children.clear()
        self.__dict__.clear()
        self.released = True

    @cached_property
    def workers(self) -> Workers:
        """What goes to children by pickle, and which functions run there (workers.py)."""
        return Workers(self)

    @cached_property
    def unix_only_from(self) -> int | None:
        """The line below which nothing of this module runs on Windows: the first statement
        at its top level that imports, unconditionally, a module only Unix has (`import
        fcntl`), directly or through a module of its project (project.unix_only_line); None
        when there is none. (Code above it, a function defined there included, may run on
        Windows before that import raises.)"""
        from ..project import unix_only_line

        module = self.project.module_at(self.path) if self.project is not None else None
        name = module.name if module is not None else ""
        project = self.project
        return unix_only_line(self.module.code, name, self.path.endswith("__init__.py"),
                              (lambda dotted: project.imports_unix_only(dotted, self.path)) if project is not None
                              else (lambda dotted: None))

    @cached_property
    def parent_state(self) -> ParentState:
        """The module-level state the parent changes after import (state.py)."""
        return ParentState(self)

    @cached_property
    def output(self) -> OutputFacts:
        """What importing this module writes to the console (output.py), made when first asked."""
        return OutputFacts(self, self.processes.project)  # type: ignore[arg-type]

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
            return bindings_symbol(self, list(reference.bindings))
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value)
            return member(self, base, expr.attr.value) if base is not None else None
        if isinstance(expr, cst.Call):
            function = self.resolve(expr.func)
            return call_result(self, function, expr) if function is not None else None
        return None

    def _star_import(self, name: str) -> Symbol | None:
        stars = self.module_scope.bindings.get("*", ())
        if len(stars) != 1 or stars[0].qualname is None:
            return None
        imported = reexported(self, f"{stars[0].qualname}.{name}")
        return None if imported.name.startswith(".") else imported_symbol(imported.name, imported.other_flavours)

    def symbol_of_name(self, dotted: str) -> Symbol | None:
        """What a module-level name of this file names (`run`, `Runner().run`)."""
        return symbol_of_name(self, dotted)

    def value_of(self, expr: cst.CSTNode | None):
        """The constant value of `expr` where it stands, or `UNKNOWN` (see names.value_of)."""
        return value_of(self, expr)

    def values_of(self, expr: cst.BaseExpression, parameters: bool = False) -> list[cst.BaseExpression]:
        """The expressions a name or `self.attribute` can hold where `expr` stands: the values
        of its reaching assignments; with `parameters`, for a parameter also what this file
        passes to it (ProcessFacts.passed_to)."""
        found = binding_values(self, expr)
        reference = self.reference(expr) if parameters and isinstance(expr, cst.Name) else None
        for binding in reference.bindings if reference is not None else ():
            if binding.kind is Kind.PARAMETER:
                found += self.processes.passed_to(binding)
        return found

    def trip_count(self, loop: cst.CSTNode) -> Count:
        """How many passes the For, While or comprehension `loop` makes, and where that
        number comes from (see counts.py)."""
        return trip_count(self, loop)

    def upper_bound(self, expr: cst.BaseExpression | None, platform: str | None = None):
        """The most the integer `expr` can be where it stands, on `platform` (None:
        anywhere): a `Bound` (`math.inf` for a CPU count taken as it is), `counts.DEFAULT`
        where it may be None, or None when the file does not tell (see counts.py)."""
        return upper_bound(self, expr, platform)

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

    def flag_facts(self, name: str, holds: bool) -> Facts:
        """What holds where this module's top-level name `name`, as its import leaves it, is
        truthy (`holds`) or falsy (`IS_WINDOWS = os.name == "nt"`: only on Windows): what
        another module's test of it tells (ProjectIndex.flag_facts)."""
        return self._facts.of_module_flag(name, holds)

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

    def imported_only_where_fork_exists(self) -> bool:
        """True when this whole module runs only where fork exists because every import of it
        in its project does (ProjectIndex.imported_only_where_fork_exists: a `_posix.py`
        imported only under `if sys.platform != "win32":`); False without a project."""
        return self.project is not None and self.project.imported_only_where_fork_exists(self.path)

    def is_main_guard(self, statement: cst.CSTNode) -> bool:
        """`if __name__ == "__main__":` (and equivalent tests) at module level."""
        return isinstance(statement, cst.If) and self.test_facts(statement.test, True).main

    def is_plain_main_guard(self, statement: cst.CSTNode) -> bool:
        """A main guard whose test is the one comparison, with no `else`: code can be moved
        into its body (a guard with a further condition, `and ...`, or an `else` cannot)."""
        return (
            self.is_main_guard(statement)
            and isinstance(statement, cst.If)
            and isinstance(statement.test, cst.Comparison)
            and statement.orelse is None
            and isinstance(statement.body, cst.IndentedBlock)
        )

    def needs_fork(self, statement: cst.CSTNode) -> bool:
        """True when running `statement` uses an API that exists only where fork does."""
        for site in (*self.calls, *self.attributes):
            if site.statement is statement and self.processes.fork_only_use(site) is not None:
                return True
        return any(binding.site.statement is statement and binding.qualname is not None
                   and _is_fork_only_import(binding.qualname) for binding in self.imports)

    # -- what flows where ------------------------------------------------------------------------

    def runs_in_worker(self, site: Site) -> bool:
        """True when `site` is in a function that runs in a worker process this file hands
        work to (see Workers.worker_functions)."""
        function = site.scope.enclosing_function()
        return function is not None and id(function.node) in self.workers.worker_functions()

    def symbols_reaching(self, expr: cst.BaseExpression | None, _depth: int = 0) -> list[Symbol]:
        """What `expr` may hold, as far as this file tells: its Symbol when `resolve` knows
        it; for a name, what its reaching assignments hold and, for a parameter, what this
        file passes to it (ProcessFacts.passed_to); for a list, tuple, set or dict display, what
        its items (values) hold. `def drain(q): q.qsize()` called as `drain(multiprocessing.Queue())`
        gives `q` the symbol `multiprocessing.Queue()`."""
        if expr is None or _depth > 6:
            return []
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set, cst.Dict)):
            return [symbol for element in expr.elements if not isinstance(element, cst.StarredDictElement)
                    for symbol in self.symbols_reaching(element.value, _depth + 1)]
        symbol = self.resolve(expr)
        if symbol is not None:
            return [symbol]
        if not isinstance(expr, cst.Name):
            return []
        return [symbol for value in self.values_of(expr, parameters=True)
                for symbol in self.symbols_reaching(value, _depth + 1)]

    # -- positions -------------------------------------------------------------------------------

    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is (computed for the statement holding it only: see positions.py)."""
        if self._positions is None:
            self._positions = Positions(self.module)
        return self._positions.of(node)


def _annotates_a_local(site: Site) -> bool:
    """An annotation of a variable in a function body: never evaluated (PEP 526)."""
    statement = site.statement
    return site.scope.is_function and isinstance(statement, cst.SimpleStatementLine) and \
        any(isinstance(small, cst.AnnAssign) for small in statement.body)


def _is_fork_only_import(qualname: str) -> bool:
    return apis.has_role(imported_symbol(qualname).spelled, apis.Role.FORK_ONLY)
