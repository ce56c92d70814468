"""Reading a file into text the way Python itself would, and saying clearly why not.

The text keeps its line endings; the encoding (cookie or BOM) is remembered so that a fix
writes the file back byte for byte the same outside the lines it changed.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

# Larger files are generated data, not code anyone starts processes from; parsing them
# would take seconds each.
MAX_FILE_BYTES = 8 * 1024 * 1024


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

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(raw: bytes) -> SourceText:
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"file is too large to check ({len(raw)} bytes, limit {MAX_FILE_BYTES})")
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
    return SourceText(text, encoding)


def read_source(path: Path) -> SourceText:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory, not a file") from None
    except OSError as error:
        raise InputError(f"cannot read file: {error.strerror or error}") from None
    return decode_source(raw)
