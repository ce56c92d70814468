"""MP101's fixes read like code a reviewer accepts (issue 7 A5): the import with the imports
and code after them (no E402), nothing imported twice, the file's quotes, lines wrapped to
the file's limit (E501 at 88 unless the file is wider), no runtime alias in annotations, and
the fixed program still runs where fork exists and where it does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import mpcheck

from .oracle import SIMULATED_WINDOWS, Program, run_program

RENDER = '''\
"""Render farm: one forked worker per frame batch."""
from __future__ import annotations

import os
from multiprocessing.context import ForkProcess, ForkContext
from typing import Dict

from queue import Empty

WORKERS: Dict[int, ForkProcess] = {}
CONTEXT_TYPE: type[ForkContext] = ForkContext


def draw(batch):
    print('batch', batch)


def start(batch: int) -> ForkProcess:
    worker = ForkProcess(target=draw, args=(batch,), name=f'render-{batch}-{os.getpid() % 1}')
    WORKERS[batch] = worker
    worker.start()
    return worker


if __name__ == '__main__':
    for number in range(3):
        start(number).join()
    print('done', sorted(WORKERS), Empty.__name__)
'''


def _fixed(tmp_path: Path, source: str, name: str = "render.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    result = mpcheck.fix_source(source, str(path))
    path.write_text(result.text)
    assert [d.code for d in result.remaining if d.code == "MP101"] == []
    return path


def _flake8(path: Path, *codes: str) -> str:
    command = [sys.executable, "-m", "flake8", "--max-line-length=88", f"--select={','.join(codes)}", str(path)]
    run = subprocess.run(command, capture_output=True, text=True)
    return run.stdout


def test_imports_stay_together_and_code_follows_them(tmp_path):
    path = _fixed(tmp_path, RENDER)
    text = path.read_text()
    assert _flake8(path, "E402", "E501", "F401", "F811", "F821") == ""
    assert text.count("import multiprocessing\n") == 1
    assert "from multiprocessing.context import" not in text
    # After every import, not between them.
    assert text.index("from queue import Empty") < text.index("ForkOrSpawnProcess = ")


def test_annotations_name_types_and_the_file_keeps_its_quotes(tmp_path):
    text = _fixed(tmp_path, RENDER).read_text()
    assert "WORKERS: Dict[int, multiprocessing.process.BaseProcess] = {}" in text
    assert "def start(batch: int) -> multiprocessing.process.BaseProcess:" in text
    assert "CONTEXT_TYPE: type[multiprocessing.context.BaseContext] = ForkOrSpawnContext" in text
    assert "'fork' if 'fork' in multiprocessing.get_all_start_methods() else 'spawn'" in text


def test_the_fixed_program_runs_with_and_without_fork(tmp_path):
    path = _fixed(tmp_path, RENDER)
    expected = "batch 0\nbatch 1\nbatch 2\ndone [0, 1, 2] Empty\n"
    for method in ("fork", SIMULATED_WINDOWS):
        run = run_program(Program(tmp_path, (path.name,)), method)
        assert (run.returncode, run.stdout) == (0, expected), run.describe()


def test_a_file_with_longer_lines_keeps_them(tmp_path):
    wide = "# " + "x" * 118 + "\n" + textwrap.dedent('''\
        import multiprocessing as mp

        CONTEXT = mp.get_context("fork")
    ''')
    text = _fixed(tmp_path, wide, "wide.py").read_text()
    assert 'CONTEXT = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")\n' in text


def test_a_use_already_under_a_fork_check_is_not_guarded_twice(tmp_path):
    # mpire's shape: the flag comes from a probe; the use is already portable.
    source = textwrap.dedent('''\
        import multiprocessing as mp

        try:
            mp.get_context("fork")
            FORK_AVAILABLE = True
        except ValueError:
            FORK_AVAILABLE = False

        FORK_CONTEXT = mp.get_context("fork") if FORK_AVAILABLE else None
    ''')
    assert mpcheck.check_source(source, str(tmp_path / "context.py")) == []
