"""What `mpcheck fix` does to the files on disk when things go wrong around it: it is
interrupted (SIGINT, SIGTERM, SIGKILL), two runs fix one tree at once, a file or its
directory is read-only, a file changes between being read and being written. Every file
must always be whole: its old content or its fixed content, never a mix, never empty, and
no temporary file is left behind -- except by SIGKILL in the instant between naming the
new content and the rename (or, on a file system without O_TMPFILE, while it is written),
and the next run removes that one.

The trees are made from every registered rule's INVALID examples, so that whatever fixes
the registry holds are the ones written."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from mpcheck.fixes import NotWritten, write_atomically
from mpcheck.fixes import files as fixer
from mpcheck.fixes.files import LEFTOVER_AGE
from mpcheck.rules import ALL_RULES
from mpcheck.dependencies import content_digest

from .support import FORK_IMPORT, mpcheck_command

# Enough files for the run to be spread over worker processes (engine._PARALLEL_MIN_FILES)
# and to take a few seconds, so that a signal lands while files are being written.
COPIES = 16
TEMPORARY_SUFFIX = ".mpcheck-tmp"


def make_tree(root: Path, copies: int = COPIES) -> dict[Path, bytes]:
    """`copies` projects, each holding every rule's INVALID examples as modules; the
    bytes of every file by path."""
    for index in range(copies):
        project = root / f"project{index:02d}"
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text("[tool.mpcheck]\n")
        for rule in ALL_RULES:
            for number, example in enumerate(rule.INVALID):
                (project / f"{rule.code.lower()}_{number}.py").write_text(example.source)
    (root / "pyproject.toml").write_text("[tool.mpcheck]\n")
    return snapshot(root)


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path.relative_to(root): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def start_fix(root: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*mpcheck_command(), "fix", "--unsafe-fixes", *extra, "."], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    """Its exit status and output. The output ends when every process holding it has
    ended: a killed run's workers must end by themselves."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything it left running (workers of a killed run)
        except ProcessLookupError:
            pass
        process.wait()
    return process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def fixed_reference(tmp_path_factory) -> tuple[dict[Path, bytes], dict[Path, bytes]]:
    """The tree before and after one complete `mpcheck fix --unsafe-fixes`."""
    root = tmp_path_factory.mktemp("reference")
    before = make_tree(root)
    code, stdout, stderr = finish(start_fix(root))
    assert code in (0, 1) and "Traceback" not in stderr, stderr
    after = snapshot(root)
    changed = [path for path in before if before[path] != after[path]]
    assert len(changed) > COPIES * 5, "the registry's examples must give many files to fix"
    return before, after


def assert_every_file_old_or_new(root: Path, before: dict[Path, bytes], after: dict[Path, bytes],
                                 killed: bool = False) -> int:
    """Every file is whole -- as it was or as a complete run makes it -- and there is no
    other file, except, when the run was `killed` (SIGKILL), the one temporary file of
    the write it interrupted (files are written one at a time); the number of files fixed."""
    now = snapshot(root)
    left = leftovers(root, before)
    assert len(left) <= (1 if killed else 0), f"temporary files left behind: {left}"
    for path in left:
        del now[path.relative_to(root)]
    assert sorted(now) == sorted(before), f"files appeared or vanished: {sorted(set(now) ^ set(before))}"
    mixed = [path for path in now if now[path] not in (before[path], after[path])]
    assert not mixed, f"neither the old nor the fixed content: {mixed[:5]}"
    return sum(1 for path in now if now[path] != before[path])


def leftovers(root: Path, before: dict[Path, bytes]) -> list[Path]:
    """The temporary files of writes that did not finish: `.NAME.*.mpcheck-tmp` beside a
    file NAME of the tree."""
    return [path for path in root.rglob(f".*{TEMPORARY_SUFFIX}")
            if path.relative_to(root).with_name(path.name[1:-len(TEMPORARY_SUFFIX)].rsplit(".", 1)[0]) in before]


def assert_killed_run_whole_and_mended(root: Path, before: dict[Path, bytes], after: dict[Path, bytes]) -> int:
    """After SIGKILL: every file whole (`assert_every_file_old_or_new`), and the next run,
    once a temporary file left behind is old enough, fixes the rest and removes it; the
    number of files the killed run fixed."""
    fixed = assert_every_file_old_or_new(root, before, after, killed=True)
    old = time.time() - LEFTOVER_AGE - 1
    for path in leftovers(root, before):
        os.utime(path, (old, old))
    code, stdout, stderr = finish(start_fix(root))
    assert code in (0, 1) and "Traceback" not in stderr, stderr
    assert snapshot(root) == after
    return fixed


def wait_until_files_change(root: Path, before: dict[Path, bytes], process: subprocess.Popen, count: int) -> None:
    """Return as soon as the run has written `count` files (it is then writing the rest)."""
    deadline = time.monotonic() + 240
    paths = [root / path for path in before if path.suffix == ".py"]
    while time.monotonic() < deadline and process.poll() is None:
        if sum(path.read_bytes() != before[path.relative_to(root)] for path in paths) >= count:
            return
        time.sleep(0.01)
    pytest.fail(f"the run wrote fewer than {count} files before it ended or timed out")


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(
    ("sent", "whole_group", "exit_code"),
    [
        pytest.param(signal.SIGINT, True, 130, id="ctrl-c-to-the-process-group"),
        pytest.param(signal.SIGINT, False, 130, id="sigint-to-mpcheck-only"),
        pytest.param(signal.SIGTERM, False, 143, id="sigterm"),
        pytest.param(signal.SIGKILL, False, -9, id="sigkill"),
    ],
)
def test_an_interrupted_fix_leaves_every_file_whole(tmp_path, fixed_reference, sent, whole_group, exit_code):
    before, after = fixed_reference
    assert make_tree(tmp_path) == before
    process = start_fix(tmp_path)
    to_fix = sum(before[path] != after[path] for path in before)
    wait_until_files_change(tmp_path, before, process, to_fix // 3)  # well into the writing
    (os.killpg if whole_group else os.kill)(process.pid, sent)
    code, stdout, stderr = finish(process, timeout=60)
    assert "Traceback" not in stderr, stderr
    if code not in (0, 1):  # else the run ended before the signal came
        assert code == exit_code, stderr
        if sent != signal.SIGKILL:
            assert stderr.strip().endswith(
                f"mpcheck: interrupted by {sent.name}; every file is either fixed or as it was"), stderr
    if sent == signal.SIGKILL:
        fixed = assert_killed_run_whole_and_mended(tmp_path, before, after)
    else:
        fixed = assert_every_file_old_or_new(tmp_path, before, after)
    print(f"{sent.name}: exit {code}, {fixed} of {to_fix} files fixed")
    assert fixed >= 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_fix_of_a_small_tree_killed_while_writing_leaves_every_file_whole(tmp_path):
    """The quick form of the tests above, for every run: SIGKILL (no handler, no clean-up)
    as soon as the first file is written; the workers must end by themselves."""
    before = make_tree(tmp_path / "killed", copies=1)
    reference = tmp_path / "reference"
    assert make_tree(reference, copies=1) == before
    finish(start_fix(reference))
    after = snapshot(reference)
    process = start_fix(tmp_path / "killed")
    wait_until_files_change(tmp_path / "killed", before, process, 1)
    process.kill()
    code, stdout, stderr = finish(process, timeout=60)
    assert code in (0, 1, -signal.SIGKILL), stderr
    assert assert_killed_run_whole_and_mended(tmp_path / "killed", before, after) >= 1


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"), reason="O_TMPFILE")
def test_the_file_is_read_again_before_the_new_content_has_a_name(tmp_path, monkeypatch):
    """Reading the file again to see whether it changed takes a while (CI once killed a fix
    then, and its temporary file stayed): the new content is named only after that check,
    so that only the rename itself follows."""
    path = tmp_path / "app.py"
    path.write_bytes(FORK_IMPORT.encode())
    listed = []
    read_again = fixer._current_digest

    def listing_first(target: Path) -> str | None:
        listed.append(sorted(child.name for child in tmp_path.iterdir()))
        return read_again(target)

    monkeypatch.setattr(fixer, "_current_digest", listing_first)
    write_atomically(path, b"fixed = True\n", content_digest(FORK_IMPORT.encode()))
    assert listed == [["app.py"]]
    assert sorted(child.name for child in tmp_path.iterdir()) == ["app.py"]
    assert path.read_bytes() == b"fixed = True\n"


def test_a_write_removes_the_old_temporary_files_of_killed_writes_of_that_file_only(tmp_path):
    """What SIGKILL can leave (a named temporary file whose rename never came) goes with
    the next write of that file; a recent one may be another run's, about to be renamed,
    and files of other names, or that are not regular files, are not ours to remove."""
    path = tmp_path / "app.py"
    path.write_bytes(FORK_IMPORT.encode())
    old = time.time() - LEFTOVER_AGE - 1

    def temporary(name: str, age: float | None = old, directory: bool = False) -> Path:
        made = tmp_path / name
        made.mkdir() if directory else made.write_bytes(b"half")
        if age is not None:
            os.utime(made, (age, age))
        return made

    killed = [temporary(".app.py.1a2b3c4d5e6f.mpcheck-tmp"), temporary(".app.py.k9_x8z1q.mpcheck-tmp")]
    kept = [temporary(".app.py.0f0f0f0f0f0f.mpcheck-tmp", age=None),
            temporary(".other.py.1a2b3c4d5e6f.mpcheck-tmp"),
            temporary(".app.py.dir.mpcheck-tmp", directory=True),
            temporary("app.py.1a2b3c4d5e6f.mpcheck-tmp"),
            temporary(".app.pyc.1a2b3c4d5e6f.mpcheck-tmp")]
    link = tmp_path / ".app.py.link.mpcheck-tmp"
    link.symlink_to(kept[1])
    os.utime(link, (old, old), follow_symlinks=False)
    kept.append(link)
    write_atomically(path, b"fixed = True\n", content_digest(FORK_IMPORT.encode()))
    assert path.read_bytes() == b"fixed = True\n"
    assert not any(made.exists() for made in killed)
    assert all(made.is_symlink() or made.exists() for made in kept)
    assert sorted(child.name for child in tmp_path.iterdir()) == sorted(["app.py", *(made.name for made in kept)])


@pytest.mark.slow
def test_two_fixes_of_one_tree_at_once_leave_every_file_fixed_and_whole(tmp_path, fixed_reference):
    before, after = fixed_reference
    make_tree(tmp_path)
    first, second = start_fix(tmp_path), start_fix(tmp_path)
    results = [finish(first), finish(second)]
    for code, stdout, stderr in results:
        assert "Traceback" not in stderr and "MP999" not in stdout, stderr
        assert code in (0, 1, 2)
        # A file the other run rewrote after this one read it is reported, not overwritten.
        for line in stdout.splitlines():
            if " MP000 " in line:
                assert "the file changed on disk after mpcheck read it" in line, line
    assert_every_file_old_or_new(tmp_path, before, after)
    finish(start_fix(tmp_path))
    assert snapshot(tmp_path) == after


def test_a_file_changed_after_it_was_read_is_not_overwritten(cli, write, in_tmp, monkeypatch):
    """Someone saves the file while mpcheck works on it: their edit wins, and the fix of
    the old content is reported as not written."""
    import mpcheck.engine as engine

    edited = FORK_IMPORT + "\n\nSAVED_BY_THE_EDITOR = True\n"
    app = write("app.py", FORK_IMPORT)
    other = write("other.py", FORK_IMPORT)
    real_fix_file = engine.Checker.fix_file

    def fix_file_while_the_user_edits(self, path, display=None):
        result = real_fix_file(self, path, display)
        if path.name == "app.py":
            path.write_text(edited)
        return result

    monkeypatch.setattr(engine.Checker, "fix_file", fix_file_while_the_user_edits)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert ("app.py:1:1: MP000 the file changed on disk after mpcheck read it, so the fix of its old content "
            "was not written; run mpcheck again") in run.stdout
    assert app.read_text() == edited
    assert "ForkOrSpawnProcess" in other.read_text()
    assert sorted(p.name for p in in_tmp.iterdir()) == ["app.py", "other.py", "pyproject.toml"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_read_only_file_or_directory_is_reported_and_the_rest_fixed(cli, write, in_tmp):
    locked = write("locked.py", FORK_IMPORT)
    shelf = write("shelf/app.py", FORK_IMPORT)
    free = write("free.py", FORK_IMPORT)
    locked.chmod(0o444)
    shelf.parent.chmod(0o555)
    try:
        run = cli("fix", ".")
    finally:
        shelf.parent.chmod(0o755)
    assert run.exit_code == 2
    assert "locked.py:1:1: MP000 the file is read-only, so it was not fixed" in run.stdout
    assert f"shelf/app.py:1:1: MP000 its directory {shelf.parent.resolve()} is read-only, so the file was not fixed" in run.stdout
    assert locked.read_text() == shelf.read_text() == FORK_IMPORT
    assert stat.S_IMODE(locked.stat().st_mode) == 0o444
    assert "ForkOrSpawnProcess" in free.read_text()


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="Linux only")
def test_the_new_content_has_no_name_until_it_is_complete(tmp_path, monkeypatch):
    """So that even SIGKILL while writing leaves no temporary file."""
    path = tmp_path / "app.py"
    path.write_text(FORK_IMPORT)
    path.chmod(0o640)
    link = tmp_path / "alias.py"
    link.symlink_to(path)
    seen_while_writing = []
    real_fsync = os.fsync

    def fsync(descriptor):
        seen_while_writing.append(sorted(p.name for p in tmp_path.iterdir()))
        real_fsync(descriptor)

    monkeypatch.setattr(fixer.os, "fsync", fsync)
    write_atomically(link, b"fixed\n", content_digest(FORK_IMPORT.encode()))
    assert seen_while_writing == [["alias.py", "app.py"]]
    assert path.read_bytes() == b"fixed\n"
    assert link.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.py", "app.py"]


def test_write_refuses_a_file_whose_content_is_not_what_was_read(tmp_path):
    path = tmp_path / "app.py"
    path.write_text("new content\n")
    with pytest.raises(NotWritten, match="changed on disk"):
        write_atomically(path, b"fix of the old content\n", content_digest(b"old content\n"))
    assert path.read_text() == "new content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["app.py"]
