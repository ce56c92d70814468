"""The torture test on the standard library of the interpreter running the tests, its own
test suite included (deliberately malformed files among hundreds of thousands of lines
of real code): see tests/torture.py for what must hold. It prints the counts; run
`python -m pytest -m slow tests/test_torture.py -s` to see them, or
`python -m tests.torture PATH...` on any other tree."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from .support import FIXTURES
from .torture import torture


@pytest.mark.slow
def test_the_standard_library_and_its_tests(tmp_path):
    # The second fix runs on the files the first one changed: over the whole library it
    # would cost as long again.
    report = torture(Path(sysconfig.get_paths()["stdlib"]), tmp_path, only_python=True, again_everything=False)
    print(report.summary())
    for path, message in sorted(report.input_errors.items()):
        print(f"  MP000 {path}:{message}")
    # The corpus is the one intended: the test suite is there, with its malformed files.
    assert report.files > 1000
    assert any(path.startswith("test/") for path in report.input_errors), report.input_errors
    assert report.changed > 0  # fixes were written, so the second run had something to redo


def test_the_harness_on_the_legacy_app_with_broken_files(tmp_path):
    """The harness itself, quickly: the legacy app, which has findings to fix, next to a
    file of each kind the standard library's test suite holds on purpose."""
    source = tmp_path / "legacy_app"
    shutil.copytree(FIXTURES / "legacy_app", source)
    (source / "bad_syntax.py").write_text("import multiprocessing\n\ndef start(:\n    pass\n")
    (source / "bad_cookie.py").write_bytes(b"# -*- coding: klingon -*-\nimport multiprocessing\n")
    (source / "bad_bytes.py").write_bytes(b"import multiprocessing\nNAME = '\xff'\n")
    (source / "bad_indent.py").write_text("import multiprocessing\nif True:\n  x = 1\n\tpool = multiprocessing.Pool()\n")
    # Python's parser accepts it, its compiler does not.
    (source / "bad_handlers.py").write_text("import multiprocessing\ntry:\n    pass\nexcept:\n    pass\nexcept OSError:\n    pass\n")
    report = torture(source, tmp_path / "work")
    print(report.summary())
    assert sorted(report.input_errors) == ["bad_bytes.py", "bad_cookie.py", "bad_handlers.py", "bad_indent.py",
                                           "bad_syntax.py"]
    assert report.input_errors["bad_syntax.py"].startswith("3:11: syntax error"), report.input_errors
    assert report.findings and report.changed > 0
