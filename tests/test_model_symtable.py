"""The model's free variables agree with CPython's `symtable` on the running interpreter's
standard library (issue 7 D): for every scope of every file, the names it reads from an
enclosing function scope (or passes through to a nested one) are the names `symtable` marks
free.

By default the standard library without its tests (about 730 files on 3.11) is compared;
set MPCHECK_SYMTABLE_FULL=1 to include Lib/test and the packages' tests (about 1800 files,
about four times as long). The files are spread over 2 worker processes.

One deliberate exclusion: `symtable` lists `__class__` as free in a class body whose
methods use `super()` or `__class__`; that is the compiler's implicit cell, which the class
body creates rather than reads, so the model does not count it as a free variable of the
class (it does count it for the methods themselves).

Newer interpreters have scopes the model does not make, and the comparison looks through
them: from 3.12 list, set and dict comprehensions are inlined (PEP 709) and have no
`symtable` scope; 3.12 adds type-parameter scopes (PEP 695), whose functions and classes
are compared as children of the enclosing scope (the type parameters they read are not
compared), and annotation scopes (3.13 for type aliases, 3.14 for every annotation,
PEP 649), which are left out.
"""

from __future__ import annotations

import multiprocessing
import os
import symtable
import sys
import sysconfig
import threading
import warnings
from pathlib import Path

from mpcheck.model import ScopeKind, SemanticModel
from mpcheck.parsing import parse_module, run_deep
from mpcheck.source import InputError

STDLIB = Path(sysconfig.get_paths()["stdlib"])
FULL = os.environ.get("MPCHECK_SYMTABLE_FULL") == "1"
WORKERS = 2
_INLINED_COMPREHENSIONS = sys.version_info >= (3, 12)
# (3.12 says "type parameter", 3.13 "type parameters"): their functions and classes are
# compared as children of the enclosing scope
_LOOKED_THROUGH = {"type parameter", "type parameters"}
_LEFT_OUT = {"annotation", "TypeVar bound", "type alias", "type variable"}
_COMPREHENSIONS = {"<listcomp>": "listcomp", "<setcomp>": "setcomp", "<dictcomp>": "dictcomp",
                   "<generatorexp>": "genexpr"}


def stdlib_files(full: bool) -> list[Path]:
    """The interpreter's standard library modules (not site-packages), tests only if `full`."""
    files = []
    for path in sorted(STDLIB.rglob("*.py")):
        parts = path.relative_to(STDLIB).parts
        if "site-packages" in parts or "dist-packages" in parts:
            continue
        if not full and any(part in ("test", "tests", "idle_test") for part in parts):
            continue
        files.append(path)
    return files


# A scope as both sides give it: (kind, name, free names, children).


def expected_tree(table: symtable.SymbolTable, hidden: frozenset[str] = frozenset()) -> list[tuple]:
    """`table` (and its children) as the model should see it: a list, because a scope the
    model does not have is replaced by its children (or dropped)."""
    kind = str(getattr(table.get_type(), "value", table.get_type()))
    if kind in _LEFT_OUT:
        return []
    if kind in _LOOKED_THROUGH:
        provided = hidden | {symbol.get_name() for symbol in table.get_symbols() if symbol.is_local()}
        return [tree for child in table.get_children() for tree in expected_tree(child, provided)]
    frees = frozenset(symbol.get_name() for symbol in table.get_symbols()
                      if symbol.is_free() and symbol.get_name() not in hidden
                      and not (kind == "class" and symbol.get_name() == "__class__"))
    children = [tree for child in table.get_children() for tree in expected_tree(child, hidden)]
    return [(kind, table.get_name(), frees, children)]


def model_tree(scope) -> list[tuple]:
    if scope.kind is ScopeKind.MODULE:
        kind, name = "module", "top"
    elif scope.kind is ScopeKind.CLASS:
        kind, name = "class", scope.name
    elif scope.kind is ScopeKind.LAMBDA:
        kind, name = "function", "lambda"
    elif scope.kind is ScopeKind.COMPREHENSION:
        kind, name = "function", _COMPREHENSIONS[scope.name]
    else:
        kind, name = "function", scope.name
    children = [tree for child in scope.children for tree in model_tree(child)]
    if _INLINED_COMPREHENSIONS and name in ("listcomp", "setcomp", "dictcomp"):
        return children
    return [(kind, name, scope.frees, children)]


def _key(tree: tuple) -> tuple:
    """An order of sibling scopes that does not depend on the order they were met in
    (symtable visits a `try`'s else clause before its handlers; the model, in flow order,
    after them): kind, name, free variables, nested scopes."""
    kind, name, frees, children = tree
    return kind, name, tuple(sorted(frees)), tuple(sorted(_key(child) for child in children))


def disagreements(expected: tuple, ours: tuple, path: str) -> list[str]:
    where = f"{path}/{expected[1]}"
    found = []
    if expected[2] != ours[2]:
        found.append(f"{where}: free variables {sorted(expected[2])}, the model says {sorted(ours[2])}")
    theirs, mine = sorted(expected[3], key=_key), sorted(ours[3], key=_key)
    if [child[:2] for child in theirs] != [child[:2] for child in mine]:
        missing = sorted({child[:2] for child in theirs} - {child[:2] for child in mine})
        extra = sorted({child[:2] for child in mine} - {child[:2] for child in theirs})
        found.append(f"{where}: nested scopes differ: the model lacks {missing}, has besides {extra}")
        return found
    for their_child, my_child in zip(theirs, mine):
        found += disagreements(their_child, my_child, where)
    return found


def compare_file(path: Path) -> tuple[str, list[str]]:
    """("compared" | "skipped", the disagreements) for one file. Files the interpreter or
    libcst cannot parse (test data in other encodings or old syntax) are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = symtable.symtable(text, str(path), "exec")
        model = run_deep(lambda: SemanticModel(parse_module(text), str(path)))
    except (UnicodeDecodeError, SyntaxError, ValueError, InputError):
        return "skipped", []
    relative = str(path.relative_to(STDLIB))
    return "compared", disagreements(expected_tree(table)[0], model_tree(model.module_scope)[0], relative)


def _context():
    """Fork where it exists and this process has no other thread (forking a threaded process
    is what Python 3.12 warns about: mpcheck's engine makes the same choice); else start
    the workers fresh."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def test_free_variables_agree_with_symtable_on_the_standard_library():
    files = stdlib_files(FULL)
    assert len(files) > 500, f"no standard library found under {STDLIB}"
    with _context().Pool(WORKERS) as pool:
        results = pool.map(compare_file, files, chunksize=8)
    compared = sum(status == "compared" for status, _ in results)
    disagreeing = [(path, found) for path, (_, found) in zip(files, results) if found]
    print(f"\nsymtable on {sys.version.split()[0]}: {len(files)} files ({'with' if FULL else 'without'} tests), "
          f"{compared} compared, {len(files) - compared} skipped (unparsable), {len(disagreeing)} disagree")
    assert compared > 0.9 * len(files)
    assert not disagreeing, "\n".join(line for _, found in disagreeing[:50] for line in found[:5])


CASES = {
    "nonlocal": "def outer():\n    n = 0\n    def bump():\n        nonlocal n\n        n += 1\n    return bump\n",
    "class-passes-through": "def f():\n    x = 1\n    class C:\n        def m(self):\n            return x\n    return C\n",
    "class-reads-enclosing": "def f():\n    x = 1\n    class C:\n        y = x\n    return C\n",
    "super": "class A:\n    def m(self):\n        return super().m()\n",
    "global-hides": "def f():\n    x = 1\n    def g():\n        global x\n        return x\n    return g\n",
    "generator": "def f(items):\n    k = 2\n    return sum(i * k for i in items)\n",
    "walrus": "def f(items):\n    return [y for i in items if (y := i)], y\n",
    "lambda-default": "def f(a):\n    return lambda b=a: b + a\n",
}


def test_the_comparison_itself_tells_a_disagreement():
    """The comparison finds a wrong free variable (it must not pass by comparing nothing)."""
    for name, source in CASES.items():
        table = symtable.symtable(source, name, "exec")
        model = SemanticModel(parse_module(source), name)
        expected, ours = expected_tree(table)[0], model_tree(model.module_scope)[0]
        assert disagreements(expected, ours, name) == [], name
        wrong = _with_frees(ours, frozenset({"not_a_free_variable"}))
        assert disagreements(expected, wrong, name), name


def _with_frees(tree: tuple, extra: frozenset[str]) -> tuple:
    """`tree` with `extra` added to the free variables of its first nested scope."""
    kind, name, frees, children = tree
    if not children:
        return kind, name, frees | extra, children
    return kind, name, frees, [_with_frees(children[0], extra), *children[1:]]
