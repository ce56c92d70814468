"""Parsing source text into a libcst module without ever crashing the process.

libcst's native parser has no depth limit of its own: a deeply nested expression makes it
overflow the C stack and kill the interpreter (seen here with 3,000 nested brackets and a
20,000-term sum). CPython's own parser stops such input with a clean error, so every file
goes through `ast.parse` first; when CPython rejects it for depth, or its tree is deeper than
libcst can parse in reasonable time, the file is refused.
Its other syntax errors are left to libcst, whose grammar may be newer than the running
interpreter's, and CPython's message is used when both reject the file (it is the clearer).

All work on a parsed tree recurses once per nesting level, so it runs in a thread with a
large stack and a raised recursion limit (see `run_deep`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
import warnings
from typing import Callable, Iterator, TypeVar

import libcst as cst

from .source import InputError
from .syntax import TOO_DEEP, cpython_syntax_error

_T = TypeVar("_T")

_DEEP_STACK_BYTES = 512 * 1024 * 1024
_DEEP_RECURSION_LIMIT = 60_000


def parse_module(text: str, accepted: bool = False) -> cst.Module:
    """`text` parsed with libcst, once CPython's own parser accepted it (its syntax error is
    the one raised when both refuse it) and its tree is within the depth and size libcst is
    given (syntax.py). `accepted`: the caller knows both of this very text
    (`syntax.within_limits` of CPython's tree of it), which is then not parsed again.

    Raises InputError for a text CPython and libcst refuse, one too deep or too large, or
    one only libcst cannot parse."""
    cpython_error = None if accepted else cpython_syntax_error(text)
    try:
        if cpython_error is not None:
            return cst.parse_module(text)
        with _validating_only_what_cpython_compiles():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        if cpython_error is not None:
            raise cpython_error from None
        # Python accepts it (Lib/test/test_grammar.py's `(x): int`, say): not the file's fault.
        raise InputError(
            f"valid Python that libcst, the parser mpcheck uses, cannot parse, so it was not checked "
            f"(a libcst limitation; its error: {error.message})", error.raw_line, error.raw_column + 1,
        ) from None
    except cst.CSTValidationError as error:
        # libcst checks as it builds its nodes what CPython checks only when it compiles
        # (pylint's tests: `default 'except:' must be last`): Python's own message.
        raise _compile_error(text) or InputError(
            f"valid Python that libcst, the parser mpcheck uses, cannot parse, so it was not checked "
            f"(a libcst limitation; its error: {error})"
        ) from None


@contextlib.contextmanager
def _validating_only_what_cpython_compiles() -> Iterator[None]:
    """While libcst parses a text CPython's own parser accepted, its nodes skip the checks
    libcst makes as each is built (`CSTNode.__post_init__` calls `_validate`), but for
    `try` statements: the one check among libcst 1.9's that CPython makes only when it
    compiles, not when it parses (`default 'except:' must be last`, see `parse_module`). The
    others check what the grammar already ensures (whitespace, brackets, a name's
    characters); they took 8% of `parse_module`'s time, 12-14% of libcst's parse (libcst's
    own comment on `__post_init__` suggests moving them out of the parse). Both ways gave
    the same outcome on 3,658 files: CPython's Lib/test (its bad-syntax files among them),
    lib2to3 and 16 public projects. The checks are skipped in every thread while the parse
    runs: the parse holds `_PARSE_LOCK`, and mpcheck builds no other node meanwhile."""
    with _PARSE_LOCK:
        cst.CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
        for node_class in _VALIDATED_WHEN_PARSED:
            node_class.__post_init__ = _VALIDATE  # type: ignore[method-assign]
        try:
            yield
        finally:
            for node_class in _VALIDATED_WHEN_PARSED:
                del node_class.__post_init__
            cst.CSTNode.__post_init__ = _VALIDATE  # type: ignore[method-assign]


def _unchecked(node: cst.CSTNode) -> None:
    return None


_PARSE_LOCK = threading.Lock()
_VALIDATE = cst.CSTNode.__post_init__
_VALIDATED_WHEN_PARSED = (cst.Try, cst.TryStar)


def _compile_error(text: str) -> InputError | None:
    """The syntax error compiling `text` gives, if any."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<file>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return InputError(f"syntax error: {error.msg or 'invalid syntax'}", error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None




def run_deep(function: Callable[[], _T]) -> _T:
    """Run `function` on a thread whose stack and recursion limit fit deep trees.

    One such thread serves the whole run (starting a thread per file cost 10 ms each);
    a call made from that thread runs directly. A RecursionError that still escapes
    becomes an InputError for the file instead of a traceback.
    """
    if getattr(_on_deep_thread, "value", False):
        return _call_deep(function)
    global _deep_executor
    with _deep_lock:
        if _deep_executor is None:
            _deep_executor = ThreadPoolExecutor(1, thread_name_prefix="mpcheck-deep", initializer=_mark_deep_thread)
            old_stack = threading.stack_size(_DEEP_STACK_BYTES)
            try:
                future = _deep_executor.submit(_call_with_deep_recursion, function)  # starts the thread
            finally:
                threading.stack_size(old_stack)
        else:
            future = _deep_executor.submit(_call_with_deep_recursion, function)
    return future.result()


def _call_with_deep_recursion(function: Callable[[], _T]) -> _T:
    """The recursion limit is the interpreter's, not the thread's: it is raised only while
    the deep thread works. Left raised, a program using mpcheck as a library would overflow
    its main thread's normal-sized stack where it should get a RecursionError."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _DEEP_RECURSION_LIMIT))
    try:
        return _call_deep(function)
    finally:
        sys.setrecursionlimit(previous)


def _call_deep(function: Callable[[], _T]) -> _T:
    try:
        return function()
    except RecursionError:
        raise InputError(TOO_DEEP) from None


def _mark_deep_thread() -> None:
    _on_deep_thread.value = True


def _forget_deep_thread() -> None:
    """In a forked child the deep thread does not exist: start another when needed."""
    global _deep_executor, _deep_lock
    _deep_executor, _deep_lock = None, threading.Lock()


_deep_lock = threading.Lock()
_deep_executor: ThreadPoolExecutor | None = None
_on_deep_thread = threading.local()
if hasattr(os, "register_at_fork"):  # absent on Windows, where nothing forks
    os.register_at_fork(after_in_child=_forget_deep_thread)
