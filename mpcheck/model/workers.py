"""What travels to a child process by pickle, what it names, and which functions run there.

- `handoffs()`: every expression of this file whose value reaches a child by pickle: the
  callable of a process call (`target=`, the function of `Pool.map`, `initializer=`, ...), its
  data (an `args` tuple, `submit`'s arguments, a map's iterable), a torch DataLoader's dataset,
  `collate_fn` and `worker_init_fn` when it has workers, and the arguments of the project's
  own wrappers that pass a parameter on to one of those (`parmap(fn, items)` handing `fn` to
  `Process(target=...)`), found through the call graph of this file and, with a project
  index, of other modules (`pickled_parameters`, `name_pickled_parameters`).
- `pickled_values(handoff)`: the expressions whose values are pickled: an `args` tuple's
  items, a partial's function and bound values, a comprehension's element.
- `targets(expression)`: the functions, lambdas and classes of this file an expression names
  (through simple bindings, `functools.partial` and bound methods).
- `reference_problem(target)`: why pickling a function or class by reference fails, and
  under which start methods (facts §5): local objects and lambdas everywhere; what only the
  main block or a package's `__main__.py` defines under spawn and forkserver, where the child
  does not run it.
- `unpicklable(expression)`: an object pickle refuses (apis.UNPICKLABLE, generators, a
  local generator function's result), and `instance_unpicklables(cls)` what instances of a
  class of this file hold that pickle refuses.
- `worker_functions()`: the functions of this file that run in a worker process -- the
  callables handed to children, `run` of a Process subclass, a DataLoader's dataset methods
  -- and what they call in this file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .. import apis
from ..project import Answers
from .names import argument, binding_symbol, class_member, decorator_names, is_generator, returned_values
from .processes import NOT_PROJECT, ProcessCall, binds_first_parameter
from .scopes import Kind, ScopeKind, Site

if TYPE_CHECKING:
    from . import SemanticModel

_MAX_DEPTH = 8
_NOT_FORK = frozenset({"spawn", "forkserver"})
_EVERY_METHOD = frozenset(apis.START_METHODS)


class Carried(str, enum.Enum):
    """How a value travels to a child."""

    CALLABLE = "callable"  # pickled, then called there
    VALUE = "value"  # pickled as it is
    ITEMS = "items"  # its items are pickled (an `args` tuple, a map's iterable), not itself


@dataclass(frozen=True)
class Handoff:
    """`expression`, an argument of the call at `site`, goes to a child as `carried` through
    `api` (reached through the wrappers `through`, outermost first), pickled under the start
    methods `pickled_under`; `start_method`: the one in force (None: the platform default);
    `may_pickle_by_value`: the package that runs may pickle it with dill or cloudpickle instead
    of pickle (ProcessCall.may_pickle_by_value)."""

    expression: cst.BaseExpression
    carried: Carried
    site: Site
    api: apis.Api
    pickled_under: frozenset[str]
    start_method: str | None
    through: tuple[str, ...] = ()
    may_pickle_by_value: bool = False

    @property
    def pickled_by_pickle_under(self) -> frozenset[str]:
        """The start methods under which pickle itself pickles what is handed over, so that
        what pickle refuses (a lambda, a threading lock) breaks there: `pickled_under`, or
        none when dill or cloudpickle may pickle it instead."""
        return frozenset() if self.may_pickle_by_value else self.pickled_under

    @property
    def by_inheritance(self) -> bool:
        """Handed over as the child is created (`Process(args=...)`), not through a queue."""
        return "fork" not in self.api.pickled_under

    def describe(self) -> str:
        """`Pool.map()`, or `parmap() -> Process()` through a wrapper."""
        return " -> ".join([*(f"{name}()" for name in self.through), self.api.label])


@dataclass(frozen=True)
class PickledParameter:
    """A parameter `name` of a function that the function passes on to a child as `carried`.
    `index`: its position among the positional arguments of a call (None: keyword only)."""

    name: str
    index: int | None
    carried: Carried
    api: apis.Api
    pickled_under: frozenset[str]
    start_method: str | None
    through: tuple[str, ...] = ()
    may_pickle_by_value: bool = False  # see Handoff


@dataclass(frozen=True)
class Target:
    """A function, lambda or class of this file that a pickled expression names. `instance`:
    an instance of the class `node` (pickled with a reference to its class); `owner`: the
    instance of a bound method (`job.run`); `partial`: the `functools.partial(...)` call on
    the way, if any."""

    node: cst.FunctionDef | cst.Lambda | cst.ClassDef
    named_by: cst.BaseExpression
    instance: bool = False
    owner: cst.BaseExpression | None = None
    partial: cst.Call | None = None


@dataclass(frozen=True)
class PickleProblem:
    """Why pickling `target` by reference fails: `what` it is, for a message, `error` as
    Python words it, and `breaks_under`, the start methods under which it fails (where the
    child does not define it, unpickling fails there instead)."""

    what: str
    error: str
    breaks_under: frozenset[str]
    definition: cst.CSTNode
    advice: str = "define it at module level"


@dataclass(frozen=True)
class Unpicklable:
    """An object pickle refuses: `what` it is ("a threading.Lock()"), the `error`, and the
    expression that makes it."""

    what: str
    error: str
    made_by: cst.CSTNode
    advice: str = ""


@dataclass(frozen=True)
class Worker:
    """A function (or lambda) of this file that runs in a worker process: handed over by
    `handoff` (None for a Process subclass's `run`) and reached through `via`, the functions
    called from the one handed over to this one (empty for that one)."""

    function: cst.FunctionDef | cst.Lambda
    handoff: Handoff | None
    via: tuple[str, ...] = ()
    start_methods: frozenset[str] = _EVERY_METHOD  # under which the worker's process may be started


class Workers:
    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self._parameters = Answers(model.processes.searches)  # key(function) -> tuple[PickledParameter, ...]
        self._handoffs: list[Handoff] | None = None
        self._workers: dict[int, Worker] | None = None
        self._sites = {id(site.node): site for site in model.definitions}

    def site_of(self, definition: cst.CSTNode) -> Site | None:
        """The site of a FunctionDef, ClassDef or Lambda of this file."""
        return self._sites.get(id(definition))

    # -- what is handed over ---------------------------------------------------------------------

    def handoffs(self) -> list[Handoff]:
        """Every hand-off of this file, in the order of the calls."""
        if self._handoffs is None:
            found: list[Handoff] = []
            for site in self.model.calls:
                found.extend(self.call_handoffs(site))
            for loader in self.model.processes.loader_workers():
                found.extend(_direct(loader))
            self._handoffs = found
        return self._handoffs

    def call_handoffs(self, site: Site, seen: frozenset = frozenset()) -> list[Handoff]:
        """What the call at `site` hands to children: a process API's arguments, or those a
        wrapper of this project passes on."""
        process_call = self.model.processes.process_call(site)
        if process_call is not None:
            return list(_direct(process_call)) if process_call.pickled_under else []
        call = site.node
        assert isinstance(call, cst.Call)
        found = []
        for parameter, label in self._wrapper_parameters(call, seen):
            given = argument(call, parameter.index, parameter.name)
            if given is not None:
                found.append(Handoff(given, parameter.carried, site, parameter.api, parameter.pickled_under,
                                     parameter.start_method, (label, *parameter.through),
                                     parameter.may_pickle_by_value))
        return found

    def _wrapper_parameters(self, call: cst.Call, seen: frozenset) -> Iterator[tuple[PickledParameter, str]]:
        """The parameters the function called passes on, indexed as this call's arguments."""
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return
        if symbol.definition is None:
            project = self.model.processes.project
            if project is None or symbol.written.split(".", 1)[0] in NOT_PROJECT:
                return
            label = symbol.written.rsplit(".", 1)[-1].replace("()", "")
            for parameter in project.pickled_parameters(symbol.written, self.model.path, seen):
                yield parameter, label
            return
        for function in self.model.processes.callees(call):
            offset = 1 if binds_first_parameter(self.model, function, call.func) else 0
            label = self._name(function)
            for parameter in self.pickled_parameters(function, seen):
                index = None if parameter.index is None else parameter.index - offset
                if index is None or index >= 0:
                    yield replace(parameter, index=index), label

    def pickled_parameters(self, function: cst.FunctionDef,
                           _seen: frozenset = frozenset()) -> tuple[PickledParameter, ...]:
        """The parameters of `function` it hands to children -- as a process API's callable
        or data, inside an `args` tuple, bound by a partial, or passed on to another function
        that does -- indexed among all its parameters (`self` included)."""
        key = self.model.processes.key(function)
        searches = self.model.processes.searches
        if key in _seen:
            searches.cut(key)
            return ()
        known = self._parameters.recall(key, _seen)
        if known is not None:
            return known.value  # type: ignore[return-value]
        seen = _seen | {key}
        scope = self.model.scope_of_definition(function)
        positions = _positions(function)
        found: dict[str, PickledParameter] = {}
        with searches.search(key):
            for site in self.model.processes.calls_of(function):
                for handoff in self.call_handoffs(site, seen):
                    for expression, carried in self.pickled_values(handoff):
                        name, carried = _parameter_read(self.model, expression, carried, scope)
                        if name is not None and name not in found:
                            found[name] = PickledParameter(name, positions.get(name), carried, handoff.api,
                                                           handoff.pickled_under, handoff.start_method,
                                                           handoff.through, handoff.may_pickle_by_value)
            result = tuple(found.values())
            self._parameters.remember(key, result)
        return result

    def name_pickled_parameters(self, dotted: str, seen: frozenset = frozenset()) -> tuple[PickledParameter, ...]:
        """`pickled_parameters` of the module-level name `dotted` of this file (a function,
        a class -- its constructor --, `Class().method`), indexed as a call's arguments."""
        symbol = self.model.symbol_of_name(dotted)
        if symbol is None:
            return ()
        project = self.model.processes.project
        if symbol.definition is None:  # re-exported (`from .parmap import map` in a package)
            if project is None or symbol.written.split(".", 1)[0] in NOT_PROJECT:
                return ()
            return project.pickled_parameters(symbol.written, self.model.path, seen)
        definition = symbol.definition
        bound = False
        if isinstance(definition, cst.ClassDef) and not symbol.is_instance:
            found = class_member(self.model, definition, "__init__", instance=True)
            definition, bound = (found.definition if found is not None else None), True
        elif isinstance(definition, cst.FunctionDef):
            scope = self.model.scope_of_definition(definition)
            in_class = scope is not None and scope.parent is not None and scope.parent.kind is ScopeKind.CLASS
            bound = in_class and "()." in dotted and "staticmethod" not in decorator_names(definition)
        if not isinstance(definition, cst.FunctionDef):
            return ()
        offset = 1 if bound else 0
        return tuple(replace(p, index=None if p.index is None else p.index - offset)
                     for p in self.pickled_parameters(definition, seen)
                     if p.index is None or p.index - offset >= 0)

    def pickled_values(self, handoff: Handoff) -> list[tuple[cst.BaseExpression, Carried]]:
        """The expressions of a hand-off whose values are pickled, with how: the callable and
        a partial's function (CALLABLE) and bound arguments (VALUE); the items written in an
        `args` tuple, a list or a comprehension (VALUE), or the expression itself as ITEMS when
        they cannot be seen."""
        found: list[tuple[cst.BaseExpression, Carried]] = []
        self._values(handoff.expression, handoff.carried, found, 0)
        return found

    def _values(self, expression: cst.BaseExpression, carried: Carried, found: list, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if carried is Carried.CALLABLE:
            found.append((expression, carried))
            partial = self._partial(expression)
            if partial is not None:
                for index, arg in enumerate(partial.args):
                    if arg.star:
                        continue
                    if index == 0 and arg.keyword is None:
                        self._values(arg.value, Carried.CALLABLE, found, depth + 1)
                    else:
                        self._values(arg.value, Carried.VALUE, found, depth + 1)
            return
        if carried is Carried.VALUE:
            found.append((expression, carried))
            if isinstance(expression, cst.GeneratorExp):
                return  # pickled as it is (and refused), not item by item
        items = _literal_items(expression)
        if items is not None:
            for item in items:
                self._values(item, Carried.VALUE, found, depth + 1)
            return
        seen = False
        if carried is Carried.ITEMS and isinstance(expression, cst.Call):
            spread = self._spread(expression)
            if spread is not None:
                for value, how in spread:
                    self._values(value, how, found, depth + 1)
                return
        if isinstance(expression, cst.Name):
            for value in self.model.values_of(expression):
                if _literal_items(value) is not None and not (carried is Carried.VALUE and
                                                              isinstance(value, cst.GeneratorExp)):
                    self._values(value, carried, found, depth + 1)
                    seen = True
        if carried is Carried.ITEMS and not seen:
            found.append((expression, carried))

    def _spread(self, call: cst.Call) -> list[tuple[cst.BaseExpression, Carried]] | None:
        """What the items of `zip(...)`, `enumerate(...)` and `itertools.repeat(x)` are made
        of (parmap's `pool.map(helper, zip(repeat(function), items))`), or None."""
        symbol = self.model.resolve(call.func)
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if symbol is None or len(positional) != len(call.args) or not positional:
            return None
        if symbol.qualname in ("zip", "enumerate"):
            return [(value, Carried.ITEMS) for value in positional[: None if symbol.qualname == "zip" else 1]]
        if symbol.qualname == "itertools.repeat":
            return [(positional[0], Carried.VALUE)]
        return None

    def _partial(self, expression: cst.BaseExpression) -> cst.Call | None:
        if isinstance(expression, cst.Call) and expression.args:
            symbol = self.model.resolve(expression.func)
            if symbol is not None and symbol.qualname == "functools.partial":
                return expression
        return None

    # -- what a pickled expression names ---------------------------------------------------------------

    def targets(self, expression: cst.BaseExpression, _depth: int = 0,
                _partial: cst.Call | None = None) -> list[Target]:
        """The functions, lambdas and classes of this file that `expression` names: itself (a
        lambda), through the bindings of a name, the function of a `functools.partial`, a
        method through its instance or class, a class or an instance of one."""
        if _depth > _MAX_DEPTH:
            return []
        if isinstance(expression, cst.Lambda):
            return [Target(expression, expression, partial=_partial)]
        partial = self._partial(expression)
        if partial is not None and partial.args[0].keyword is None and not partial.args[0].star:
            return self.targets(partial.args[0].value, _depth + 1, _partial or partial)
        if isinstance(expression, cst.Name):
            reference = self.model.reference(expression)
            found: list[Target] = []
            for binding in reference.bindings if reference is not None else ():
                if binding.kind in (Kind.DEF, Kind.CLASS):
                    found.append(Target(binding.node, expression, partial=_partial))
                elif binding.kind is Kind.ASSIGN and binding.value is not None:
                    found.extend(self.targets(binding.value, _depth + 1, _partial))
            return found
        symbol = self.model.resolve(expression)
        if symbol is None or symbol.definition is None:
            return []
        definition = symbol.definition
        if isinstance(definition, cst.ClassDef):
            return [Target(definition, expression, instance=symbol.is_instance, partial=_partial)]
        if isinstance(definition, cst.FunctionDef) and isinstance(expression, cst.Attribute):
            owner = self.model.resolve(expression.value)
            # A staticmethod through an instance is the function; a classmethod is bound to
            # the class: neither pickles the instance.
            bound = owner is not None and owner.is_instance and \
                not decorator_names(definition) & {"staticmethod", "classmethod"}
            return [Target(definition, expression, owner=expression.value if bound else None, partial=_partial)]
        return []

    def reference_problem(self, target: Target) -> PickleProblem | None:
        """Why pickling `target` fails, or None: pickle stores functions and classes as
        `module.qualname` and the child imports them (facts §5)."""
        node = target.node
        if isinstance(node, cst.Lambda):
            scope = self.model.scope_of_definition(node)
            local = scope is not None and scope.parent is not None and scope.parent.kind is not ScopeKind.MODULE
            error = (f"AttributeError: Can't pickle local object '{_qualname(scope)}'" if local
                     else "PicklingError: Can't pickle <function <lambda>>: attribute lookup <lambda> on __main__ "
                          "failed")
            return PickleProblem("a lambda", error, _EVERY_METHOD, node)
        scope = self.model.scope_of_definition(node)
        if scope is None or scope.parent is None:
            return None
        kind = "class" if isinstance(node, cst.ClassDef) else "function"
        name = _qualname(scope)
        parent = scope.parent
        if parent.kind is ScopeKind.CLASS and isinstance(node, cst.FunctionDef):
            class_node = parent.node
            assert isinstance(class_node, cst.ClassDef)
            problem = self.reference_problem(Target(class_node, target.named_by))
            if problem is None:
                return None
            return PickleProblem(f"the method {node.name.value}() of {problem.what}", problem.error,
                                 problem.breaks_under, problem.definition, problem.advice)
        if parent.kind is not ScopeKind.MODULE:
            if parent.kind is ScopeKind.CLASS:  # a class nested in a class: fine if the outer one is
                outer = parent.node
                assert isinstance(outer, cst.ClassDef)
                return self.reference_problem(Target(outer, target.named_by))
            local = "closure" if kind == "function" and scope.frees else f"local {kind}"
            instance = "an instance of " if target.instance else ""
            return PickleProblem(f"{instance}the {local} '{name}'", f"AttributeError: Can't pickle local object '{name}'",
                                 _EVERY_METHOD, node)
        site = self._sites.get(id(node))
        if site is not None and self.model.under_main_guard(site):
            return PickleProblem(f"the {kind} '{name}' defined under `if __name__ == \"__main__\":`",
                                 f"AttributeError: Can't get attribute '{name}' on <module '__mp_main__'>",
                                 _NOT_FORK, node, "define it above the main guard")
        if PurePath(self.model.path).name == "__main__.py":
            return PickleProblem(f"the {kind} '{name}' of a package's __main__.py",
                                 f"AttributeError: Can't get attribute '{name}' on <module '__mp_main__'>",
                                 _NOT_FORK, node, "define it in another module of the package and import it")
        if isinstance(node, cst.FunctionDef):
            wrapper = self._unwrapped_decorator(node)
            if wrapper is not None:
                return PickleProblem(
                    f"'{name}', whose decorator returns its nested function '{_qualname(wrapper)}'",
                    f"AttributeError: Can't pickle local object '{_qualname(wrapper)}'", _EVERY_METHOD, node,
                    f"decorate '{wrapper.name}' with `@functools.wraps(...)` of the function it wraps")
        return None

    def _unwrapped_decorator(self, function: cst.FunctionDef):
        """The scope of the nested function that a decorator of this file puts in place of
        `function`, when it does not copy its name with `functools.wraps` (which makes
        pickle find the module-level name again)."""
        for decorator in function.decorators:
            symbol = self.model.resolve(decorator.decorator)
            if symbol is None or not isinstance(symbol.definition, cst.FunctionDef):
                continue
            outer = self.model.scope_of_definition(symbol.definition)
            if outer is None:
                continue
            for inner in outer.children:
                node = inner.node
                if isinstance(node, cst.FunctionDef) and _returns_name(symbol.definition, node.name.value) and \
                        not any(_is_wraps(self.model, d.decorator) for d in node.decorators):
                    return inner
        return None

    # -- objects pickle refuses ----------------------------------------------------------------------

    def unpicklable(self, expression: cst.BaseExpression) -> Unpicklable | None:
        """The object `expression` holds, when pickle refuses it: a generator, or what
        apis.UNPICKLABLE lists (a `threading.Lock()`, an open file, a sqlite connection)."""
        if isinstance(expression, cst.GeneratorExp):
            return Unpicklable("a generator", apis.GENERATOR_ERROR[0], expression, apis.GENERATOR_ERROR[1])
        if isinstance(expression, cst.Name):
            values = self.model.values_of(expression)
            if values and all(isinstance(value, cst.GeneratorExp) for value in values):
                return Unpicklable("a generator", apis.GENERATOR_ERROR[0], values[0], apis.GENERATOR_ERROR[1])
        symbol = self.model.resolve(expression)
        if symbol is None:
            return None
        known = apis.UNPICKLABLE.get(symbol.qualname)
        if known is not None:
            what = apis.UNPICKLABLE_NAMES.get(symbol.qualname, f"a {symbol.qualname}")
            maker = self._maker(expression)
            error = known[0]
            if symbol.qualname in ("open()", "io.open()") and isinstance(maker, cst.Call):
                mode = self.model.value_of(argument(maker, 1, "mode"))
                error = apis.file_error(mode if isinstance(mode, str) else None)
            return Unpicklable(what, error, maker, known[1])
        definition = symbol.definition
        if symbol.is_instance and isinstance(definition, cst.FunctionDef) and is_generator(definition):
            return Unpicklable(f"a generator (from {definition.name.value}())", apis.GENERATOR_ERROR[0],
                               self._maker(expression), apis.GENERATOR_ERROR[1])
        return None

    def _maker(self, expression: cst.BaseExpression) -> cst.CSTNode:
        """The expression that made the value a name holds (for messages), or itself."""
        if isinstance(expression, cst.Name):
            reference = self.model.reference(expression)
            if reference is not None and len(reference.bindings) == 1 and reference.bindings[0].value is not None:
                return reference.bindings[0].value
        return expression

    def instance_unpicklables(self, definition: cst.ClassDef) -> list[tuple[str, Unpicklable]]:
        """`(attribute, what)` for each attribute that instances of the class `definition`
        of this file are given (`self.lock = threading.Lock()` in a method) and pickle
        refuses: pickling such an instance (a bound method's, a dataset's) fails. None for a
        class that says how it pickles (`__getstate__`, `__reduce__`, `__reduce_ex__`)."""
        if any(class_member(self.model, definition, method, instance=True) is not None
               for method in ("__getstate__", "__reduce__", "__reduce_ex__")):
            return []
        found = []
        for store in self.model.stores:
            target = store.target
            if store.value is None or not isinstance(target, cst.Attribute):
                continue
            owner = self.model.resolve(target.value)
            if owner is None or owner.definition is not definition or not owner.is_instance:
                continue
            problem = self.unpicklable(store.value)
            if problem is not None:
                found.append((target.attr.value, problem))
        return found

    def sync_problem(self, expression: cst.BaseExpression, handoff: Handoff) -> Unpicklable | None:
        """A multiprocessing lock or queue that cannot go where `handoff` sends it: to a
        pool's or executor's task at all, or to a process of another context (facts §5)."""
        symbol = self.model.resolve(expression)
        if symbol is None or not symbol.is_instance:
            return None
        made = symbol.qualname[:-2]
        if not apis.has_role(made, apis.Role.SYNC | apis.Role.QUEUE) or not handoff.pickled_under:
            return None
        kind = made.rsplit(".", 1)[-1]
        if not handoff.by_inheritance:
            error, advice = apis.INHERITANCE_ONLY_ERROR
            return Unpicklable(f"a multiprocessing {kind}()", error.format(kind=kind), self._maker(expression), advice)
        if not apis.has_role(made, apis.Role.SYNC):
            return None
        ours, theirs = symbol.start_method, handoff.start_method
        if ours is None and theirs is None or ours == theirs or "unknown" in (ours, theirs):
            return None
        if ours is None and theirs == "spawn":
            return None  # the default context is spawn where a spawn process could be confused with it
        error, advice = apis.CONTEXT_MISMATCH_ERROR
        return Unpicklable(f"a multiprocessing {kind}() of the {ours or 'default'} context",
                           error.format(made=ours or "fork", used=theirs or "spawn"), self._maker(expression), advice)

    # -- which functions run in a worker ------------------------------------------------------------

    def worker_functions(self) -> dict[int, Worker]:
        """The functions and lambdas of this file that run in worker processes, by id of
        their node: those handed over (as callables, or as values: `args=(work,)`), the
        `__call__` of an instance handed over, `run` of a Process subclass, the
        `__getitem__`/`__iter__` of a DataLoader's dataset of this file, and the functions of
        this file those call."""
        if self._workers is not None:
            return self._workers
        found: dict[int, Worker] = {}
        pending: list[Worker] = []

        def reach(function, handoff, via=(), methods=_EVERY_METHOD):
            if isinstance(function, (cst.FunctionDef, cst.Lambda)) and id(function) not in found:
                worker = Worker(function, handoff, via, methods)
                found[id(function)] = worker
                pending.append(worker)

        for handoff in self.handoffs():
            methods = _child_methods(handoff)
            for expression, carried in self.pickled_values(handoff):
                if carried is Carried.ITEMS:
                    continue
                for target in self.targets(expression):
                    for function in self._runs(target, handoff):
                        reach(function, handoff, (), methods)
        for definition, methods in self._process_classes():
            run = class_member(self.model, definition, "run", instance=True)
            if run is not None:
                reach(run.definition, None, (), methods)
        while pending:  # breadth first: the shortest way from a hand-off
            worker = pending.pop(0)
            for site in self.model.processes.calls_of(worker.function):
                call = site.node
                assert isinstance(call, cst.Call)
                for function in self.model.processes.callees(call):
                    via = worker.via or (self._name(worker.function),)
                    reach(function, worker.handoff, (*via, self._name(function)), worker.start_methods)
        self._workers = found
        return found

    def _runs(self, target: Target, handoff: Handoff) -> list[cst.CSTNode]:
        """What running `target` in the child runs first."""
        node = target.node
        if not isinstance(node, cst.ClassDef):
            return [node]
        if handoff.api is apis.DATA_LOADER_WORKERS and target.instance:
            methods = apis.DATA_LOADER_WORKER_METHODS
        else:
            methods = ("__call__",) if target.instance else ("__init__",)
        found = []
        for method in methods:
            member = class_member(self.model, node, method, instance=True)
            if member is not None and isinstance(member.definition, cst.FunctionDef):
                found.append(member.definition)
        return found

    def _process_classes(self) -> Iterator[tuple[cst.ClassDef, frozenset[str]]]:
        """Classes of this file that are Process subclasses, with the start methods their
        processes may use."""
        for site in self.model.definitions:
            node = site.node
            if not isinstance(node, cst.ClassDef):
                continue
            binding = next((b for b in site.scope.bindings.get(node.name.value, ()) if b.node is node), None)
            symbol = binding_symbol(self.model, binding) if binding is not None else None
            if symbol is not None and symbol.qualname == "multiprocessing.Process" and symbol.flavour not in \
                    apis.PICKLE_BY_VALUE:
                method = symbol.start_method
                yield node, (frozenset({method}) if method in apis.START_METHODS else _EVERY_METHOD)

    def _name(self, function: cst.CSTNode) -> str:
        scope = self.model.scope_of_definition(function)
        return scope.qualname if scope is not None else "<lambda>"


def _direct(process_call: ProcessCall) -> Iterator[Handoff]:
    """The hand-offs of a process call of the catalogue."""
    site, api = process_call.site, process_call.api
    pickled, method = process_call.pickled_under, process_call.start_method
    by_value = process_call.may_pickle_by_value
    if process_call.callable is not None:
        yield Handoff(process_call.callable, Carried.CALLABLE, site, api, pickled, method,
                      may_pickle_by_value=by_value)
    items = {id(expression) for expression in process_call.item_data}
    for expression in process_call.data:
        carried = Carried.ITEMS if id(expression) in items else Carried.VALUE
        if api is apis.DATA_LOADER_WORKERS and expression is argument(site.node, 6, "collate_fn"):
            carried = Carried.CALLABLE
        yield Handoff(expression, carried, site, api, pickled, method, may_pickle_by_value=by_value)


def _child_methods(handoff: Handoff) -> frozenset[str]:
    """The start methods the child of a hand-off may be started with."""
    method = handoff.start_method
    return frozenset({method}) if method in apis.START_METHODS else _EVERY_METHOD


def _positions(function: cst.FunctionDef) -> dict[str, int]:
    params = function.params
    return {param.name.value: index for index, param in enumerate([*params.posonly_params, *params.params])}


def _parameter_read(model: SemanticModel, expression: cst.BaseExpression, carried: Carried,
                    scope) -> tuple[str | None, Carried]:
    """The parameter of the function `scope` whose value `expression` hands over, and how: the
    parameter as it is, or (ITEMS) a loop variable over it (`for item in items: ...args=(item,)`)."""
    if not isinstance(expression, cst.Name) or scope is None:
        return None, carried
    reference = model.reference(expression)
    if reference is None or not reference.bindings:
        return None, carried
    if all(binding.kind is Kind.PARAMETER and binding.scope is scope for binding in reference.bindings):
        return expression.value, carried
    if carried is Carried.VALUE and all(binding.kind is Kind.LOOP and not binding.path
                                        and isinstance(binding.value, cst.Name) for binding in reference.bindings):
        names = {_parameter_read(model, binding.value, carried, scope)[0] for binding in reference.bindings}
        if len(names) == 1 and None not in names:
            return names.pop(), Carried.ITEMS
    return None, carried


def _literal_items(expression: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The items written in a tuple, list or set display, a dict's values, a comprehension's
    element; None for anything else."""
    if isinstance(expression, (cst.Tuple, cst.List, cst.Set)):
        return [element.value for element in expression.elements]
    if isinstance(expression, cst.Dict):
        return [element.value for element in expression.elements if isinstance(element, cst.DictElement)]
    if isinstance(expression, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return [expression.elt]
    if isinstance(expression, cst.DictComp):
        return [expression.value]
    return None


def _qualname(scope) -> str:
    """`outer.<locals>.inner`, as Python names a local object."""
    names = []
    current = scope
    while current is not None and current.kind is not ScopeKind.MODULE:
        name = current.name
        if current.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA) and names:
            name += ".<locals>"
        names.append(name)
        current = current.parent
    return ".".join(reversed(names))


def _returns_name(function: cst.FunctionDef, name: str) -> bool:
    return any(isinstance(value, cst.Name) and value.value == name for value in returned_values(function))


def _is_wraps(model: SemanticModel, decorator: cst.BaseExpression) -> bool:
    if isinstance(decorator, cst.Call):
        symbol = model.resolve(decorator.func)
        return symbol is not None and symbol.qualname in ("functools.wraps", "functools.update_wrapper")
    return False
