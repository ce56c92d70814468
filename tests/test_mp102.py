"""MP102 (start method chosen at import, or twice): the hazard and the safe fix under the
oracle, mutations of the fix, and its agreement with MP101 (no fix loops; fixed files are
clean for both)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import mpcheck

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, run_program

METHODS = (*START_METHODS, SIMULATED_WINDOWS)

SCRIPT = '''\
"""Thumbnails of a photo library, one worker per core."""

import multiprocessing
import sys

multiprocessing.set_start_method("spawn")  # CUDA-style: never fork

SIZES = (64, 128)


def thumbnail(name):
    return f"{name}: {' '.join(f'{size}px' for size in SIZES)}"


if __name__ == "__main__":
    names = sys.argv[1:] or ["cat.jpg", "dog.jpg", "owl.jpg"]
    with multiprocessing.Pool(2) as pool:
        for line in pool.map(thumbnail, names):
            print(line)
    print("start method:", multiprocessing.get_start_method())
'''
EXPECTED = "cat.jpg: 64px 128px\ndog.jpg: 64px 128px\nowl.jpg: 64px 128px\nstart method: spawn\n"


def _fixed(source: str, path: str = "thumbs.py") -> mpcheck.FixedSource:
    return mpcheck.fix_source(source, path)


def _write(directory: Path, text: str) -> Program:
    directory.mkdir()
    (directory / "thumbs.py").write_text(text)
    return Program(directory, ("thumbs.py",))


@pytest.mark.oracle
def test_the_hazard_and_the_fix_under_every_start_method(tmp_path):
    fixed = _fixed(SCRIPT)
    assert [d.code for d in fixed.fixed] == ["MP102"] and fixed.remaining == []
    original = _write(tmp_path / "original", SCRIPT)
    repaired = _write(tmp_path / "fixed", fixed.text)
    # The original is broken under every start method: it chose spawn, and each spawned worker
    # re-imports the script and calls set_start_method again. Pool respawns the dying workers
    # forever, so it never finishes.
    broken = run_program(original, "fork", timeout=4.0)
    assert broken.returncode != 0 and "context has already been set" in broken.stderr, broken.describe()
    with ThreadPoolExecutor(len(METHODS)) as pool:
        runs = list(pool.map(lambda method: run_program(repaired, method), METHODS))
    for run in runs:
        assert run.returncode == 0 and run.stdout == EXPECTED, run.describe()


# Mutations of SCRIPT: (old, new), and whether the safe fix must still be offered.
MUTATIONS = {
    "work-between": (('SIZES = (64, 128)\n', 'SIZES = (64, 128)\nQUEUE = multiprocessing.Queue()\n'), False),
    "two-statements-on-a-line": (('multiprocessing.set_start_method("spawn")', 'multiprocessing.set_start_method("spawn"); X = 1'), False),
    "guard-with-else": (('    print("start method:", multiprocessing.get_start_method())\n',
                         '    print("start method:", multiprocessing.get_start_method())\nelse:\n    pass\n'), False),
    "no-guard": (('if __name__ == "__main__":\n', 'if True:\n'), False),
    "harmless-between": (('SIZES = (64, 128)\n', 'SIZES = tuple(sorted((128, 64)))\n'), True),
    "class-between": (('SIZES = (64, 128)\n', 'SIZES = (64, 128)\n\n\nclass Photo:\n    pass\n'), True),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutations_decline_or_keep_the_fix(mutation):
    (old, new), offered = MUTATIONS[mutation]
    source = SCRIPT.replace(old, new)
    assert source != SCRIPT
    fixed = mpcheck.fix_source(source, "thumbs.py", settings=mpcheck.Settings(select=("MP102",)))
    assert (fixed.text != source) == offered, fixed.text
    if offered:
        assert "    multiprocessing.set_start_method(\"spawn\")  # CUDA-style: never fork\n    names" in fixed.text


def test_fix_agrees_with_mp101_on_forkserver():
    source = SCRIPT.replace('"spawn")', '"forkserver")')
    fixed = _fixed(source)
    assert sorted(d.code for d in fixed.fixed) == ["MP101", "MP102"]
    assert fixed.remaining == []
    assert 'if __name__ == "__main__":\n    if "forkserver" in multiprocessing.get_all_start_methods():\n' \
           '        multiprocessing.set_start_method("forkserver")' in fixed.text
    assert _fixed(fixed.text).text == fixed.text


def test_mp101_fix_of_fork_at_import_is_clean_for_mp102():
    source = 'import multiprocessing as mp\n\nmp.set_start_method("fork")\n\nif __name__ == "__main__":\n    print(1)\n'
    fixed = _fixed(source)
    assert [d.code for d in fixed.fixed] == ["MP101"] and fixed.remaining == []


def test_twice_only_when_the_first_always_ran():
    exclusive = (
        "import multiprocessing as mp\nimport sys\n\n"
        "def main():\n"
        "    if sys.platform == 'darwin':\n        mp.set_start_method('spawn')\n"
        "    else:\n        mp.set_start_method('forkserver')\n"
    )
    assert [d for d in mpcheck.check_source(exclusive, "tool.py") if d.code == "MP102"] == []
    nested = "import multiprocessing as mp\n\ndef main(gpu):\n    mp.get_start_method()\n    if gpu:\n" \
             "        mp.set_start_method('spawn')\n"
    [finding] = [d for d in mpcheck.check_source(nested, "tool.py") if d.code == "MP102"]
    assert finding.line == 6 and "`get_start_method()` on line 4" in finding.message


def test_library_module_of_a_project(tmp_path):
    package = tmp_path / "renderer"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'renderer'\n")
    (package / "__init__.py").write_text("from .pool import render\n")
    pool = package / "pool.py"
    pool.write_text("import multiprocessing as mp\n\nmp.set_start_method('spawn', force=True)\n\n"
                    "def render(frames):\n    return frames\n")
    [finding] = [d for d in mpcheck.check_source(pool.read_text(), str(pool)) if d.code == "MP102"]
    assert "every program that imports it" in finding.message and not finding.fixable
