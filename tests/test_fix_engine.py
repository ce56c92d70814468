"""What `fix` promises about the files it writes: only the fixed lines change; encoding,
BOM, line endings, mode and symlinks are kept; a second run changes nothing; `--diff`
writes nothing."""

from __future__ import annotations

import os
import stat

import pytest

import mpcheck

from .support import FORK_IMPORT

LEGACY = '''\
"""Render workers."""
# Copyright (c) legacy authors.
import multiprocessing as mp
from multiprocessing.context import ForkProcess   # odd spacing, kept


def render( frame ):   # formatting the fixer must not touch
    return frame*2


CTX = mp.get_context('fork')  # a comment after the call


if __name__ == "__main__":
    jobs = [ForkProcess(target=render, args=(i,)) for i in range(2)]
'''

LEGACY_FIXED = '''\
"""Render workers."""
# Copyright (c) legacy authors.
import multiprocessing as mp
ForkOrSpawnProcess = mp.get_context(
    "fork" if "fork" in mp.get_all_start_methods() else "spawn"
).Process   # odd spacing, kept


def render( frame ):   # formatting the fixer must not touch
    return frame*2


CTX = mp.get_context(
    "fork" if "fork" in mp.get_all_start_methods() else "spawn"
)  # a comment after the call


if __name__ == "__main__":
    jobs = [ForkOrSpawnProcess(target=render, args=(i,)) for i in range(2)]
'''


def test_fix_keeps_comments_and_formatting(cli, write, in_tmp):
    path = write("render.py", LEGACY)
    run = cli("fix", "render.py")
    assert run.exit_code == 0, run.stdout
    assert path.read_text() == LEGACY_FIXED
    assert "Fixed 2 findings (0 remaining)." in run.stdout


def test_second_fix_run_changes_nothing(cli, write, in_tmp):
    path = write("render.py", LEGACY)
    cli("fix", "render.py")
    before = path.stat().st_mtime_ns
    run = cli("fix", "render.py")
    assert (run.exit_code, run.stdout) == (0, "Fixed 0 findings (0 remaining).\n")
    assert path.read_text() == LEGACY_FIXED
    assert path.stat().st_mtime_ns == before  # not even rewritten


def test_bom_crlf_and_mode_are_kept(cli, write, in_tmp):
    raw = LEGACY.replace("\n", "\r\n").encode("utf-8-sig")
    path = write("render.py", raw)
    path.chmod(0o751)
    assert cli("fix", "render.py").exit_code == 0
    assert path.read_bytes() == LEGACY_FIXED.replace("\n", "\r\n").encode("utf-8-sig")
    assert stat.S_IMODE(path.stat().st_mode) == 0o751


def test_encoding_cookie_is_kept_and_honoured(cli, write, in_tmp):
    source = "# vim: set fileencoding=cp1252 :\n" + FORK_IMPORT + 'PRICE = "5 \u20ac"\n'
    path = write("shop.py", source.encode("cp1252"))
    assert cli("fix", "shop.py").exit_code == 0
    text = path.read_bytes().decode("cp1252")
    assert text.startswith("# vim: set fileencoding=cp1252 :\nimport multiprocessing\n")
    assert text.endswith('PRICE = "5 \u20ac"\n')


def test_a_symlinked_file_keeps_its_link(cli, write, in_tmp):
    target = write("real/worker.py", FORK_IMPORT)
    link = in_tmp / "worker.py"
    link.symlink_to(target)
    assert cli("fix", "worker.py").exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "ForkOrSpawnProcess" in target.read_text()


def test_fix_leaves_no_temporary_files(cli, write, in_tmp):
    write("pkg/a.py", FORK_IMPORT)
    write("pkg/b.py", LEGACY)
    cli("fix", "pkg")
    assert sorted(p.name for p in (in_tmp / "pkg").iterdir()) == ["a.py", "b.py"]


def test_diff_prints_a_unified_diff_and_writes_nothing(cli, write, in_tmp):
    path = write("render.py", LEGACY)
    run = cli("fix", "--diff", "render.py")
    assert run.exit_code == 1
    assert path.read_text() == LEGACY
    assert run.stdout.startswith("--- a/render.py\n+++ b/render.py\n@@ ")
    assert "-from multiprocessing.context import ForkProcess   # odd spacing, kept\n" in run.stdout
    assert '+CTX = mp.get_context(\n+    "fork" if "fork" in mp.get_all_start_methods() else "spawn"\n' in run.stdout
    assert "Would fix 2 findings." in run.stderr
    # The diff applies: it is exactly the difference to what `fix` writes.
    assert cli("check", "--diff", "render.py").stdout == run.stdout


def test_diff_of_an_absolute_path_has_sane_prefixes(cli, write, in_tmp):
    path = write("render.py", FORK_IMPORT)
    run = cli("fix", "--diff", str(path))
    relative = path.relative_to(path.anchor).as_posix()
    assert run.stdout.startswith(f"--- a/{relative}\n+++ b/{relative}\n")


def test_diff_keeps_a_form_feed_line_whole(cli, write, in_tmp):
    write("paged.py", "import multiprocessing\n\x0c\n\nctx = multiprocessing.get_context('fork')\n")
    run = cli("fix", "--diff", "paged.py")
    assert run.stdout.split("\n")[3:6] == [" import multiprocessing", " \x0c", " "]
    assert "No newline at end of file" not in run.stdout


def test_diff_with_nothing_to_fix_exits_zero(cli, write, in_tmp):
    write("clean.py", "import multiprocessing as mp\nctx = mp.get_context('spawn')\n")
    run = cli("fix", "--diff", "clean.py")
    assert (run.exit_code, run.stdout) == (0, "")


def test_unsafe_fixes_switch_to_spawn(cli, write, in_tmp):
    path = write("render.py", LEGACY)
    assert cli("fix", "--unsafe-fixes", "render.py").exit_code == 0
    text = path.read_text()
    assert "from multiprocessing.context import SpawnProcess   # odd spacing, kept\n" in text
    assert "CTX = mp.get_context('spawn')  # a comment after the call\n" in text
    assert "jobs = [SpawnProcess(target=render" in text
    assert "get_all_start_methods" not in text


def test_os_fork_is_reported_but_never_rewritten(cli, write, in_tmp):
    source = "import os\n\ndef daemonize():\n    if os.fork():\n        os._exit(0)\n"
    path = write("daemon.py", source)
    run = cli("fix", "--unsafe-fixes", "daemon.py")
    assert run.exit_code == 1
    assert "daemon.py:4:8: MP101 `os.fork()` does not exist on Windows" in run.stdout
    assert "Fixed 0 findings (1 remaining). The rest have no automatic fix" in run.stdout
    assert path.read_text() == source


def test_fix_source_returns_what_was_fixed_and_what_remains():
    source = "import os\n" + FORK_IMPORT + "os.forkpty()\n"
    result = mpcheck.fix_source(source, "app.py")
    assert [d.code for d in result.fixed] == ["MP101"]
    # the fixed assignment is wrapped over three lines: os.forkpty() moved down to line 6
    assert [(d.line, d.code, d.fixable) for d in result.remaining] == [(6, "MP101", False)]
    assert "ForkOrSpawnProcess" in result.text


@pytest.mark.parametrize("flag", ["--fix", "fix"])
def test_fix_from_stdin_writes_the_fixed_source_to_stdout(installed, flag):
    args = ["check", "--fix", "-"] if flag == "--fix" else ["fix", "-"]
    run = installed(*args, "--stdin-filename", "app.py", input=LEGACY.encode())
    assert run.exit_code == 0, run.stderr
    assert run.stdout == LEGACY_FIXED
    assert "Fixed 2 findings (0 remaining)." in run.stderr


def test_old_mac_line_endings_are_kept_and_positions_count_them():
    source = "import multiprocessing as mp\rCTX = mp.get_context('fork')\rprint(CTX)"
    (finding,) = mpcheck.check_source(source, "app.py")
    edit = finding.fix.edit
    # the new text starts with the old 'fork' (same quotes): the edit inserts after it
    assert (finding.line, edit.line, edit.column, edit.end_column) == (2, 2, 28, 28)
    fixed = mpcheck.fix_source(source, "app.py").text
    # the file's own quotes (single) for the new strings
    assert fixed.split("\r")[1] == "CTX = mp.get_context('fork' if 'fork' in mp.get_all_start_methods() else 'spawn')"
    assert fixed.count("\r") == 2 and "\n" not in fixed


def test_a_file_the_parser_cannot_reproduce_is_not_fixed(cli, write, in_tmp):
    # libcst drops a lone \r at the very end of a file; writing its output would lose it.
    raw = b"import multiprocessing as mp\rCTX = mp.get_context('fork')\r"
    path = write("app.py", raw)
    run = cli("fix", "app.py")
    assert run.exit_code == 2
    assert "app.py:1:1: MP000 the parser cannot reproduce this file exactly" in run.stdout
    assert path.read_bytes() == raw


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root can give a file away")
def test_fixing_someone_elses_file_as_root_keeps_its_owner(cli, write, in_tmp):
    path = write("app.py", FORK_IMPORT)
    os.chown(path, 4242, 4343)
    assert cli("fix", "app.py").exit_code == 0
    assert (path.stat().st_uid, path.stat().st_gid) == (4242, 4343)
    assert "ForkOrSpawnProcess" in path.read_text()
