"""Renames and other fix helpers that read the semantic model."""

from __future__ import annotations

import libcst as cst

from .model import Binding, SemanticModel, Site


def rename_references(binding: Binding, new: str) -> dict:
    """Replacements renaming every read of the name `binding` binds."""
    return {reference.node: reference.node.with_changes(value=new) for reference in binding.references}


def can_rename(model: SemanticModel, binding: Binding, new: str, importable: bool) -> bool:
    """A rename is safe when `new` is used nowhere in the file, nothing else binds the old
    name in the same scope, and no other module can see it: the module does not export it
    (`__all__`), and a module-level name is not renamed in a module others may import
    (`importable`: see RuleContext.is_script; `from workers import ForkProcess` elsewhere
    would fail with ImportError)."""
    if new in model.names_in_use():
        return False
    if importable and binding.scope is model.module_scope:
        return False
    if any(other is not binding for other in binding.scope.bindings.get(binding.name, ())):
        return False
    return "__all__" not in model.module_scope.bindings


def only_statement_on_line(site: Site) -> bool:
    """True when the site's statement line holds nothing else (no `a; b`)."""
    return isinstance(site.statement, cst.SimpleStatementLine) and len(site.statement.body) == 1
