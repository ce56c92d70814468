"""A fix as one text edit, and writing a fixed file."""

from __future__ import annotations

import glob
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..findings import Edit
from ..dependencies import content_digest
from ..source import LINE_BREAK, MAX_FILE_BYTES, InputError, read_regular_file


def text_edit(original: str, fixed: str) -> Edit:
    """The one contiguous replacement that turns `original` into `fixed`."""
    start = 0
    limit = min(len(original), len(fixed))
    while start < limit and original[start] == fixed[start]:
        start += 1
    end_original, end_fixed = len(original), len(fixed)
    while end_original > start and end_fixed > start and original[end_original - 1] == fixed[end_fixed - 1]:
        end_original -= 1
        end_fixed -= 1
    line, column = _line_column(original, start)
    end_line, end_column = _line_column(original, end_original)
    return Edit(line, column, end_line, end_column, fixed[start:end_fixed])


def _line_column(text: str, offset: int) -> tuple[int, int]:
    # Lines end as Python (and the reported positions) count them: \n, \r\n or a lone \r.
    line, line_start = 1, 0
    for match in LINE_BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


class NotWritten(Exception):
    """A fixed file was deliberately left as it is; `reason` says why, for its MP000."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def write_atomically(path: Path, data: bytes, read_digest: str | None = None) -> None:
    """Replace `path` with `data` so that no reader ever sees a half-written file, and so
    that a process killed at any point leaves the old file or the new one.

    The data is written to a new file in the same directory and fsynced, then renamed
    over `path` (its mode and owner are kept; a symlink keeps pointing to the replaced
    file). Where the system allows (Linux's O_TMPFILE), the new file has no name until it
    is complete and checked: even SIGKILL cannot leave a temporary file behind, except in
    the instant between naming it and the rename (two system calls). Elsewhere a
    `.NAME.*.mpcheck-tmp` file is used and removed on any exception. Such a file left by
    a killed write (SIGKILL, power loss) is removed by the next write of `path` once it
    has not been touched for `LEFTOVER_AGE` seconds, so that a concurrent run's own is
    left alone.

    Raises NotWritten, and writes nothing, when the file has changed since it was read
    (`read_digest`: `content_digest` of the bytes the fix was made from; checked just
    before the rename) or is read-only: not writable by this user, or with no write
    permission for anyone (which root would otherwise override). Raises OSError when the
    write fails; the file is then as it was.
    """
    target = path.resolve()
    status = target.stat()
    mode = stat.S_IMODE(status.st_mode)
    _refuse_read_only(target, mode)

    def unchanged() -> None:
        if read_digest is not None and _current_digest(target) != read_digest:
            raise NotWritten("the file changed on disk after mpcheck read it, so the fix of its old "
                             "content was not written; run mpcheck again")

    prefix = f".{target.name}."
    temporary = _write_temporary(target.parent, prefix, data, mode, status, unchanged)
    try:
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _remove_leftovers(target.parent, prefix)


_SUFFIX = ".mpcheck-tmp"
# A temporary file is written, checked and renamed within seconds; one untouched for this
# long belongs to a write that was killed.
LEFTOVER_AGE = 60.0


def _remove_leftovers(directory: Path, prefix: str) -> None:
    cutoff = time.time() - LEFTOVER_AGE
    for leftover in directory.glob(f"{glob.escape(prefix)}*{_SUFFIX}"):
        try:
            status = leftover.lstat()
            if stat.S_ISREG(status.st_mode) and status.st_mtime < cutoff:
                leftover.unlink()
        except OSError:  # gone already, or not ours to remove: it stays
            pass


def _refuse_read_only(target: Path, mode: int) -> None:
    if mode & 0o222 == 0 or not os.access(target, os.W_OK):
        raise NotWritten("the file is read-only, so it was not fixed")
    directory = target.parent
    if stat.S_IMODE(directory.stat().st_mode) & 0o222 == 0 or not os.access(directory, os.W_OK):
        raise NotWritten(f"its directory {directory} is read-only, so the file was not fixed")


def _current_digest(target: Path) -> str | None:
    try:
        return content_digest(read_regular_file(target, MAX_FILE_BYTES))
    except InputError:  # gone, replaced by something else, grown too large: changed
        return None


def _write_temporary(directory: Path, prefix: str, data: bytes, mode: int, status: os.stat_result,
                     check: Callable[[], None]) -> str:
    """Write `data` to a new file in `directory` with `mode` (and the owner of `status`,
    when we may), fsynced, then call `check` (which raises to give up: nothing is left);
    its path. An O_TMPFILE file is named only once complete and checked."""
    if hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        try:
            return _write_unnamed(directory, prefix, data, mode, status, check)
        except _NoTmpfile:  # a file system without O_TMPFILE: a named file from the start
            pass
    descriptor, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            _fill(stream, data, mode, status)
        check()
    except BaseException:
        os.unlink(name)
        raise
    return name


class _NoTmpfile(Exception):
    """The file system cannot make an unnamed file (O_TMPFILE)."""


def _write_unnamed(directory: Path, prefix: str, data: bytes, mode: int, status: os.stat_result,
                   check: Callable[[], None]) -> str:
    name = f"{prefix}{secrets.token_hex(6)}{_SUFFIX}"
    try:
        descriptor = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError as error:
        raise _NoTmpfile from error
    with os.fdopen(descriptor, "wb") as stream:
        _fill(stream, data, mode, status)
        check()
        directory_descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            # linkat(2) with AT_SYMLINK_FOLLOW names the open file (open(2), O_TMPFILE);
            # os.link passes that flag only when given a directory descriptor.
            try:
                os.link(f"/proc/self/fd/{stream.fileno()}", name, dst_dir_fd=directory_descriptor)
            except OSError as error:
                raise _NoTmpfile from error
        finally:
            os.close(directory_descriptor)
    return str(directory / name)


def _fill(stream, data: bytes, mode: int, status: os.stat_result) -> None:
    """Write, give the replaced file's mode and owner, fsync. (Windows can set neither
    through a descriptor; there the mode holds only the read-only flag, which a file
    being replaced never has.)"""
    stream.write(data)
    stream.flush()
    descriptor = stream.fileno()
    if os.chmod in os.supports_fd:
        os.chmod(descriptor, mode)
    if os.chown in os.supports_fd and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        # Root fixing someone else's file must not make it root's; others cannot chown.
        try:
            os.chown(descriptor, status.st_uid, status.st_gid)
        except PermissionError:
            pass
    os.fsync(descriptor)
