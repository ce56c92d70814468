"""What an expression names, and what value it holds where that can be known.

`resolve` canonicalises every spelling at every step (see mpcheck/apis.py):
`import multiprocessing.pool as p; p.Pool` and `from torch import multiprocessing;
multiprocessing.Pool` both name `multiprocessing.Pool`; `ctx = mp.get_context("spawn");
ctx.Process` names `multiprocessing.Process` with the start method "spawn"; `mp.Pool(2)` names
`multiprocessing.Pool()`, the object the call returns; a name a module of the project
re-exports (`from lib import multiproc; multiproc.Process`) names what that module imports.
Names of this file's functions and
classes resolve to their definitions, methods through instances (`Job(text).run`, `self.run`)
and local base classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterator

import libcst as cst

from .. import apis
from .scopes import Binding, Kind, ScopeKind

if TYPE_CHECKING:
    from . import SemanticModel


@dataclass(frozen=True)
class Symbol:
    """What an expression names.

    `qualname`: canonical and dotted; `()` marks the value a call returns
    (`multiprocessing.Pool().map`). `written`: the same as imported, before the family and
    alias steps (`torch.multiprocessing.Pool().map`, `multiprocessing.context.ForkProcess`).
    `flavour`: which multiprocessing family it came from ("torch", "multiprocess", ...);
    `other_flavours`: the families it may come from instead, when the name is bound by
    imports of the same API from several (`apis.one_api`: `flavour` is then the standard
    library's).
    `start_method`: set when the value comes from a context or class with a known method;
    "unknown" when a method is given but cannot be read. `definition`: the FunctionDef or
    ClassDef of this file it names (for a subclass of a library class: the subclass, while
    `qualname` is the library base's).
    """

    qualname: str
    written: str
    flavour: str = ""
    start_method: str | None = None
    definition: cst.CSTNode | None = field(default=None, compare=False)
    other_flavours: frozenset[str] = frozenset()

    @property
    def may_pickle_by_value(self) -> bool:
        """Whether the package that runs it may pickle callables by value (dill, cloudpickle:
        apis.PICKLE_BY_VALUE), its own or one it may come from instead: then no pickling rule
        can say that pickle will refuse what it is given."""
        return not apis.PICKLE_BY_VALUE.isdisjoint({self.flavour, *self.other_flavours})

    @property
    def is_local(self) -> bool:
        return self.definition is not None

    @property
    def is_instance(self) -> bool:
        return self.qualname.endswith("()")

    @property
    def spelled(self) -> str:
        """The written name with the family normalised but no alias applied
        (`multiprocessing.context.ForkProcess`): what the fork-only catalogue is keyed by."""
        return apis.family(self.written)[0]


def imported_symbol(qualname: str, other_flavours: frozenset[str] = frozenset()) -> Symbol:
    """The Symbol of an imported dotted name (see `Symbol.other_flavours`)."""
    name, flavour = apis.family(qualname)
    canonical, method = apis.canonical(name)
    return Symbol(canonical, qualname, flavour, method, other_flavours=other_flavours)


def reexported(model: SemanticModel, dotted: str) -> apis.Imported:
    """`dotted`, an imported name (relative ones as written), or what it names when a module
    of the project binds it by import (`lib.multiproc.Process` -> `multiprocessing.Process`:
    ProjectIndex.reexported). Every name made from an import passes here, so every rule sees
    the re-exported API."""
    project = model.project
    found = project.reexported(dotted, model.path) if project is not None else None
    return found if found is not None else apis.Imported(dotted)


def member(model: SemanticModel, base: Symbol, attribute: str) -> Symbol | None:
    """`base.attribute`."""
    if isinstance(base.definition, cst.ClassDef):
        found = class_member(model, base.definition, attribute, instance=base.is_instance)
        if found is not None:
            return found
        scope = model.scope_of_definition(base.definition)
        if scope is not None and base.qualname.removesuffix("()") == scope.qualname:
            return None  # a class of this file with no such attribute (or one set at run time)
    written = f"{base.written}.{attribute}"
    others = base.other_flavours
    if base.definition is None and not base.is_instance:  # a module's attribute
        imported = reexported(model, written)
        written, others = imported.name, others | imported.other_flavours
    name, flavour = apis.family(written)
    canonical, method = apis.canonical(name)
    return Symbol(canonical, written, base.flavour or flavour, method or base.start_method, other_flavours=others)


def class_member(model: SemanticModel, definition: cst.ClassDef, attribute: str, instance: bool,
                 _seen: frozenset[int] = frozenset()) -> Symbol | None:
    """The attribute of a class of this file, looked up in its body (for an `instance`, then
    in what its methods assign to `self`) and then in its bases of this file, in order (the
    common single-inheritance MRO)."""
    if id(definition) in _seen:
        return None
    scope = model.scope_of_definition(definition)
    if scope is None:
        return None
    bindings = [b for b in scope.final.get(attribute, ()) if not b.nested]
    if bindings:
        return bindings_symbol(model, bindings, instance)
    values = attribute_stores(model, definition, attribute) if instance else []
    if values:  # `self.process = Process(...)` in a method
        symbols = {model.resolve(value) for value in values}
        return symbols.pop() if len(symbols) == 1 else None
    for base in definition.bases:
        if base.keyword is not None:
            continue
        base_symbol = model.resolve(base.value)
        if base_symbol is not None and isinstance(base_symbol.definition, cst.ClassDef):
            found = class_member(model, base_symbol.definition, attribute, instance, _seen | {id(definition)})
            if found is not None:
                return found
    return None


def attribute_stores(model: SemanticModel, definition: cst.ClassDef, attribute: str) -> list[cst.BaseExpression]:
    """The values assigned to `attribute` of instances of the class `definition` of this
    file: `self.loader = DataLoader(...)` in its methods, `job.loader = ...` elsewhere."""
    return [store.value for store in model.stores
            if store.value is not None and isinstance(store.target, cst.Attribute)
            and store.target.attr.value == attribute
            and (owner := model.resolve(store.target.value)) is not None and owner.definition is definition]


def call_result(model: SemanticModel, function: Symbol, call: cst.Call) -> Symbol:
    """The Symbol of what `call` returns, given what its function names."""
    if function.qualname == "multiprocessing.get_context":
        given = argument(call, 0, "method")
        method = None
        if given is not None:
            value = model.value_of(given)
            method = value if isinstance(value, str) else "unknown"
        return Symbol(apis.CONTEXT, function.written[: -len(".get_context")] or "multiprocessing",
                      function.flavour, method, other_flavours=function.other_flavours)
    fixed = apis.CONTEXT_CLASSES.get(function.spelled)
    if fixed is not None:  # `SpawnContext()`: written as the package it came from, like get_context's
        package = function.written.removesuffix(function.spelled[len(apis.CONTEXT):])
        return Symbol(apis.CONTEXT, package, function.flavour, fixed, other_flavours=function.other_flavours)
    api = apis.lookup(function.qualname)
    if api is not None and api.context_argument is not None:  # Pool(context=...): its workers' method
        given = argument(call, api.context_argument.position, api.context_argument.keyword)
        made = instance_of(function)
        return replace(made, start_method=context_method(model, given, made.start_method))
    return instance_of(function)


def context_method(model: SemanticModel, context: cst.BaseExpression | None, default: str | None) -> str | None:
    """The start method of the multiprocessing context `context` (an argument; None when
    not given: `default`); "unknown" when it is not a context the model can follow."""
    if context is None:
        return default
    symbol = model.resolve(context)
    if symbol is None or symbol.qualname != apis.CONTEXT:
        return "unknown"
    return symbol.start_method


def instance_of(cls: Symbol) -> Symbol:
    """The object calling `cls` returns."""
    return replace(cls, qualname=f"{cls.qualname}()", written=f"{cls.written}()")


def binding_symbol(model: SemanticModel, binding: Binding) -> Symbol | None:
    return _binding_symbol(model, binding, instance=False)


def bindings_symbol(model: SemanticModel, bindings: list[Binding], instance: bool = False) -> Symbol | None:
    """What a name bound by `bindings` names (the bindings reaching a use, or a scope's final
    ones; `instance`: the name is read through an instance of the class whose scope binds
    it): the one Symbol they all give; for imports of the same API from different families
    (`try: from multiprocess import Pool` / `except ImportError: from multiprocessing import
    Pool`), `apis.one_api`'s answer, as when the imports are in another module of the project
    (ProjectIndex.reexported). None when they name different things."""
    symbols = {_binding_symbol(model, binding, instance) for binding in bindings}
    if len(symbols) == 1:
        return symbols.pop()
    if not bindings or any(binding.kind is not Kind.IMPORT for binding in bindings):
        return None
    found = apis.one_api(_imported(model, binding) for binding in bindings)
    return _import_symbol(found) if found is not None else None


def _imported(model: SemanticModel, binding: Binding) -> apis.Imported:
    """What the import `binding` names, followed through the project's re-exports."""
    assert binding.qualname is not None
    return reexported(model, binding.qualname)


def _import_symbol(imported: apis.Imported) -> Symbol:
    """The Symbol of what an import names; a relative name the project does not resolve is
    kept as written."""
    if imported.name.startswith("."):
        return Symbol(imported.name, imported.name)  # relative: named by the project
    return imported_symbol(imported.name, imported.other_flavours)


def _binding_symbol(model: SemanticModel, binding: Binding, instance: bool) -> Symbol | None:
    kind = binding.kind
    if kind is Kind.IMPORT:
        return _import_symbol(_imported(model, binding))
    if kind in (Kind.ASSIGN, Kind.WITH):
        return model.resolve(binding.value)
    if kind is Kind.LOOP:
        element = element_symbol(model, binding.value)
        return element if not binding.path else None
    if kind is Kind.UNPACK:
        value = binding.value
        for index in binding.path:
            if not isinstance(value, (cst.Tuple, cst.List)) or index >= len(value.elements):
                return None
            value = value.elements[index].value
        return model.resolve(value) if binding.path else None
    if kind is Kind.DEF:
        qualname = _join(binding.scope.qualname, binding.name)
        if binding.scope.kind is ScopeKind.CLASS and instance:
            qualname = _join(binding.scope.qualname + "()", binding.name)
        return Symbol(qualname, qualname, definition=binding.node)
    if kind is Kind.CLASS:
        assert isinstance(binding.node, cst.ClassDef)
        for base in binding.node.bases:
            if base.keyword is None:
                base_symbol = model.resolve(base.value)
                if base_symbol is not None and not base_symbol.is_local and not base_symbol.is_instance:
                    # A subclass acts as its library base (class Worker(mp.Process) starts a
                    # process like Process), with its own methods found first.
                    return replace(base_symbol, definition=binding.node)
        qualname = _join(binding.scope.qualname, binding.name)
        return Symbol(qualname, qualname, definition=binding.node)
    if kind is Kind.PARAMETER:
        return _self_symbol(model, binding)
    return None


def _self_symbol(model: SemanticModel, binding: Binding) -> Symbol | None:
    """`self` (or `cls`) of a method of a class of this file: the instance (or the class)."""
    function = binding.scope
    if function.kind is not ScopeKind.FUNCTION or function.parent is None or \
            function.parent.kind is not ScopeKind.CLASS:
        return None
    definition = function.node
    assert isinstance(definition, cst.FunctionDef)
    params = definition.params
    first = (params.posonly_params or params.params or (None,))[0]
    if first is None or binding.node is not first:
        return None
    decorators = decorator_names(definition)
    if "staticmethod" in decorators:
        return None
    class_scope = function.parent
    assert class_scope.parent is not None
    class_binding = next((b for b in class_scope.parent.bindings.get(class_scope.name, ())
                          if b.node is class_scope.node), None)
    owner = binding_symbol(model, class_binding) if class_binding is not None else None
    if owner is None:
        return None
    return owner if "classmethod" in decorators else instance_of(owner)


def element_symbol(model: SemanticModel, iterable: cst.BaseExpression | None) -> Symbol | None:
    """What the items of `iterable` are, when they are all the same thing:
    `for worker in workers` over `workers = [Process(...) for ...]`."""
    if isinstance(iterable, cst.Name):
        reference = model.reference(iterable)
        if reference is None or len(reference.bindings) != 1 or reference.bindings[0].kind is not Kind.ASSIGN:
            return None
        return element_symbol(model, reference.bindings[0].value)
    if isinstance(iterable, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return model.resolve(iterable.elt)
    if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)) and iterable.elements:
        symbols = {model.resolve(element.value) for element in iterable.elements}
        return symbols.pop() if len(symbols) == 1 else None
    return None


def symbol_of_name(model: SemanticModel, dotted: str) -> Symbol | None:
    """The Symbol of a module-level name of this file, followed through calls and
    attributes: `Runner().run` is the `run` method of an instance of the class `Runner`."""
    head, _, rest = dotted.partition(".")
    first, marker, _ = head.partition("(")
    bindings = [b for b in model.module_scope.final.get(first, ()) if not b.nested]
    found = [binding_symbol(model, binding) for binding in bindings]
    # One definition: two `def`s of the name under `if`/`else` are equal as symbols
    # (`definition` is not compared), and which one a set kept changed from run to run.
    if len({id(symbol.definition) for symbol in found if symbol is not None}) > 1:
        return None
    symbol = bindings_symbol(model, bindings)
    parts = ([marker] if marker else []) + ([f".{part}" for part in rest.split(".")] if rest else [])
    for part in parts:
        if symbol is None:
            return None
        if part.endswith("()") and part != "()":
            symbol = member(model, symbol, part[1:-2])
            symbol = instance_of(symbol) if symbol is not None else None
        elif part == "(" or part == "()":
            symbol = instance_of(symbol)
        else:
            symbol = member(model, symbol, part[1:])
    return symbol


# -- values -----------------------------------------------------------------------------------

UNKNOWN: Any = object()
_CONSTANT_NAMES = {"True": True, "False": False, "None": None}


def value_of(model: SemanticModel, expr: cst.CSTNode | None, _depth: int = 0) -> Any:
    """The value `expr` has where it stands, when the file alone tells it: literals, tuples
    and lists of them, and names whose every reaching binding assigns the same such value
    (`START_METHOD = "fork"; get_context(START_METHOD)`). Otherwise `UNKNOWN`."""
    if expr is None or _depth > 20:
        return UNKNOWN
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if value is not None else UNKNOWN
    if isinstance(expr, cst.Integer):
        return int(expr.value.replace("_", ""), 0)
    if isinstance(expr, cst.Float):
        return float(expr.value.replace("_", ""))
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        value = value_of(model, expr.expression, _depth + 1)
        return -value if isinstance(value, (int, float)) and value is not UNKNOWN else UNKNOWN
    if isinstance(expr, (cst.Tuple, cst.List)):
        values = [value_of(model, element.value, _depth + 1) for element in expr.elements
                  if not isinstance(element, cst.StarredElement)]
        if len(values) != len(expr.elements) or any(value is UNKNOWN for value in values):
            return UNKNOWN
        return tuple(values) if isinstance(expr, cst.Tuple) else values
    if isinstance(expr, cst.Name):
        reference = model.reference(expr)
        if reference is None:
            return UNKNOWN
        if not reference.bindings:
            return _CONSTANT_NAMES.get(expr.value, UNKNOWN) if reference.owner is None else UNKNOWN
        values = []
        for binding in reference.bindings:
            if binding.kind is not Kind.ASSIGN:
                return UNKNOWN
            values.append(value_of(model, binding.value, _depth + 1))
        first = values[0]
        if first is UNKNOWN or any(value is UNKNOWN or value != first or type(value) is not type(first)
                                   for value in values):
            return UNKNOWN
        return first
    return UNKNOWN


# -- small helpers on calls ---------------------------------------------------------------------


def argument(call: cst.Call, position: int | None, keyword: str | None = None) -> cst.BaseExpression | None:
    """The expression passed as positional `position` or as `keyword=` (None under `*args`
    before that position, where it cannot be known)."""
    if keyword is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
    index = 0
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            continue
        if arg.star == "*":
            if position is not None and index <= position:
                return None
        else:
            if position is not None and index == position:
                return arg.value
            index += 1
    return None


def keyword_argument(call: cst.Call, keyword: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    return None


def literal_string(expr: cst.CSTNode | None) -> str | None:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def dotted_name(expr: cst.CSTNode | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def decorator_names(function: cst.FunctionDef) -> set[str | None]:
    """The decorators of `function` as written (`staticmethod`, `functools.wraps`; None for
    one that is not a dotted name, such as a call)."""
    return {dotted_name_of(decorator.decorator) for decorator in function.decorators}


def dotted_name_of(expr: cst.CSTNode | None) -> str | None:
    """`dotted_name`, looking through a call: the name of a decorator with arguments."""
    return dotted_name(expr.func if isinstance(expr, cst.Call) else expr)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def nodes_within(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node inside it (an expression's names and calls)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def own_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The nodes of `function`'s body that are its own (not in a nested def, lambda or class)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(node.children)


def returned_values(function: cst.FunctionDef) -> list[cst.BaseExpression]:
    """The values of `function`'s own `return <value>` statements (not a nested def's)."""
    return [node.value for node in own_nodes(function) if isinstance(node, cst.Return) and node.value is not None]


def returns_value(function: cst.FunctionDef) -> bool:
    """`function` has a `return <value>` of its own."""
    return bool(returned_values(function))


def is_generator(function: cst.FunctionDef) -> bool:
    """`function` has a `yield` of its own: calling it makes a generator."""
    return any(isinstance(node, cst.Yield) for node in own_nodes(function))
