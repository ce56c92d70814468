"""A fast walk over a libcst tree with libcst's hook names.

libcst's CSTVisitor looks up a hook by name for every field of every node, whitespace
included; building the model that way cost more than parsing. Here each node type's hooks
and child fields are looked up once per class, and syntax-only fields are never walked.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

# Fields that hold only whitespace, punctuation or operators: never a name, call or scope.
_SYNTAX_ONLY_FIELDS = (
    "whitespace", "leading_lines", "lines_after_decorators", "lpar", "rpar", "comma", "dot",
    "equal", "header", "footer", "trailing_whitespace", "semicolon", "colon", "operator",
    "asynchronous", "star",
)


# What a field's value is, by its class: a node, a sequence that may hold nodes, or neither
# (isinstance() against libcst's abstract CSTNode goes through ABCMeta: slow for each field;
# the values are not only nodes, so their classes are not the plans' node types).
_NODE, _NODES, _NEITHER = "node", "nodes", "neither"
_HOLDS: dict[type, str] = {}


def _holds(value_class: type) -> str:
    holds = _HOLDS[value_class] = (_NODE if issubclass(value_class, cst.CSTNode)
                                   else _NODES if issubclass(value_class, (tuple, list)) else _NEITHER)
    return holds


class Walker:
    """libcst's visitor protocol -- visit_X/leave_X and visit_X_field/leave_X_field hooks,
    a visit returning False skips the children -- at a fraction of CSTVisitor's cost.
    `on_visit`/`on_leave` run for every node, before `visit_X` and after `leave_X`, with
    what `classify` answered for the node's class (asked once per class: isinstance() against
    libcst's abstract classes goes through ABCMeta, slow for every node)."""

    _plans: dict

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._plans = {}

    def _plan(self, node_type: type) -> tuple:
        plan = self._plans.get(node_type)
        if plan is None:
            name = node_type.__name__
            fields = []
            for field_ in dataclasses.fields(node_type):
                if field_.name.startswith(_SYNTAX_ONLY_FIELDS):
                    continue
                fields.append((
                    field_.name,
                    getattr(type(self), f"visit_{name}_{field_.name}", None),
                    getattr(type(self), f"leave_{name}_{field_.name}", None),
                ))
            plan = (getattr(type(self), f"visit_{name}", None), getattr(type(self), f"leave_{name}", None),
                    tuple(fields), self.classify(node_type))
            self._plans[node_type] = plan
        return plan

    def walk(self, node: cst.CSTNode) -> None:
        visit, leave, fields, kind = self._plan(type(node))
        if self.on_visit(node, kind) and (visit is None or visit(self, node) is not False):
            for name, visit_field, leave_field in fields:
                value = getattr(node, name)
                if visit_field is not None:
                    visit_field(self, node)
                holds = _HOLDS.get(value.__class__)
                if holds is None:
                    holds = _holds(value.__class__)
                if holds is _NODE:
                    self.walk(value)
                elif holds is _NODES:
                    for child in value:
                        if (_HOLDS.get(child.__class__) or _holds(child.__class__)) is _NODE:
                            self.walk(child)
                if leave_field is not None:
                    leave_field(self, node)
        if leave is not None:
            leave(self, node)
        self.on_leave(node, kind)

    def classify(self, node_type: type) -> object:
        return None

    def on_visit(self, node: cst.CSTNode, kind: object) -> bool:
        return True

    def on_leave(self, node: cst.CSTNode, kind: object) -> None:
        pass
