"""The call graph and the process facts of one file.

- `callees(site)`: the functions of this file a call runs: a function, a method through an
  instance or `self` (`Job(text).run()`), a constructor (`Service()` runs `__init__`, found
  through the file's own base classes too).
- `process_call(site)`: a call of a catalogue API that starts processes or pickles what it
  is given, with the callable and the data it hands to a child and the start method in force.
- `process_start(site)`: whether running a call starts processes -- itself, or through the
  functions it calls, in this file or (with a project index) in other modules.
- `loader_iterations()`: torch DataLoaders with workers and where they are iterated (through
  `enumerate`, `tqdm`, `zip`, `iter`, `next`, `list`, comprehensions).
- `passed_to(parameter)`: what this file passes to a function's parameter (calls, `args=`).
- `fork_only_use(site)`: a name or call that exists only where fork exists.
- `handed(process_call)`: each value a process call gives its callable as an argument
  (`args=`, `kwargs=`, `initargs=`, `submit`'s), with the parameter it arrives in.
"""

from __future__ import annotations

import enum
import functools
import itertools
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Protocol

import libcst as cst

from .. import apis
from ..apis import Role
from ..project import Answers, Searches
from .names import UNKNOWN, Symbol, argument, attribute_stores, class_member, context_method, decorator_names, \
    literal_string, nodes_within, returned_values
from .scopes import Binding, Condition, Kind, Scope, ScopeKind, Site

if TYPE_CHECKING:
    from . import SemanticModel

# Calls that hand back (or walk) the items of their argument: a loader inside them is iterated.
_ITERATING_WRAPPERS = frozenset({
    "enumerate", "zip", "iter", "next", "list", "tuple", "sorted", "set", "reversed", "map", "filter",
    "tqdm.tqdm", "itertools.islice", "itertools.cycle", "itertools.chain", "more_itertools.chunked",
})
_CONSUMING_CALLS = frozenset({"iter", "next", "list", "tuple", "sorted", "set", "dict", "sum", "any", "all",
                              "max", "min"})
DATA_LOADER_STARTER = "DataLoader(num_workers>0) iterated"
PROCESS_START = apis.CATALOGUE["multiprocessing.Process().start"].label  # the starter of one process
# Builtin classes None is no instance of (`isinstance(device, list)` with `device=None`).
_NOT_NONE_TYPES = frozenset({"list", "tuple", "dict", "set", "frozenset", "str", "bytes", "int", "float", "bool"})
# The ordering comparisons a condition on a count is written with (`if workers > 1:`).
_ORDERINGS = {cst.LessThan: operator.lt, cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
              cst.GreaterThanEqual: operator.ge}


class Search(enum.Enum):
    """What `process_start` looks for through the calls a call makes."""

    PROCESSES = "processes"  # what starts worker processes
    ANY_PROCESS = "any process"  # those, and the resource tracker process
    FREEZE_SUPPORT = "freeze_support"  # a call of multiprocessing.freeze_support()


def _comparable(left: object, right: object) -> bool:
    """Two constants an ordering compares as Python would at run time without raising:
    two numbers, or two strings."""
    numbers = (int, float)
    return (isinstance(left, numbers) and isinstance(right, numbers)) or \
        (isinstance(left, str) and isinstance(right, str))


@dataclass(frozen=True)
class CallShape:
    """How a call passes its arguments, as the search of the function it runs needs it: the
    values of its positional arguments and of its keywords, as far as they are known where the
    call stands (UNKNOWN where not), and whether it unpacks (`*args`, `**kwargs`), after which
    any parameter it does not name may be given. `UNKNOWN_CALL`: nothing is known of it."""

    positional: tuple[object, ...]
    keywords: tuple[tuple[str, object], ...]
    unpacks: bool


UNKNOWN_CALL = CallShape((), (), True)


@dataclass(frozen=True)
class ProcessStart:
    """A place that starts processes: `node` (a call, or the DataLoader iterated) and what
    starts them, through `chain`, the functions called on the way (`("main", "run_jobs")`).
    `site`: where running this file's code starts them (the call, or the loop over the
    loader). `iteration`: for a DataLoader of this file, where it is iterated (the loop, or
    the iterating call, possibly in a function the chain leads to)."""

    node: cst.CSTNode
    starter: str  # "Pool()", "Process.start()", ...
    chain: tuple[str, ...] = ()
    site: Site | None = field(default=None, compare=False)  # where in this file they start (the call, the iteration)
    iteration: Site | None = field(default=None, compare=False)
    # The function that starts the process joins one before it returns, whatever path it
    # takes: calling it runs a child and waits for it, like subprocess.run.
    waited: bool = field(default=False, compare=False)

    def describe(self) -> str:
        if not self.chain:
            return self.starter
        return f"{self.starter} (through {' -> '.join(name + '()' for name in self.chain)})"


@dataclass(frozen=True)
class ProcessCall:
    """A call of a process API.

    `callable`: the expression pickled as a callable (target=, the function given to map,
    initializer=...), `data`: the expressions whose values are pickled, `pickled_under`: the
    start methods under which they are pickled by reference (none when the call's context
    forks explicitly and the API pickles only under spawn/forkserver, or when the package
    pickles by value: dill's `multiprocess`; for a package imported with another as the
    fallback, the standard library's: `may_pickle_by_value`). `start_method`: the context's,
    None for the platform default.
    """

    site: Site
    api: apis.Api
    symbol: Symbol
    callable: cst.BaseExpression | None
    data: tuple[cst.BaseExpression, ...]
    start_method: str | None
    pickled_under: frozenset[str]
    # The data expressions whose items are pickled rather than themselves (see apis.Argument).
    item_data: tuple[cst.BaseExpression, ...] = ()

    @property
    def starts(self) -> bool:
        return bool(self.api.roles & Role.STARTS)

    @property
    def may_pickle_by_value(self) -> bool:
        """Whether the package that runs it may pickle by value (Symbol.may_pickle_by_value):
        then what pickle refuses may still travel."""
        return self.symbol.may_pickle_by_value

    @property
    def by_inheritance(self) -> bool:
        """What it pickles goes to a child as it is created (`Process(args=...)`,
        `Pool(initargs=...)`), not through a queue to a running worker (`Pool.map`): only
        then may it carry multiprocessing locks and queues (facts §5)."""
        return "fork" not in self.api.pickled_under


@dataclass(frozen=True)
class StartMethodChoice:
    """A call that fixes the global start method (see `ProcessFacts.start_method_choice`).
    `label` names the call ("set_start_method()", "Lock()"); `explicit`: a
    `set_start_method()` call, with its `method` (None: not a constant) and `force`."""

    site: Site
    label: str
    explicit: bool
    method: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Handed:
    """One value a process is given: `value`, the expression in `args=`/`kwargs=`, and the
    `parameter` binding of the target it arrives in (None when the target is not a function
    of this file or the position cannot be told)."""

    value: cst.BaseExpression
    parameter: Binding | None


_SERIALS = itertools.count()  # of the models made in this process


class ProjectIndex(Protocol):
    """What the model asks the project about names of other modules (project.py)."""

    searches: Searches  # what the call-graph searches of the project's models share

    def process_start(self, qualname: str, from_path: str, seen: frozenset, looking_for: Search = Search.PROCESSES,
                      shape: Callable[[], CallShape] | None = None) -> ProcessStart | None:
        """How calling `qualname` (as imported in the file `from_path`, with arguments as
        `shape()` says, asked only once the function is found) starts processes; its chain
        begins with the absolute dotted name called."""

    def pickled_parameters(self, qualname: str, from_path: str, seen: frozenset) -> tuple:
        """The parameters that calling `qualname` (as imported in `from_path`) hands to a
        child by pickle (workers.PickledParameter), indexed as the call's arguments."""


class ProcessFacts:
    def __init__(self, model: SemanticModel, process_apis: Iterable[str] = (),
                 project: ProjectIndex | None = None) -> None:
        self.model = model
        self.process_apis = frozenset(process_apis)
        self.project = project
        # The searches through functions go on through the project's other models.
        self.searches = project.searches if project is not None else Searches()
        self._calls_by_function: dict[int, list[Site]] | None = None
        self._starts = Answers(self.searches)  # (key(function), Search) -> ProcessStart | None
        self._serial = next(_SERIALS)
        self._loaders: list[tuple[cst.Call, Site]] | None = None
        # Answers per call, each kept with the node or site asked about (so that its id
        # cannot be another's while the answer is kept).
        self._callees: dict[int, tuple[cst.Call, list[cst.FunctionDef]]] = {}
        self._read_by_calls: dict[int, tuple[cst.FunctionDef, frozenset[str]]] = {}  # see _parameters_read_by_...
        self._process_calls: dict[int, tuple[Site, ProcessCall | None]] = {}
        # id(function) -> the indexes in model.calls of the calls that call it, and the
        # indexes of the process calls that hand a callable (`_index_callers`).
        self._callers: dict[int, list[int]] | None = None
        self._calls_with_callable: list[int] = []

    # -- the call graph -----------------------------------------------------------------------

    def key(self, function: cst.FunctionDef) -> tuple[int, int]:
        """The key of a function of this file in the `seen` sets of the searches through
        functions (project.Searches): unique in the run, where an id alone could be that of
        a function of a released model whose nodes were freed since."""
        return self._serial, id(function)

    def callees(self, call: cst.Call) -> list[cst.FunctionDef]:
        """The functions of this file that running `call` runs first (every definition that
        can reach a plain name: `if fast: def start(): ... else: def start(): ...`)."""
        known = self._callees.get(id(call))
        if known is None:
            known = self._callees[id(call)] = (call, self._find_callees(call))
        return known[1]

    def _find_callees(self, call: cst.Call) -> list[cst.FunctionDef]:
        reference = self.model.reference(call.func) if isinstance(call.func, cst.Name) else None
        if reference is not None and len(reference.bindings) > 1 and \
                all(binding.kind is Kind.DEF for binding in reference.bindings):
            return [binding.node for binding in reference.bindings if isinstance(binding.node, cst.FunctionDef)]
        symbol = self.model.resolve(call.func)
        if symbol is None or symbol.definition is None:
            return []
        definition = symbol.definition
        if isinstance(definition, cst.FunctionDef):
            return [definition]
        if isinstance(definition, cst.ClassDef):
            method = "__call__" if symbol.is_instance else "__init__"
            found = class_member(self.model, definition, method, instance=True)
            if found is not None and isinstance(found.definition, cst.FunctionDef):
                return [found.definition]
        return []

    def calls_of(self, function: cst.CSTNode | None) -> list[Site]:
        """The calls that run when `function` (a def or lambda) runs, comprehensions in it
        included; None: the calls that run at module level (class bodies included)."""
        if self._calls_by_function is None:
            self._calls_by_function = {}
            for site in self.model.calls:
                owner = site.scope.enclosing_function()
                key = id(owner.node) if owner is not None else 0
                self._calls_by_function.setdefault(key, []).append(site)
        return self._calls_by_function.get(id(function) if function is not None else 0, [])

    # -- process calls ------------------------------------------------------------------------

    def process_call(self, site: Site) -> ProcessCall | None:
        """The process API that the call at `site` calls, with what it hands over, or None."""
        known = self._process_calls.get(id(site))
        if known is None:
            known = self._process_calls[id(site)] = (site, self._find_process_call(site))
        return known[1]

    def _find_process_call(self, site: Site) -> ProcessCall | None:
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        api = apis.lookup(symbol.qualname)
        if api is None and symbol.qualname.endswith("." + apis.RUN_IN_EXECUTOR):
            return self._run_in_executor(site, symbol)
        if api is None or not api.roles & (Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA):
            return None
        method = symbol.start_method or api.start_method
        if api.start_method_argument is not None:
            given = argument(call, api.start_method_argument.position, api.start_method_argument.keyword)
            if given is not None:
                value = self.model.value_of(given)
                method = value if isinstance(value, str) else "unknown"
        if api.context_argument is not None:
            method = context_method(self.model, argument(call, api.context_argument.position,
                                                         api.context_argument.keyword), method)
        pickled = api.pickled_under if symbol.flavour not in apis.PICKLE_BY_VALUE else frozenset()
        if method in apis.START_METHODS:
            pickled = pickled & {method}
        return _process_call(site, api, symbol, method, frozenset(pickled))

    def handed(self, process_call: ProcessCall) -> list[Handed]:
        """The values a process call gives its callable as arguments, each with the parameter
        of the callable (a function or method of this file) it arrives in: the items of a
        literal `args=`/`initargs=` tuple or list and of a `kwargs=` dict display or
        `dict(...)` (apis.Argument.spread), and `submit(fn, *args, **kwargs)`'s further
        arguments. Other shapes give nothing; positions after a starred item are not told."""
        call = process_call.site.node
        assert isinstance(call, cst.Call)
        api = process_call.api
        positional: list[cst.BaseExpression] = []
        keywords: list[tuple[str | None, cst.BaseExpression]] = []
        if api.rest_is_data and not api.rest_items:
            callable_keyword = api.callable_argument.keyword if api.callable_argument else None
            positional = list(itertools.takewhile(lambda value: value is not None, (
                arg.value if arg.keyword is None and not arg.star else None for arg in call.args[1:])))
            keywords = [(arg.keyword.value, arg.value) for arg in call.args
                        if arg.keyword is not None and arg.keyword.value != callable_keyword]
        for spec in api.data_arguments:
            given = argument(call, spec.position, spec.keyword) if spec.spread else None
            if spec.spread == "*" and isinstance(given, (cst.Tuple, cst.List)):
                positional = list(itertools.takewhile(lambda value: value is not None, (
                    None if isinstance(element, cst.StarredElement) else element.value
                    for element in given.elements)))
            elif spec.spread == "**" and isinstance(given, cst.Dict):
                keywords = [(literal_string(element.key), element.value) for element in given.elements
                            if isinstance(element, cst.DictElement)]
            elif spec.spread == "**" and isinstance(given, cst.Call) and _names(self.model.resolve(given.func), "dict"):
                keywords = [(arg.keyword.value, arg.value) for arg in given.args if arg.keyword is not None]
        parameters, positional_count = self._target_parameters(process_call.callable) or ([], 0)
        by_name = {parameter.name: parameter for parameter in parameters}
        found = [Handed(value, parameters[index] if index < positional_count else None)
                 for index, value in enumerate(positional, start=api.leading_arguments)]
        return found + [Handed(value, by_name.get(key) if key else None) for key, value in keywords]

    def _target_parameters(self, target: cst.BaseExpression | None) -> tuple[list[Binding], int] | None:
        """The parameter bindings of a target function of this file, in order (without
        `self` for a method reached through an instance), and how many take positions."""
        symbol = self.model.resolve(target) if target is not None else None
        if target is None or symbol is None or not isinstance(symbol.definition, cst.FunctionDef):
            return None
        scope = self.model.scope_of_definition(symbol.definition)
        if scope is None:
            return None
        params = symbol.definition.params
        names = [param.name.value for param in (*params.posonly_params, *params.params)]
        if names and binds_first_parameter(self.model, symbol.definition, target):
            names = names[1:]
        positional_count = len(names)
        names += [param.name.value for param in params.kwonly_params]
        bindings = []
        for name in names:
            binding = next((b for b in scope.bindings.get(name, ()) if b.kind is Kind.PARAMETER), None)
            if binding is None:
                return None
            bindings.append(binding)
        return bindings, positional_count

    def _run_in_executor(self, site: Site, symbol: Symbol) -> ProcessCall | None:
        call = site.node
        assert isinstance(call, cst.Call)
        executor = self.model.resolve(argument(call, 0, "executor"))
        if executor is None or executor.qualname != "concurrent.futures.ProcessPoolExecutor()":
            return None
        api = apis.RUN_IN_PROCESS_POOL
        data = tuple(arg.value for arg in call.args[2:] if arg.keyword is None)
        return ProcessCall(site, api, symbol, argument(call, 1, "func"), data, executor.start_method,
                           api.pickled_under)

    def loader_workers(self) -> list[ProcessCall]:
        """Each torch DataLoader of this file with workers that is iterated, as the process
        call that hands its dataset, `collate_fn` and `worker_init_fn` to the workers
        (apis.DATA_LOADER_WORKERS); once per loader."""
        found: dict[int, ProcessCall] = {}
        calls = {id(site.node): site for site in self.model.calls}
        for loader, _ in self.loader_iterations():
            site = calls.get(id(loader))
            symbol = self.model.resolve(loader.func)
            if site is None or symbol is None or id(loader) in found:
                continue
            api = apis.DATA_LOADER_WORKERS
            method = context_method(self.model, argument(loader, api.context_argument.position,
                                                         api.context_argument.keyword), symbol.start_method)
            pickled = api.pickled_under & {method} if method in apis.START_METHODS else api.pickled_under
            found[id(loader)] = _process_call(site, api, symbol, method, pickled)
        return list(found.values())

    def starter(self, site: Site, looking_for: Search = Search.PROCESSES) -> str | None:
        """How the call at `site` starts processes by itself, named for a message ("Pool()"),
        or None. Thread pools and contexts that explicitly fork (no re-import) are not
        starters. With `Search.ANY_PROCESS`, so are the objects whose creation starts the
        resource tracker process under spawn and forkserver (`SharedMemory`, a `Queue`, a
        `Lock`); with `Search.FREEZE_SUPPORT` only `multiprocessing.freeze_support()` counts."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.qualname in self.process_apis:
            return f"{symbol.qualname}()"
        if looking_for is Search.FREEZE_SUPPORT:
            return "freeze_support()" if symbol.qualname == apis.FREEZE_SUPPORT else None
        if looking_for is Search.ANY_PROCESS and symbol.start_method != "fork" and \
                apis.has_role(symbol.qualname, Role.RESOURCE_TRACKER):
            return f"{apis.CATALOGUE[symbol.qualname].label} (the resource tracker)"
        process_call = self.process_call(site)
        if process_call is not None:
            if not process_call.starts or process_call.start_method == "fork":
                return None
            return process_call.api.label
        if isinstance(call.func, cst.Call):  # Parallel(backend="multiprocessing")(...)
            inner = self.model.resolve(call.func.func)
            backend = argument(call.func, 1, "backend")
            # `backend = "multiprocessing"; Parallel(backend=backend)`: any value it may hold.
            if inner is not None and inner.qualname == apis.JOBLIB_PARALLEL and backend is not None and \
                    "multiprocessing" in map(literal_string, (backend, *self.model.values_of(backend))):
                return 'Parallel(backend="multiprocessing")'
        return None

    def process_start(self, site: Site, _seen: frozenset = frozenset(), looking_for: Search = Search.PROCESSES,
                      _known: dict[str, object] | None = None) -> ProcessStart | None:
        """Whether running the call at `site` starts processes: a starter itself, or a call to
        a function of this file (or, with a project index, of another module) that starts
        some. `looking_for`: see `starter`. (`_known`: the values the parameters of the
        function searched around the call are known to have: see function_process_start.)"""
        call = site.node
        assert isinstance(call, cst.Call)
        starter = self.starter(site, looking_for)
        if starter is not None:
            waited = starter == PROCESS_START and site.in_function and self._joins_unconditionally(site.scope)
            return ProcessStart(call, starter, (), site, waited=waited)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.definition is None:
            if self.project is None or symbol.written.split(".", 1)[0] in NOT_PROJECT:
                return None
            inner = self.project.process_start(symbol.written, self.model.path, _seen, looking_for,
                                               functools.partial(self.call_shape, call, _known or {}))
            return None if inner is None else ProcessStart(call, inner.starter, inner.chain, site, waited=inner.waited)
        callees = self.callees(call)
        shape = self.call_shape(call, _known or {}) if callees else UNKNOWN_CALL
        for function in callees:
            inner = self.function_process_start(function, _seen, looking_for, shape)
            if inner is not None:  # a loader of this file is reported where it is made
                return ProcessStart(call if inner.iteration is None else inner.node, inner.starter,
                                    (self._function_name(function), *inner.chain), site, inner.iteration,
                                    inner.waited)
        if not callees and isinstance(symbol.definition, cst.ClassDef) and not symbol.is_instance:
            inner = self._inherited_start(symbol.definition, _seen, looking_for)
            return None if inner is None else ProcessStart(call, inner.starter, inner.chain, site, waited=inner.waited)
        return None

    def _inherited_start(self, definition: cst.ClassDef, seen: frozenset, looking_for: Search) -> ProcessStart | None:
        """How constructing the class `definition` of this file, which defines no `__init__`
        (nor do its bases of this file), starts processes through the one it inherits from a
        class of another module of the project."""
        base = self._foreign_base(definition, frozenset())
        if base is None or self.project is None or base.written.split(".", 1)[0] in NOT_PROJECT:
            return None
        return self.project.process_start(base.written, self.model.path, seen, looking_for)

    def _foreign_base(self, definition: cst.ClassDef, seen: frozenset[int]) -> Symbol | None:
        """The first base class, through bases of this file, that is not of this file."""
        for base in definition.bases:
            symbol = self.model.resolve(base.value) if base.keyword is None else None
            if symbol is None:
                continue
            if not isinstance(symbol.definition, cst.ClassDef):
                return symbol
            if id(symbol.definition) not in seen:
                found = self._foreign_base(symbol.definition, seen | {id(definition)})
                if found is not None:
                    return found
        return None

    def function_process_start(self, function: cst.FunctionDef, _seen: frozenset = frozenset(),
                               looking_for: Search = Search.PROCESSES,
                               shape: CallShape = UNKNOWN_CALL) -> ProcessStart | None:
        """The first way running `function`, called with arguments as `shape` says, starts
        processes, if any. A call in it under a condition decided against it by the values
        its parameters are known to have (`if pool is not None:`, where the call leaves out
        `pool=None` or passes `pool=None`, or passes on a parameter of its own known so) is not
        followed: a function that starts a pool only when asked to is no start where it is not."""
        known = self.known_parameters(function, shape)
        if known and self.function_process_start(function, _seen, looking_for) is None:
            return None  # (known values only rule calls out: most functions start nothing anyway)
        # Searched once per set of known values: a call of it deeper down with other values (a
        # recursion that reaches its base case) is not cut short by this search, which may have
        # ruled out the very branch that call takes.
        searched = (*self.key(function), tuple(sorted((name, repr(value)) for name, value in known.items())))
        if searched in _seen:
            self.searches.cut(searched)
            return None
        key = (searched, looking_for)
        remembered = self._starts.recall(key, _seen)
        if remembered is not None:
            return remembered.value  # type: ignore[return-value]
        seen = _seen | {searched}
        with self.searches.search(searched):
            found = None
            for site in self.calls_of(function):
                if known and self.ruled_out(site, function, known):
                    continue
                found = self.process_start(site, seen, looking_for, known)
                if found is not None:
                    break
            if found is None and looking_for is not Search.FREEZE_SUPPORT:
                for loader, iteration in self.loader_iterations():
                    owner = iteration.scope.enclosing_function()
                    if owner is not None and owner.node is function:
                        found = ProcessStart(loader, DATA_LOADER_STARTER, (), iteration, iteration)
                        break
            self._starts.remember(key, found)
        return found

    def name_process_start(self, dotted: str, seen: frozenset = frozenset(), looking_for: Search = Search.PROCESSES,
                           shape: CallShape = UNKNOWN_CALL) -> ProcessStart | None:
        """How calling the module-level name `dotted` of this file (`run`, `Runner` -- its
        constructor --, `Runner().run`, `Runner.create`), with arguments as `shape` says,
        starts processes, following re-exports (`from .batch import run`) through the project;
        the chain starts with `dotted`."""
        symbol = self.model.symbol_of_name(dotted)
        if symbol is None:
            return None
        if symbol.definition is None:
            if self.project is None:
                return None
            inner = self.project.process_start(symbol.written, self.model.path, seen, looking_for, lambda: shape)
            return None if inner is None else \
                ProcessStart(inner.node, inner.starter, (dotted, *inner.chain), waited=inner.waited)
        function: cst.CSTNode | None = symbol.definition
        if isinstance(function, cst.ClassDef) and not symbol.is_instance:
            found = class_member(self.model, function, "__init__", instance=True)
            if found is None:
                inherited = self._inherited_start(function, seen, looking_for)
                return None if inherited is None else \
                    ProcessStart(inherited.node, inherited.starter, (dotted, *inherited.chain), waited=inherited.waited)
            function = found.definition
        if not isinstance(function, cst.FunctionDef):
            return None
        inner = self.function_process_start(function, seen, looking_for, shape)
        return None if inner is None else \
            ProcessStart(inner.node, inner.starter, (dotted, *inner.chain), waited=inner.waited)

    def call_shape(self, call: cst.Call, known: dict[str, object]) -> CallShape:
        """The shape of `call`, its keywords' values worked out with the parameters of the
        function around it holding the values `known`."""
        return CallShape(tuple(self.value_given(arg.value, known) for arg in call.args
                               if arg.keyword is None and not arg.star),
                         tuple((arg.keyword.value, self.value_given(arg.value, known))
                               for arg in call.args if arg.keyword is not None),
                         any(arg.star for arg in call.args))

    def known_parameters(self, function: cst.FunctionDef, shape: CallShape) -> dict[str, object]:
        """The values the parameters of `function` are known to have when a call of `shape`
        runs it: a keyword's known value; a positional argument's, for a function that is no
        method (a method's call may be binding `self` or not); a constant default (`pool=None`)
        where the call surely leaves the parameter out -- not unpacking, not naming it, and (a
        positional one) after its positional arguments, counted from the second parameter for
        a method."""
        if shape.unpacks and not shape.keywords:
            return {}  # (any parameter may be given)
        params = function.params
        positional = [*params.posonly_params, *params.params]
        given = dict(shape.keywords)
        method = self._may_bind_first_parameter(function)
        relevant = self._parameters_read_by_conditions_or_calls(function)
        found: dict[str, object] = {}
        for index, param in enumerate([*positional, *params.kwonly_params]):
            name = param.name.value
            if name not in relevant:
                continue
            if name in given:
                value = given[name]
            elif index < len(positional) and index < len(shape.positional) and not method:
                value = shape.positional[index]
            elif shape.unpacks or param.default is None or \
                    (index < len(positional) and index < len(shape.positional) + method):
                continue
            else:
                value = self.model.value_of(param.default)
            if value is not UNKNOWN:
                found[name] = value
        return found

    def _parameters_read_by_conditions_or_calls(self, function: cst.FunctionDef) -> frozenset[str]:
        """The names a condition around a call of `function` reads, or a call passes on as an
        argument: the only parameters whose values can change what its search finds (the
        others would only make more searches of it, one per value)."""
        found = self._read_by_calls.get(id(function))
        if found is None:
            scope = self.model.scope_of_definition(function)
            names: set[str] = set()
            tests: dict[int, cst.BaseExpression] = {}
            for site in self.calls_of(function):
                call = site.node
                assert isinstance(call, cst.Call)
                names.update(arg.value.value for arg in call.args if isinstance(arg.value, cst.Name))
                tests.update((id(region.test), region.test) for region in site.regions
                             if isinstance(region, Condition) and region.scope is scope)
            for test in tests.values():
                names.update(node.value for node in nodes_within(test) if isinstance(node, cst.Name))
            found = self._read_by_calls[id(function)] = (function, frozenset(names))
        return found[1]

    def _may_bind_first_parameter(self, function: cst.FunctionDef) -> bool:
        """A method not static: a call through an instance binds its first parameter."""
        scope = self.model.scope_of_definition(function)
        return scope is not None and scope.parent is not None and scope.parent.kind is ScopeKind.CLASS and \
            "staticmethod" not in decorator_names(function)

    def ruled_out(self, site: Site, function: cst.FunctionDef, known: dict[str, object]) -> bool:
        """Whether a condition of `function` around `site` is decided against it when the
        parameters hold the values `known` (and nothing else binds them first)."""
        scope = self.model.scope_of_definition(function)
        for region in site.regions:
            if isinstance(region, Condition) and region.scope is scope:
                value = self.value_given(region.test, known)
                if value is not UNKNOWN and bool(value) is not region.holds:
                    return True
        return False

    def value_given(self, expr: cst.BaseExpression, known: dict[str, object]) -> object:
        """The value of `expr` where the parameters `known` names hold those values, as far as
        constants, `is`/`is not`/`==`/`!=`, orderings of numbers or strings (`workers > 1`),
        `in`/`not in` a tuple or list of constants, `not`, `and`, `or` and `isinstance()` of
        None tell it, and the attribute of an object of a class of this file that every
        assignment of it sets to the same constant (`verbose = cfg.verbose`, with `cfg`
        returned by a function that made it and set `cfg.verbose = False`, as versioneer's
        `_version.py` does); UNKNOWN otherwise."""
        if isinstance(expr, cst.Name) and expr.value in known:
            reference = self.model.reference(expr)
            only_the_parameter = reference is not None and len(reference.bindings) == 1 and \
                reference.bindings[0].kind is Kind.PARAMETER
            return known[expr.value] if only_the_parameter else UNKNOWN
        if isinstance(expr, cst.Name):
            reference = self.model.reference(expr)
            bound = reference.bindings if reference is not None else ()
            if len(bound) == 1 and bound[0].kind is Kind.ASSIGN and isinstance(bound[0].value, cst.Attribute):
                return self._attribute_value(bound[0].value)
        if isinstance(expr, cst.Attribute):
            return self._attribute_value(expr)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            value = self.value_given(expr.expression, known)
            return UNKNOWN if value is UNKNOWN else not value
        if isinstance(expr, cst.BooleanOperation):
            left = self.value_given(expr.left, known)
            decided = isinstance(expr.operator, cst.Or) is bool(left)  # `True or ...`, `False and ...`
            if left is not UNKNOWN and decided:
                return left
            right = self.value_given(expr.right, known)
            if left is UNKNOWN:  # `... and False`, `... or True` decide it too
                return right if right is not UNKNOWN and isinstance(expr.operator, cst.Or) is bool(right) else UNKNOWN
            return right
        if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
            left = self.value_given(expr.left, known)
            right = self.value_given(expr.comparisons[0].comparator, known)
            comparison = expr.comparisons[0].operator
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if isinstance(comparison, (cst.Is, cst.IsNot)) and (left is None or right is None):
                return (left is right) is isinstance(comparison, cst.Is)
            if isinstance(comparison, (cst.Equal, cst.NotEqual)) and type(left) is type(right):
                return (left == right) is isinstance(comparison, cst.Equal)
            if type(comparison) in _ORDERINGS and _comparable(left, right):
                return _ORDERINGS[type(comparison)](left, right)
            if isinstance(comparison, (cst.In, cst.NotIn)) and isinstance(right, (tuple, list)):
                return (left in right) is isinstance(comparison, cst.In)
            return UNKNOWN
        if isinstance(expr, cst.Call) and len(expr.args) == 2 and not any(arg.keyword or arg.star for arg in expr.args):
            symbol = self.model.resolve(expr.func)
            kind = self.model.resolve(expr.args[1].value)
            if symbol is not None and symbol.qualname == "isinstance" and kind is not None and \
                    kind.qualname in _NOT_NONE_TYPES and self.value_given(expr.args[0].value, known) is None:
                return False
            return UNKNOWN
        return self.model.value_of(expr)

    def waits(self, site: Site) -> str | None:
        """"join" for a call that joins a process (`Process().join()`), "semaphore" for one
        that acquires a semaphore, else None: what makes a loop wait before its next start."""
        call = site.node
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or \
                call.func.attr.value not in ("join", "acquire"):
            return None
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.qualname == "multiprocessing.Process().join":
            return "join"
        if symbol.qualname.endswith(("Semaphore().acquire", "BoundedSemaphore().acquire")):
            return "semaphore"
        return None

    def _joins_unconditionally(self, scope: Scope) -> bool:
        """The function `scope` joins a process under no condition of its own."""
        return any(site.scope is scope and self.waits(site) == "join" and
                   not any(condition.scope is scope for condition in site.conditions())
                   for site in self.model.calls)

    def _attribute_value(self, expr: cst.Attribute) -> object:
        """The constant every assignment of the attribute gives the objects of the class of
        this file `expr.value` holds (made by the class, or returned by a function of this
        file that returns only such objects): in the class body, and to any object of this
        file not known to be of another class (`cfg.verbose = True` in a function given
        `cfg`). UNKNOWN when they differ or none is a constant."""
        owner = self._instance_class(expr.value)
        if owner is None:
            return UNKNOWN
        name = expr.attr.value
        scope = self.model.scope_of_definition(owner)
        values = [binding.value for binding in (scope.final.get(name, ()) if scope else ())
                  if binding.kind is Kind.ASSIGN and binding.value is not None]
        for store in self.model.stores:
            if isinstance(store.target, cst.Attribute) and store.target.attr.value == name:
                other = self.model.resolve(store.target.value)
                if other is None or not isinstance(other.definition, cst.ClassDef) or other.definition is owner:
                    values.append(store.value)
        found = [self.model.value_of(value) for value in values]
        if not found or any(value is UNKNOWN or value != found[0] or type(value) is not type(found[0])
                            for value in found):
            return UNKNOWN
        return found[0]

    def _instance_class(self, expr: cst.BaseExpression) -> cst.ClassDef | None:
        """The class of this file whose instance `expr` holds: `Config()`, or what a function
        of this file returns when each of its returns is one (`cfg = Config(); ...; return
        cfg`)."""
        symbol = self.model.resolve(expr)
        if symbol is None or not symbol.is_instance:
            return None
        if isinstance(symbol.definition, cst.ClassDef):
            return symbol.definition
        if not isinstance(symbol.definition, cst.FunctionDef):
            return None
        classes = set()
        for value in returned_values(symbol.definition):
            returned = self.model.resolve(value)
            if returned is None or not returned.is_instance or not isinstance(returned.definition, cst.ClassDef):
                return None
            classes.add(id(returned.definition))
        return returned.definition if len(classes) == 1 else None  # type: ignore[union-attr]

    def _function_name(self, function: cst.FunctionDef) -> str:
        scope = self.model.scope_of_definition(function)
        return scope.qualname if scope is not None else function.name.value

    def import_time_starts(self) -> list[ProcessStart]:
        """Every place where importing this module starts processes, in the order of the
        module's statements (a DataLoader iterated twice at import time starts workers twice:
        two entries with the same `node`)."""
        found: list[ProcessStart] = []
        for site in self.calls_of(None):
            if self.model.runs_at_import(site):
                start = self.process_start(site)
                if start is not None:
                    found.append(start)
        for loader, iteration in self.loader_iterations():
            if self.model.runs_at_import(iteration):
                found.append(ProcessStart(loader, DATA_LOADER_STARTER, (), iteration, iteration))
        order = {id(statement): index for index, statement in enumerate(self.model.module.body)}
        found.sort(key=lambda start: order.get(id(start.site.top), len(order)) if start.site else len(order))
        return found

    # -- the global start method ------------------------------------------------------------------

    def start_method_choice(self, site: Site) -> StartMethodChoice | None:
        """Whether the call at `site` fixes multiprocessing's global start method, after which
        `set_start_method()` without `force=True` raises `RuntimeError: context has already
        been set` (facts §2): `set_start_method(...)` itself (`explicit`), and implicitly
        `get_start_method()` without `allow_none=True`, `get_context()` with no method, and
        the queues, locks, shared values, pools and managers made through the module-level
        API (`multiprocessing.Lock()`, not a context's `ctx.Lock()`)."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None or symbol.start_method is not None:
            return None
        name = symbol.qualname
        if name == "multiprocessing.set_start_method":
            method = self.model.value_of(argument(call, 0, "method"))
            force = self.model.value_of(argument(call, 1, "force"))
            return StartMethodChoice(site, "set_start_method()", True, method if isinstance(method, str) else None,
                                     force is not UNKNOWN and bool(force))
        if name == "multiprocessing.get_start_method":
            allow_none = self.model.value_of(argument(call, 0, "allow_none"))
            if allow_none is UNKNOWN or not allow_none:
                return StartMethodChoice(site, "get_start_method()", False)
            return None
        if name == "multiprocessing.get_context":
            given = argument(call, 0, "method")
            return StartMethodChoice(site, "get_context()", False) \
                if given is None or self.model.value_of(given) is None else None
        api = apis.lookup(name)
        if api is not None and api.roles & apis.FIXES_GLOBAL_CONTEXT and not symbol.flavour == "multiprocess" \
                and symbol.written.split(".", 1)[0] in ("multiprocessing", "torch", "billiard"):
            return StartMethodChoice(site, api.label, False)
        return None

    # -- DataLoader --------------------------------------------------------------------------------

    def loader_iterations(self) -> list[tuple[cst.Call, Site]]:
        """`(DataLoader(...) with workers, a site that iterates it)`, for every iteration of
        each loader (the module's first, then the function bodies')."""
        if self._loaders is None:
            self._loaders = [(loader, site) for site in self._iteration_sites()
                             for loader in self._loaders_in(site.node, 0)]
        return self._loaders

    def _iteration_sites(self) -> Iterator[Site]:
        for site in self.model.loops:
            node = site.node
            if isinstance(node, cst.For):
                yield Site(node.iter, site.scope, site.regions, site.function_depth, site.statement, site.block,
                           site.top)
            elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
                yield Site(node.for_in.iter, site.scope.parent or site.scope, site.regions[:-1],
                           site.function_depth, site.statement, site.block, site.top)
        for site in self.model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            function = self.model.resolve(call.func)
            if function is not None and function.qualname in _CONSUMING_CALLS and call.args:
                yield Site(call.args[0].value, site.scope, site.regions, site.function_depth, site.statement,
                           site.block, site.top)

    def _loaders_in(self, expr: cst.BaseExpression, depth: int) -> Iterator[cst.Call]:
        if depth > 6:
            return
        if isinstance(expr, cst.Call):
            function = self.model.resolve(expr.func)
            if function is None:
                return
            if function.qualname == "torch.utils.data.DataLoader":
                if _has_workers(self.model, expr):
                    yield expr
                return
            if function.qualname in _ITERATING_WRAPPERS:
                for arg in expr.args:
                    if arg.keyword is None:
                        yield from self._loaders_in(arg.value, depth + 1)
                return
            for callee in self.callees(expr):  # a function of this file that returns one: `make_loader()`
                for value in returned_values(callee):
                    yield from self._loaders_in(value, depth + 1)
            return
        for value in self.model.values_of(expr, parameters=True):  # `def train(loader): for batch in loader`
            yield from self._loaders_in(value, depth + 1)

    # -- what a function is given ----------------------------------------------------------------

    def passed_to(self, parameter: Binding) -> list[cst.BaseExpression]:
        """The expressions this file passes to `parameter` (a PARAMETER binding of one of its
        functions): the arguments of its direct calls (a method called through an instance
        binds its first parameter itself), and what the process calls that run it hand it
        (`handed`: `args=`, `kwargs=`, `initargs=`, `submit`'s further arguments).
        Callers in other modules, `*args` and `**kwargs` are not followed."""
        function = parameter.scope.node
        if parameter.kind is not Kind.PARAMETER or not isinstance(function, cst.FunctionDef):
            return []
        params = function.params
        positional = [*params.posonly_params, *params.params]
        position = next((index for index, param in enumerate(positional) if param is parameter.node), None)
        keyword = None if any(param is parameter.node for param in params.posonly_params) else parameter.name
        if self._callers is None:
            self._index_callers()
        assert self._callers is not None
        direct = set(self._callers.get(id(function), ()))
        found: list[cst.BaseExpression] = []
        for at in sorted(direct.union(self._calls_with_callable)):  # in the order of the calls
            site = self.model.calls[at]
            call = site.node
            assert isinstance(call, cst.Call)
            if at in direct:
                index = position
                if index is not None and binds_first_parameter(self.model, function, call.func):
                    index -= 1
                value = argument(call, index, keyword) if index is None or index >= 0 else None
                found += [value] if value is not None else []
                continue
            process_call = self.process_call(site)
            assert process_call is not None
            found += [handed.value for handed in self.handed(process_call) if handed.parameter is parameter]
        return found

    def _index_callers(self) -> None:
        """Which calls call each function of this file, and which process calls hand a callable."""
        self._callers, self._calls_with_callable = {}, []
        for at, site in enumerate(self.model.calls):
            call = site.node
            assert isinstance(call, cst.Call)
            for callee in self.callees(call):
                self._callers.setdefault(id(callee), []).append(at)
            process_call = self.process_call(site)
            if process_call is not None and process_call.callable is not None:
                self._calls_with_callable.append(at)

    # -- fork-only names ---------------------------------------------------------------------------

    def fork_only_use(self, site: Site) -> str | None:
        """The fork-only API used at `site` (a Call, Attribute or import binding's site), by
        name, or None."""
        node = site.node
        if isinstance(node, cst.Call):
            symbol = self.model.resolve(node.func)
            if symbol is None:
                return None
            if symbol.qualname in ("multiprocessing.get_context", "multiprocessing.set_start_method"):
                method = self.model.value_of(argument(node, 0, "method"))
                return f"{symbol.qualname.rsplit('.', 1)[1]}({method!r})" if method in ("fork", "forkserver") else None
            if apis.has_role(symbol.spelled, Role.FORK_ONLY) and symbol.spelled.startswith("os."):
                return symbol.spelled
            return None
        if isinstance(node, (cst.Attribute, cst.Name)):
            symbol = self.model.resolve(node)
            if symbol is not None and apis.has_role(symbol.spelled, Role.FORK_ONLY):
                return symbol.spelled
        return None


def _process_call(site: Site, api: apis.Api, symbol: Symbol, method: str | None,
                  pickled: frozenset[str]) -> ProcessCall:
    """The arguments of the call at `site` that `api` pickles."""
    call = site.node
    assert isinstance(call, cst.Call)
    callable_ = argument(call, api.callable_argument.position, api.callable_argument.keyword) \
        if api.callable_argument else None
    data: list[cst.BaseExpression] = []
    items: list[cst.BaseExpression] = []
    for spec in api.data_arguments:
        given = argument(call, spec.position, spec.keyword)
        if given is not None:
            data.append(given)
            if spec.items:
                items.append(given)
    if api.rest_is_data:
        rest = [arg.value for arg in call.args[1:] if arg.keyword is None]
        data += rest
        if api.rest_items:
            items += rest
    return ProcessCall(site, api, symbol, callable_, tuple(data), method, pickled, tuple(items))


# Top-level names that are never the project's own modules: no need to ask the project index.
NOT_PROJECT = frozenset({
    "multiprocessing", "concurrent", "os", "sys", "torch", "numpy", "threading", "asyncio", "logging",
    "subprocess", "time", "json", "re", "pathlib", "functools", "itertools", "collections", "typing",
    "builtins", "math", "random", "socket", "shutil", "argparse", "tqdm", "pandas", "joblib", "billiard",
    "multiprocess", "pathos", "signal", "queue", "io", "glob", "copy", "pickle", "traceback", "warnings",
})


def _names(symbol: Symbol | None, qualname: str) -> bool:
    return symbol is not None and symbol.qualname == qualname


def _has_workers(model: SemanticModel, loader: cst.Call) -> bool:
    # DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, ...)
    workers = argument(loader, 5, "num_workers")
    if workers is None:
        return False  # the default is 0: batches are loaded in this process
    value = model.value_of(workers)
    return value is UNKNOWN or (isinstance(value, int) and value > 0)


def binding_values(model: SemanticModel, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The expressions a name (or `self.attr`) can hold where `expr` stands: the values of
    its reaching assignments; for `self.x`, every `self.x = ...` in the class's methods."""
    if isinstance(expr, cst.Name):
        reference = model.reference(expr)
        if reference is None:
            return []
        return [b.value for b in reference.bindings if b.kind in (Kind.ASSIGN, Kind.WITH) and b.value is not None]
    if isinstance(expr, cst.Attribute):
        owner = model.resolve(expr.value)
        if owner is not None and isinstance(owner.definition, cst.ClassDef):
            return attribute_stores(model, owner.definition, expr.attr.value)
    return []


def binds_first_parameter(model: SemanticModel, function: cst.FunctionDef, func: cst.BaseExpression) -> bool:
    """Whether calling `function` through the expression `func` passes its first parameter
    itself: a method through an instance (`job.run`, `self.run`), a classmethod through its
    class or an instance, a constructor running `__init__` (`func` names the class)."""
    scope = model.scope_of_definition(function)
    if scope is None or scope.parent is None or scope.parent.kind is not ScopeKind.CLASS:
        return False
    decorators = decorator_names(function)
    if "staticmethod" in decorators:
        return False
    symbol = model.resolve(func)
    if symbol is not None and isinstance(symbol.definition, cst.ClassDef):
        return True  # Class(...) runs __init__, instance(...) runs __call__
    if not isinstance(func, cst.Attribute):
        return False
    if "classmethod" in decorators:
        return True
    owner = model.resolve(func.value)
    return owner is not None and owner.is_instance
