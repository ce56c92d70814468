"""Small building blocks that rules use to describe fixes as libcst nodes."""

from __future__ import annotations

import libcst as cst

from .model import Binding, SemanticModel, Site


def expression(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def string_like(original: cst.SimpleString, value: str) -> cst.SimpleString:
    """A string literal holding `value`, quoted the way `original` is."""
    prefix_length = len(original.prefix)
    quote = original.quote
    return cst.SimpleString(f"{original.value[:prefix_length]}{quote}{value}{quote}")


def rename_references(binding: Binding, new: str) -> dict:
    """Replacements renaming every read of the name `binding` binds."""
    return {reference.node: reference.node.with_changes(value=new) for reference in binding.references}


def can_rename(model: SemanticModel, binding: Binding, new: str) -> bool:
    """A rename is safe when `new` is used nowhere in the file, nothing else binds the old
    name in the same scope, and the module does not export it (`__all__`)."""
    if new in model.names_in_use():
        return False
    if any(other is not binding for other in binding.scope.bindings.get(binding.name, ())):
        return False
    return "__all__" not in model.module_scope.bindings


def only_statement_on_line(site: Site) -> bool:
    """True when the site's statement line holds nothing else (no `a; b`)."""
    return isinstance(site.statement, cst.SimpleStatementLine) and len(site.statement.body) == 1
