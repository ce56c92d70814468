"""Where a module's imports are, what they bind, and where an added import goes."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import libcst as cst


@dataclass(frozen=True)
class ImportRequest:
    """An import a fix needs: `import module [as alias]`, or `from module import name [as
    alias]` when `name` is set. Where it goes: with the module's other imports, unless the
    fix uses it ahead of where they end; then right `after` the last import ahead of that
    use, or right `before` the module-level statement that uses it."""

    module: str
    name: str | None = None
    alias: str | None = None
    before: cst.BaseStatement | None = None
    after: cst.BaseStatement | None = None  # or: a module-level import it must follow

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.module, self.name, self.alias)

    @property
    def bound(self) -> str:
        """The name the import binds."""
        return self.alias or self.name or self.module.partition(".")[0]

    def code(self) -> str:
        alias = f" as {self.alias}" if self.alias else ""
        if self.name is None:
            return f"import {self.module}{alias}"
        return f"from {self.module} import {self.name}{alias}"


@dataclass(frozen=True)
class _Existing:
    index: int  # of the module-level statement
    bound: str
    module: str  # `import a.b`: "a.b"; `from a import b`: "a"
    name: str | None  # `from a import b`: "b"
    alias: str | None


class ModuleLayout:
    """The module-level facts fixes need: which top-level statement holds a node, the
    unconditional top-level imports and what they bind, and where the import block ends."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.body = list(module.body)

    # -- which top-level statement ----------------------------------------------------------

    @cached_property
    def _top_index(self) -> dict[int, int]:
        index: dict[int, int] = {}
        for number, statement in enumerate(self.body):
            stack: list[cst.CSTNode] = [statement]
            while stack:
                node = stack.pop()
                index[id(node)] = number
                stack.extend(node.children)
        return index

    def top_index(self, node: cst.CSTNode) -> int:
        """The index in `module.body` of the statement that holds `node`. Raises ValueError
        for a node that is not in the module (the module node itself included)."""
        try:
            return self._top_index[id(node)]
        except KeyError:
            raise ValueError(f"{type(node).__name__} is not inside a statement of this module") from None

    # -- imports ----------------------------------------------------------------------------

    @cached_property
    def imports(self) -> list[_Existing]:
        found = []
        for index, statement in enumerate(self.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted(alias.name)
                        asname = _asname(alias)
                        found.append(_Existing(index, asname or dotted.partition(".")[0], dotted, None, asname))
                elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                        and not isinstance(small.names, cst.ImportStar):
                    module = _dotted(small.module)
                    for alias in small.names:
                        name = _dotted(alias.name)
                        asname = _asname(alias)
                        found.append(_Existing(index, asname or name, module, name, asname))
        return found

    @cached_property
    def bindings(self) -> Counter:
        """How often each name is bound at module level (outside functions and classes)."""
        counter = _BindingCounter()
        self.module.visit(counter)
        return counter.counts

    def module_expression(self, module: str, before: int) -> str | None:
        """The expression that names `module` through an import made before statement
        `before`, or None. An alias counts only when nothing else at module level binds it."""
        top = module.partition(".")[0]
        package_imports = [entry for entry in self.imports if entry.name is None and entry.alias is None
                           and entry.bound == top]
        for entry in self.imports:
            if entry.index >= before:
                continue
            if entry.name is None and entry.alias is None:
                # `import a.b.c` binds `a` and loads a, a.b, a.b.c
                if (entry.module == module or entry.module.startswith(module + ".")) and \
                        self.bindings[top] == len(package_imports):
                    return module
            elif self.bindings[entry.bound] == 1:
                target = entry.module if entry.name is None else f"{entry.module}.{entry.name}"
                if target == module:
                    return entry.bound
        return None

    def name_expression(self, module: str, name: str, before: int) -> str | None:
        """The name bound by `from module import name [as alias]` before statement `before`."""
        for entry in self.imports:
            if entry.index < before and entry.module == module and entry.name == name \
                    and self.bindings[entry.bound] == 1:
                return entry.bound
        return None

    def bound_only_by_imports_of(self, name: str, package: str) -> bool:
        """True when every module-level binding of `name` is `import package[...]`."""
        count = sum(1 for entry in self.imports
                    if entry.bound == name and entry.name is None and entry.alias is None
                    and entry.module.partition(".")[0] == package)
        return count > 0 and self.bindings[name] == count

    # -- where new imports go ---------------------------------------------------------------

    @cached_property
    def header(self) -> tuple[int, bool]:
        """(index, after): the statement new imports go after (or before, when `after` is
        False): after the last import of the module's leading block — the statements
        pycodestyle lets precede imports (a docstring, imports, `__future__`, dunder
        assignments, try/if/with blocks) — else after the docstring and `from __future__`
        imports, else before the first statement. (-1, False) for an empty module."""
        body = self.body
        if not body:
            return (-1, False)
        index = 1 if _is_docstring(body[0]) else 0
        last_import = None
        while index < len(body) and _allowed_before_imports(body[index]):
            if _has_imports(body[index]):
                last_import = index
            index += 1
        if last_import is not None:
            return (last_import, True)
        if _is_docstring(body[0]):
            return (0, True)
        return (0, False)

    @property
    def has_imports(self) -> bool:
        index, after = self.header
        return after and not _is_docstring(self.body[index])

    def last_import_before(self, index: int) -> cst.BaseStatement | None:
        """The last statement of the leading import block that holds imports and comes
        before statement `index`."""
        body = self.body
        position = 1 if body and _is_docstring(body[0]) else 0
        found = None
        while position < min(index, len(body)) and _allowed_before_imports(body[position]):
            if _has_imports(body[position]):
                found = body[position]
            position += 1
        return found

    def anchor_for(self, module: str) -> tuple[int, bool]:
        """(index, after) like `header`, for an added `import module`: a module of the
        standard library goes after the leading block's last line of standard-library imports
        when it has one (the order isort and ruff keep: standard library, third party, first
        party), not after the project's own imports at the block's end."""
        index, after = self.header
        if not after or not _in_standard_library(module):
            return index, after
        only_standard: dict[int, bool] = {}
        for existing in self.imports:
            if existing.index <= index:
                only_standard[existing.index] = only_standard.get(existing.index, True) and \
                    existing.module != "__future__" and _in_standard_library(existing.module)
        lines = [line for line, standard in only_standard.items() if standard]
        return (max(lines), True) if lines else (index, after)

    def insertion_index(self) -> int:
        """The index in `module.body` an import added with the others would take."""
        index, after = self.header
        return index + 1 if after else max(index, 0)


def _in_standard_library(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise ValueError("not a dotted name")


def _asname(alias: cst.ImportAlias) -> str | None:
    if alias.asname is None:
        return None
    name = alias.asname.name
    return name.value if isinstance(name, cst.Name) else None


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _allowed_before_imports(statement: cst.CSTNode) -> bool:
    # pycodestyle E402: imports, dunder assignments and these block statements may precede
    # an import; any other statement ends the leading block.
    if isinstance(statement, (cst.Try, cst.If, cst.With)) or is_import_line(statement):
        return True
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = [target.target for target in small.targets] if isinstance(small, cst.Assign) else [small.target]
            return all(isinstance(target, cst.Name) and target.value.startswith("__") and target.value.endswith("__")
                       for target in targets)
    return False


def _has_imports(statement: cst.CSTNode) -> bool:
    if is_import_line(statement):
        return True
    if isinstance(statement, (cst.Try, cst.If, cst.With)):
        blocks = [statement.body]
        if isinstance(statement, cst.Try):
            blocks += [handler.body for handler in statement.handlers]
        return any(isinstance(block, cst.IndentedBlock) and any(is_import_line(line) for line in block.body)
                   for block in blocks)
    return False


class _BindingCounter(cst.CSTVisitor):
    """Module-level bindings: assignments, loop and `with` targets, imports, definitions."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter = Counter()

    def _target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.counts[node.value] += 1
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._target(element.value)
        elif isinstance(node, cst.StarredElement):
            self._target(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.counts[node.name.value] += 1
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.counts[node.name.value] += 1
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp  # type: ignore[assignment]

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._target(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._target(node.name.name)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.counts[_asname(alias) or _dotted(alias.name).partition(".")[0]] += 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self.counts[_asname(alias) or _dotted(alias.name)] += 1
