"""What happens to an object after it is made: the lifecycle facts of pools, processes and
queues.

- `made_by(expr)`: the calls that made the objects a name (or a loop variable over a list of
  them) may hold: `p` in `for p in procs` over `procs = [Process(...) for ...]`, or filled by
  `procs.append(Process(...))`; `unpacked_from(binding)`: the call a pair came from
  (`reader, writer = Pipe()`).
- `uses(binding)`: every read of the object a binding holds, by kind: a method called on it
  (`pool.close()`), an attribute read (`p.exitcode`), iterated, the item of a `with`, or
  escaping (returned, yielded, stored in an attribute, item or container, passed to a call,
  aliased, captured by a nested function) -- someone else may then finish it.
- `closed_on_every_path(binding, methods)`: whether one of `methods` is called on the object
  on every path from the binding to the end of its scope (a `return`, the end of the body,
  the end of a loop pass when it is made in a loop), `finally` and `with obj:` included;
  a close under a flag true wherever the object was made (`if own:`) counts on every path.
  Paths that raise are not counted: an exception is not where a pool is expected to close.
- `pending_results(pool)`: the results a pool hands back before they exist (`apply_async`,
  `map_async`, `imap`, `submit`; roles in the catalogue) and where each goes: read where it
  is made (`.get()`, iterated), kept in a name or a list of them, or passed on.
- `runs_before(a, b)`: source order of two nodes of one scope; `parent(node)`: the node
  holding `node` (inside its module-level statement).

Sites come from the model (builder.py); the node relations are computed per module-level
statement, and only for the statements asked about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from .. import apis
from .names import UNKNOWN, argument
from .scopes import Binding, Kind, Reference, Site

if TYPE_CHECKING:
    from . import SemanticModel

# Calls that look at an object without keeping it.
_LOOKING_CALLS = frozenset({
    "print", "len", "isinstance", "id", "repr", "str", "type", "bool", "hasattr", "getattr", "callable", "format",
    "logging.info", "logging.debug", "logging.warning", "logging.error",
})
# Calls that iterate their (first) argument.
_ITERATING_CALLS = frozenset({
    "list", "tuple", "sorted", "set", "next", "iter", "enumerate", "zip", "sum", "any", "all", "max", "min",
    "dict", "map", "filter", "reversed", "tqdm.tqdm", "frozenset",
})
_CLOSING = frozenset({"contextlib.closing"})


class UseKind(enum.Enum):
    METHOD = "method"  # obj.method(...)
    ATTRIBUTE = "attribute"  # obj.name read, not called
    ITERATED = "iterated"  # for x in obj, [... for x in obj], list(obj), next(obj)
    WITH = "with"  # with obj: / with closing(obj):
    ESCAPE = "escape"  # someone else may now hold it
    OTHER = "other"  # looked at: compared, printed, tested


@dataclass(frozen=True)
class Use:
    """One read of an object. `method`: the method called or attribute read; `call`: the
    method call (METHOD) or the call that iterates it; `node`: the outermost expression of
    the use (the call, the attribute)."""

    kind: UseKind
    reference: Reference
    node: cst.CSTNode
    method: str | None = None
    call: cst.Call | None = None

    @property
    def site(self) -> Site:
        return self.reference.site

    @property
    def waits(self) -> bool:
        """Reads a result, waiting for it: `.get()`, `.wait()`, `.result()`, iteration."""
        return (self.kind is UseKind.METHOD and self.method in WAITING_METHODS) or self.kind is UseKind.ITERATED

    @property
    def adds(self) -> bool:
        """Puts an item into the object: `.append(...)`, `.add(...)`."""
        return self.kind is UseKind.METHOD and self.method in _ADDING_METHODS


# Methods of a result (AsyncResult, Future) and of a list of them that wait for it or read it.
WAITING_METHODS = frozenset({"get", "wait", "result", "exception"})
# Methods that put an item into a list (or set) held in a name.
_ADDING_METHODS = frozenset({"append", "add", "insert", "extend"})


@dataclass(frozen=True)
class PendingResult:
    """A result a pool hands back before it exists. `call`: the pool method call; `holders`:
    the bindings that keep it (the name it is assigned to, or the list it is added to);
    `consumed`: read where it is made (`pool.map_async(...).get()`, `for x in pool.imap(...)`,
    `list(...)`); `escapes`: returned or passed to code that may read it later; neither and
    no holder: nobody ever reads it (fire and forget)."""

    call: cst.Call
    site: Site
    holders: tuple[Binding, ...] = ()
    consumed: bool = False
    escapes: bool = False


class _Tree:
    """Parents and source order of the nodes of one module-level statement."""

    def __init__(self, top: cst.CSTNode, index: int) -> None:
        self.index = index
        self.parents: dict[int, cst.CSTNode] = {}
        self.order: dict[int, int] = {}
        stack = [top]
        while stack:
            node = stack.pop()
            self.order[id(node)] = len(self.order)
            children = node.children
            for child in children:
                self.parents[id(child)] = node
            stack.extend(reversed(children))


class ObjectFacts:
    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self._trees: dict[int, _Tree] = {}
        self._tops = {id(statement): index for index, statement in enumerate(model.module.body)}
        self._attributes: dict[int, cst.Attribute] | None = None
        self._calls: dict[int, Site] | None = None
        self._withs: dict[int, cst.With] | None = None

    # -- node relations -------------------------------------------------------------------------

    def _tree(self, top: cst.CSTNode) -> _Tree:
        tree = self._trees.get(id(top))
        if tree is None:
            tree = _Tree(top, self._tops.get(id(top), -1))
            self._trees[id(top)] = tree
        return tree

    def parent(self, node: cst.CSTNode, top: cst.CSTNode | None) -> cst.CSTNode | None:
        """The node that holds `node`, within the module-level statement `top` (a site's
        `top`); None for `top` itself."""
        if top is None:
            return None
        return self._tree(top).parents.get(id(node))

    def statement_in(self, block: cst.CSTNode, node: cst.CSTNode, top: cst.CSTNode | None) -> cst.BaseStatement | None:
        """The statement of `block` (a Module or IndentedBlock) that holds `node`, whose
        module-level statement is `top`; None when `block` does not hold it."""
        statements = {id(statement) for statement in getattr(block, "body", ())}
        current: cst.CSTNode | None = node
        while current is not None:
            if id(current) in statements:
                return current  # type: ignore[return-value]
            current = self.parent(current, top)
        return None

    def holds(self, ancestor: cst.CSTNode, site: Site) -> bool:
        """True when the node of `site` is `ancestor` or inside it."""
        current: cst.CSTNode | None = site.node
        while current is not None:
            if current is ancestor:
                return True
            current = self.parent(current, site.top)
        return False

    def runs_before(self, first: Site, second: Site) -> bool:
        """True when `first` comes before `second` in the source (their module-level
        statements in order, then the nodes within one)."""
        one, other = self._position(first), self._position(second)
        return one < other

    def _position(self, site: Site) -> tuple[int, int]:
        if site.top is None:
            return (-1, 0)
        tree = self._tree(site.top)
        return (tree.index, tree.order.get(id(site.node), 0))

    def attribute_of(self, node: cst.CSTNode) -> cst.Attribute | None:
        """The attribute read `node.name` whose object is `node`, if any."""
        if self._attributes is None:
            self._attributes = {id(site.node.value): site.node for site in self.model.attributes
                                if isinstance(site.node, cst.Attribute)}
        return self._attributes.get(id(node))

    def call_of(self, function: cst.CSTNode) -> Site | None:
        """The site of the call whose function is `function`, if any."""
        if self._calls is None:
            self._calls = {id(site.node.func): site for site in self.model.calls if isinstance(site.node, cst.Call)}
        return self._calls.get(id(function))

    def method_call(self, node: cst.CSTNode) -> tuple[str, cst.Call] | None:
        """`(method, call)` when `node` is the object of a method call `node.method(...)`."""
        attribute = self.attribute_of(node)
        if attribute is None:
            return None
        site = self.call_of(attribute)
        return (attribute.attr.value, site.node) if site is not None else None  # type: ignore[return-value]

    # -- uses of an object ----------------------------------------------------------------------

    def uses(self, binding: Binding) -> list[Use]:
        """Every read of the object `binding` gives its name (see the module docstring), in
        source order."""
        references = sorted(binding.references, key=lambda reference: self._position(reference.site))
        return [self.use(reference, binding) for reference in references]

    def use(self, reference: Reference, binding: Binding | None = None) -> Use:
        node = reference.node
        site = reference.site
        if binding is not None and _captured(reference, binding):
            return Use(UseKind.ESCAPE, reference, node)
        attribute = self.attribute_of(node)
        if attribute is not None:
            call = self.call_of(attribute)
            if call is not None:
                return Use(UseKind.METHOD, reference, call.node, attribute.attr.value, call.node)  # type: ignore[arg-type]
            return Use(UseKind.ATTRIBUTE, reference, attribute, attribute.attr.value)
        parent = self.parent(node, site.top)
        if isinstance(parent, cst.Arg):
            call = self.parent(parent, site.top)
            if isinstance(call, cst.Call):
                return self._argument_use(reference, call, parent)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return Use(UseKind.ITERATED, reference, parent)
        if isinstance(parent, cst.WithItem) and parent.item is node:
            return Use(UseKind.WITH, reference, parent)
        if isinstance(parent, (cst.Return, cst.Yield, cst.Element, cst.DictElement, cst.StarredElement,
                               cst.Assign, cst.AnnAssign, cst.NamedExpr, cst.Await, cst.Lambda)):
            return Use(UseKind.ESCAPE, reference, parent)
        if isinstance(parent, cst.Subscript) and parent.value is node:
            return Use(UseKind.OTHER, reference, parent)
        if isinstance(parent, cst.IfExp) or isinstance(parent, cst.BooleanOperation):
            return Use(UseKind.ESCAPE, reference, parent)  # its value flows on
        return Use(UseKind.OTHER, reference, parent or node)

    def _argument_use(self, reference: Reference, call: cst.Call, arg: cst.Arg) -> Use:
        function = self.model.resolve(call.func)
        qualname = function.qualname if function is not None else ""
        if qualname in _LOOKING_CALLS:
            return Use(UseKind.OTHER, reference, call, call=call)
        if qualname in _ITERATING_CALLS and arg.keyword is None:
            return Use(UseKind.ITERATED, reference, call, call=call)
        if qualname in _CLOSING:
            parent = self.parent(call, reference.site.top)
            if isinstance(parent, cst.WithItem):
                return Use(UseKind.WITH, reference, parent, call=call)
        return Use(UseKind.ESCAPE, reference, call, call=call)

    def escapes(self, binding: Binding) -> Use | None:
        """The first use through which the object may reach code that outlives the binding's
        scope, if any (see UseKind.ESCAPE)."""
        return next((use for use in self.uses(binding) if use.kind is UseKind.ESCAPE), None)

    def pending_results(self, pool: Binding) -> list[PendingResult]:
        """The results the pool `pool` holds hands back before they exist, in source order."""
        found = []
        for use in self.uses(pool):
            if use.kind is not UseKind.METHOD or use.call is None:
                continue
            function = self.model.resolve(use.call.func)
            if function is None or not apis.has_role(function.qualname, apis.Role.ASYNC_RESULT):
                continue
            found.append(self._pending(use.call, use.site))
        return found

    def _pending(self, call: cst.Call, site: Site) -> PendingResult:
        node: cst.CSTNode = call
        top = site.top
        while True:
            parent = self.parent(node, top)
            if isinstance(parent, (cst.ListComp, cst.GeneratorExp, cst.SetComp)) and parent.elt is node:
                node = parent  # a list of results: where the list goes
                continue
            if isinstance(parent, cst.Attribute) and parent.value is node:
                return PendingResult(call, site, consumed=True)  # `.get()`, `.wait()`, `.ready()`
            if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
                return PendingResult(call, site, consumed=True)
            if isinstance(parent, cst.Assign) and parent.value is node:
                holders = tuple(binding for binding in self.model.bindings
                                if binding.node is parent and binding.kind is Kind.ASSIGN)
                holders += self._containers(parent)
                return PendingResult(call, site, holders, escapes=not holders)
            if isinstance(parent, cst.Arg):
                outer = self.parent(parent, top)
                if isinstance(outer, cst.Call):
                    return self._pending_argument(call, site, outer)
            if isinstance(parent, cst.Expr):
                return PendingResult(call, site)
            return PendingResult(call, site, escapes=True)

    def _containers(self, assign: cst.Assign) -> tuple[Binding, ...]:
        """The bindings of `d` for targets `d[key]` (a dict or list of results)."""
        found: list[Binding] = []
        for target in assign.targets:
            subscript = target.target
            if isinstance(subscript, cst.Subscript) and isinstance(subscript.value, cst.Name):
                reference = self.model.reference(subscript.value)
                found += reference.bindings if reference is not None else ()
        return tuple(found)

    def _pending_argument(self, call: cst.Call, site: Site, outer: cst.Call) -> PendingResult:
        function = self.model.resolve(outer.func)
        if function is not None and function.qualname in _ITERATING_CALLS:
            return PendingResult(call, site, consumed=True)
        if isinstance(outer.func, cst.Attribute) and outer.func.attr.value in _ADDING_METHODS and \
                isinstance(outer.func.value, cst.Name):
            reference = self.model.reference(outer.func.value)
            if reference is not None and reference.bindings:
                return PendingResult(call, site, reference.bindings)
        return PendingResult(call, site, escapes=True)

    # -- where objects come from --------------------------------------------------------------

    def made_by(self, expr: cst.BaseExpression | None, _depth: int = 0) -> list[cst.Call]:
        """The calls that made the objects `expr` may hold where it stands."""
        if expr is None or _depth > 8:
            return []
        if isinstance(expr, cst.Call):
            return [expr]
        if isinstance(expr, cst.Name):
            reference = self.model.reference(expr)
            if reference is None:
                return []
            found: list[cst.Call] = []
            for binding in reference.bindings:
                found += self.made_by_binding(binding, _depth + 1)
            return found
        if isinstance(expr, cst.Attribute):
            return [call for value in self.model.values_of(expr) for call in self.made_by(value, _depth + 1)]
        return []

    def made_by_binding(self, binding: Binding, _depth: int = 0) -> list[cst.Call]:
        """The calls that made the object `binding` gives its name."""
        if binding.kind in (Kind.ASSIGN, Kind.WITH):
            return self.made_by(binding.value, _depth)
        if binding.kind is Kind.LOOP and not binding.path:
            return self.items_made_by(binding.value, _depth)
        if binding.kind is Kind.UNPACK and binding.path:
            value = binding.value
            for index in binding.path:
                if not isinstance(value, (cst.Tuple, cst.List)) or index >= len(value.elements):
                    return []
                value = value.elements[index].value
            return self.made_by(value, _depth)
        return []

    def unpacked_from(self, binding: Binding) -> cst.Call | None:
        """The call whose result `binding` took one item of (`reader, writer = Pipe()`)."""
        if binding.kind is Kind.UNPACK and isinstance(binding.value, cst.Call):
            return binding.value
        return None

    def items_made_by(self, iterable: cst.BaseExpression | None, _depth: int = 0) -> list[cst.Call]:
        """The calls that made the items of the list (tuple, comprehension, or list filled
        by `append`) `iterable` names."""
        if iterable is None or _depth > 8:
            return []
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)):
            return [call for element in iterable.elements for call in self.made_by(element.value, _depth + 1)]
        if isinstance(iterable, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self.made_by(iterable.elt, _depth + 1)
        if isinstance(iterable, cst.Call):
            function = self.model.resolve(iterable.func)
            if function is not None and function.qualname in ("list", "tuple", "reversed", "sorted") and iterable.args:
                return self.items_made_by(iterable.args[0].value, _depth + 1)
            if isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value == "values":
                return self._values_made_by(iterable.func.value, _depth + 1)
            return []
        if isinstance(iterable, cst.Name):
            reference = self.model.reference(iterable)
            if reference is None:
                return []
            found: list[cst.Call] = []
            for binding in reference.bindings:
                if binding.kind in (Kind.ASSIGN, Kind.WITH):
                    found += self.items_made_by(binding.value, _depth + 1)
                for use in self.uses(binding):
                    if use.kind is UseKind.METHOD and use.method in ("append", "add", "insert") and use.call:
                        found += self.made_by(argument(use.call, 1 if use.method == "insert" else 0), _depth + 1)
            return found
        if isinstance(iterable, cst.Attribute):
            return [call for value in self.model.values_of(iterable) for call in self.items_made_by(value, _depth + 1)]
        return []

    def _values_made_by(self, mapping: cst.BaseExpression, depth: int) -> list[cst.Call]:
        """The calls that made the values of a dict filled by `d[key] = value`."""
        found: list[cst.Call] = []
        if isinstance(mapping, cst.Name):
            reference = self.model.reference(mapping)
            bindings = reference.bindings if reference is not None else ()
            for store in self.model.stores:
                target = store.target
                if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and \
                        (inner := self.model.reference(target.value)) is not None and \
                        set(inner.bindings) & set(bindings):
                    found += self.made_by(store.value, depth + 1)
            for binding in bindings:
                if isinstance(binding.value, cst.DictComp):
                    found += self.made_by(binding.value.value, depth + 1)
        return found

    # -- on every path ----------------------------------------------------------------------------

    def closed_on_every_path(self, binding: Binding, methods: Iterable[str]) -> bool:
        """True when one of `methods` is called on the object on every path from `binding`
        to the end of its scope (see the module docstring)."""
        methods = frozenset(methods)
        closing = {id(use.reference.site.statement) for use in self.uses(binding)
                   if (use.kind is UseKind.METHOD and use.method in methods) or use.kind is UseKind.WITH}
        withs = {id(use.node) for use in self.uses(binding) if use.kind is UseKind.WITH}
        flow = _Flow(self, binding, closing, withs)
        statement = binding.site.statement
        block = binding.site.block
        if statement is None or block is None:
            return False
        outcomes = flow.sequence(_rest_of_block(block, statement))
        top = binding.site.top
        while block is not self.model.module:
            holder = self.parent(block, top)
            while holder is not None and not isinstance(holder, cst.BaseCompoundStatement):
                holder = self.parent(holder, top)  # Else, ExceptHandler, Finally -> their statement
            if holder is None or isinstance(holder, (cst.FunctionDef, cst.ClassDef)):
                break  # the end of the scope's body
            outcomes = flow.leave(holder, block, outcomes)
            if isinstance(holder, (cst.For, cst.While)) and holder.body is block:
                if any(exit_ in ("fall", "continue") and not closed for exit_, closed in outcomes):
                    return False  # the next pass makes another one
                outcomes = {("fall", closed) if exit_ == "break" else (exit_, closed) for exit_, closed in outcomes}
            statement = holder
            parent = self.parent(statement, top)
            while parent is not None and not isinstance(parent, (cst.Module, cst.IndentedBlock)):
                statement, parent = parent, self.parent(parent, top)  # an `elif` is inside its `if`
            block = parent if parent is not None else self.model.module
            falling = {closed for exit_, closed in outcomes if exit_ == "fall"}
            outcomes = {(exit_, closed) for exit_, closed in outcomes if exit_ != "fall"}
            if True in falling:
                outcomes.add(("fall", True))
            if False in falling:
                outcomes |= flow.sequence(_rest_of_block(block, statement))
        return all(closed for _, closed in outcomes)


def _captured(reference: Reference, binding: Binding) -> bool:
    """The read is in a function nested in the binding's scope (it runs later)."""
    return reference.scope.enclosing_function() is not binding.scope.enclosing_function()


def _rest_of_block(block: cst.CSTNode, statement: cst.CSTNode) -> list[cst.BaseStatement]:
    body = list(getattr(block, "body", ()))
    for index, candidate in enumerate(body):
        if candidate is statement:
            return body[index + 1:]
    return []


class _Flow:
    """The outcomes of running statements, as a set of (exit, closed): exit is "fall",
    "return", "break" or "continue"; closed says whether the object was closed on the way.
    Statements are entered with the object not yet closed."""

    def __init__(self, facts: ObjectFacts, binding: Binding, closing: set[int], withs: set[int]) -> None:
        self.facts = facts
        self.binding = binding  # where the object is made
        self.closing = closing  # statements that close the object
        self.withs = withs  # WithItems whose item is the object

    def true_where_made(self, test: cst.BaseExpression) -> bool:
        """`test`, a flag (`if cleanup:`, `if not borrowed:`), is true wherever the object was
        made: the object is made under a test of the same flag, with the same bindings
        reaching both; or each binding of the flag that reaches the test gives it that value
        or runs only where the object is not made (the other branch of an `if` around it:
        `cleanup = False` in the `else:` of `if pool is None: pool = Pool(); cleanup = True`,
        dask's shape), or before another binding of the flag in the block that makes it."""
        name, holds = _flag(test, True)
        model = self.facts.model
        reference = model.reference(name) if isinstance(name, cst.Name) else None
        if reference is None or not reference.bindings:
            return False
        made = self.binding.site
        reaching = {id(binding) for binding in reference.bindings}
        for condition in made.conditions():
            flag, flag_holds = _flag(condition.test, condition.holds)
            other = model.reference(flag) if isinstance(flag, cst.Name) and flag.value == name.value else None
            if other is not None and flag_holds == holds and {id(binding) for binding in other.bindings} == reaching:
                return True
        # A binding in the block that makes the object is on every path that makes it: one
        # made before it (`cleanup = False` first) reaches the test only on the others.
        beside = [binding.site for binding in reference.bindings if binding.site.block is made.block]
        return all((binding.kind is Kind.ASSIGN and _is(model.value_of(binding.value), holds)) or
                   _exclusive(binding.site, made) or any(self.facts.runs_before(binding.site, site) for site in beside)
                   for binding in reference.bindings)

    def sequence(self, statements: Iterable[cst.BaseStatement]) -> set[tuple[str, bool]]:
        current = {("fall", False)}
        for statement in statements:
            following: set[tuple[str, bool]] = set()
            for exit_, closed in current:
                if exit_ != "fall" or closed:
                    following.add((exit_, closed))
                else:
                    following |= self.statement(statement)
            current = following
        return current

    def statement(self, node: cst.BaseStatement) -> set[tuple[str, bool]]:
        if isinstance(node, cst.SimpleStatementLine):
            closed = id(node) in self.closing
            for small in node.body:
                if isinstance(small, cst.Return):
                    return {("return", closed)}
                if isinstance(small, (cst.Raise,)):
                    return set()  # not a normal path
                if isinstance(small, cst.Break):
                    return {("break", closed)}
                if isinstance(small, cst.Continue):
                    return {("continue", closed)}
                if isinstance(small, cst.Expr) and _is_exit(self.facts.model, small.value):
                    return set()
            return {("fall", closed)}
        if id(node) in self.closing and not isinstance(node, cst.With):
            return {("fall", True)}  # `if pool.close(): ...`, rare: closed in the test itself
        if isinstance(node, cst.If):
            if self.true_where_made(node.test):
                return self.sequence(node.body.body)
            branches = self.sequence(node.body.body)
            if node.orelse is None:
                branches.add(("fall", False))
            elif isinstance(node.orelse, cst.If):
                branches |= self.statement(node.orelse)
            else:
                branches |= self.sequence(node.orelse.body.body)
            return branches
        if isinstance(node, (cst.For, cst.While)):
            body = self.sequence(node.body.body)
            outcomes = {("fall", closed) if exit_ in ("break", "continue", "fall") else (exit_, closed)
                        for exit_, closed in body}
            if isinstance(node, cst.While) and _always_true(node.test):  # left only by break or return
                outcomes = {("fall", closed) if exit_ == "break" else (exit_, closed)
                            for exit_, closed in body if exit_ in ("break", "return")}
            else:
                outcomes.add(("fall", False))  # no pass at all
                if node.orelse is not None:
                    outcomes |= self.sequence(node.orelse.body.body)
            return outcomes
        if isinstance(node, cst.With):
            body = self.sequence(node.body.body)
            if any(id(item) in self.withs for item in node.items):
                return {(exit_, True) for exit_, _ in body} or {("fall", True)}
            return body
        if isinstance(node, (cst.Try, cst.TryStar)):
            outcomes = self.sequence(node.body.body)
            if node.orelse is not None:
                falls = {closed for exit_, closed in outcomes if exit_ == "fall"}
                outcomes = {(e, c) for e, c in outcomes if e != "fall"}
                if True in falls:
                    outcomes.add(("fall", True))
                if False in falls:
                    outcomes |= self.sequence(node.orelse.body.body)
            for handler in node.handlers:
                outcomes |= self.sequence(handler.body.body)
            if node.finalbody is not None and _all_closed(self.sequence(node.finalbody.body.body)):
                return {(exit_, True) for exit_, _ in outcomes} or {("fall", True)}
            return outcomes
        if isinstance(node, cst.Match):
            outcomes = {("fall", False)}
            for case in node.cases:
                outcomes |= self.sequence(case.body.body)
            return outcomes
        return {("fall", False)}  # def, class

    def leave(self, holder: cst.CSTNode, block: cst.CSTNode, outcomes: set[tuple[str, bool]]) -> set[tuple[str, bool]]:
        """The outcomes of `block` once its compound statement `holder` runs on: a `try`
        whose `finally` closes closes every path; `with obj:` closes on the way out."""
        if isinstance(holder, (cst.Try, cst.TryStar)) and holder.finalbody is not None and \
                block is not holder.finalbody.body and \
                _all_closed(self.sequence(holder.finalbody.body.body)):
            return {(exit_, True) for exit_, _ in outcomes}
        if isinstance(holder, cst.With) and any(id(item) in self.withs for item in holder.items):
            return {(exit_, True) for exit_, _ in outcomes}
        return outcomes


def _flag(test: cst.BaseExpression, holds: bool) -> tuple[cst.BaseExpression, bool]:
    """`not not x` holding: `x` and whether it holds."""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, holds = test.expression, not holds
    return test, holds


def _is(value: object, holds: bool) -> bool:
    """`value` is a constant whose truth is `holds`."""
    return value is not UNKNOWN and bool(value) == holds


def _exclusive(first: Site, second: Site) -> bool:
    """The two sites are in different branches of one `if` (or conditional expression)."""
    tests = {id(condition.test): condition.holds for condition in first.conditions()}
    return any(tests.get(id(condition.test), condition.holds) != condition.holds for condition in second.conditions())


def ends_the_flow(model: SemanticModel, statement: cst.CSTNode) -> bool:
    """`statement` is a line that leaves: `return`, `raise`, `break`, `continue`, or a call of
    `sys.exit()` (`os._exit`, `exit`, `quit`). Code placed after it never runs."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return any(isinstance(small, (cst.Return, cst.Raise, cst.Break, cst.Continue))
               or (isinstance(small, cst.Expr) and _is_exit(model, small.value)) for small in statement.body)


def _all_closed(outcomes: set[tuple[str, bool]]) -> bool:
    return bool(outcomes) and all(closed for _, closed in outcomes)


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and int(test.value.replace("_", ""), 0) != 0


def _is_exit(model: SemanticModel, value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    function = model.resolve(value.func)
    return function is not None and function.qualname in ("sys.exit", "os._exit", "exit", "quit")
