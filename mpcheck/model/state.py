"""Module-level state that the parent changes after import: a forked child inherits it, a
spawned or forkserver child re-imports the module and sees the import-time value (facts §6).

A change (`ParentChange`) is
- a binding of a module-level name made in the main block (`if __name__ == "__main__":`,
  loops and `with` there included), or through `global` in a function that runs in the parent;
- a change of the object a module-level name holds, made there: an item or attribute set
  (`CACHE[k] = v`, `Settings.level = 2`, `settings.DEBUG = True` on an imported module or a
  class -- those are keyed by the attribute), or a mutating method called on it
  (`CONFIG.update(...)`, `ITEMS.append(x)`, `parser.read(path)`).
A function runs in the parent unless it runs in a worker (workers.worker_functions: an
initializer that sets a global sets it in each child, which is the portable way) or while the
module is imported (a child runs it too). State a worker sets itself is not the parent's only.

`changes()` lists them; `stale_reads(function)` gives the reads, in a function or lambda, of
state the parent changes, with the changes each one misses under spawn.

A primitive the module makes while it is imported (`LOCK = multiprocessing.Lock()`, a `Queue`,
a shared `Value`) is shared with a child only by inheritance: a forked child uses the parent's,
a spawned or forkserver child re-imports the module and makes its own (facts §6c).
`inherited_primitives()` lists those names; `primitive_uses(function)` gives their uses in a
function or lambda, and the uses of such a name of another module of the project, imported
(`from shared import counter`, `import shared; shared.counter`): the child imports that module
again too (ProjectIndex.inherited_primitive says which names of the project are such).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .. import apis
from .names import UNKNOWN
from .scopes import Binding, Kind, Reference, ScopeKind, Site

if TYPE_CHECKING:
    from . import SemanticModel

# Methods that change the object they are called on (dict, list, set, deque, configparser,
# argparse.Namespace-like stores); a call of one on module-level state is a change of it.
MUTATORS = frozenset({
    "update", "append", "extend", "insert", "add", "setdefault", "clear", "pop", "popitem", "remove", "discard",
    "appendleft", "extendleft", "sort", "reverse", "read", "read_dict", "read_file", "read_string", "set",
    "add_section", "load", "update_from", "__setitem__",
})
_WORKER = "worker"
# What makes a primitive that processes share only by inheritance, when made at import.
_INHERITED = apis.Role.SYNC | apis.Role.QUEUE
# Words the text of a module holds where it makes one (`Lock`, `Queue`, `Value`...): the
# project index parses another module for its primitives only when a name reaches one.
PRIMITIVE_WORDS = tuple(sorted({name.rsplit(".", 1)[-1] for name, api in apis.CATALOGUE.items()
                                if api.roles & _INHERITED}))
# Attributes followed from an imported module to a name of it (`pkg.tools.shared.lock`).
_MAX_ATTRIBUTES = 4


@dataclass(frozen=True)
class ParentChange:
    """`name` (with `attribute`, for a module or class whose attribute is set) is changed by
    `node` at `site`, `how` ("assigns", "sets", "changes by CONFIG.update()") and `where`
    ("in the main block", "in configure()")."""

    name: str
    attribute: str | None
    node: cst.CSTNode
    site: Site
    how: str
    where: str

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.name, self.attribute)


@dataclass(frozen=True)
class StaleRead:
    """A read (`node`: a Name, or the Attribute `settings.DEBUG`) of state that the parent
    changes by `changes`."""

    node: cst.CSTNode
    site: Site
    name: str
    changes: tuple[ParentChange, ...]


@dataclass(frozen=True)
class InheritedPrimitive:
    """A module-level `name` bound, while the module is imported, to a multiprocessing primitive
    made by `node` at `site`: `made` says what ("Lock()", "Queue()", "Value()"), `role` its kind
    (apis.Role.SYNC or QUEUE)."""

    name: str
    node: cst.CSTNode
    site: Site
    made: str
    role: apis.Role


@dataclass(frozen=True)
class ImportedPrimitive:
    """An `InheritedPrimitive` of another module of the project, `module` (its dotted name),
    made on `line` of that module's file, and named `name` where it is used: what a use of
    it elsewhere is told (ProjectIndex.inherited_primitive, ProjectIndex.primitive_used_by).
    Only text, no node: the other module's model may be let go."""

    module: str
    name: str
    made: str
    role: apis.Role
    line: int


@dataclass(frozen=True)
class PrimitiveUse:
    """A use (`node`: a Name, or the Attribute `shared.lock`, written `written`) of a primitive
    made at import, `made` ("Lock()") of `role` on `line`, by this module (`module` None) or by
    the module of the project `module` names; or (`through`: the function called, as written)
    a call (`node`) of a function of another module of the project that uses one, written
    `written` there."""

    node: cst.CSTNode
    site: Site
    written: str
    made: str
    role: apis.Role
    line: int
    module: str | None = None
    through: str | None = None


class ParentState:
    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self._changes: list[ParentChange] | None = None
        self._primitives: dict[str, InheritedPrimitive] | None = None
        self._at_import: set[int] | None = None
        self._stored: set[tuple[str, str | None]] | None = None
        self._attributes = {id(site.node.value): site.node for site in model.attributes
                            if isinstance(site.node, cst.Attribute)}

    def changes(self) -> list[ParentChange]:
        """Every change of module-level state made only by the parent, in source order of
        kind (bindings, stores, mutating calls)."""
        if self._changes is not None:
            return self._changes
        found: list[ParentChange] = []
        by_worker: set[tuple[str, str | None]] = set()
        module = self.model.module_scope
        for name, bindings in module.bindings.items():
            initial = self._import_time_constant(bindings)
            for binding in bindings:
                if binding.kind is Kind.ANNOTATION or (binding.site.in_function and not binding.nested):
                    continue
                where = self._where(binding.site)
                if where == _WORKER:
                    by_worker.add((name, None))
                elif where is not None and (initial is None or self._constant(binding) != initial):
                    found.append(ParentChange(name, None, binding.target or binding.node, binding.site,
                                              "deletes" if binding.kind is Kind.DELETE else "assigns", where))
        for store in self.model.stores:
            key = self._key(store.target)
            if key is None:
                continue
            where = self._where(store.site)
            if where == _WORKER:
                by_worker.add(key)
            elif where is not None:
                found.append(ParentChange(*key, store.target, store.site, "sets", where))
        for site in self.model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in MUTATORS:
                continue
            key = self._key(call.func.value, mutated=True)
            if key is None:
                continue
            where = self._where(site)
            if where == _WORKER:
                by_worker.add(key)
            elif where is not None:
                written = self.model.module.code_for_node(call.func)
                found.append(ParentChange(*key, call, site, f"changes by {written}()", where))
        self._changes = [change for change in found
                         if change.key not in by_worker and (change.name, None) not in by_worker]
        return self._changes

    def stale_reads(self, function: cst.CSTNode) -> list[StaleRead]:
        """The reads in `function` (a FunctionDef or Lambda, nested scopes included) of
        module-level state the parent changes, first read of each state only."""
        scope = self.model.scope_of_definition(function)
        changes = self.changes()
        if scope is None or not changes:
            return []
        by_key: dict[tuple[str, str | None], list[ParentChange]] = {}
        for change in changes:
            by_key.setdefault(change.key, []).append(change)
        module = self.model.module_scope
        found: dict[tuple[str, str | None], StaleRead] = {}
        for inner in scope.walk():
            for reference in inner.references:
                if reference.owner is not module or not self.model.runs_at_runtime(reference.site):
                    continue
                name = reference.name
                attribute = self._attributes.get(id(reference.node))
                keys = [(name, None)]
                if attribute is not None:
                    keys.append((name, attribute.attr.value))
                missed = tuple(change for key in keys for change in by_key.get(key, ()))
                whole = (name, None) in by_key
                node = reference.node if whole or attribute is None else attribute
                key = keys[0] if whole else keys[-1]
                if missed and key not in found:
                    found[key] = StaleRead(node, reference.site, name, missed)
        return sorted(found.values(), key=lambda read: _order(self.model, read.node))

    def inherited_primitives(self) -> dict[str, InheritedPrimitive]:
        """The module-level names that every binding binds while the module is imported (at
        module level outside the main block, or in a function that runs then) to a lock-like
        primitive, a shared `Value` or `Array`, or a queue, made by a call
        (`multiprocessing.Lock()`, `ctx.Queue()`), by name.
        Names also bound elsewhere are left out: by the parent (`changes`), or by a worker (an
        initializer that sets the global from its arguments: the portable way)."""
        if self._primitives is not None:
            return self._primitives
        found: dict[str, InheritedPrimitive] = {}
        for name, bindings in self.model.module_scope.bindings.items():
            made: InheritedPrimitive | None = None
            for binding in bindings:
                if binding.kind is Kind.ANNOTATION:
                    continue
                primitive = self._primitive(name, binding)
                if primitive is None or self._where(binding.site) is not None:
                    made = None
                    break
                made = made or primitive
            if made is not None:
                found[name] = made
        self._primitives = found
        return found

    def primitive_uses(self, function: cst.CSTNode, calls: bool = True) -> list[PrimitiveUse]:
        """The uses in `function` (a FunctionDef or Lambda, nested scopes included) of the
        names `inherited_primitives` lists and of those of other modules of the project that
        `_imported_primitive` finds, and with `calls`, its calls of functions of other modules
        that use one (`_called_primitive`), the first use of each only. (The project asks
        without `calls`: it looks no further than a function's own body.)"""
        scope = self.model.scope_of_definition(function)
        primitives = self.inherited_primitives()
        if scope is None or (not primitives and self.model.project is None):
            return []
        module = self.model.module_scope
        found: dict[tuple[str | None, str], PrimitiveUse] = {}
        for inner in scope.walk():
            for reference in inner.references:
                if not self.model.runs_at_runtime(reference.site):
                    continue
                primitive = primitives.get(reference.name) if reference.owner is module else None
                if primitive is not None:
                    use: PrimitiveUse | None = PrimitiveUse(
                        reference.node, reference.site, reference.name, primitive.made, primitive.role,
                        self.model.position(primitive.node).start.line)
                else:
                    use = self._imported_primitive(reference)
                if use is not None:
                    found.setdefault((None, use.written), use)
        for site in self.model.processes.calls_of(function) if calls else ():
            use = self._called_primitive(site)
            if use is not None:
                found.setdefault((use.through, use.written), use)
        return sorted(found.values(), key=lambda use: _order(self.model, use.node))

    def _called_primitive(self, site: Site) -> PrimitiveUse | None:
        """The call at `site`, when it calls a function of another module of the project that
        uses a primitive made at import (ProjectIndex.primitive_used_by: in its own body)."""
        project = self.model.project
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func) if project is not None and self.model.runs_at_runtime(site) else None
        found = project.primitive_used_by(symbol.written, self.model.path) if symbol is not None else None
        if found is None:
            return None
        return PrimitiveUse(call, site, found.name, found.made, found.role, found.line, found.module,
                            self.model.module.code_for_node(call.func))

    def _imported_primitive(self, reference: Reference) -> PrimitiveUse | None:
        """The use `reference` (or an attribute read of it: `shared.lock`, `pkg.shared.lock`)
        makes of a primitive another module of the project makes at import, when what the name
        holds is known (`resolve`) and every process binds it so: in a function, or at module
        level while the module is imported (an import, `lock = shared.lock`), and this file
        sets no attribute of it (`shared.lock = given` in an initializer: the portable
        hand-over; in the main block: a change `stale_reads` reports)."""
        project = self.model.project
        module = self.model.module_scope
        if project is None or any(binding.scope is module and not self.model.runs_at_import(binding.site)
                                  for binding in reference.bindings):
            return None
        node: cst.BaseExpression | None = reference.node
        for _ in range(_MAX_ATTRIBUTES):
            symbol = self.model.resolve(node)
            if symbol is None:
                return None
            found = project.inherited_primitive(symbol.written, self.model.path)
            if found is not None:
                if isinstance(node, cst.Attribute) and self._key(node) in self._set_attributes():
                    return None
                return PrimitiveUse(node, reference.site, self.model.module.code_for_node(node), found.made,
                                    found.role, found.line, found.module)
            node = self._attributes.get(id(node))
            if node is None:
                return None
        return None

    def _set_attributes(self) -> set[tuple[str, str | None]]:
        """What this file's stores set: (module-level name, attribute) (see `_key`)."""
        if self._stored is None:
            self._stored = {key for store in self.model.stores if (key := self._key(store.target)) is not None}
        return self._stored

    # -- helpers ------------------------------------------------------------------------------------

    def _primitive(self, name: str, binding: Binding) -> InheritedPrimitive | None:
        """What `binding` makes, when it is a plain assignment of a call making a primitive."""
        value = binding.value
        if binding.kind is not Kind.ASSIGN or not isinstance(value, cst.Call):
            return None
        symbol = self.model.resolve(value.func)
        api = apis.lookup(symbol.qualname) if symbol is not None else None
        if api is None or not api.roles & _INHERITED:
            return None
        return InheritedPrimitive(name, value, binding.site, api.label,
                                  apis.Role.QUEUE if api.roles & apis.Role.QUEUE else apis.Role.SYNC)

    def _key(self, target: cst.BaseExpression, mutated: bool = False) -> tuple[str, str | None] | None:
        """What setting into `target` (`CACHE[k]`, `Settings.level`) or calling a mutating
        method on it changes: (module-level name, attribute for a module or class)."""
        chain = []
        node = target
        while isinstance(node, (cst.Attribute, cst.Subscript)):
            chain.append(node)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        if not mutated and not chain:
            return None
        reference = self.model.reference(node)
        if reference is None or reference.owner is not self.model.module_scope or not reference.bindings:
            return None
        namespace = all(binding.kind in (Kind.IMPORT, Kind.CLASS) for binding in reference.bindings)
        if namespace:
            first = chain[-1] if chain else None
            if not isinstance(first, cst.Attribute):
                return None
            return (node.value, first.attr.value)
        return (node.value, None)

    def _import_time_constant(self, bindings: list[Binding]) -> tuple[type, object] | None:
        """The constant that the one assignment made while the module is imported gives a
        name (`debug = 0`: a plain module-level statement), with its type (0 is not False);
        None when there is not exactly one such assignment, or it may not run. A parent
        assigning that constant again changes nothing a re-imported module lacks."""
        made = [binding for binding in bindings
                if binding.kind is not Kind.ANNOTATION and self._where(binding.site) is None]
        if len(made) != 1 or made[0].site.regions or made[0].site.in_function:
            return None
        return self._constant(made[0])

    def _constant(self, binding: Binding) -> tuple[type, object] | None:
        """The constant a plain assignment (`x = 0`, `x: int = 0`) binds, with its type."""
        if binding.kind is not Kind.ASSIGN or not isinstance(binding.node, (cst.Assign, cst.AnnAssign)) or \
                binding.value is None:
            return None
        value = self.model.value_of(binding.value)
        return None if value is UNKNOWN else (type(value), value)

    def _where(self, site: Site) -> str | None:
        """Where a change at `site` is made: "in the main block", "in f()", `_WORKER` for a
        worker function, None when every process runs it (at import)."""
        if not self.model.runs_at_runtime(site):
            return None
        function = site.scope.enclosing_function()
        if function is None:
            return "in the main block" if self.model.under_main_guard(site) else None
        workers = self.model.workers.worker_functions()
        scope = function
        while scope is not None:
            if id(scope.node) in workers:
                return _WORKER
            scope = scope.parent.enclosing_function() if scope.parent is not None else None
        if id(function.node) in self._run_at_import():
            return None
        return f"in {function.qualname}()" if function.kind is ScopeKind.FUNCTION else "in a lambda"

    def _run_at_import(self) -> set[int]:
        """The functions of this file that run while the module is imported."""
        if self._at_import is None:
            found: set[int] = set()
            processes = self.model.processes
            pending = [site for site in processes.calls_of(None) if self.model.runs_at_import(site)]
            while pending:
                call = pending.pop().node
                assert isinstance(call, cst.Call)
                for function in processes.callees(call):
                    if id(function) not in found:
                        found.add(id(function))
                        pending.extend(processes.calls_of(function))
            self._at_import = found
        return self._at_import


def _order(model: SemanticModel, node: cst.CSTNode) -> tuple[int, int]:
    position = model.position(node).start
    return (position.line, position.column)
