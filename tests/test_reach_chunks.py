"""reach.py reads a module's top-level statements from its text (`_chunks_by_text`) instead
of CPython's `ast`. The name-based pass stays an over-approximation only if, for every
statement `ast` finds, the text reading puts it in one chunk whose bound names hold what `ast`
says it binds, which holds a word wherever `ast` finds one in its code, and whose text holds
every identifier of its code. This compares the two on tricky statements and on the running
interpreter's standard library (every module with -m slow; one in eight by default)."""

from __future__ import annotations

import ast
import keyword
import re
import bisect
import sysconfig
import textwrap
from pathlib import Path

import pytest

from mpcheck.reach import IDENTIFIER, _chunks_by_ast, _chunks_by_text, _code_names
from mpcheck.source import source_lines

_WORDS = ("multiprocess", "ProcessPoolExecutor", "Pool", "print", "stderr", "logging", "os")

_TRICKY = textwrap.dedent('''\
    """A module docstring: def hidden(): pass
    import not_imported
    """
    import os, multiprocessing as mp
    from concurrent.futures import (ProcessPoolExecutor as Executor,
                                    as_completed)  # comment: Pool = 1
    from tools import a, \\
        b
    from star import *
    x = 1; y = 2
    @decorate(mode="fast")
    @other
    def run(items, workers=mp.cpu_count()):
        pool = mp.Pool(workers)
        return pool.map(print, items)

    class Jobs(Base, metaclass=Meta):
        size: int = 3
        def start(self): ...
    if os.name == "nt":
        def start(): pass
        started = True
    elif x:
        import logging as log
    else:
        (first,
         second) = 1, 2
    try:
        import billiard
    except ImportError as error:
        billiard = None
    finally:
        done = True
    with open(__file__) as (handle):
        text = handle.read()
    for index, (key, value) in enumerate({}.items()): pass
    squares = [n * n for n in range(3) if (m := n)]
    table = dict(alpha=1,
                 beta=2)
    total: float
    counts[0] += 1
    message = f"{os.getpid()} {'a' if x else 'b'}"
    if"x" in text: flag = 1
    match x:
        case {"k": captured, **rest}:
            pass
    s = """
    def not_a_definition(): pass
    """
    print(s, file=mp.get_logger())
    ''')


def _agree(text: str) -> None:
    """The text reading's chunks cover `ast`'s statements as the module docstring says."""
    chunks = _chunks_by_text(text, _WORDS)
    assert chunks is not None
    tree = ast.parse(text)
    offsets = [0]
    for line in source_lines(text):
        offsets.append(offsets[-1] + len(line))
    starts, position = [], 0
    for chunk in chunks:
        starts.append(text.index(chunk.segment, position))
        position = starts[-1] + len(chunk.segment)
    assert "".join(chunk.segment for chunk in chunks) == text[starts[0] if starts else len(text):]  # in a row, to the end
    for statement, expected in zip(tree.body, _chunks_by_ast(text, _WORDS), strict=True):
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(decorator.lineno for decorator in decorators)])
        offset = offsets[first - 1] + (0 if decorators else statement.col_offset)
        chunk = chunks[bisect.bisect_right(starts, offset) - 1]
        where = f"line {statement.lineno}"
        assert expected.segment.strip() in chunk.segment, where
        assert expected.binds <= chunk.binds, where
        assert chunk.has_word or not expected.has_word, where
        assert _code_names(statement) - {"*"} <= set(IDENTIFIER.findall(chunk.segment)), where


def test_tricky_statements_agree_with_ast() -> None:
    _agree(_TRICKY)


def test_what_the_text_reading_finds() -> None:
    chunks = _chunks_by_text(_TRICKY, _WORDS)
    assert chunks is not None
    by_start = {chunk.segment.split("\n", 1)[0]: chunk for chunk in chunks}
    assert by_start['@decorate(mode="fast")'].binds == {"run"}  # a definition binds its name only
    assert by_start['@decorate(mode="fast")'].has_word  # mp.Pool
    assert by_start["class Jobs(Base, metaclass=Meta):"].binds == {"Jobs"}
    assert {"start", "started", "log", "first", "second"} <= by_start['if os.name == "nt":'].binds
    assert {"billiard", "error", "done"} <= by_start["try:"].binds
    assert {"alpha", "beta"} & by_start["table = dict(alpha=1,"].binds == set()  # keyword arguments
    assert not by_start['s = """'].has_word  # words in a string are not code
    assert "not_a_definition" not in by_start['s = """'].binds
    assert by_start['message = f"{os.getpid()} {\'a\' if x else \'b\'}"'].has_word  # an f-string's field
    assert by_start["x = 1; y = 2"].binds >= {"x", "y"}
    assert "*" in by_start["from star import *"].binds
    assert by_start["match x:"].binds >= {"captured", "rest"}
    # A keyword is never a name (the text reading finds `as`, `else`, `try` among the targets).
    assert not any(keyword.iskeyword(name) for chunk in chunks for name in chunk.binds)
    assert by_start["import os, multiprocessing as mp"].binds >= {"os", "mp"}


@pytest.mark.parametrize("text", [
    "x = 1\r\ny = 2\r\n",  # carriage returns
    "x = 1\n\x0cdef f(): pass\n",  # a form feed
    'x = f"{d["key"]}"\n',  # a 3.12 field holding the same quotes
    "x = (1,\n",  # unbalanced brackets
])
def test_an_unsure_text_reading_leaves_it_to_ast(text: str) -> None:
    assert _chunks_by_text(text, _WORDS) is None


def _stdlib_modules() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(path for path in root.rglob("*.py")
                  if not {"test", "tests", "site-packages", "idle_test"} & set(path.relative_to(root).parts))


def _check_stdlib(every: int) -> None:
    checked = 0
    for path in _stdlib_modules()[::every]:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        if _chunks_by_text(text, _WORDS) is not None:
            _agree(text)
            checked += 1
    assert checked >= 500 // every


def test_the_stdlib_agrees_with_ast_one_module_in_eight() -> None:
    _check_stdlib(8)


@pytest.mark.slow
def test_the_stdlib_agrees_with_ast() -> None:
    _check_stdlib(1)


_WORD_TEXTS = [
    "import os\nos.path.join(a) + xos.path + _os.sep + os2.name + os . path + xos.sys.path\n",
    "path = os.path\n\u00e9os.path(1)\n1os.path\n(os).path\nos\n",  # a letter and a digit before
    "kit.jobs.run_all(); shop . jobs . run_all; shop.jobs.run_allx; shopkit.jobs.run_all",
    "os",
    "xos",
    "",
]


@pytest.mark.parametrize("text", _WORD_TEXTS)
def test_word_matches_are_those_a_word_boundary_before_the_pattern_finds(text: str) -> None:
    # The name-based pass looks for names with patterns that leave out a leading \b and
    # check the character before each match instead (faster); the matches must be the same.
    from mpcheck.reach import word_matches

    for names in (r"os|path", r"(os|sys)\b((?:\s*\.\s*[A-Za-z_]\w*)*)",
                  r"(?:kit|shop\s*\.\s*jobs)\s*\.\s*(?:run_all)\b|path\b"):
        expected = [(m.start(), m.group(0)) for m in re.finditer(rf"\b(?:{names})", text)]
        found = [(m.start(), m.group(0)) for m in word_matches(re.compile(names), text)]
        assert found == expected, names
