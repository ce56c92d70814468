"""Parsing source text into a libcst module without ever crashing the process.

libcst's native parser has no depth limit of its own: a deeply nested expression makes it
overflow the C stack and kill the interpreter (seen here with 3,000 nested brackets and a
20,000-term sum). CPython's own parser stops such input with a clean error, so every file
goes through `ast.parse` first; only when CPython rejects it for depth is the file refused.
Its other syntax errors are left to libcst, whose grammar may be newer than the running
interpreter's, and CPython's message is used when both reject the file (it is the clearer).

All work on a parsed tree recurses once per nesting level, so it runs in a thread with a
large stack and a raised recursion limit (see `run_deep`).
"""

from __future__ import annotations

import ast
import sys
import threading
import warnings
from typing import Callable, TypeVar

import libcst as cst

from .source import InputError

_T = TypeVar("_T")

_DEEP_STACK_BYTES = 512 * 1024 * 1024
_DEEP_RECURSION_LIMIT = 60_000
_TOO_DEEP = "too deeply nested to check (the Python parser's nesting limit was exceeded)"


def parse_module(text: str) -> cst.Module:
    cpython_error = _cpython_syntax_error(text)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        if cpython_error is not None:
            raise cpython_error from None
        raise InputError(
            f"syntax error: {error.message}", error.raw_line, error.raw_column + 1
        ) from None


def _cpython_syntax_error(text: str) -> InputError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            ast.parse(text)
    except (RecursionError, MemoryError):
        raise InputError(_TOO_DEEP) from None
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        if "too many nested" in message or "too many statically nested" in message:
            raise InputError(_TOO_DEEP, error.lineno or 1, error.offset or 1) from None
        return InputError(f"syntax error: {message}", error.lineno or 1, error.offset or 1)
    except ValueError as error:  # e.g. "source code string cannot contain null bytes"
        return InputError(f"syntax error: {error}")
    return None


def run_deep(function: Callable[[], _T]) -> _T:
    """Run `function` in a thread whose stack and recursion limit fit deep trees.

    A RecursionError that still escapes becomes an InputError for the file instead of a
    traceback.
    """
    outcome: list[tuple[bool, object]] = []

    def target() -> None:
        try:
            outcome.append((True, function()))
        except RecursionError:
            outcome.append((False, InputError(_TOO_DEEP)))
        except BaseException as error:  # re-raised in the calling thread
            outcome.append((False, error))

    old_stack = threading.stack_size()
    old_limit = sys.getrecursionlimit()
    with _deep_lock:
        threading.stack_size(_DEEP_STACK_BYTES)
        try:
            worker = threading.Thread(target=target, name="mpcheck-deep")
            worker.start()
        finally:
            threading.stack_size(old_stack)
    if old_limit < _DEEP_RECURSION_LIMIT:
        sys.setrecursionlimit(_DEEP_RECURSION_LIMIT)
    worker.join()
    ok, value = outcome[0]
    if not ok:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


_deep_lock = threading.Lock()
