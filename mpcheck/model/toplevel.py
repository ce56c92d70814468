"""The module's top level, statement by statement: what each binds, changes and reads, and
when. This is what a fix that moves module-level statements (under a main guard) must respect:

- `reads_now`: names a statement reads while the module is imported -- in its own code,
  class bodies, decorators, default values, evaluated annotations, and the bodies of this
  file's functions it calls at import time (transitively);
- `reads_later`: names the function bodies it defines read when they run;
- `binds` / `changes`: names it binds at module level, and names whose value it changes in
  place (`TABLE[k] = v`, `CONFIG.x = 1`, `ITEMS.append(x)`, `COUNT += 1`).

`may_run_in_child(statement)`: a function runs in a spawned child only if the child reaches
it: it is handed over as a value somewhere (a process target, a callback, a map function,
stored), or a function that may run in a child calls it, or it is a method. A function that
is only ever called directly, by code that runs in the main process, never runs in a child.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .. import apis
from .names import argument, binding_symbol
from .scopes import Kind, Reference

if TYPE_CHECKING:
    from . import SemanticModel


@dataclass(eq=False)
class Statement:
    node: cst.CSTNode
    index: int
    binds: set[str] = field(default_factory=set)
    changes: set[str] = field(default_factory=set)
    reads_now: dict[str, set[int]] = field(default_factory=dict)  # name -> indexes of statements providing it
    reads_later: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)  # functions and classes it defines

    @property
    def is_definition(self) -> bool:
        return is_definition(self.node)


class TopLevel:
    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self.statements = [Statement(node, index) for index, node in enumerate(model.module.body)]
        self._index = {id(statement.node): statement for statement in self.statements}
        module = model.module_scope
        for name, bindings in module.bindings.items():
            for binding in bindings:
                statement = self.of(binding.site.top)
                if statement is None or binding.nested:
                    continue
                if binding.kind is Kind.AUGMENT:
                    statement.changes.add(name)
                elif binding.kind is not Kind.ANNOTATION:
                    statement.binds.add(name)
                if binding.kind in (Kind.DEF, Kind.CLASS):
                    statement.defines.add(name)
        for store in model.stores:
            statement = self.of(store.site.top)
            root = _root_name(store.target)
            if statement is not None and root is not None and store.site.function_depth == 0:
                statement.changes.add(root)
        for site in model.calls:  # ITEMS.append(x), CONFIG.update(...) at import time
            statement = self.of(site.top)
            call = site.node
            assert isinstance(call, cst.Call)
            if statement is not None and site.function_depth == 0 and isinstance(call.func, cst.Attribute):
                root = _root_name(call.func.value)
                if root is not None and not _names_a_module(module, root):
                    statement.changes.add(root)  # (torch.save(...) does not change `torch`)
        self._function_reads: dict[int, set[str]] = {}
        for reference in self._module_reads():
            statement = self.of(reference.site.top)
            if statement is None:
                continue
            if reference.site.function_depth == 0:
                providers = {self.of(b.site.top).index for b in reference.bindings if self.of(b.site.top)}
                providers |= {other.index for other in self.statements[: statement.index]
                              if reference.name in other.changes}  # what filled it in place
                statement.reads_now.setdefault(reference.name, set()).update(providers)
            else:
                statement.reads_later.add(reference.name)
        for statement in self.statements:
            for name in self._called_at_import(statement):
                providers = {other.index for other in self.statements[: statement.index]
                             if name in other.binds or name in other.changes}
                statement.reads_now.setdefault(name, set()).update(providers)
        self._child = self._functions_in_children()

    def of(self, node: cst.CSTNode | None) -> Statement | None:
        return self._index.get(id(node)) if node is not None else None

    def _module_reads(self) -> list[Reference]:
        module = self.model.module_scope
        return [reference for scope in module.walk() for reference in scope.references
                if reference.owner is module and self.model.runs_at_runtime(reference.site)]

    def _called_at_import(self, statement: Statement) -> set[str]:
        """Module names read by the bodies of this file's functions that the statement calls
        while the module is imported (and the functions those call)."""
        names: set[str] = set()
        seen: set[int] = set()
        pending = [site for site in self.model.calls if site.top is statement.node and site.function_depth == 0]
        while pending:
            site = pending.pop()
            assert isinstance(site.node, cst.Call)
            for function in self.model.processes.callees(site.node):
                if id(function) in seen:
                    continue
                seen.add(id(function))
                names |= self._reads_of_function(function)
                pending.extend(self.model.processes.calls_of(function))
        return names

    def _reads_of_function(self, function: cst.FunctionDef) -> set[str]:
        key = id(function)
        if key not in self._function_reads:
            scope = self.model.scope_of_definition(function)
            module = self.model.module_scope
            self._function_reads[key] = {reference.name for inner in (scope.walk() if scope else ())
                                         for reference in inner.references if reference.owner is module}
        return self._function_reads[key]

    # -- which functions may run in a child ---------------------------------------------------

    def _functions_in_children(self) -> set[int]:
        """Indexes of the statements whose functions (and methods) may run in a child."""
        calls = {id(site.node.func) for site in self.model.calls if isinstance(site.node, cst.Call)}
        handed = self._classes_handed_to_children()
        module = self.model.module_scope
        reached: set[int] = set()
        for name, bindings in module.bindings.items():
            for binding in bindings:
                statement = self.of(binding.site.top)
                if statement is None or binding.kind not in (Kind.DEF, Kind.CLASS):
                    continue
                as_value = any(id(reference.node) not in calls and reference.site.top is not binding.site.top
                               for reference in binding.references)  # (its own `super(Cls, self)`: no)
                if as_value or (binding.kind is Kind.CLASS and (binding.node in handed or self._runs_in_child(binding))):
                    reached.add(statement.index)
        growing = True
        while growing:  # what functions that run in a child call, runs there too
            growing = False
            for statement in self.statements:
                if statement.index not in reached:
                    continue
                for name in statement.reads_later:
                    for other in self.statements:
                        if name in other.defines and other.index not in reached:
                            reached.add(other.index)
                            growing = True
        return reached

    def _classes_handed_to_children(self) -> set[cst.CSTNode]:
        """Classes of this file whose instances (or bound methods) a process call hands to a
        child: its callable, its data (inside tuples and lists too), a DataLoader's dataset."""
        handed: set[cst.CSTNode] = set()
        expressions: list[cst.BaseExpression] = []
        for site in self.model.calls:
            process_call = self.model.processes.process_call(site)
            if process_call is not None:
                expressions += [e for e in (process_call.callable, *process_call.data) if e is not None]
            function = self.model.resolve(site.node.func) if isinstance(site.node, cst.Call) else None
            if function is not None and function.qualname == "torch.utils.data.DataLoader":
                dataset = argument(site.node, 0, "dataset")
                if dataset is not None:
                    expressions.append(dataset)
        while expressions:
            expression = expressions.pop()
            if isinstance(expression, (cst.Tuple, cst.List, cst.Set)):
                expressions += [element.value for element in expression.elements]
                continue
            if isinstance(expression, cst.Attribute):
                expressions.append(expression.value)  # obj.method: obj travels with it
            symbol = self.model.resolve(expression)
            if symbol is not None and isinstance(symbol.definition, cst.ClassDef):
                handed.add(symbol.definition)
        return handed

    def _runs_in_child(self, binding) -> bool:
        """A subclass of a process class (its `run` runs in the child) or of a dataset (its
        `__getitem__` runs in DataLoader workers)."""
        symbol = binding_symbol(self.model, binding)
        return symbol is not None and (symbol.qualname in _CHILD_BASES
                                       or apis.has_role(symbol.qualname, apis.Role.PROCESS))

    def may_run_in_child(self, statement: Statement) -> bool:
        return statement.index in self._child

    def is_harmless(self, statement: Statement) -> bool:
        """`NAME = value` whose every call is in the catalogue's HARMLESS_CALLS (and
        call-free assignments): running it again in a child changes nothing anyone sees."""
        node = statement.node
        if not isinstance(node, cst.SimpleStatementLine):
            return False
        for small in node.body:
            if isinstance(small, cst.Assign):
                targets, value = [target.target for target in small.targets], small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                targets, value = [small.target], small.value
            else:
                return False
            if not all(isinstance(target, cst.Name) for target in targets) or not self._harmless_value(value):
                return False
        return True

    def _harmless_value(self, value: cst.BaseExpression) -> bool:
        stack: list[cst.CSTNode] = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.Await, cst.Yield, cst.NamedExpr, cst.Lambda)):
                return False
            if isinstance(node, cst.Call):
                function = self.model.resolve(node.func)
                if function is None or function.qualname not in apis.HARMLESS_CALLS:
                    return False
            stack.extend(node.children)
        return True

    def configures_process(self, statement: Statement) -> bool:
        """Calls that configure the process (`logging.basicConfig(...)`, `random.seed(0)`,
        `os.environ["X"] = ...`): a spawned child needs them as a forked one had them."""
        node = statement.node
        if not isinstance(node, cst.SimpleStatementLine):
            return False
        for small in node.body:
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                function = self.model.resolve(small.value.func)
                if function is None or function.qualname not in apis.PROCESS_CONFIGURATION:
                    return False
            elif isinstance(small, cst.Assign) and all(
                    isinstance(target.target, cst.Subscript)
                    and (owner := self.model.resolve(target.target.value)) is not None
                    and owner.qualname == "os.environ" for target in small.targets):
                continue
            else:
                return False
        return True


def is_definition(statement: cst.CSTNode) -> bool:
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
        blocks: list = [statement.body]
        if isinstance(statement, cst.If) and statement.orelse is not None:
            blocks.append(statement.orelse if isinstance(statement.orelse, cst.If) else statement.orelse.body)
        if isinstance(statement, cst.Try):
            blocks += [handler.body for handler in statement.handlers]
            blocks += [part.body for part in (statement.orelse, statement.finalbody) if part is not None]
        return all(
            is_definition(block) if isinstance(block, cst.If)
            else isinstance(block, cst.IndentedBlock) and all(is_definition(inner) for inner in block.body)
            for block in blocks
        )
    return False


def is_constant_assignment(statement: cst.CSTNode) -> bool:
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
        if isinstance(node, (cst.Call, cst.Await, cst.Yield, cst.NamedExpr, cst.Lambda, cst.BaseComp)):
            return True
        stack.extend(node.children)
    return False


# Library base classes whose subclasses' methods run in worker processes.
_CHILD_BASES = frozenset({"torch.utils.data.Dataset", "torch.utils.data.IterableDataset",
                          "torch.utils.data.dataset.Dataset", "torch.utils.data.dataset.IterableDataset"})


def _names_a_module(module_scope, name: str) -> bool:
    bindings = module_scope.bindings.get(name, ())
    return bool(bindings) and all(binding.kind is Kind.IMPORT for binding in bindings)


def _root_name(target: cst.BaseExpression) -> str | None:
    while isinstance(target, (cst.Attribute, cst.Subscript)):
        target = target.value
    return target.value if isinstance(target, cst.Name) else None
