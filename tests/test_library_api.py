"""mpcheck.check_source and mpcheck.fix_source, the API the command line is built on."""

from __future__ import annotations

import doctest

import mpcheck
from mpcheck.config import Settings

from .support import FORK_IMPORT


def test_module_docstring_examples_hold():
    failures, tried = doctest.testmod(mpcheck)
    assert tried >= 2 and failures == 0


def test_check_source_honours_settings_and_path():
    assert [d.code for d in mpcheck.check_source(FORK_IMPORT, "a.py")] == ["MP101"]
    assert mpcheck.check_source(FORK_IMPORT, "a.py", settings=Settings(ignore=("MP101",))) == []
    per_file = Settings(per_file_ignores={"scripts/*": ("MP1",)})
    assert mpcheck.check_source(FORK_IMPORT, "scripts/run.py", settings=per_file) == []
    assert mpcheck.check_source(FORK_IMPORT, "src/run.py", settings=per_file) != []


def test_fix_source_safe_and_unsafe():
    safe = mpcheck.fix_source(FORK_IMPORT, "a.py")
    unsafe = mpcheck.fix_source(FORK_IMPORT, "a.py", unsafe_fixes=True)
    assert "ForkOrSpawnProcess" in safe.text and safe.remaining == []
    assert unsafe.text == "from multiprocessing.context import SpawnProcess\n"


def test_fix_source_of_clean_or_broken_text_returns_it_unchanged():
    assert mpcheck.fix_source("import os\n").text == "import os\n"
    broken = "import os  # fork\ndef f(:\n"
    result = mpcheck.fix_source(broken, "b.py")
    assert result.text == broken
    assert [d.code for d in result.remaining] == ["MP000"]


def test_diagnostics_sort_by_path_line_column():
    findings = mpcheck.check_source("import os\nos.fork(); os.forkpty()\n" + FORK_IMPORT, "a.py")
    assert [(d.line, d.column) for d in findings] == sorted((d.line, d.column) for d in findings)
    assert len(findings) == 3


def test_ignoring_mp000_and_file_exemptions_hold_for_the_library_too():
    broken = "import os  # fork\ndef f(:\n"
    assert mpcheck.check_source(broken, "b.py", settings=Settings(ignore=("MP000",))) == []
    exempt = "# mpcheck: noqa: MP101 -- a Linux-only tool\n" + FORK_IMPORT
    assert mpcheck.check_source(exempt, "a.py") == []
    assert mpcheck.fix_source(exempt, "a.py").text == exempt
