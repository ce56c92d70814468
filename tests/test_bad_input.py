"""Files mpcheck cannot check: each gives one clear MP000 line (or an error for a path that
does not exist), exit status 2, and every other file is still checked and fixed."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

import mpcheck
from mpcheck.engine import Checker
from mpcheck.parsing import parse_module
from mpcheck.source import InputError

from .support import FORK_IMPORT, mpcheck_command, project_index

DEEP_BRACKETS = "import os  # may fork\nx = " + "[" * 3000 + "]" * 3000 + "\n"
# Files are parsed only when the prefilter says a rule could fire: this one mentions fork.
BROKEN = 'import multiprocessing\nctx = multiprocessing.get_context("fork")\ndef start(:\n    pass\n'
LONG_SUM = "import os  # may fork\nx = " + " + ".join(["1"] * 20000) + "\n"


def test_syntax_error_is_reported_and_the_other_files_are_still_checked(cli, write, in_tmp):
    write("broken.py", BROKEN)
    write("app.py", FORK_IMPORT)
    run = cli("check", ".")
    assert run.exit_code == 2
    lines = run.stdout.splitlines()
    assert lines[0].startswith("app.py:1:37: MP101 ")
    assert lines[1].startswith("broken.py:3:11: MP000 syntax error")
    assert "1 file could not be checked." in lines[-1]


def test_fix_still_fixes_the_other_files_and_leaves_the_broken_one_alone(cli, write, in_tmp):
    broken = write("broken.py", BROKEN)
    good = write("good.py", FORK_IMPORT)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert broken.read_text() == BROKEN
    assert "ForkOrSpawnProcess" in good.read_text()


def test_an_error_python_finds_only_when_compiling_is_a_syntax_error_not_an_internal_one(cli, write, in_tmp):
    # ast.parse accepts it and libcst refuses to build it (CSTValidationError); it was MP999
    # on pylint's tests/functional/t/try_except_raise.py.
    write("handlers.py", "import multiprocessing\n\ntry:\n    pool = multiprocessing.Pool()\nexcept:\n"
                         "    raise\nexcept ValueError:\n    pass\n")
    write("app.py", FORK_IMPORT)
    run = cli("check", ".")
    assert run.exit_code == 2
    lines = run.stdout.splitlines()
    assert lines[0].startswith("app.py:1:37: MP101 ")
    assert lines[1] == "handlers.py:5:1: MP000 syntax error: default 'except:' must be last"


def test_what_only_libcsts_own_node_checks_refuse_is_still_refused(cli, write, in_tmp):
    # libcst's grammar takes `"pid" b"-"`; only the checks it makes on each node it builds
    # refuse it. Those are skipped for a text CPython's parser accepts (parsing.py), not here.
    write("labels.py", 'import os\nLABEL = "pid" b"-"\nos.fork()\n')
    run = cli("check", "labels.py")
    assert run.exit_code == 2
    assert run.stdout.startswith("labels.py:2:19: MP000 syntax error: cannot mix bytes and nonbytes literals")


@pytest.mark.parametrize("text", ["import os\n", "def start(:\n", "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n"])
def test_libcst_checks_the_nodes_it_builds_again_once_a_parse_is_over(text):
    with contextlib.suppress(InputError):
        parse_module(text)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(cst.CSTValidationError):
        cst.Try(body=cst.IndentedBlock([]))  # no handler, no finally


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b'import os\nname = "caf\xe9"\nos.fork()\n', "2:12: MP000 file is not valid utf-8: byte 0xe9", id="latin-1-without-cookie"),
        pytest.param(b'x = "\xff\xfe"\nimport os\nos.fork()\n', "1:6: MP000 file is not valid utf-8: byte 0xff", id="bad-first-line"),
        pytest.param(b"# -*- coding: klingon -*-\nimport os\n", "1:1: MP000 bad encoding declaration: unknown encoding: klingon", id="unknown-codec"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00\x00fork", "1:1: MP000 file is binary", id="binary"),
    ],
)
def test_undecodable_files_say_why(cli, write, in_tmp, raw, expected):
    write("bad.py", raw)
    run = cli("check", "bad.py")
    assert run.exit_code == 2
    assert run.stdout.startswith("bad.py:" + expected), run.stdout


def test_latin1_file_with_cookie_is_checked_and_fixed_in_latin1(cli, write, in_tmp):
    source = b'# -*- coding: latin-1 -*-\nfrom multiprocessing.context import ForkProcess\nLABEL = "d\xe9j\xe0 vu"\n'
    path = write("legacy.py", source)
    assert cli("check", "legacy.py").exit_code == 1
    assert cli("fix", "legacy.py").exit_code == 0
    fixed = path.read_bytes()
    assert fixed.startswith(b"# -*- coding: latin-1 -*-\nimport multiprocessing\n")
    assert fixed.endswith(b'LABEL = "d\xe9j\xe0 vu"\n')  # still latin-1, not UTF-8
    assert "ForkOrSpawnProcess" in fixed.decode("latin-1")


def test_empty_file_is_clean(cli, write, in_tmp):
    write("empty.py", b"")
    run = cli("check", "empty.py")
    assert (run.exit_code, run.stdout) == (0, "All checks passed!\n")


def test_nonexistent_path_is_an_error_but_the_rest_is_checked(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    run = cli("check", "no/such/dir", "app.py")
    assert run.exit_code == 2
    assert "error: no/such/dir: no such file or directory" in run.stderr
    assert run.stdout.startswith("app.py:1:37: MP101")


def test_dangling_symlink_is_a_read_error(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    (in_tmp / "gone.py").symlink_to(in_tmp / "deleted.py")
    run = cli("check", ".")
    assert run.exit_code == 2
    assert "gone.py:1:1: MP000 cannot read file: No such file or directory" in run.stdout
    assert "app.py:1:37: MP101" in run.stdout


def test_unreadable_file_is_reported_not_raised(cli, write, in_tmp, monkeypatch):
    # We run as root in CI, where chmod cannot stop a read: make the read itself fail.
    write("secret.py", FORK_IMPORT)
    write("app.py", FORK_IMPORT)
    real_open = os.open

    def open_file(path, flags, *args, **kwargs):
        if Path(path).name == "secret.py":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_file)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert "secret.py:1:1: MP000 cannot read file: Permission denied" in run.stdout
    assert "ForkOrSpawnProcess" in (in_tmp / "app.py").read_text()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(cli, write, in_tmp):
    path = write("secret.py", FORK_IMPORT)
    path.chmod(0)
    try:
        run = cli("check", "secret.py")
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert run.exit_code == 2
    assert "secret.py:1:1: MP000 cannot read file: Permission denied" in run.stdout


def test_symlink_loops_neither_hang_nor_crash(cli, write, in_tmp):
    write("pkg/app.py", FORK_IMPORT)
    (in_tmp / "pkg" / "again").symlink_to(in_tmp / "pkg", target_is_directory=True)  # directory loop
    (in_tmp / "pkg" / "ping.py").symlink_to(in_tmp / "pkg" / "pong.py")  # file loop
    (in_tmp / "pkg" / "pong.py").symlink_to(in_tmp / "pkg" / "ping.py")
    run = cli("check", "pkg", "pkg/ping.py")
    assert run.exit_code == 2
    assert run.stdout.count("pkg/app.py:1:37: MP101") == 1  # not again through pkg/again
    assert "pkg/ping.py:1:1: MP000 cannot read file: Too many levels of symbolic links" in run.stdout
    assert "pkg/pong.py:1:1: MP000" in run.stdout


@pytest.mark.parametrize("source", [DEEP_BRACKETS, LONG_SUM], ids=["3000-brackets", "20000-term-sum"])
def test_deeply_nested_expression_is_refused_cleanly(installed, write, source):
    # In a subprocess: libcst's native parser would kill the whole interpreter on this.
    write("deep.py", source)
    app = write("app.py", FORK_IMPORT)
    for command in ("check", "fix"):
        run = installed(command, "deep.py", "app.py")
        assert run.exit_code == 2, run.stderr
        assert "deep.py:" in run.stdout and "MP000 too deeply nested to check" in run.stdout
        assert "Traceback" not in run.stderr and "RecursionError" not in run.stderr
    assert "ForkOrSpawnProcess" in app.read_text()  # the other file was still fixed


def test_deep_but_legal_nesting_is_checked():
    # 90 levels is within CPython's limit; everything downstream recurses once per level.
    source = FORK_IMPORT + "x = " + "(" * 90 + "1" + ")" * 90 + "\n"
    assert [d.code for d in mpcheck.check_source(source, "deep.py")] == ["MP101"]
    assert "ForkOrSpawnProcess" in mpcheck.fix_source(source, "deep.py").text


def test_library_api_reports_input_errors_as_mp000():
    (finding,) = mpcheck.check_source(BROKEN, "x.py")
    assert (finding.code, finding.line, finding.column) == ("MP000", 3, 11)
    assert finding.message.startswith("syntax error")


def test_a_failed_write_leaves_the_original_and_no_temporary_file(write, in_tmp, monkeypatch):
    from mpcheck.fixes import files as fixer

    path = write("app.py", FORK_IMPORT)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fixer.os, "replace", failing_replace)
    with pytest.raises(OSError):
        fixer.write_atomically(path, b"half")
    assert path.read_text() == FORK_IMPORT
    assert sorted(p.name for p in in_tmp.iterdir()) == ["app.py", "pyproject.toml"]


def test_checker_survives_every_kind_of_bad_input_in_one_run(write, in_tmp):
    """One Checker, one file after another: an error in one leaves it usable for the next."""
    checker = Checker()
    bad = [
        write("a.py", BROKEN),
        write("b.py", DEEP_BRACKETS),
        write("c.py", b"\x00fork"),
    ]
    for path in bad:
        assert checker.check_file(path).has_input_error
    assert [d.code for d in checker.check_file(write("d.py", FORK_IMPORT)).diagnostics] == ["MP101"]


@pytest.mark.parametrize(
    "raw",
    [BROKEN.encode(), b"\x00\x01 fork binary", 'import os\n# caf\u00e9 fork\n'.encode("utf-16")],
    ids=["syntax-error", "binary", "utf-16"],
)
def test_fix_from_stdin_gives_back_what_it_could_not_fix_unchanged(raw, tmp_path):
    completed = subprocess.run([*mpcheck_command(), "fix", "-"], input=raw, capture_output=True, cwd=tmp_path, timeout=60)
    assert completed.returncode == 2
    assert completed.stdout == raw  # `mpcheck fix - < a > b` must never lose a file
    assert b"-:1:1: MP000" in completed.stderr or b"-:3:11: MP000" in completed.stderr


def test_a_file_that_cannot_be_written_is_reported_and_the_rest_still_fixed(cli, write, in_tmp, monkeypatch):
    from mpcheck.fixes import files as fixer

    stuck = write("a_stuck.py", FORK_IMPORT)
    other = write("b_other.py", FORK_IMPORT)
    real_replace = fixer.os.replace

    def replace(source, target):
        if str(target).endswith("a_stuck.py"):
            raise OSError(30, "Read-only file system")
        return real_replace(source, target)

    monkeypatch.setattr(fixer.os, "replace", replace)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert "a_stuck.py:1:1: MP000 cannot write the fixed file: Read-only file system" in run.stdout
    assert stuck.read_text() == FORK_IMPORT
    assert "ForkOrSpawnProcess" in other.read_text()
    assert sorted(p.name for p in in_tmp.iterdir()) == ["a_stuck.py", "b_other.py", "pyproject.toml"]


def test_long_operator_chains_are_refused_on_every_python_version():
    # CPython 3.10 parses a 20000-term sum, and libcst then takes minutes on it.
    (finding,) = mpcheck.check_source(LONG_SUM, "sum.py")
    assert finding.code == "MP000" and finding.message.startswith("too deeply nested to check")
    chain = "import os  # fork\nvalue = config" + ".child" * 1500 + "\n"
    (finding,) = mpcheck.check_source(chain, "chain.py")
    assert (finding.code, finding.line) == ("MP000", 2)
    # Long but realistic chains are still checked.
    generated = "import os\nTABLE = " + " + ".join(["'x'"] * 300) + "\nos.fork()\n"
    assert [d.code for d in mpcheck.check_source(generated, "gen.py")] == ["MP101"]


@pytest.mark.parametrize("terms, refused", [(995, False), (1005, True)])
def test_the_depth_limit_counts_every_level(terms, refused):
    # Module > Assign > 994 nested BinOps > Constant is 997 levels; 1,004 BinOps go past 1,000.
    source = "import os\nx = (" + " + ".join(["1"] * terms) + ")\nos.fork()\n"
    codes = [finding.code for finding in mpcheck.check_source(source, "table.py")]
    assert codes == (["MP000"] if refused else ["MP101"])


def test_the_node_limit_leaves_out_contexts_and_operators(monkeypatch):
    from mpcheck import syntax

    # Module, Import, alias, Assign, Name, BinOp x 2, Name x 3, Expr, Call, Attribute, Name:
    # 14 nodes; with their six Load/Store contexts and the two Add operators, 22.
    source = "import os\nx = a + b + c\nos.fork()\n"
    monkeypatch.setattr(syntax, "_MAX_AST_NODES", 14)
    assert [finding.code for finding in mpcheck.check_source(source, "small.py")] == ["MP101"]
    monkeypatch.setattr(syntax, "_MAX_AST_NODES", 13)
    (finding,) = mpcheck.check_source(source, "small.py")
    assert finding.message == "file is too large to check (more than 13 syntax nodes)"


def test_a_text_read_with_cpythons_ast_is_not_parsed_by_cpython_again_unless_beyond_the_limits(
        tmp_path: Path, monkeypatch) -> None:
    """The project index reads an indented import statement with CPython's ast; when a
    question then needs the importer's model, libcst parses that text without CPython
    parsing it a second time. A text whose tree is beyond libcst's limits is still refused,
    and another text of the module (the file changed since) is parsed by CPython again."""
    from mpcheck import parsing, syntax

    deep = "level = " + "-" * 30 + "1\n"  # 30 nested unary operators
    index = project_index(tmp_path, {
        "kit/__init__.py": "if True:\n    from . import tool\n",
        "kit/deep.py": "if True:\n    from . import tool\n" + deep,
        "kit/tool.py": "def run():\n    print('run')\n",
    })
    asked: list[str] = []
    cpython = parsing.cpython_syntax_error
    monkeypatch.setattr(parsing, "cpython_syntax_error", lambda text: asked.append(text) or cpython(text))
    monkeypatch.setattr(syntax, "_MAX_AST_DEPTH", 20)
    init, tricky = index.module_at(tmp_path / "kit/__init__.py"), index.module_at(tmp_path / "kit/deep.py")
    for module in (init, tricky):
        assert index._import_statements(module) == [(".tool", False, False)]
    assert index.model_of(init) is not None
    assert asked == []
    assert index.model_of(tricky) is None  # refused, as it would have been without the ast reading
    assert asked == [(tmp_path / "kit/deep.py").read_text()]
    text = (tmp_path / "kit/__init__.py").read_text()
    assert index.accepts(tmp_path / "kit/__init__.py", text)
    assert not index.accepts(tmp_path / "kit/__init__.py", text + "import os\n")


def test_a_file_too_large_to_be_code_is_refused(cli, write, in_tmp, monkeypatch):
    from mpcheck import source

    monkeypatch.setattr(source, "MAX_FILE_BYTES", 64)
    write("data.py", "import os\n" + "# fork\n" * 20)
    run = cli("check", "data.py")
    assert run.exit_code == 2
    assert "data.py:1:1: MP000 file is too large to check (150 bytes, limit 64)" in run.stdout


def test_checking_leaves_the_interpreters_recursion_limit_as_it_was():
    # Deep trees are walked with a raised limit on a thread with a large stack; a program
    # using the library keeps its own limit, so its own runaway recursion still raises
    # RecursionError instead of overflowing its main thread's stack.
    limit = sys.getrecursionlimit()
    source = FORK_IMPORT + "x = " + "(" * 90 + "1" + ")" * 90 + "\n"
    assert "ForkOrSpawnProcess" in mpcheck.fix_source(source, "deep.py").text
    assert sys.getrecursionlimit() == limit
