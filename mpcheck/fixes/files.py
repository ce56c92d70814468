"""A fix as one text edit, and writing a fixed file."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from ..findings import Edit


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


_LINE_BREAK = re.compile(r"\r\n?|\n")


def _line_column(text: str, offset: int) -> tuple[int, int]:
    # Lines end as Python (and the reported positions) count them: \n, \r\n or a lone \r.
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that no reader ever sees a half-written file: write a
    temporary file in the same directory, copy the mode, fsync, rename over."""
    target = path.resolve()  # a symlinked file: replace what it points to, keep the link
    status = target.stat()
    mode = stat.S_IMODE(status.st_mode)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".mpcheck-tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
            # Root fixing someone else's file must not make it root's; others cannot chown.
            # (Windows has no owners to keep here, nor os.chown.)
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except PermissionError:
                pass
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
