"""The single pass over a libcst tree that fills a SemanticModel.

Names are bound in source order and each read records the bindings live at that point of
the flow, the way ruff's semantic model does it:

- statements run in order; `x = x + 1` reads before it binds;
- `if`/`match`/`try` branches merge their states; a branch that always leaves (return,
  raise, break, continue, `sys.exit()`) adds nothing, and the code after an `if` whose body
  leaves is under the negated test (`if windows: sys.exit()` guards what follows);
- a loop body may run again: reads inside it also see what the body binds later;
- class bodies and comprehensions run where they stand; function and lambda bodies run
  later, so they are walked after the scope that defines them has ended and see the
  bindings live at its end.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

import libcst as cst

from .scopes import (
    Binding, Condition, Kind, LoopRegion, Reference, Scope, ScopeKind, Site, SkipDecorator, Store, TryElseRegion,
    TryRegion, WithRegion,
)
from .names import dotted_name, dotted_name_of
from .walker import Walker

_EMPTY: frozenset[Binding] = frozenset()
State = dict  # name -> frozenset[Binding]; None where the code cannot be reached
# Calls after which the flow stops (`exit`/`quit`: the builtins the site module adds; pytest's
# raise the outcome of the test, or end the collection of its module).
EXIT_FUNCTIONS = frozenset({"sys.exit", "os._exit", "os.abort", "pytest.skip", "pytest.fail", "pytest.exit",
                            "pytest.xfail"})
BUILTIN_EXITS = ("exit", "quit")
# What on_visit does with a node (Walker.classify): a statement, a block, or nothing.
_STATEMENT, _BLOCK = "statement", "block"


def _module_marks(module: cst.Module) -> tuple[cst.Call, ...]:
    """The calls a top-level `pytestmark = mark` or `pytestmark = [mark, ...]` assigns."""
    found: list[cst.Call] = []
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and any(isinstance(target.target, cst.Name) and
                                                     target.target.value == "pytestmark" for target in small.targets):
                value = small.value
                items = [element.value for element in value.elements] if isinstance(value, (cst.List, cst.Tuple)) \
                    else [value]
                found += [item for item in items if isinstance(item, cst.Call)]
    return tuple(found)


def merge(*states: State | None) -> State | None:
    """The bindings live after any of `states` (None: unreachable)."""
    reachable = [state for state in states if state is not None]
    if not reachable:
        return None
    if len(reachable) == 1:
        return dict(reachable[0])
    merged: dict = {}
    for state in reachable:
        for name, bindings in state.items():
            merged[name] = merged.get(name, _EMPTY) | bindings
    return merged


@dataclass
class _Read:
    """A reference not yet resolved: the live bindings of its name, per scope of the chain
    that was running when it was read (up to the first function or the module)."""

    reference: Reference
    chain: list  # [scope, frozenset[Binding]] pairs


@dataclass
class _Loop:
    scope: Scope
    first_read: int  # index into the builder's reads: reads from here on are in the loop
    first_binding: int  # bindings from this order on are made in the loop
    breaks: list = field(default_factory=list)
    continues: list = field(default_factory=list)


@dataclass
class _Try:
    scope: Scope
    made: list = field(default_factory=list)  # bindings made in the body


@dataclass
class _Deferred:
    """A function or lambda body to walk once the scope defining it has ended."""

    body: cst.CSTNode
    scope: Scope
    regions: tuple
    function_depth: int
    statements: list
    blocks: list


class ModelBuilder(Walker):
    def __init__(self, model) -> None:
        self.model = model
        self.scope: Scope = model.module_scope
        self.live: dict[Scope, State | None] = {self.scope: {}}
        self.regions: tuple = ()
        self.function_depth = 0
        self.statements: list = [(None, None)]
        self.blocks: list = []
        self.block_regions: list[tuple] = []
        self.in_annotation = 0
        self.reads: list[_Read] = []
        self.loops: list[_Loop] = []
        self.tries: list[_Try] = []
        self.returns: dict[Scope, list] = {}
        self.deferred: deque[_Deferred] = deque()
        self.class_skips: tuple[SkipDecorator, ...] = ()  # of the class whose body is walked
        self.module_skips: tuple[cst.Call, ...] = ()  # the marks `pytestmark = ...` puts on every test

    # -- the pass ---------------------------------------------------------------------

    def build(self) -> None:
        module = self.model.module
        self.module_skips = _module_marks(module)
        self.walk(module)
        self._end_scope(self.model.module_scope)
        while self.deferred:
            self._walk_deferred(self.deferred.popleft())
        self._resolve_reads()
        _free_variables(self.model.module_scope)

    def _walk_deferred(self, item: _Deferred) -> None:
        self.scope = item.scope
        self.regions = item.regions
        self.function_depth = item.function_depth
        self.statements = list(item.statements)
        self.blocks = list(item.blocks)
        self.loops, self.tries = [], []
        state: State = {}
        for name, bindings in item.scope.bindings.items():  # the parameters
            state[name] = frozenset(bindings)
        self.live[item.scope] = state
        self.walk(item.body)
        self._end_scope(item.scope)

    def _end_scope(self, scope: Scope) -> None:
        final = merge(self.live.pop(scope, None), *self.returns.pop(scope, ()))
        if final is None:  # every path leaves by raising: take everything bound
            final = {name: frozenset(b for b in bindings if not b.nested) for name, bindings in scope.bindings.items()}
        scope.final = final

    # -- sites and statements ---------------------------------------------------------

    def site(self, node: cst.CSTNode) -> Site:
        statement, block = self.statements[-1]
        top = self.statements[1][0] if len(self.statements) > 1 else None
        return Site(node, self.scope, self.regions, self.function_depth, statement, block, top,
                    self.in_annotation > 0)

    def classify(self, node_type: type) -> str | None:
        if issubclass(node_type, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return _STATEMENT
        return _BLOCK if issubclass(node_type, (cst.Module, cst.IndentedBlock)) else None

    def on_visit(self, node: cst.CSTNode, kind: object) -> bool:
        if kind is _STATEMENT:
            self.statements.append((node, self.blocks[-1] if self.blocks else None))
        elif kind is _BLOCK:
            self.blocks.append(node)
            self.block_regions.append(self.regions)
        return True

    def on_leave(self, node: cst.CSTNode, kind: object) -> None:
        if kind is _STATEMENT:
            self.statements.pop()
        elif kind is _BLOCK:
            self.blocks.pop()
            self.regions = self.block_regions.pop()

    def push(self, region) -> None:
        self.regions = self.regions + (region,)

    def pop(self) -> None:
        self.regions = self.regions[:-1]

    @property
    def state(self) -> State | None:
        return self.live[self.scope]

    @state.setter
    def state(self, value: State | None) -> None:
        self.live[self.scope] = value

    def walk_all(self, nodes: Iterable[cst.CSTNode | None]) -> None:
        for node in nodes:
            if node is not None:
                self.walk(node)

    # -- bindings -----------------------------------------------------------------------

    def bind(self, name: str, kind: Kind, node: cst.CSTNode, target: cst.Name | None = None,
             value: cst.BaseExpression | None = None, qualname: str | None = None,
             scope: Scope | None = None, path: tuple[int, ...] = ()) -> Binding:
        """Record a binding of `name` made here, in `scope` (default: the current one, or the
        scope a `global`/`nonlocal` declaration sends it to)."""
        scope = scope or self.scope
        owner, nested = scope, False
        if name in scope.declared_global and scope.kind is not ScopeKind.MODULE:
            owner, nested = self.model.module_scope, True
        elif name in scope.declared_nonlocal:
            owner, nested = _nonlocal_owner(scope, name) or scope, True
        binding = Binding(name, kind, node, owner, self.site(node), target, value, qualname, nested, path,
                          len(self.model.bindings))
        self.model.bindings.append(binding)
        owner.bindings.setdefault(name, []).append(binding)
        if not nested and kind is not Kind.ANNOTATION:
            state = self.live.get(owner)
            if state is not None:
                state[name] = _EMPTY if kind is Kind.DELETE else frozenset((binding,))
            for frame in self.tries:
                if frame.scope is owner:
                    frame.made.append(binding)
        return binding

    def bind_target(self, target: cst.BaseExpression, kind: Kind, node: cst.CSTNode,
                    value: cst.BaseExpression | None, path: tuple[int, ...] = ()) -> None:
        """Bind the names of an assignment target; `a.b`/`a[i]` targets are reads of `a`.
        Names inside a tuple target get their position as `path` (a starred one: no path)."""
        unpack = Kind.UNPACK if kind is Kind.ASSIGN else kind
        if isinstance(target, cst.Name):
            self.bind(target.value, kind, node, target, value, path=path)
        elif isinstance(target, (cst.Tuple, cst.List)):
            starred = any(isinstance(element, cst.StarredElement) for element in target.elements)
            for index, element in enumerate(target.elements):
                self.bind_target(element.value, unpack, node, value, () if starred else (*path, index))
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, unpack, node, None)
        else:
            self.walk(target)  # reads: the object whose attribute or item is set
            self.model.stores.append(Store(self.site(target), target, value if kind is Kind.ASSIGN else None))

    # -- reads ----------------------------------------------------------------------------

    def read(self, node: cst.Name) -> None:
        name = node.value
        reference = Reference(name, node, self.site(node))
        chain = []
        scope: Scope | None = self.scope
        while scope is not None:
            state = self.live.get(scope)
            chain.append([scope, _EMPTY if state is None else state.get(name, _EMPTY)])
            if scope.kind in (ScopeKind.FUNCTION, ScopeKind.LAMBDA, ScopeKind.MODULE):
                break
            scope = scope.parent
        self.reads.append(_Read(reference, chain))
        self.scope.references.append(reference)
        self.model._references[id(node)] = reference
        if name == "super" or name == "__class__":
            self.scope.uses_super = True  # CPython gives the function a `__class__` cell

    def _resolve_reads(self) -> None:
        nested: dict[tuple[int, str], frozenset[Binding]] = {}
        for scope in self.model.module_scope.walk():
            for name, bindings in scope.bindings.items():
                made = frozenset(b for b in bindings if b.nested)
                if made:
                    nested[(id(scope), name)] = made
                    scope.final[name] = scope.final.get(name, _EMPTY) | made
        for read in self.reads:
            reference = read.reference
            owner, bindings = _lookup(reference.name, reference.scope, dict((id(s), b) for s, b in read.chain))
            if owner is not None:
                bindings = bindings | nested.get((id(owner), reference.name), _EMPTY)
            reference.owner = owner
            reference.bindings = tuple(sorted(bindings, key=lambda binding: binding.order))
            for binding in reference.bindings:
                binding.references.append(reference)

    # -- scopes -----------------------------------------------------------------------

    def enter_scope(self, kind: ScopeKind, node: cst.CSTNode, name: str) -> Scope:
        scope = Scope(kind, node, self.scope, name)
        self.scope.children.append(scope)
        self.model._scopes[id(node)] = scope
        return scope

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.walk_all(decorator.decorator for decorator in node.decorators)
        parameters = self._signature(node.params)
        if node.returns is not None:
            self._annotation(node.returns)
        function = self.enter_scope(ScopeKind.FUNCTION, node, node.name.value)
        self._bind_parameters(parameters, function)
        self.model.definitions.append(self.site(node))
        self.bind(node.name.value, Kind.DEF, node, node.name)
        self._defer(node.body, function, (*self._module_skips(node), *self.class_skips, *self._skip_decorators(node)))
        return False

    def _module_skips(self, node: cst.FunctionDef) -> tuple[SkipDecorator, ...]:
        """The regions of the module's `pytestmark` for a test pytest collects from the
        module (`test_*` at its top level or in a `Test*` class there) or a fixture: pytest
        puts the marks on those. A helper may also run when the module is imported, which
        no mark skips."""
        top = self.model.module_scope
        in_class = self.scope.kind is ScopeKind.CLASS and self.scope.parent is top
        test = node.name.value.startswith("test") and (
            self.scope is top or (in_class and self.scope.name.startswith("Test")))
        fixture = (self.scope is top or in_class) and any(
            (dotted_name_of(decorator.decorator) or "").split(".")[-1] == "fixture" for decorator in node.decorators)
        return tuple(SkipDecorator(mark, top) for mark in self.module_skips) if test or fixture else ()

    def _skip_decorators(self, node: cst.FunctionDef | cst.ClassDef) -> tuple[SkipDecorator, ...]:
        """The regions of the decorators of `node` that may skip it as a test (calls: the
        FactFinder tells which are)."""
        return tuple(SkipDecorator(decorator.decorator, self.scope) for decorator in node.decorators
                     if isinstance(decorator.decorator, cst.Call))

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        parameters = self._signature(node.params)
        function = self.enter_scope(ScopeKind.LAMBDA, node, "<lambda>")
        self._bind_parameters(parameters, function)
        self.model.definitions.append(self.site(node))
        self._defer(node.body, function)
        return False

    def _signature(self, params: cst.Parameters) -> list[cst.Param]:
        """Walk the defaults and annotations, which run here, when the def runs; the
        parameters, which the function binds."""
        every = [*params.posonly_params, *params.params]
        if isinstance(params.star_arg, cst.Param):
            every.append(params.star_arg)
        every += [*params.kwonly_params, *([params.star_kwarg] if params.star_kwarg else [])]
        self.walk_all(param.default for param in every)
        for param in every:
            if param.annotation is not None:
                self._annotation(param.annotation)
        return every

    def _bind_parameters(self, parameters: list[cst.Param], function: Scope) -> None:
        for param in parameters:
            self.bind(param.name.value, Kind.PARAMETER, param, param.name, scope=function)

    def _annotation(self, annotation: cst.Annotation) -> None:
        self.in_annotation += 1
        self.walk(annotation.annotation)
        self.in_annotation -= 1

    def _defer(self, body: cst.CSTNode, function: Scope, skips: tuple[SkipDecorator, ...] = ()) -> None:
        """Walk `body` later, under the conditions its definition is under and `skips`."""
        regions = tuple(region for region in self.regions if isinstance(region, (Condition, SkipDecorator))) + skips
        self.deferred.append(_Deferred(body, function, regions, self.function_depth + 1,
                                       list(self.statements), list(self.blocks)))

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.walk_all(decorator.decorator for decorator in node.decorators)
        self.walk_all(node.bases)
        self.walk_all(node.keywords)
        outer, class_skips = self.scope, self.class_skips
        # A test class's skip holds for its methods, not for its body, which runs when it is defined.
        self.class_skips = self._skip_decorators(node)
        self.scope = self.enter_scope(ScopeKind.CLASS, node, node.name.value)
        self.live[self.scope] = {}
        self.walk(node.body)
        self._end_scope(self.scope)
        self.scope, self.class_skips = outer, class_skips
        self.model.definitions.append(self.site(node))
        self.bind(node.name.value, Kind.CLASS, node, node.name)
        return False

    def _comprehension(self, node: cst.BaseComp) -> bool:
        for_in = node.for_in
        self.walk(for_in.iter)  # the first iterable is evaluated outside the comprehension
        outer = self.scope
        self.scope = self.enter_scope(ScopeKind.COMPREHENSION, node, f"<{type(node).__name__.lower()}>")
        self.live[self.scope] = {}
        self.model.loops.append(self.site(node))
        regions = self.regions
        self.push(LoopRegion(node))
        first = True
        while for_in is not None:
            if not first:
                self.walk(for_in.iter)
            first = False
            self.bind_target(for_in.target, Kind.LOOP, for_in, for_in.iter)
            for condition in for_in.ifs:
                self.walk(condition.test)
                self.push(Condition(condition.test, True, self.scope))
            for_in = for_in.inner_for_in
        if isinstance(node, cst.DictComp):
            self.walk(node.key)
            self.walk(node.value)
        else:
            self.walk(node.elt)
        self.regions = regions
        self._end_scope(self.scope)
        self.scope = outer
        return False

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Global(self, node: cst.Global) -> bool:
        self.scope.declared_global.update(item.name.value for item in node.names)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.scope.declared_nonlocal.update(item.name.value for item in node.names)
        return False

    # -- statements that bind --------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            qualname = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                binding = self.bind(alias.asname.name.value, Kind.IMPORT, alias, alias.asname.name, qualname=qualname)
            else:
                root = qualname.split(".")[0]
                binding = self.bind(root, Kind.IMPORT, alias, None, qualname=root)
            self.model.imports.append(binding)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = "." * len(node.relative) + (dotted_name(node.module) or "" if node.module else "")
        if isinstance(node.names, cst.ImportStar):
            self.model.imports.append(self.bind("*", Kind.STAR_IMPORT, node, qualname=module))
            return False
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            qualname = module + name if module.endswith(".") else f"{module}.{name}"
            target = alias.asname.name if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            bound = target.value if target is not None else name
            self.model.imports.append(self.bind(bound, Kind.IMPORT, alias, target, qualname=qualname))
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        self.walk(node.value)
        for target in node.targets:
            self.bind_target(target.target, Kind.ASSIGN, node, node.value)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        self._annotation(node.annotation)  # in a function body it is never evaluated (runs_at_runtime)
        if node.value is not None:
            self.walk(node.value)
        self.bind_target(node.target, Kind.ASSIGN if node.value is not None else Kind.ANNOTATION, node, node.value)
        return False

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        if isinstance(node.target, cst.Name):
            self.read(node.target)
            self.walk(node.value)
            self.bind(node.target.value, Kind.AUGMENT, node, node.target, node.value)
        else:
            self.walk(node.value)
            self.bind_target(node.target, Kind.AUGMENT, node, node.value)
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self.walk(node.value)
        scope = self.scope
        while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
            scope.assigned_outward.add(node.target.value if isinstance(node.target, cst.Name) else "")
            scope = scope.parent  # the walrus binds in the enclosing function or module
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, Kind.ASSIGN, node, node.target, node.value, scope=scope)
        return False

    def visit_Del(self, node: cst.Del) -> bool:
        self._delete(node.target, node)
        return False

    def _delete(self, target: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, Kind.DELETE, node, target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._delete(element.value, node)
        else:
            self.walk(target)

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        self.walk(node.item)
        if node.asname is not None:
            self.bind_target(node.asname.name, Kind.WITH, node, node.item)
        return False

    def visit_With_body(self, node: cst.With) -> None:
        self.model.withs.append(self.site(node))
        self.push(WithRegion(node))

    def leave_With_body(self, node: cst.With) -> None:
        self.pop()

    def visit_TypeAlias(self, node) -> bool:  # `type X = ...` (3.12); its value is evaluated lazily
        self.bind(node.name.value, Kind.TYPE, node, node.name)
        return False

    # -- control flow -------------------------------------------------------------------------

    def visit_If(self, node: cst.If) -> bool:
        implied = self._if(node)
        # `if windows: sys.exit()`: what follows in this block runs only where the test failed
        self.regions = self.regions + implied
        return False

    def _if(self, node: cst.If) -> tuple[Condition, ...]:
        """Walk an if/elif/else chain; the conditions that hold after it (those of the
        branches that can be left by falling through)."""
        self.walk(node.test)
        before = merge(self.state)
        regions = self.regions
        self.push(Condition(node.test, True, self.scope))
        self.walk(node.body)
        self.regions = regions
        after_body = self.state
        self.state = before
        implied_else: tuple[Condition, ...] = ()
        if node.orelse is not None:
            self.push(Condition(node.test, False, self.scope))
            if isinstance(node.orelse, cst.If):
                self.statements.append((node.orelse, self.statements[-1][1]))
                implied_else = self._if(node.orelse)
                self.statements.pop()
            else:
                self.walk(node.orelse)
            self.regions = regions
        after_else = self.state
        self.state = merge(after_body, after_else)
        if after_body is None and after_else is not None:
            return (Condition(node.test, False, self.scope), *implied_else)
        if after_else is None and after_body is not None:
            return (Condition(node.test, True, self.scope),)
        return ()

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        self.walk(node.test)
        self.push(Condition(node.test, True, self.scope))
        self.walk(node.body)
        self.pop()
        self.push(Condition(node.test, False, self.scope))
        self.walk(node.orelse)
        self.pop()
        return False

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        self.walk(node.left)
        self.push(Condition(node.left, isinstance(node.operator, cst.And), self.scope))
        self.walk(node.right)
        self.pop()
        return False

    def _loop(self, node: cst.For | cst.While) -> bool:
        if isinstance(node, cst.For):
            self.walk(node.iter)
        before = merge(self.state)
        frame = _Loop(self.scope, len(self.reads), len(self.model.bindings))
        self.loops.append(frame)
        self.model.loops.append(self.site(node))
        if isinstance(node, cst.While):
            self.walk(node.test)
            self.push(Condition(node.test, True, self.scope))
        self.push(LoopRegion(node))
        if isinstance(node, cst.For):
            self.bind_target(node.target, Kind.LOOP, node, node.iter)
        self.walk(node.body)
        self.pop()
        if isinstance(node, cst.While):
            self.pop()
        self.loops.pop()
        again = merge(self.state, *frame.continues)
        if again is not None:  # reads in the loop also see what a later pass binds
            for read in self.reads[frame.first_read:]:
                for entry in read.chain:
                    if entry[0] is self.scope and _reached_from_entry(entry[1], read.reference.name, before, frame):
                        entry[1] = entry[1] | again.get(read.reference.name, _EMPTY)
        if isinstance(node, cst.While) and _always_true(node.test):
            self.state = merge(*frame.breaks)  # `while True:` is left only by a break
            return False
        self.state = merge(before, again)
        if node.orelse is not None:
            self.walk(node.orelse)
        self.state = merge(self.state, *frame.breaks)
        return False

    visit_For = visit_While = _loop

    def visit_Try(self, node: cst.Try | cst.TryStar) -> bool:
        before = merge(self.state)
        frame = _Try(self.scope)
        self.tries.append(frame)
        self.push(TryRegion(node, _caught_names(node.handlers)))
        self.walk(node.body)
        self.pop()
        self.tries.pop()
        after_body = self.state
        # A handler can start anywhere in the body: with what was bound before or in it.
        start = merge(before) if before is not None else {}
        for binding in frame.made:
            start[binding.name] = start.get(binding.name, _EMPTY) | {binding}
        ends = []
        for handler in node.handlers:
            self.state = dict(start)
            self.walk(handler)
            ends.append(self.state)
        self.state = after_body
        if node.orelse is not None:
            self.push(TryElseRegion(node))
            self.walk(node.orelse)
            self.pop()
        after = merge(self.state, *ends)
        if node.finalbody is not None:
            self.state = merge(after, start)
            self.walk(node.finalbody)
            if after is None:
                self.state = None
        else:
            self.state = after
        return False

    visit_TryStar = visit_Try

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        if node.type is not None:
            self.walk(node.type)
        name = node.name.name if node.name is not None and isinstance(node.name.name, cst.Name) else None
        if name is not None:
            self.bind(name.value, Kind.EXCEPT, node, name)
        self.walk(node.body)
        if name is not None and self.state is not None:
            self.state[name.value] = _EMPTY  # Python deletes the name when the handler ends
        return False

    visit_ExceptStarHandler = visit_ExceptHandler

    def visit_Match(self, node) -> bool:
        self.walk(node.subject)
        before = merge(self.state)
        ends = [before]
        for case in node.cases:
            self.state = merge(before)
            self.walk(case.pattern)
            if case.guard is not None:
                self.walk(case.guard)
            self.walk(case.body)
            ends.append(self.state)
        self.state = merge(*ends)
        return False

    def visit_MatchAs(self, node) -> bool:
        if node.pattern is not None:
            self.walk(node.pattern)
        if node.name is not None:
            self.bind(node.name.value, Kind.MATCH, node, node.name)
        return False

    def visit_MatchStar(self, node) -> bool:
        if node.name is not None:
            self.bind(node.name.value, Kind.MATCH, node, node.name)
        return False

    def visit_MatchMapping(self, node) -> bool:
        for element in node.elements:
            self.walk(element.key)
            self.walk(element.pattern)
        if node.rest is not None:
            self.bind(node.rest.value, Kind.MATCH, node, node.rest)
        return False

    def visit_MatchKeywordElement(self, node) -> bool:
        self.walk(node.pattern)
        return False

    def _leave(self, exits_scope: bool = True) -> None:
        """The flow stops here. Leaving the scope (return, raise, exit): code that runs later
        may still see what was bound up to here, so the state counts towards `final`."""
        if exits_scope and self.state is not None:
            self.returns.setdefault(self.scope, []).append(self.state)
        self.state = None

    def visit_Return(self, node: cst.Return) -> bool:
        if node.value is not None:
            self.walk(node.value)
        self._leave()
        return False

    def visit_Raise(self, node: cst.Raise) -> bool:
        self.walk_all((node.exc, node.cause.item if node.cause else None))
        self._leave()
        return False

    def visit_Break(self, node: cst.Break) -> bool:
        if self.loops and self.state is not None:
            self.loops[-1].breaks.append(self.state)
        self._leave(exits_scope=False)
        return False

    def visit_Continue(self, node: cst.Continue) -> bool:
        if self.loops and self.state is not None:
            self.loops[-1].continues.append(self.state)
        self._leave(exits_scope=False)
        return False

    def leave_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call) and self._is_exit(node.value.func):
            self._leave()

    def _is_exit(self, function: cst.BaseExpression) -> bool:
        """`sys.exit(...)`, `os._exit(...)`, `exit()`: the flow stops here."""
        if isinstance(function, cst.Name):
            bindings = self._live_bindings(function.value)
            if not bindings:
                return function.value in BUILTIN_EXITS
            return all(b.kind is Kind.IMPORT and b.qualname in EXIT_FUNCTIONS for b in bindings)
        if isinstance(function, cst.Attribute) and isinstance(function.value, cst.Name):
            bindings = self._live_bindings(function.value.value)
            qualnames = {b.qualname for b in bindings if b.kind is Kind.IMPORT}
            return len(qualnames) == 1 and len(bindings) == 1 and \
                f"{qualnames.pop()}.{function.attr.value}" in EXIT_FUNCTIONS
        return False

    def _live_bindings(self, name: str) -> frozenset[Binding]:
        scope: Scope | None = self.scope
        while scope is not None:
            if scope.binds(name):
                state = self.live.get(scope)
                return scope.final.get(name, _EMPTY) if scope not in self.live else (
                    _EMPTY if state is None else state.get(name, _EMPTY))
            scope = scope.parent
        return _EMPTY

    # -- references ---------------------------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> bool:
        self.read(node)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.model.attributes.append(self.site(node))
        self.walk(node.value)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        self.walk(node.value)
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.model.calls.append(self.site(node))

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        self._annotation(node)
        return False


def _lookup(name: str, scope: Scope, chain: dict[int, frozenset[Binding]]) -> tuple[Scope | None, frozenset[Binding]]:
    """The scope whose binding a read of `name` in `scope` sees, and the bindings that reach
    it: `chain` holds the live bindings of the scopes that were running at the read; other
    scopes have ended, and a read from a function body sees their final bindings.
    Class bodies are skipped from inside nested scopes; a class body that binds a name but
    has not yet bound it reads the global (LOAD_NAME)."""
    current: Scope | None = scope
    first = True
    while current is not None:
        if name in current.declared_global and current.kind is not ScopeKind.MODULE:
            return _module_bindings(name, current, chain)
        if current.kind is ScopeKind.CLASS and not first:
            current = current.parent
            continue
        if current.binds(name) or (current.kind is ScopeKind.MODULE and name in current.bindings):
            bindings = chain[id(current)] if id(current) in chain else current.final.get(name, _EMPTY)
            if current.kind is ScopeKind.CLASS and not bindings:
                return _module_bindings(name, current, chain)
            return current, bindings
        first = False
        current = current.parent
    return None, _EMPTY


def _module_bindings(name: str, scope: Scope, chain: dict) -> tuple[Scope | None, frozenset[Binding]]:
    module = scope
    while module.parent is not None:
        module = module.parent
    if not module.binds(name) and name not in module.bindings:
        return None, _EMPTY
    return module, chain[id(module)] if id(module) in chain else module.final.get(name, _EMPTY)


def _free_variables(scope: Scope) -> frozenset[str]:
    """Set `frees` on `scope` and every scope in it, as CPython's symtable computes them:
    the names a scope reads (or declares nonlocal) that an enclosing function binds, and
    those its nested scopes need passed through. A method that uses `super()` or
    `__class__` gets `__class__` from its class. Returns what the parent must provide."""
    needed = {reference.name for reference in scope.references} | scope.declared_nonlocal
    needed |= scope.assigned_outward
    if scope.uses_super and scope.kind not in (ScopeKind.CLASS, ScopeKind.MODULE):
        needed.add("__class__")
    for child in scope.children:
        needed |= _free_variables(child)
    frees = set()
    for name in needed:
        if scope.kind is ScopeKind.MODULE:
            continue
        if name == "__class__" and scope.kind is ScopeKind.CLASS:
            continue  # the class makes the cell its methods read
        if scope.binds(name) and name not in scope.declared_nonlocal:
            continue  # local (a class passes an enclosing function's cell on to its methods
            # without making the name free in the class body)
        if name in scope.declared_global:
            continue
        if _bound_in_enclosing_function(scope, name):
            frees.add(name)
    scope.frees = frozenset(frees)
    return scope.frees


def _bound_in_enclosing_function(scope: Scope, name: str) -> bool:
    """True when a read of `name` in `scope` reaches a function's variable (for
    `__class__`: an enclosing class's implicit cell)."""
    current = scope.parent
    while current is not None and current.kind is not ScopeKind.MODULE:
        if name == "__class__" and current.kind is ScopeKind.CLASS:
            return True
        if name in current.declared_global:
            return False
        if current.kind is not ScopeKind.CLASS and (current.binds(name) or name in current.declared_nonlocal):
            return True
        current = current.parent
    return False


def _nonlocal_owner(scope: Scope, name: str) -> Scope | None:
    current = scope.parent
    while current is not None:
        if current.is_function and (current.binds(name) or name in current.declared_nonlocal):
            if name in current.declared_nonlocal:
                return _nonlocal_owner(current, name)
            return current
        current = current.parent
    return None


def _reached_from_entry(live: frozenset[Binding], name: str, entry: State | None, loop: _Loop) -> bool:
    """Whether a read in a loop that saw `live` can be reached from the top of the loop with
    the name unchanged, and so sees what the end of a previous pass bound. A name bound
    where the loop starts has been rebound on every path to the read when none of the
    bindings it saw is older than the loop (`job = None; while True: job = q.get();
    if job is None: break; job = "done"`: the test sees only `q.get()`). For a name unbound
    there, that cannot be told apart from a path that never binds it: assume it can."""
    if entry is None or not entry.get(name):
        return True
    return any(binding.order < loop.first_binding for binding in live)


def _always_true(test: cst.BaseExpression) -> bool:
    """`True` or a non-zero integer literal: a `while` test that never fails."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and int(test.value.replace("_", ""), 0) != 0


def _caught_names(handlers) -> frozenset[str]:
    names: set[str] = set()
    for handler in handlers:
        if handler.type is None:
            names.add("*")
            continue
        elements = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        for element in elements:
            expr = element.value if isinstance(element, cst.Element) else element
            dotted = dotted_name(expr)
            if dotted:
                names.add(dotted.rsplit(".", 1)[-1])
    return frozenset(names)
