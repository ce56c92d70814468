"""mpcheck runs on CPython 3.10 to 3.14 and checks code for any of them: syntax newer than
the running interpreter (PEP 695 type parameters, PEP 701 f-strings: 3.12) is parsed by
libcst, not refused because the interpreter's own parser rejects it. On 3.10 and 3.11 this
is the path where `ast.parse` fails and libcst succeeds."""

from __future__ import annotations

import mpcheck
from mpcheck.findings import INPUT_ERROR_CODE

PYTHON_312_SCRIPT = '''\
from multiprocessing.context import ForkProcess

type Frames[T] = list[T]


def render[T](frames: Frames[T]) -> None:
    names = ["ada", "grace"]
    print(f"{"-".join(names)}: {len(frames)} frames")


if __name__ == "__main__":
    worker = ForkProcess(target=render, args=([1, 2],))
    worker.start()
    worker.join()
'''


def test_newer_syntax_is_checked_not_refused():
    findings = mpcheck.check_source(PYTHON_312_SCRIPT, "render.py")
    assert [(d.code, d.line) for d in findings] == [("MP101", 1)]


def test_newer_syntax_is_fixed_and_kept():
    result = mpcheck.fix_source(PYTHON_312_SCRIPT, "render.py")
    assert result.remaining == [] and len(result.fixed) == 1
    assert 'def render[T](frames: Frames[T]) -> None:\n' in result.text
    assert 'print(f"{"-".join(names)}: {len(frames)} frames")' in result.text
    assert "ForkOrSpawnProcess(target=render" in result.text


def test_a_real_syntax_error_is_still_one_input_error():
    # It names a fork API so that the prefilter lets it through to the parser.
    findings = mpcheck.check_source("import os\ndef render(:\n    os.fork()\n", "broken.py")
    assert [d.code for d in findings] == [INPUT_ERROR_CODE]
