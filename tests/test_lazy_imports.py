"""libcst (0.1-0.2 s to import) and the rules are imported only when a file must be parsed:
`mpcheck --version`, `mpcheck rules`-free runs, and a run whose files all fail the prefilter
never import them (a warm run neither: tests/test_cache.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROBE = textwrap.dedent("""
    import sys
    from mpcheck.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exit:
        loaded = sorted(name for name in ("libcst", "mpcheck.rules.base", "mpcheck.model") if name in sys.modules)
        print("EXIT", exit.code, "LOADED", ",".join(loaded) or "-", file=sys.stderr)
""")


def probe(cwd: Path, *arguments: str) -> tuple[str, str]:
    completed = subprocess.run([sys.executable, "-c", PROBE, *arguments], cwd=cwd, capture_output=True, text=True,
                               timeout=120, env={**os.environ, "MPCHECK_NO_CACHE": "1"})
    last = completed.stderr.strip().splitlines()[-1].split()
    return last[1], last[3]


def test_version_imports_no_parser(tmp_path: Path) -> None:
    assert probe(tmp_path, "--version") == ("0", "-")


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A package of threads, locks and queues, and a script that prints: nothing in it can
    hold a finding (no process API anywhere in the project, and no package prints while it
    is imported), so nothing is parsed."""
    (tmp_path / ".git").mkdir()
    package = tmp_path / "service"
    package.mkdir()
    (package / "__init__.py").write_text("from .server import serve\n")
    (package / "server.py").write_text(textwrap.dedent("""
        import queue
        import threading

        jobs = queue.Queue()
        lock = threading.Lock()


        def serve(handler):
            while jobs.qsize():
                with lock:
                    handler(jobs.get())
    """))
    (tmp_path / "main.py").write_text("import logging\n\nfrom service import serve\n\n"
                                      "logging.basicConfig(level=logging.INFO)\nserve(print)\n")
    return tmp_path


def test_a_run_whose_files_cannot_hold_a_finding_imports_no_parser(service: Path) -> None:
    assert probe(service, "check", ".") == ("0", "-")


def test_a_file_that_can_hold_one_is_parsed(service: Path) -> None:
    (service / "main.py").write_text("import multiprocessing\n\nmultiprocessing.Pool(2)\n")
    exit_code, loaded = probe(service, "check", ".")
    assert exit_code == "1" and "libcst" in loaded.split(",")
