"""reach.not_run_at_import reads from a module's text where its code does not run while it
is imported (a function's body at any depth, a main guard's body), so that the project index
can tell an import inside a method from one at module level without parsing the importer
(MP601's prefilter and its search for the package that imports a module). It may leave a
statement out of its spans (CPython's `ast` then settles it), never put in one a statement
that runs at import: this compares it with `ast` on tricky texts and on the standard library
(every module with -m slow; one in eight by default)."""

from __future__ import annotations

import ast
import sysconfig
import warnings
from pathlib import Path

import pytest

from mpcheck.reach import import_bindings, not_run_at_import

_TRICKY = '''\
"""A docstring:
def not_a_function():
    import in_a_string
"""
import at_top
if __name__ == "__main__":
    import under_main_guard
else:
    import under_its_else

class Widget:
    import in_a_class_body

    @decorate(import_name="x")
    def draw(self):
        import in_a_method
        text = """
import in_a_method_string
        """

        def inner():
            import in_a_nested_function
        import after_the_nested_function
        size = (1,
2)
        import after_brackets_in_the_method
    import back_in_the_class_body
    size = (1,
2)
    import after_dedented_brackets

def one_liner(): import on_the_def_line
import after_the_one_liner
async def fetch():
    import in_an_async_function
try:
    import in_a_try
except ImportError:
    import in_an_except
if '__main__' == __name__ :
    import under_a_reversed_main_guard
if __name__ == "__main__" and debug:
    import under_a_longer_test
x = 1; import after_a_semicolon
if True:
    text = """
def fake(): """
    import after_a_string_holding_a_def
'''

_NOT_RUN = {"in_a_method", "in_a_nested_function", "after_the_nested_function", "after_brackets_in_the_method",
            "on_the_def_line",
            "in_an_async_function", "under_main_guard", "under_a_reversed_main_guard"}


def _in_spans(text: str) -> dict[str, bool]:
    spans = not_run_at_import(text)
    assert spans is not None
    return {binding.target: any(start < binding.position < end for start, end in spans)
            for binding in import_bindings(text, "tricky", False)}


def test_what_the_text_reading_finds() -> None:
    found = _in_spans(_TRICKY)
    assert {name for name, inside in found.items() if inside} - {"in_a_string", "in_a_method_string"} == _NOT_RUN
    assert not found["under_its_else"] and not found["back_in_the_class_body"]
    assert not found["after_dedented_brackets"] and not found["after_the_one_liner"]


def test_it_agrees_with_ast_on_the_tricky_text() -> None:
    _agree(_TRICKY)


@pytest.mark.parametrize("text", [
    "def f():\r\n    import a\r\n",  # carriage returns
    "def f():\n\timport a\n",  # a tab in an indentation
    "def f():\n    x = (1,\nimport a\n",  # unbalanced brackets
    'x = f"{d["key"]}"\n',  # a 3.12 field holding the same quotes
])
def test_an_unsure_reading_gives_none(text: str) -> None:
    assert not_run_at_import(text) is None


def _runs_at_import(tree: ast.Module) -> dict[int, bool]:
    """By line: whether an import statement that starts there runs at import (ast's view:
    not in a function, not in the body of a module-level main guard)."""
    found: dict[int, bool] = {}

    def visit(node: ast.AST, runs: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found[child.lineno] = found.get(child.lineno, False) or runs
            inside = runs and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if node is tree and isinstance(child, ast.If) and _is_main_guard(child.test):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), False)
                visit(ast.Module(body=child.orelse, type_ignores=[]), runs)
                continue
            visit(child, inside)

    visit(tree, True)
    return found


def _is_main_guard(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and any(
        isinstance(name, ast.Name) and name.id == "__name__" and isinstance(value, ast.Constant)
        and value.value == "__main__" for name, value in ((test.left, test.comparators[0]), (test.comparators[0], test.left)))


def _agree(text: str) -> int:
    """Assert that no import statement the text reading puts in a span runs at import, as
    `ast` sees it; the number of statements it put in one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    runs = _runs_at_import(tree)
    spans = not_run_at_import(text)
    if spans is None:
        return 0
    claimed = 0
    for binding in import_bindings(text, "module", False):
        if any(start < binding.position < end for start, end in spans):
            line = text.count("\n", 0, binding.position) + 1
            # (A line ast has no import on is an import in a string, which runs nowhere.)
            assert not runs.get(line, False), f"line {line}: {text.splitlines()[line - 1]!r}"
            claimed += 1
    return claimed


def _stdlib_modules() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(path for path in root.rglob("*.py") if "site-packages" not in path.relative_to(root).parts)


def _check_stdlib(every: int) -> None:
    claimed = 0
    for path in _stdlib_modules()[::every]:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            claimed += _agree(text)
        except (SyntaxError, ValueError):
            continue
    assert claimed >= 2000 // every  # (the tests' modules import in their methods)


def test_the_stdlib_agrees_with_ast_one_module_in_eight() -> None:
    _check_stdlib(8)


@pytest.mark.slow
def test_the_stdlib_agrees_with_ast() -> None:
    _check_stdlib(1)
