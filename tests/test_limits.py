"""Limits: inputs far outside what people write (huge files, deep nesting, long lines, many
files, special files) are each checked or reported with a clear reason, within bounded
time and memory, without a traceback. The README's "Limits" section states the figures
these tests hold mpcheck to.

Each run is a subprocess of the installed command: a crash of libcst's native parser or an
exhausted stack must show as a failed test, not kill the test run."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

from .support import Measured, mpcheck_command
from .support import measured as run_measured

# A worker module with one MP101 finding: it must be reported next to whatever a test
# puts beside it.
WORKER = '''\
import multiprocessing


def start(task):
    context = multiprocessing.get_context("fork")
    worker = context.Process(target=task)
    worker.start()
    return worker
'''


def measured(*args: str, cwd: Path, timeout: float = 600) -> Measured:
    return run_measured([*mpcheck_command(), *args], cwd, timeout)


def assert_clean_exit(run: Measured) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr
    assert run.exit_code in (0, 1, 2), (run.exit_code, run.stderr)
    assert "MP999" not in run.stdout, run.stdout


@pytest.fixture
def tree(tmp_path):
    """A project directory with its own (empty) configuration and the worker module."""
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    (tmp_path / "worker.py").write_text(WORKER)
    return tmp_path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_among_the_files_is_reported_not_read(tree):
    # Reading it would wait for a writer forever.
    os.mkfifo(tree / "pipe.py")
    for command in ("check", "fix"):
        run = measured(command, ".", cwd=tree, timeout=60)
        assert_clean_exit(run)
        assert "pipe.py:1:1: MP000 is a named pipe (FIFO), not a regular file, so it was not read" in run.stdout
    assert "get_all_start_methods()" in (tree / "worker.py").read_text()  # the rest was fixed


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_among_the_modules_whose_import_graph_a_result_depends_on_is_not_read(tree):
    # MP201 asks who imports app.py: the result cache then hashes every module of the project.
    (tree / "app.py").write_text("from multiprocessing import Pool\n\nwith Pool(2) as pool:\n    print(pool.map(abs, [-1]))\n")
    os.mkfifo(tree / "pipe.py")
    run = measured("check", ".", cwd=tree, timeout=60)
    assert_clean_exit(run)
    assert "app.py:3:6: MP201" in run.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_named_on_the_command_line_is_reported_not_read(tree):
    run = measured("check", "/dev/zero", "worker.py", cwd=tree, timeout=60)
    assert_clean_exit(run)
    assert "/dev/zero:1:1: MP000 is a character device, not a regular file, so it was not read" in run.stdout
    assert "worker.py:5:15: MP101" in run.stdout


@pytest.mark.slow
def test_pydoc_topics_with_a_finding_is_checked_and_fixed(tree):
    """pydoc_data/topics.py (long implicitly concatenated strings: a tree deeper than the
    default recursion limit, where Fixit's PositionProvider fails) keeps its findings, and
    its fix is printed and written: every walk of the tree runs on the deep thread."""
    topics = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
    path = tree / "topics.py"
    path.write_text(topics.read_text(encoding="utf-8") + "\n\n" + WORKER, encoding="utf-8")
    run = measured("fix", "--unsafe-fixes", "topics.py", cwd=tree)
    assert_clean_exit(run)
    assert run.exit_code == 0, run.stdout
    fixed = path.read_text(encoding="utf-8")
    assert fixed.startswith(topics.read_text(encoding="utf-8"))
    assert 'multiprocessing.get_context("spawn")' in fixed
    compile(fixed, "topics.py", "exec")


def test_a_file_like_pydoc_topics_keeps_its_findings(tree):
    """The quick form of the test above: a dict of help texts, each many implicitly
    concatenated strings (2,900: more nesting than the default recursion limit allows any
    walk of the tree, and below libcst's own limit of 3,000)."""
    texts = "".join(f"           'line {n} of the help text\\n'\n" for n in range(2900))
    path = tree / "topics.py"
    path.write_text("topics = {'assert': 'The assert statement\\n'\n" + texts + "}\n\n\n" + WORKER)
    run = measured("check", "topics.py", cwd=tree)
    assert_clean_exit(run)
    assert run.stdout.startswith("topics.py:2909:15: MP101"), run.stdout
    run = measured("fix", "topics.py", cwd=tree)
    assert_clean_exit(run)
    assert run.exit_code == 0, run.stdout
    fixed = path.read_text()
    assert "get_all_start_methods()" in fixed
    compile(fixed, "topics.py", "exec")


@pytest.mark.slow
def test_a_20_mb_generated_file_is_refused_before_it_is_read(tree):
    rows = "".join(f"    'key{n:08d}': ('value', {n}, {n * 3.5}, b'\\x00'),\n" for n in range(400_000))
    (tree / "table.py").write_text("import multiprocessing\nTABLE = {\n" + rows + "}\n")
    size = (tree / "table.py").stat().st_size
    assert size > 20 * 1024 * 1024
    run = measured("fix", ".", cwd=tree)
    assert_clean_exit(run)
    assert f"table.py:1:1: MP000 file is too large to check ({size} bytes, limit 8388608)" in run.stdout
    assert "get_all_start_methods()" in (tree / "worker.py").read_text()  # the rest is fixed
    assert run.peak_mib < 250  # never read whole


# 5,000 levels of each way Python nests (blocks aside), each beside the worker module, which is still fixed.
NESTED = {
    "brackets": "x = " + "[" * 5000 + "]" * 5000 + "\n",
    "calls": "x = " + "f(" * 5000 + ")" * 5000 + "\n",
    # 5,000 indented blocks would be a 12 MB file: 1,000 of them, where Python allows 100.
    "blocks": "".join(" " * level + "if True:\n" for level in range(1000)) + " " * 1000 + "pass\n",
    "unary": "x = " + "-" * 5000 + "1\n",
    "not": "x = " + "not " * 5000 + "1\n",
    "lambdas": "x = " + "lambda: " * 5000 + "1\n",
    "attributes": "x = a" + ".b" * 5000 + "\n",
    "sum": "x = " + " + ".join(["1"] * 5000) + "\n",
    "elifs": "if x == 0:\n    pass\n" + "".join(f"elif x == {n}:\n    pass\n" for n in range(1, 5000)),
    "strings": "x = (\n" + "".join(f"    'part {n}'\n" for n in range(5000)) + ")\n",
}


@pytest.mark.slow
def test_5000_nesting_levels_are_refused_with_a_reason(tree):
    for name, body in NESTED.items():
        (tree / f"nested_{name}.py").write_text("import multiprocessing\n" + body)
    run = measured("fix", ".", cwd=tree)
    assert_clean_exit(run)
    reasons = {line.split(": MP000 ")[0].split(":")[0]: line.split(": MP000 ")[1]
               for line in run.stdout.splitlines() if ": MP000 " in line}
    assert sorted(reasons) == sorted(f"nested_{name}.py" for name in NESTED), run.stdout
    for path, reason in reasons.items():
        assert reason.startswith((
            "too deeply nested to check",  # Python's parser limit, or mpcheck's 1,000 levels
            "syntax error: too many levels of indentation",  # Python's 100 blocks
            "valid Python that libcst, the parser mpcheck uses, cannot parse",  # 3,000 strings
        )), (path, reason)
    assert "get_all_start_methods()" in (tree / "worker.py").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(
    "line",
    [
        pytest.param("BLOB = '" + "x" * (1024 * 1024) + "'\n", id="a-1-MB-string"),
        pytest.param("DATA = [" + ", ".join(str(n) for n in range(150_000)) + "]\n", id="150000-numbers"),
    ],
)
def test_a_1_mb_line_is_checked(tree, line):
    assert len(line) > 1024 * 1024
    (tree / "worker.py").write_text(line + WORKER)
    run = measured("fix", "worker.py", cwd=tree)
    assert_clean_exit(run)
    assert run.exit_code == 0, run.stdout  # found and fixed
    fixed = (tree / "worker.py").read_text()
    assert fixed.startswith(line) and "get_all_start_methods()" in fixed


@pytest.mark.slow
def test_50000_small_files_are_checked_in_bounded_memory(tree):
    module = '"""Module {n}."""\n\nVALUE = {n}\n\n\ndef double(x):\n    return 2 * x + VALUE\n'
    for package in range(500):
        directory = tree / f"package{package:03d}"
        directory.mkdir()
        (directory / "__init__.py").write_text("")
        for number in range(99):
            (directory / f"module{number:02d}.py").write_text(module.format(n=number))
    run = measured("check", ".", cwd=tree)
    assert_clean_exit(run)
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0].startswith("worker.py:5:15: MP101")
    assert run.peak_mib < 1024


def test_symlink_cycles_in_a_fixed_tree(tree):
    package = tree / "package"
    package.mkdir()
    (package / "jobs.py").write_text(WORKER)
    (package / "again").symlink_to(package, target_is_directory=True)  # a directory cycle
    (package / "ping.py").symlink_to(package / "pong.py")  # a file cycle
    (package / "pong.py").symlink_to(package / "ping.py")
    run = measured("fix", ".", "package/ping.py", cwd=tree, timeout=120)
    assert_clean_exit(run)
    assert run.stdout.count("MP000 cannot read file: Too many levels of symbolic links") == 2, run.stdout
    assert "get_all_start_methods()" in (package / "jobs.py").read_text()
    assert (package / "again").is_symlink() and (package / "ping.py").is_symlink()
