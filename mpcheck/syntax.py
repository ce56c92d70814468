"""What CPython's own parser makes of a text: its tree, its syntax error, and whether the
tree is within the depth and size that libcst, the parser mpcheck's models are made with,
is given (parsing.py). libcst is not imported here: the project index reads the import
statements of modules it never parses with libcst through CPython's tree too, and what it
learns of that tree then spares `parse_module` a second reading of the same text.
"""

from __future__ import annotations

import ast
import warnings

from .source import InputError

# libcst's parser slows down worse than quadratically on long left-nested chains
# (`1 + 1 + ...`, `a.b.c...`): 2,000 terms take 0.7 s, 4,000 take 17 s. CPython 3.11+
# refuses 20,000 terms itself, 3.10 accepts them, so the depth is measured on every version.
# Hand-written code stays far below this; it is the depth of 1,000 chained operators.
_MAX_AST_DEPTH = 1000
# libcst holds about 5 KB per node of Python's own tree (a one-line list of 150,000 numbers,
# 1 MB, took 700 MB and 40 s), 8 KB in code, where the nodes not counted (contexts and
# operators) are a third of all: this bounds a file to about 1.5 GB. The largest hand-written
# modules seen have 200,000 nodes counting those (sympy's polys/benchmarks/bench_solvers.py;
# Lib/test/test_typing.py 64,000, 40,000 without them); beyond that a file is generated data,
# not code anyone starts processes from.
_MAX_AST_NODES = 200_000
TOO_DEEP = "too deeply nested to check (the Python parser's nesting limit was exceeded)"


def cpython_tree(text: str) -> ast.Module | None:
    """CPython's tree of `text`, None when its parser refuses it (a syntax error, a null
    byte, nesting beyond its limits). Its warnings (an invalid escape sequence) are not shown."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def cpython_syntax_error(text: str) -> InputError | None:
    """The syntax error CPython's parser finds in `text`, as an InputError (None for none).

    Raises InputError when the text is nested too deeply for CPython, or its tree is
    beyond the depth and size libcst is given (`_refuse_too_deep_or_too_large`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse(text)
    except (RecursionError, MemoryError):
        raise InputError(TOO_DEEP) from None
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        if "too many nested" in message or "too many statically nested" in message:
            raise InputError(TOO_DEEP, error.lineno or 1, error.offset or 1) from None
        return InputError(f"syntax error: {message}", error.lineno or 1, error.offset or 1)
    except ValueError as error:  # e.g. "source code string cannot contain null bytes"
        return InputError(f"syntax error: {error}")
    _refuse_too_deep_or_too_large(tree)
    return None


def within_limits(tree: ast.AST) -> bool:
    """Whether CPython's tree of a text is within the depth and size libcst is given
    (`_refuse_too_deep_or_too_large` raises nothing): with no syntax error, the text is one
    `parsing.parse_module` takes without asking CPython again (its `accepted`)."""
    try:
        _refuse_too_deep_or_too_large(tree)
    except InputError:
        return False
    return True


def _refuse_too_deep_or_too_large(tree: ast.AST) -> None:
    """Raise InputError when the tree has a node more than _MAX_AST_DEPTH levels down (at
    the position of one such node), or more than _MAX_AST_NODES nodes, not counting the
    expression contexts and operators (`Load`, `Add`: leaves without a position).

    Walked level by level, iteratively (the tree may be deeper than the recursion limit),
    reading only the fields that may hold a node: a fifth of the parse's time went into a
    walk with a stack of (node, depth) pairs over `ast.iter_child_nodes`, 1.4 s over the
    stdlib against 0.4 s for this one."""
    level = [tree]
    depth = count = 0
    while level:
        depth += 1
        count += len(level)
        if count > _MAX_AST_NODES:
            raise InputError(f"file is too large to check (more than {_MAX_AST_NODES} syntax nodes)")
        if depth > _MAX_AST_DEPTH:
            located = next((node for node in level if hasattr(node, "lineno")), None)
            raise InputError(
                f"too deeply nested to check (more than {_MAX_AST_DEPTH} levels)",
                getattr(located, "lineno", 1), getattr(located, "col_offset", 0) + 1,
            )
        below: list[object] = []
        for node in level:
            fields = _NODE_FIELDS.get(node.__class__)
            if fields is None:
                fields = _NODE_FIELDS[node.__class__] = tuple(
                    field for field in node._fields if field not in _NOT_NODE_FIELDS)
            for field in fields:
                value = getattr(node, field, None)
                if value.__class__ is list:
                    below.extend(value)
                elif isinstance(value, ast.AST):
                    below.append(value)
        level = [node for node in below if isinstance(node, ast.AST)]


# Fields of `ast` nodes that hold no node, or only a leaf: names, numbers, flags, and the
# expression contexts and operators (in 3.12, `TypeAlias.name` is a `Name`, a leaf in effect).
_NOT_NODE_FIELDS = frozenset({"ctx", "op", "id", "arg", "name", "attr", "module", "kind", "type_comment",
                              "conversion", "is_async", "level"})
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}  # by node class: its fields that may hold a node
