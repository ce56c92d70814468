"""Reading a file into text the way Python itself would, and saying clearly why not.

The text keeps its line endings; the encoding (cookie or BOM) is remembered so that a fix
writes the file back byte for byte the same outside the lines it changed.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .dependencies import content_digest

# Larger files are generated data, not code anyone starts processes from; parsing them
# would take seconds each.
MAX_FILE_BYTES = 8 * 1024 * 1024

# Python ends a line at \n, \r\n or a lone \r. str.splitlines() also ends one at a form
# feed, a vertical tab and other separators, which would shift every line number after them.
LINE_BREAK = re.compile(r"\r\n?|\n")


def source_lines(text: str) -> list[str]:
    """The lines of the Python source `text` as Python numbers them, each with its line
    end (the last one without, when the text does not end with a line break)."""
    lines, start = [], 0
    for match in LINE_BREAK.finditer(text):
        lines.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


class InputError(Exception):
    """A file that cannot be checked. Reported as MP000 at `line`:`column`."""

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str  # as tokenize names it: "utf-8", "utf-8-sig" (a BOM), "iso-8859-1", ...
    digest: str = ""  # content_digest of the bytes read: a fix is written only over those ("": not asked)

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(raw: bytes, digest: bool = True) -> SourceText:
    """The text of the source file whose bytes are `raw`, decoded as Python decodes it, with
    the hash of `raw` (unless `digest` is false). Raises InputError for what is too large,
    binary, or not in its encoding."""
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(_too_large(len(raw), MAX_FILE_BYTES))
    if b"\0" in raw:
        raise InputError("file is binary (it contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" not in error.msg:  # unknown codec, BOM + cookie clash
            raise InputError(f"bad encoding declaration: {error.msg}", error.lineno or 1) from None
        # No cookie and the first lines are not UTF-8: decoding below says where.
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        declared = "" if encoding.startswith("utf-8") else " (as declared by its coding cookie)"
        raise InputError(
            f"file is not valid {encoding}{declared}: byte 0x{raw[error.start]:02x} cannot be decoded",
            line,
            column,
        ) from None
    return SourceText(text, encoding, content_digest(raw) if digest else "")


def read_source(path: Path, digest: bool = True) -> SourceText:
    """`decode_source` of the file at `path` (see read_regular_file for what it refuses)."""
    return decode_source(read_regular_file(path, MAX_FILE_BYTES), digest)


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (a symlink is followed). Raises InputError
    for what is not one -- reading a FIFO would wait for a writer forever, a device might
    never end -- for a file over `limit` bytes (before reading it), and when it cannot
    be opened or read."""
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise InputError("is a directory, not a file") from None
    except OSError as error:
        raise InputError(f"cannot read file: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as stream:
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise InputError(f"is {_file_kind(status.st_mode)}, not a regular file, so it was not read")
            if status.st_size > limit:
                raise InputError(_too_large(status.st_size, limit))
            raw = stream.read(limit + 1)  # a file that grows while it is read stops here
        except OSError as error:
            raise InputError(f"cannot read file: {error.strerror or error}") from None
    if len(raw) > limit:
        raise InputError(_too_large(len(raw), limit))
    return raw


def _too_large(size: int, limit: int) -> str:
    return f"file is too large to check ({size} bytes, limit {limit})"


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "an unknown kind of file"
