"""The semantic model: the shared questions about one file, answered once.

One pass over the libcst tree records scopes and what each name is bound to, every call
and every name or attribute reference together with the conditions it runs under. Rules
then ask:

- `resolve(expr)`: what does this expression name? `import multiprocessing as mp;
  mp.Pool` and `from torch import multiprocessing; multiprocessing.Pool` both resolve to
  the canonical `multiprocessing.Pool`; `ctx = mp.get_context("fork"); ctx.Process`
  resolves to `multiprocessing.Process` with start method "fork"; `mp.Pool(2)` resolves
  to `multiprocessing.Pool()` (the value a call returns).
- `site.runs_at_import`: does this code run while the module is imported (not inside a
  function, not under `if __name__ == "__main__":`)?
- `fork_is_guarded(site, ...)`: does a portability guard (`sys.platform != "win32"`,
  `os.name == "posix"`, `hasattr(os, "fork")`, `"fork" in get_all_start_methods()`, a
  try/except around it, an early exit on Windows) keep this code off Windows?
- `captured_names(function)`: which variables of enclosing functions a closure uses.

Nothing here runs libcst's metadata providers over the whole tree: positions are computed
only when a file has a finding (`position`), which is the rare case.
"""

from __future__ import annotations

import builtins
import dataclasses
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

# Modules that are multiprocessing under another name. `multiprocess` pickles with dill;
# the written name stays available in Symbol.written for the rules that care.
_MODULE_ALIASES = {
    "torch.multiprocessing": "multiprocessing",
    "billiard": "multiprocessing",
    "multiprocess": "multiprocessing",
}
# Names defined in a submodule and re-exported by the package.
_CANONICAL_NAMES = {
    "multiprocessing.pool.Pool": "multiprocessing.Pool",
    "multiprocessing.pool.ThreadPool": "multiprocessing.dummy.Pool",
    "multiprocessing.managers.SyncManager": "multiprocessing.managers.SyncManager",
    "multiprocessing.process.BaseProcess": "multiprocessing.Process",
    "concurrent.futures.process.ProcessPoolExecutor": "concurrent.futures.ProcessPoolExecutor",
    "concurrent.futures.thread.ThreadPoolExecutor": "concurrent.futures.ThreadPoolExecutor",
}
_GET_CONTEXT = "multiprocessing.get_context"
# Calls that start processes (canonical names), and how a message names them.
_PROCESS_STARTERS = {
    "multiprocessing.Process().start": "Process.start()",
    "multiprocessing.Pool": "Pool()",
    "multiprocessing.Manager": "Manager()",
    "multiprocessing.managers.SyncManager().start": "SyncManager.start()",
    "multiprocessing.managers.BaseManager().start": "BaseManager.start()",
    # The executor starts its workers at the first submit, not when it is made: a module-level
    # executor used only under the main guard costs each child an idle object, nothing more.
    "concurrent.futures.ProcessPoolExecutor().submit": "ProcessPoolExecutor.submit()",
    "concurrent.futures.ProcessPoolExecutor().map": "ProcessPoolExecutor.map()",
}
# torch.multiprocessing.spawn/start_processes; canonical_name maps torch.multiprocessing away.
_TORCH_STARTERS = {"multiprocessing.spawn", "multiprocessing.start_processes"}
_DATA_LOADER_STARTER = "DataLoader(num_workers>0) iterated"
# Text that every file starting processes by itself contains (the rules' prefilter
# triggers): names resolve only through imports, so the module providing the starter is
# named in the file. "multiprocess" covers multiprocessing and the dill-based multiprocess;
# concurrent.futures starts processes only through a ProcessPoolExecutor, which is named
# however the module is imported ("concurrent" alone passed every asyncio module).
PROCESS_STARTER_WORDS = ("multiprocess", "ProcessPoolExecutor", "torch", "billiard", "joblib")
_BUILTIN_NAMES = frozenset(dir(builtins))
_EXIT_FUNCTIONS = {"sys.exit", "exit", "quit", "os._exit"}
# Exception names that catch what a missing fork API raises on Windows.
_CATCH_ALL = {"Exception", "BaseException"}


def canonical_name(qualname: str) -> str:
    for alias, target in _MODULE_ALIASES.items():
        if qualname == alias or qualname.startswith(alias + "."):
            qualname = target + qualname[len(alias) :]
            break
    for original, target in _CANONICAL_NAMES.items():
        if qualname == original or qualname.startswith(original + "("):
            return target + qualname[len(original) :]
    return qualname


@dataclass(frozen=True)
class Symbol:
    """What an expression names.

    `qualname` is canonical and dotted; `()` marks the value a call returns
    (`multiprocessing.Pool().map`). `written` is the same before canonicalisation
    (`torch.multiprocessing.Pool().map`). `start_method` is set when the value comes from a
    context with a known start method (`get_context("spawn").Pool()`); "default" for
    `get_context()`. `definition` is the def or class node for names defined in this file.
    """

    qualname: str
    written: str
    start_method: str | None = None
    definition: cst.CSTNode | None = field(default=None, compare=False)

    def member(self, attribute: str) -> Symbol:
        return Symbol(f"{self.qualname}.{attribute}", f"{self.written}.{attribute}", self.start_method)

    def called(self) -> Symbol:
        return Symbol(f"{self.qualname}()", f"{self.written}()", self.start_method, self.definition)

    @property
    def is_local(self) -> bool:
        return self.definition is not None


@dataclass(eq=False)
class Binding:
    """One statement that binds a name in a scope."""

    name: str
    kind: str  # "import", "assign", "def", "class", "with", "param", "element", "other"
    node: cst.CSTNode  # the statement or parameter that binds it
    scope: Scope
    value: cst.BaseExpression | None = None  # assign/with: the expression bound; element: the iterable
    qualname: str | None = None  # import: the dotted name imported
    from_function: bool = False  # a module global set inside a function via `global`


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class", "function", "lambda", "comprehension"
    node: cst.CSTNode
    parent: Scope | None
    name: str = ""
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    loads: list[tuple[str, cst.Name]] = field(default_factory=list)
    children: list[Scope] = field(default_factory=list)

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")

    @property
    def qualname(self) -> str:
        names = []
        scope: Scope | None = self
        while scope is not None and scope.kind != "module":
            names.append(scope.name)
            scope = scope.parent
        return ".".join(reversed(names))


@dataclass(frozen=True, eq=False)
class Condition:
    """Code under this is reached only when `test` is truthy (`holds`) or falsy."""

    test: cst.BaseExpression
    holds: bool
    scope: Scope


@dataclass(frozen=True, eq=False)
class TryGuard:
    """Code in a try body whose handlers catch `caught` (exception names as written)."""

    caught: frozenset[str]



@dataclass(frozen=True, eq=False)
class Site:
    """A node together with where it is: its scope and the guards around it."""

    node: cst.CSTNode
    scope: Scope
    guards: tuple  # tuple[Condition | TryGuard, ...], outermost first
    function_depth: int  # enclosing def/lambda bodies
    # The innermost statement containing the node (a SimpleStatementLine or a compound
    # statement), and the block (IndentedBlock or Module) whose body holds that statement.
    statement: cst.CSTNode | None = None
    block: cst.CSTNode | None = None

    @property
    def in_function(self) -> bool:
        return self.function_depth > 0


@dataclass(frozen=True, eq=False)
class ImportSite(Site):
    alias: cst.ImportAlias | None = None
    qualname: str = ""  # canonical dotted name of what is imported
    written: str = ""
    bound_name: str = ""


@dataclass(frozen=True, eq=False)
class ProcessStart:
    """A place that starts processes: `node` (a call or a loop) and what starts them, through
    `chain`, the functions called on the way (`("main", "run_jobs")`)."""

    node: cst.CSTNode
    starter: str  # "Pool()", "Process.start()", ...
    chain: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.chain:
            return self.starter
        return f"{self.starter} (through {' -> '.join(name + '()' for name in self.chain)})"


class ProcessIndex(Protocol):
    """What the model asks a project about functions of other modules (see project.py)."""

    def function_process_start(self, qualname: str, from_path: str, process_apis: Iterable[str],
                               seen: frozenset[int]) -> ProcessStart | None:
        """How calling `qualname` from the file `from_path` starts processes; its chain
        begins with the function's absolute dotted name."""


@dataclass(frozen=True)
class MainGuardPlan:
    """Module-level statements split into those that stay and those a main guard takes."""

    kept: list[cst.CSTNode]
    moved: list[cst.CSTNode]


class SemanticModel:
    def __init__(self, module: cst.Module, path: str = "<stdin>") -> None:
        self.module = module
        self.path = path
        self.module_scope = Scope("module", module, None)
        self.calls: list[Site] = []
        self.references: list[Site] = []  # Name and Attribute loads
        self.imports: list[ImportSite] = []
        self.functions: list[Site] = []  # FunctionDef sites
        self.loops: list[Site] = []  # For sites
        self._resolving: set[int] = set()
        self._resolved: dict[int, Symbol | None] = {}
        self._positions = None
        self._function_calls: dict[int, list[Site]] | None = None
        _ModelBuilder(self).build()

    # -- names -----------------------------------------------------------------------

    def lookup(self, name: str, scope: Scope) -> list[Binding]:
        """The bindings `name` refers to when read in `scope` (Python's LEGB, minus builtins)."""
        owner = self._binding_scope(name, scope)
        return owner.bindings.get(name, []) if owner is not None else []

    def resolve(self, expr: cst.CSTNode | None, scope: Scope | None = None) -> Symbol | None:
        """What `expr` names, or None when it is not a name this model can follow."""
        if expr is None:
            return None
        scope = scope or self.scope_of(expr)
        key = id(expr)
        if key in self._resolved:
            return self._resolved[key]
        if key in self._resolving:  # x = x.y and other cycles
            return None
        self._resolving.add(key)
        try:
            symbol = self._resolve(expr, scope)
        finally:
            self._resolving.discard(key)
        self._resolved[key] = symbol
        return symbol

    def _resolve(self, expr: cst.CSTNode, scope: Scope) -> Symbol | None:
        if isinstance(expr, cst.Name):
            return self._resolve_bindings(self.lookup(expr.value, scope), expr.value)
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value, scope)
            return base.member(expr.attr.value) if base else None
        if isinstance(expr, cst.Call):
            function = self.resolve(expr.func, scope)
            if function is None:
                return None
            if function.qualname == _GET_CONTEXT:
                method = literal_string(argument(expr, 0, "method"))
                if method is None and argument(expr, 0, "method") is not None:
                    method = "unknown"
                prefix = function.written[: -len(".get_context")]
                return Symbol("multiprocessing", prefix, method or "default")
            return function.called()
        return None

    def _resolve_bindings(self, bindings: Sequence[Binding], name: str) -> Symbol | None:
        if not bindings:
            star = self._star_import_symbol(name)
            if star is None and name in _BUILTIN_NAMES:
                return Symbol(name, name)
            return star
        symbols = {self._binding_symbol(binding) for binding in bindings}
        if len(symbols) != 1:
            return None  # bound to different things on different paths: unknown
        return symbols.pop()

    def _binding_symbol(self, binding: Binding) -> Symbol | None:
        if binding.kind == "import":
            assert binding.qualname is not None
            return Symbol(canonical_name(binding.qualname), binding.qualname)
        if binding.kind in ("assign", "with"):
            return self.resolve(binding.value, binding.scope)
        if binding.kind == "element":
            return self._element_symbol(binding.value, binding.scope)
        if binding.kind == "def":
            qualname = _join(binding.scope.qualname, binding.name)
            return Symbol(qualname, qualname, definition=binding.node)
        if binding.kind == "class":
            assert isinstance(binding.node, cst.ClassDef)
            for base in binding.node.bases:
                if base.keyword is None:
                    base_symbol = self.resolve(base.value, binding.scope)
                    if base_symbol is not None and not base_symbol.is_local:
                        # A subclass acts as its library base for every rule here
                        # (class Worker(mp.Process) starts a process like Process).
                        return Symbol(base_symbol.qualname, base_symbol.written,
                                      base_symbol.start_method, binding.node)
            qualname = _join(binding.scope.qualname, binding.name)
            return Symbol(qualname, qualname, definition=binding.node)
        return None

    def _element_symbol(self, iterable: cst.BaseExpression | None, scope: Scope) -> Symbol | None:
        """What the items of `iterable` are, when they are all the same thing:
        `for worker in workers` over `workers = [Process(...) for ...]`."""
        if isinstance(iterable, cst.Name):
            bindings = self.lookup(iterable.value, scope)
            if len(bindings) == 1 and bindings[0].kind == "assign":
                return self._element_symbol(bindings[0].value, bindings[0].scope)
            return None
        if isinstance(iterable, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self.resolve(iterable.elt, self._scope_by_node.get(id(iterable), scope))
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)) and iterable.elements:
            symbols = {self.resolve(element.value, scope) for element in iterable.elements}
            return symbols.pop() if len(symbols) == 1 else None
        return None

    def _star_import_symbol(self, name: str) -> Symbol | None:
        for binding in self.module_scope.bindings.get("*", []):
            assert binding.qualname is not None
            qualname = f"{binding.qualname}.{name}"
            return Symbol(canonical_name(qualname), qualname)
        return None

    def module_alias(self, qualname: str, before: cst.CSTNode | None = None) -> str | None:
        """A name bound at module level by `import <qualname>` (or `as` alias), if any; with
        `before`, only an import that comes ahead of that node (code a fix inserts there
        must not use a name imported further down)."""
        for name, bindings in self.module_scope.bindings.items():
            if (
                len(bindings) == 1
                and bindings[0].kind == "import"
                and bindings[0].qualname == qualname
                and name != "*"
                and (before is None or self._starts_before(bindings[0].node, before))
            ):
                return name
        return None

    def _starts_before(self, first: cst.CSTNode, second: cst.CSTNode) -> bool:
        a, b = self.position(first).start, self.position(second).start
        return (a.line, a.column) < (b.line, b.column)

    def is_bound_anywhere(self, name: str) -> bool:
        return any(name in scope.bindings for scope in self.scopes())

    def scopes(self) -> Iterator[Scope]:
        stack = [self.module_scope]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(scope.children)

    def scope_of(self, node: cst.CSTNode) -> Scope:
        return self._node_scopes.get(id(node), self.module_scope)

    def captured_names(self, function: cst.CSTNode) -> list[str]:
        """Variables of enclosing functions that `function` (a def or lambda) reads."""
        own = self._scope_by_node.get(id(function))
        if own is None:
            return []
        captured: list[str] = []
        stack = [own]
        while stack:
            scope = stack.pop()
            stack.extend(scope.children)
            for name, _ in scope.loads:
                owner = self._binding_scope(name, scope)
                if owner is not None and owner.is_function and not _is_within(owner, own):
                    if name not in captured:
                        captured.append(name)
        return captured

    def _binding_scope(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose binding of `name` a read in `scope` sees; class bodies are
        skipped from inside their methods, `global` goes to the module."""
        current: Scope | None = scope
        first = True
        while current is not None:
            if name in current.global_names:
                return self.module_scope
            if (first or current.kind != "class") and name in current.bindings:
                return current
            first = False
            current = current.parent
        return None

    # -- where code runs --------------------------------------------------------------

    def runs_at_import(self, site: Site) -> bool:
        """True when `site` runs while the module is imported, as a spawned child re-imports
        the main module: not inside a function, not under `if __name__ == "__main__":`."""
        return not site.in_function and not self.under_main_guard(site)

    def under_main_guard(self, site: Site) -> bool:
        return any(
            isinstance(guard, Condition) and "main" in self.facts(guard.test, guard.holds, guard.scope)
            for guard in site.guards
        )

    def fork_is_guarded(self, site: Site, raises: Iterable[str]) -> bool:
        """True when a guard keeps `site` from running where fork does not exist, or a try
        around it catches one of `raises` (what the API raises on Windows)."""
        caught_names = set(raises) | _CATCH_ALL
        for guard in site.guards:
            if isinstance(guard, TryGuard):
                if "*" in guard.caught or guard.caught & caught_names:
                    return True
            elif "posix" in self.facts(guard.test, guard.holds, guard.scope):
                return True
        return False

    def facts(self, test: cst.BaseExpression, holds: bool, scope: Scope, depth: int = 0) -> frozenset[str]:
        """What is known when `test` is truthy (holds) or falsy: "posix" (fork exists),
        "windows", "main" (running as the main script)."""
        if depth > 8:
            return frozenset()
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self.facts(test.expression, not holds, scope, depth + 1)
        if isinstance(test, cst.BooleanOperation):
            left = self.facts(test.left, holds, scope, depth + 1)
            right = self.facts(test.right, holds, scope, depth + 1)
            both_must_hold = isinstance(test.operator, cst.And) == holds
            return left | right if both_must_hold else left & right
        if isinstance(test, cst.Name):
            bindings = self.lookup(test.value, scope)
            if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None:
                return self.facts(bindings[0].value, holds, bindings[0].scope, depth + 1)
            return frozenset()
        if isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name) and test.value.value in ("self", "cls"):
            # `have_fork = hasattr(os, "fork")` in the class body, `if self.have_fork:` in a method
            class_scope = scope
            while class_scope.parent is not None and class_scope.kind != "class":
                class_scope = class_scope.parent
            bindings = class_scope.bindings.get(test.attr.value, []) if class_scope.kind == "class" else []
            if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None:
                return self.facts(bindings[0].value, holds, class_scope, depth + 1)
            return frozenset()
        if isinstance(test, cst.Call):
            return self._call_facts(test, holds, scope)
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            return self._comparison_facts(test, holds, scope)
        return frozenset()

    def _call_facts(self, test: cst.Call, holds: bool, scope: Scope) -> frozenset[str]:
        function = self.resolve(test.func, scope)
        if function is None:
            return frozenset()
        if function.qualname in ("sys.platform.startswith",):
            prefix = literal_string(argument(test, 0))
            if prefix is None:
                return frozenset()
            kind = "windows" if prefix.startswith(("win", "cygwin")) else "posix"
            if holds:
                return frozenset({kind})
            # `not sys.platform.startswith("win")` rules Windows out; not-"linux" says nothing.
            return frozenset({"posix"}) if kind == "windows" else frozenset()
        if not holds:
            return frozenset()
        if function.qualname == "hasattr":
            owner = self.resolve(argument(test, 0), scope)
            attribute = literal_string(argument(test, 1))
            if owner and attribute and owner.qualname in ("os", "multiprocessing.context", "multiprocessing"):
                if "fork" in attribute.lower() or attribute in ("setsid", "getppid"):
                    return frozenset({"posix"})
        return frozenset()

    def _comparison_facts(self, test: cst.Comparison, holds: bool, scope: Scope) -> frozenset[str]:
        target = test.comparisons[0]
        operator = target.operator
        left, right = test.left, target.comparator
        if isinstance(operator, (cst.NotEqual, cst.NotIn, cst.IsNot)):
            holds = not holds
        elif not isinstance(operator, (cst.Equal, cst.In, cst.Is)):
            return frozenset()
        membership = isinstance(operator, (cst.In, cst.NotIn))
        if membership:
            # "fork" in mp.get_all_start_methods()  /  platform.system() in ("Linux", "Darwin")
            needle = literal_string(left)
            haystack = self.resolve(right, scope)
            if needle is not None and haystack is not None:
                if haystack.qualname == "multiprocessing.get_all_start_methods()" and needle in ("fork", "forkserver"):
                    return frozenset({"posix"}) if holds else frozenset()
                return frozenset()
            values = literal_strings(right)
            subject = self.resolve(left, scope)
            if values is None or subject is None:
                return frozenset()
            kinds = {_platform_value_kind(subject.qualname, value) for value in values}
            if holds and len(kinds) == 1 and None not in kinds:
                return frozenset(kinds)  # type: ignore[arg-type]
            if not holds and kinds == {"windows"}:
                return frozenset({"posix"})
            return frozenset()
        value = literal_string(right)
        subject_expr = left
        if value is None:
            value, subject_expr = literal_string(left), right
        if value is None:
            return frozenset()
        if isinstance(subject_expr, cst.Name) and subject_expr.value == "__name__":
            return frozenset({"main"}) if holds and value == "__main__" else frozenset()
        subject = self.resolve(subject_expr, scope)
        if subject is None:
            return frozenset()
        if subject.qualname == "multiprocessing.get_start_method()" and value == "fork":
            return frozenset({"posix"}) if holds else frozenset()
        kind = _platform_value_kind(subject.qualname, value)
        if kind is None:
            return frozenset()
        if holds:
            return frozenset({kind})
        return frozenset({"posix"}) if kind == "windows" else frozenset()

    # -- processes ----------------------------------------------------------------------

    def process_starter(self, call: cst.Call, scope: Scope, process_apis: Iterable[str] = ()) -> str | None:
        """How `call` starts processes, named for a message ("Pool()"), or None.

        Thread pools (`ThreadPool`, `ThreadPoolExecutor`, `multiprocessing.dummy`) and
        contexts that explicitly fork (no re-import) are not starters."""
        function = self.resolve(call.func, scope)
        if function is None or function.start_method == "fork":
            return None
        qualname = function.qualname
        if qualname in _PROCESS_STARTERS:
            return _PROCESS_STARTERS[qualname]
        if function.written.startswith("torch.multiprocessing.") and qualname in _TORCH_STARTERS:
            return f"torch.{qualname}()"
        if qualname == "joblib.Parallel" and literal_string(argument(call, 1, "backend")) == "multiprocessing":
            return 'Parallel(backend="multiprocessing")'
        if qualname.endswith(".run_in_executor"):
            executor = self.resolve(argument(call, 0, "executor"), scope)
            if executor is not None and executor.qualname == "concurrent.futures.ProcessPoolExecutor()":
                return "run_in_executor(ProcessPoolExecutor())"
        if qualname in process_apis:
            return f"{qualname}()"
        return None

    def process_start(self, call: cst.Call, scope: Scope, process_apis: Iterable[str] = (),
                      project: ProcessIndex | None = None, _seen: frozenset[int] = frozenset()) -> ProcessStart | None:
        """Whether running `call` starts processes: a starter itself, or a call to a function
        of this file (or, given `project`, of another checked module) that starts some."""
        starter = self.process_starter(call, scope, process_apis)
        if starter is not None:
            return ProcessStart(call, starter)
        function = self.resolve(call.func, scope)
        if function is None:
            return None
        if function.definition is None and project is not None:
            # The project names the function absolutely (a relative import is resolved).
            inner = project.function_process_start(function.qualname, self.path, process_apis, _seen)
            return None if inner is None else ProcessStart(call, inner.starter, inner.chain)
        if not isinstance(function.definition, cst.FunctionDef):
            return None
        inner = self.function_process_start(function.definition, process_apis, project, _seen)
        return None if inner is None else ProcessStart(call, inner.starter, (function.qualname, *inner.chain))

    def function_process_start(self, definition: cst.FunctionDef, process_apis: Iterable[str] = (),
                               project: ProcessIndex | None = None,
                               _seen: frozenset[int] = frozenset()) -> ProcessStart | None:
        """The first way calling the function `definition` starts processes, if any."""
        if id(definition) in _seen:
            return None  # recursion
        seen = _seen | {id(definition)}
        for site in self._calls_by_function().get(id(definition), ()):
            found = self.process_start(site.node, site.scope, process_apis, project, seen)
            if found is not None:
                return found
        for site in self.loops:
            if self._enclosing_function(site.scope) is definition and self._iterates_worker_loader(site):
                return ProcessStart(site.node, _DATA_LOADER_STARTER)
        return None

    def function_named(self, name: str) -> cst.FunctionDef | None:
        """The module-level function `name` of this file, when it is bound exactly once."""
        bindings = self.module_scope.bindings.get(name, [])
        if len(bindings) == 1 and isinstance(bindings[0].node, cst.FunctionDef):
            return bindings[0].node
        return None

    def import_time_process_starts(self, process_apis: Iterable[str] = (),
                                   project: ProcessIndex | None = None) -> list[ProcessStart]:
        """Every place where importing this module starts processes."""
        starts = []
        for site in self.calls:
            if self.runs_at_import(site):
                found = self.process_start(site.node, site.scope, process_apis, project)
                if found is not None:
                    starts.append(found)
        for site in self.loops:
            if self.runs_at_import(site) and self._iterates_worker_loader(site):
                starts.append(ProcessStart(site.node, _DATA_LOADER_STARTER))
        return starts

    def _calls_by_function(self) -> dict[int, list[Site]]:
        if self._function_calls is None:
            self._function_calls = {}
            for site in self.calls:
                function = self._enclosing_function(site.scope)
                if function is not None:
                    self._function_calls.setdefault(id(function), []).append(site)
        return self._function_calls

    @staticmethod
    def _enclosing_function(scope: Scope) -> cst.CSTNode | None:
        current: Scope | None = scope
        while current is not None and current.kind != "function":
            current = current.parent
        return None if current is None else current.node

    def _iterates_worker_loader(self, loop: Site) -> bool:
        """`for batch in loader` (or `enumerate(loader)`) over a torch DataLoader with workers."""
        assert isinstance(loop.node, cst.For)
        iterable = loop.node.iter
        if isinstance(iterable, cst.Call):
            wrapper = self.resolve(iterable.func, loop.scope)
            if wrapper is not None and wrapper.qualname in ("enumerate", "iter", "zip", "tqdm.tqdm"):
                iterable = argument(iterable, 0)
        if isinstance(iterable, cst.Name):
            bindings = self.lookup(iterable.value, loop.scope)
            if len(bindings) == 1 and bindings[0].kind == "assign":
                iterable = bindings[0].value
        if not isinstance(iterable, cst.Call):
            return False
        loader = self.resolve(iterable.func, loop.scope)
        if loader is None or loader.qualname != "torch.utils.data.DataLoader":
            return False
        workers = argument(iterable, 2, "num_workers")
        if workers is None:
            return False  # the default is 0: batches are loaded in this process
        return not (isinstance(workers, cst.Integer) and int(workers.value, 0) == 0)

    # -- the module's top level -----------------------------------------------------------

    def module_reads(self) -> dict[cst.CSTNode, set[str]]:
        """For each module-level statement, the module-level names it reads, including the
        ones the bodies of its functions and classes read."""
        reads: dict[cst.CSTNode, set[str]] = {}
        for scope in self.scopes():
            for name, node in scope.loads:
                if self._binding_scope(name, scope) is self.module_scope:
                    statement = self._top_statements.get(id(node))
                    if statement is not None:
                        reads.setdefault(statement, set()).add(name)
        return reads

    def module_binds(self) -> dict[cst.CSTNode, set[str]]:
        """For each module-level statement, the module-level names it binds."""
        binds: dict[cst.CSTNode, set[str]] = {}
        for name, bindings in self.module_scope.bindings.items():
            for binding in bindings:
                statement = self._top_statements.get(id(binding.node))
                if statement is not None and not binding.from_function:
                    binds.setdefault(statement, set()).add(name)
        return binds

    def main_guard_plan(self, must_move: Iterable[cst.CSTNode]) -> MainGuardPlan | None:
        """Which module-level statements go under `if __name__ == "__main__":` so that
        `must_move` no longer runs at import, and which stay so that spawned children still
        see what functions and classes read: imports, definitions, and the assignments (and
        in-place changes) of the names those read. None when no order-preserving split exists
        (a moved statement reads a name a later kept statement rebinds)."""
        body = list(self.module.body)
        reads, binds = self.module_reads(), self.module_binds()
        assigned = {name for statement in body for name in binds.get(statement, ()) if not _is_definition(statement)}
        changes = {statement: binds.get(statement, set()) | (_changed_roots(statement) & assigned) for statement in body}
        tainted = set(must_move) | {statement for statement in body if self.is_main_guard(statement)}
        while True:
            kept = [statement for statement in body
                    if (_is_definition(statement) or _is_constant_assignment(statement)) and statement not in tainted]
            needed = set().union(*(reads.get(statement, set()) for statement in kept))
            growing = True
            while growing:
                growing = False
                for statement in body:
                    if statement not in tainted and statement not in kept and changes[statement] & needed:
                        kept.append(statement)
                        needed |= reads.get(statement, set())
                        growing = True
            moved_binds = set().union(*(binds.get(s, set()) for s in body if s not in kept))
            newly_tainted = {
                statement for statement in kept
                if not _is_definition(statement) and reads.get(statement, set()) & moved_binds - set().union(
                    *(binds.get(s, set()) for s in kept))
            }
            if not newly_tainted:
                break
            tainted |= newly_tainted
        kept_set = set(kept)
        moved = [statement for statement in body if statement not in kept_set]
        if any(isinstance(statement, cst.If) and statement.orelse is not None and self.is_main_guard(statement)
               for statement in moved):
            return None  # its else branch runs on import: a new guard around it would make it dead
        for index, statement in enumerate(body):
            if statement in kept_set:
                continue
            later_changes = set().union(*(changes[s] for s in body[index + 1:] if s in kept_set))
            if reads.get(statement, set()) & later_changes:
                return None
        return MainGuardPlan([statement for statement in body if statement in kept_set], moved)

    def top_level_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The module-level statement that contains `node` (a call or a loop)."""
        for candidate in self.module.body:
            if _contains(candidate, node):
                return candidate
        raise ValueError("node is not in this module")

    def is_main_guard(self, statement: cst.CSTNode) -> bool:
        """`if __name__ == "__main__":` (and equivalent tests) at module level."""
        return isinstance(statement, cst.If) and "main" in self.facts(statement.test, True, self.module_scope)

    # -- positions ----------------------------------------------------------------------

    def position(self, node: cst.CSTNode) -> CodeRange:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions[node]


def _platform_value_kind(qualname: str, value: str) -> str | None:
    """"windows"/"posix" for a value of sys.platform, os.name or platform.system()."""
    if qualname == "sys.platform":
        return "windows" if value in ("win32", "cygwin") or value.startswith("win") else "posix"
    if qualname == "os.name":
        return {"nt": "windows", "posix": "posix"}.get(value)
    if qualname in ("platform.system()",):
        return {"Windows": "windows", "Linux": "posix", "Darwin": "posix"}.get(value)
    return None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_within(scope: Scope, ancestor: Scope) -> bool:
    current: Scope | None = scope
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


def literal_string(expr: cst.CSTNode | None) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def literal_strings(expr: cst.CSTNode | None) -> list[str] | None:
    """The strings of a literal tuple, list or set of strings."""
    if not isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return None
    values = [literal_string(element.value) for element in expr.elements]
    return None if any(value is None for value in values) else values  # type: ignore[return-value]


def argument(call: cst.Call, position: int, keyword: str | None = None) -> cst.BaseExpression | None:
    """The expression passed as positional `position` or as `keyword=`."""
    index = 0
    for arg in call.args:
        if arg.keyword is not None:
            if keyword is not None and arg.keyword.value == keyword:
                return arg.value
        elif arg.star:
            return None  # *args: which argument lands where is unknown
        else:
            if index == position:
                return arg.value
            index += 1
    return None


def keyword_argument(call: cst.Call, keyword: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    return None


def dotted_name(expr: cst.CSTNode) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def _caught_names(handlers: Sequence[cst.ExceptHandler]) -> frozenset[str]:
    names: set[str] = set()
    for handler in handlers:
        if handler.type is None:
            names.add("*")
            continue
        elements = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        for element in elements:
            expr = element.value if isinstance(element, cst.Element) else element
            name = dotted_name(expr)
            if name:
                names.add(name.rsplit(".", 1)[-1])
    return frozenset(names)


def _ends_by_leaving(body: cst.BaseSuite, model: SemanticModel, scope: Scope) -> bool:
    """True when a block always leaves: return/raise/continue/break/sys.exit() last."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if not statements:
        return False
    last = statements[-1]
    small = last.body if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else None
    if small:
        final = small[-1]
        if isinstance(final, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
            return True
        if isinstance(final, cst.Expr) and isinstance(final.value, cst.Call):
            symbol = model.resolve(final.value.func, scope)
            return symbol is not None and symbol.qualname in _EXIT_FUNCTIONS
    return False


def _is_definition(statement: cst.CSTNode) -> bool:
    """Imports, defs, classes, docstrings, `pass`, and if/try blocks made only of those:
    statements that define names and do no work."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return True
    if isinstance(statement, cst.SimpleStatementLine):
        return all(
            isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass))
            or (isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)))
            for small in statement.body
        )
    if isinstance(statement, (cst.If, cst.Try)):
        blocks = [statement.body]
        if isinstance(statement, cst.If) and statement.orelse is not None:
            blocks.append(statement.orelse if isinstance(statement.orelse, cst.If) else statement.orelse.body)
        if isinstance(statement, cst.Try):
            blocks += [handler.body for handler in statement.handlers]
            blocks += [part.body for part in (statement.orelse, statement.finalbody) if part is not None]
        return all(
            _is_definition(block) if isinstance(block, cst.If)
            else isinstance(block, cst.IndentedBlock) and all(_is_definition(inner) for inner in block.body)
            for block in blocks
        )
    return False


def _is_constant_assignment(statement: cst.CSTNode) -> bool:
    """`NAME = <expression without calls>`: doing it again in every child changes nothing."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Assign):
            targets = [target.target for target in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        else:
            return False
        if not all(isinstance(target, cst.Name) for target in targets) or _has_effects(small.value):
            return False
    return True


def _has_effects(expression: cst.CSTNode) -> bool:
    stack = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Call, cst.Await, cst.Yield, cst.NamedExpr, cst.Lambda)):
            return True
        stack.extend(node.children)
    return False


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    stack = [tree]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(current.children)
    return False


def _changed_roots(statement: cst.CSTNode) -> set[str]:
    """Names whose value `statement` changes in place: `TABLE[k] = v`, `CONFIG.x = 1`,
    `ITEMS.append(x)`, `COUNT += 1`, also inside its blocks (not inside defs or classes)."""
    roots: set[str] = set()

    class _Collector(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            _add_root(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            _add_root(node.target)

        def visit_Expr(self, node: cst.Expr) -> None:
            if isinstance(node.value, cst.Call) and isinstance(node.value.func, cst.Attribute):
                _add_root(node.value.func.value)

    def _add_root(target: cst.BaseExpression) -> None:
        while isinstance(target, (cst.Attribute, cst.Subscript)):
            target = target.value
        if isinstance(target, cst.Name):
            roots.add(target.value)

    statement.visit(_Collector())
    return roots


# Fields that hold only whitespace, punctuation or operators: never a name, call or scope.
_SYNTAX_ONLY_FIELDS = (
    "whitespace", "leading_lines", "lines_after_decorators", "lpar", "rpar", "comma", "dot",
    "equal", "header", "footer", "trailing_whitespace", "semicolon", "colon", "operator",
    "asynchronous", "star",
)


class _Walker:
    """libcst's visitor protocol -- visit_X/leave_X and visit_X_field/leave_X_field hooks,
    a visit returning False skips the children -- at a fraction of CSTVisitor's cost.

    CSTVisitor looks up a hook by name for every field of every node, whitespace included;
    building the model that way cost more than parsing. Here each node type's hooks and
    child fields are looked up once, and syntax-only fields are never walked.
    """

    _plans: dict

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._plans = {}

    def _plan(self, node_type: type) -> tuple:
        plan = self._plans.get(node_type)
        if plan is None:
            name = node_type.__name__
            fields = []
            for field_ in dataclasses.fields(node_type):
                if field_.name.startswith(_SYNTAX_ONLY_FIELDS):
                    continue
                fields.append((
                    field_.name,
                    getattr(type(self), f"visit_{name}_{field_.name}", None),
                    getattr(type(self), f"leave_{name}_{field_.name}", None),
                ))
            plan = (getattr(type(self), f"visit_{name}", None), getattr(type(self), f"leave_{name}", None), tuple(fields))
            self._plans[node_type] = plan
        return plan

    def walk(self, node: cst.CSTNode) -> None:
        visit, leave, fields = self._plan(type(node))
        if self.on_visit(node) and (visit is None or visit(self, node) is not False):
            for name, visit_field, leave_field in fields:
                value = getattr(node, name)
                if visit_field is not None:
                    visit_field(self, node)
                if isinstance(value, cst.CSTNode):
                    self.walk(value)
                elif isinstance(value, (tuple, list)):
                    for child in value:
                        if isinstance(child, cst.CSTNode):
                            self.walk(child)
                if leave_field is not None:
                    leave_field(self, node)
        if leave is not None:
            leave(self, node)
        self.on_leave(node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return True

    def on_leave(self, node: cst.CSTNode) -> None:
        pass


class _ModelBuilder(_Walker):
    """The single pass that fills a SemanticModel."""

    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self.scope = model.module_scope
        self.guards: tuple = ()
        self.function_depth = 0
        self.block_guards: list[tuple] = []
        self.statements: list[tuple[cst.CSTNode | None, cst.CSTNode | None]] = [(None, None)]
        self.blocks: list[cst.CSTNode] = []
        # > 0 while visiting a Name that is not a variable: an attribute, a keyword, a
        # parameter or definition name.
        self.name_is_not_a_reference = 0
        model._node_scopes = {}
        model._scope_by_node = {}
        # id(node) -> the module-level statement it is in, for names and bindings.
        model._top_statements = {}

    def build(self) -> None:
        self.walk(self.model.module)

    # -- helpers ------------------------------------------------------------------

    def site(self, node: cst.CSTNode) -> Site:
        return Site(node, self.scope, self.guards, self.function_depth, *self.statements[-1])

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self.statements.append((node, self.blocks[-1]))
        elif isinstance(node, (cst.Module, cst.IndentedBlock)):
            self.blocks.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self.statements.pop()
        elif isinstance(original_node, (cst.Module, cst.IndentedBlock)):
            self.blocks.pop()

    def top_statement(self) -> cst.CSTNode | None:
        return self.statements[1][0] if len(self.statements) > 1 else None

    def bind(self, name: str, kind: str, node: cst.CSTNode, value=None, qualname=None) -> None:
        self.model._top_statements[id(node)] = self.top_statement()
        scope = self.scope
        from_function = False
        if name in scope.global_names and scope is not self.model.module_scope:
            scope, from_function = self.model.module_scope, True
        # The value is evaluated where the statement is, even when it binds a global.
        binding = Binding(name, kind, node, self.scope, value, qualname, from_function)
        scope.bindings.setdefault(name, []).append(binding)

    def bind_target(self, target: cst.BaseExpression, kind: str, node: cst.CSTNode, value=None) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, kind, node, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_target(element.value, "other", node)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, "other", node)

    def enter_scope(self, kind: str, node: cst.CSTNode, name: str = "") -> None:
        scope = Scope(kind, node, self.scope, name)
        self.scope.children.append(scope)
        self.model._scope_by_node[id(node)] = scope
        self.scope = scope

    def leave_scope(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent

    def push(self, guard) -> None:
        self.guards = self.guards + (guard,)

    def pop(self) -> None:
        self.guards = self.guards[:-1]

    # -- blocks: an `if windows: exit` guards the statements after it --------------

    def visit_Module(self, node: cst.Module) -> None:
        self.block_guards.append(self.guards)

    def leave_Module(self, node: cst.Module) -> None:
        self.guards = self.block_guards.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.block_guards.append(self.guards)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.guards = self.block_guards.pop()

    # -- scopes -------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bind(node.name.value, "def", node)
        self.model.functions.append(self.site(node))

    def visit_FunctionDef_params(self, node: cst.FunctionDef) -> None:
        # Defaults and annotations are evaluated in the enclosing scope; the names in
        # the signature belong to the function's.
        self.enter_scope("function", node, node.name.value)
        for param in _all_params(node.params):
            self.bind(param.name.value, "param", param)
        self.leave_scope()

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.scope = self.model._scope_by_node[id(node)]
        self.function_depth += 1

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.function_depth -= 1
        self.leave_scope()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.enter_scope("lambda", node, "<lambda>")
        for param in _all_params(node.params):
            self.bind(param.name.value, "param", param)
        self.function_depth += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.function_depth -= 1
        self.leave_scope()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bind(node.name.value, "class", node)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.enter_scope("class", node, node.name.value)

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.leave_scope()

    def _visit_comprehension(self, node: cst.CSTNode) -> None:
        self.enter_scope("comprehension", node, "<comprehension>")

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        self.leave_scope()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_comprehension

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.bind_target(node.target, "other", node)

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.global_names.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.scope.nonlocal_names.update(item.name.value for item in node.names)

    # -- bindings -----------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            qualname = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound, bound_qualname = alias.asname.name.value, qualname
            else:
                bound = bound_qualname = qualname.split(".")[0]
            self.bind(bound, "import", node, qualname=bound_qualname)
            self._record_import(node, alias, qualname, bound)
        return False  # dotted module names in an import are not references

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = "." * len(node.relative)
        if node.module is not None:
            module += dotted_name(node.module) or ""
        if isinstance(node.names, cst.ImportStar):
            self.bind("*", "import", node, qualname=module)
            self._record_import(node, None, module + ".*", "*")
            return False
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            qualname = f"{module}.{name}" if not module.endswith(".") else module + name
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.bind(bound, "import", node, qualname=qualname)
            self._record_import(node, alias, qualname, bound)
        return False

    def _record_import(self, node, alias, qualname: str, bound: str) -> None:
        self.model.imports.append(
            ImportSite(node, self.scope, self.guards, self.function_depth, *self.statements[-1],
                       alias=alias, qualname=canonical_name(qualname), written=qualname, bound_name=bound)
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.bind_target(target.target, "assign", node, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bind_target(node.target, "assign" if node.value is not None else "other", node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.bind_target(node.target, "other", node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent  # the walrus binds in the enclosing function or module
        saved, self.scope = self.scope, scope
        self.bind_target(node.target, "assign", node, node.value)
        self.scope = saved

    def visit_For(self, node: cst.For) -> None:
        self.model.loops.append(self.site(node))
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, "element", node, node.iter)
        else:
            self.bind_target(node.target, "other", node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.bind_target(node.asname.name, "with", node, node.item)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.bind(node.name.name.value, "other", node)

    # -- guards -------------------------------------------------------------------

    def visit_If_body(self, node: cst.If) -> None:
        self.push(Condition(node.test, True, self.scope))

    def leave_If_body(self, node: cst.If) -> None:
        self.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self.push(Condition(node.test, False, self.scope))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.pop()

    def leave_If(self, node: cst.If) -> None:
        if node.orelse is None and _ends_by_leaving(node.body, self.model, self.scope):
            self.push(Condition(node.test, False, self.scope))  # popped with the block

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self.push(Condition(node.test, True, self.scope))

    def leave_IfExp_body(self, node: cst.IfExp) -> None:
        self.pop()

    def visit_IfExp_orelse(self, node: cst.IfExp) -> None:
        self.push(Condition(node.test, False, self.scope))

    def leave_IfExp_orelse(self, node: cst.IfExp) -> None:
        self.pop()

    def visit_BooleanOperation_right(self, node: cst.BooleanOperation) -> None:
        self.push(Condition(node.left, isinstance(node.operator, cst.And), self.scope))

    def leave_BooleanOperation_right(self, node: cst.BooleanOperation) -> None:
        self.pop()

    def visit_While_body(self, node: cst.While) -> None:
        self.push(Condition(node.test, True, self.scope))

    def leave_While_body(self, node: cst.While) -> None:
        self.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        self.push(TryGuard(_caught_names(node.handlers)))

    def leave_Try_body(self, node: cst.Try) -> None:
        self.pop()

    # -- uses ---------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        self.model.calls.append(self.site(node))
        self.model._node_scopes[id(node)] = self.scope

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.model.references.append(self.site(node))
        self.model._node_scopes[id(node)] = self.scope

    def visit_Name(self, node: cst.Name) -> None:
        if self.name_is_not_a_reference:
            return
        self.model._node_scopes[id(node)] = self.scope
        self.model._top_statements[id(node)] = self.top_statement()
        self.scope.loads.append((node.value, node))
        self.model.references.append(self.site(node))


def _not_a_reference(_self: _ModelBuilder, _node: cst.CSTNode) -> None:
    _self.name_is_not_a_reference += 1


def _reference_again(_self: _ModelBuilder, _node: cst.CSTNode) -> None:
    _self.name_is_not_a_reference -= 1


for _child in ("Attribute_attr", "Arg_keyword", "FunctionDef_name", "ClassDef_name", "Param_name",
               "NameItem_name",
               "AsName_name"):
    setattr(_ModelBuilder, f"visit_{_child}", _not_a_reference)
    setattr(_ModelBuilder, f"leave_{_child}", _reference_again)


def _all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg
