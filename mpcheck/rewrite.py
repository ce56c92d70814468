"""Renames and other fix helpers that read the semantic model."""

from __future__ import annotations

import libcst as cst

from .model import SemanticModel, Site


def rename_references(model: SemanticModel, binding_node: cst.CSTNode, old: str, new: str) -> dict:
    """Replacements renaming every reference to the name `old` bound by `binding_node`."""
    replacements: dict[cst.CSTNode, cst.CSTNode] = {}
    for site in model.references:
        node = site.node
        if isinstance(node, cst.Name) and node.value == old:
            bindings = model.lookup(old, site.scope)
            if len(bindings) == 1 and bindings[0].node is binding_node:
                replacements[node] = node.with_changes(value=new)
    return replacements


def can_rename(model: SemanticModel, old: str, new: str, binding_node: cst.CSTNode) -> bool:
    """A rename is safe when `old` is bound only by `binding_node` and `new` is unused."""
    if model.is_bound_anywhere(new) or any(
        isinstance(site.node, cst.Name) and site.node.value == new for site in model.references
    ):
        return False
    for scope in model.scopes():
        for binding in scope.bindings.get(old, []):
            if binding.node is not binding_node:
                return False
    # `__all__ = ["ForkProcess"]` exports the name: leave it alone.
    return not any(
        isinstance(site.node, cst.Name) and site.node.value == "__all__" for site in model.references
    )


def only_statement_on_line(site: Site) -> bool:
    """True when the site's statement line holds nothing else (no `a; b`)."""
    return isinstance(site.statement, cst.SimpleStatementLine) and len(site.statement.body) == 1
