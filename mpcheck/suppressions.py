"""`# noqa` comments for a line, and `# mpcheck: noqa` for a whole file.

Line level, read the way flake8 reads it: `# noqa` alone silences every finding on its
line; `# noqa: MP101, MP2` silences the findings whose code starts with one of the listed
codes. Codes of other tools on the same comment (`# noqa: E501, MP101`) are left alone.

File level, ruff's `# ruff: noqa` semantics: a comment on a line of its own,
`# mpcheck: noqa`, exempts the whole file from every rule; `# mpcheck: noqa: MP101, MP2`
from the rules whose code starts with a listed code. A trailing `# mpcheck: noqa` after code,
or one inside a string, exempts nothing, and neither does a code list that names no code
(`# mpcheck: noqa: all`): a typo must not silence a file.

The engine is the only reader of these comments, so the command line, the library API and
the flake8 plugin agree. (flake8's own `# flake8: noqa` is flake8's: it skips the file for
every plugin and is not read here.)
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Mapping

from .source import LINE_BREAK, source_lines

# flake8's own pattern (NOQA_INLINE_REGEXP in flake8/defaults.py), so both tools agree on
# what a noqa is. Codes are letters then digits: `[A-Z][0-9]+` would not match `MP101`.
_NOQA = re.compile(
    r"# noqa"
    r"(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
# `# mpcheck: noqa`, `# mpcheck: noqa: MP101, MP2 -- reason`, on a line of its own. `colon`
# without `codes` is a code list that names no code.
_FILE_NOQA = re.compile(
    r"^[ \t]*#[ \t]*mpcheck[ \t]*:[ \t]*noqa\b"
    r"(?P<colon>[ \t]*:[ \t]*(?P<codes>[A-Z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Z]+[0-9]+)*)?)?",
    re.IGNORECASE | re.MULTILINE,
)
_SEPARATOR = re.compile(r"[,\s]+")

# line number -> None (blanket noqa) or the code prefixes listed
LineSuppressions = Mapping[int, "frozenset[str] | None"]


def find_suppressions(text: str) -> dict[int, frozenset[str] | None]:
    """The `# noqa` comments of `text`: line number (1-based) -> None for a blanket noqa,
    or the code prefixes it lists (upper case)."""
    if not _mentions_noqa(text):
        return {}
    found: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(source_lines(text), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = None if codes is None else _codes(codes)
    return found


def is_suppressed(code: str, line: int, suppressions: LineSuppressions) -> bool:
    if line not in suppressions:
        return False
    codes = suppressions[line]
    return codes is None or any(code.startswith(prefix) for prefix in codes)


@dataclass(frozen=True)
class FileExemption:
    """What the `# mpcheck: noqa` comments of a file exempt it from: everything
    (`whole_file`), or the codes starting with one of `prefixes`."""

    whole_file: bool = False
    prefixes: frozenset[str] = frozenset()

    def exempts(self, code: str) -> bool:
        return self.whole_file or any(code.startswith(prefix) for prefix in self.prefixes)


def find_file_exemption(text: str) -> FileExemption:
    """The union of the file-level `# mpcheck: noqa` comments of `text`."""
    # One kind of line end (positions stay the same), so that `^` and tokenize see the
    # lines Python sees in a file that ends its lines with a lone \r too.
    text = LINE_BREAK.sub("\n", text)
    candidates = [match for match in _FILE_NOQA.finditer(text) if not (match.group("colon") and not match.group("codes"))]
    if not candidates:
        return FileExemption()
    comments = _comment_starts(text)
    whole_file = False
    prefixes: set[str] = set()
    for match in candidates:
        line = text.count("\n", 0, match.start()) + 1
        column = match.group(0).index("#")
        if comments is not None and (line, column) not in comments:
            continue  # the text of a string, not a comment
        if match.group("codes") is None:
            whole_file = True
        else:
            prefixes |= _codes(match.group("codes"))
    return FileExemption(whole_file, frozenset(prefixes))


def _comment_starts(text: str) -> set[tuple[int, int]] | None:
    """(line, column) of every comment; None when the text does not tokenize (it will not
    parse either, and then each candidate line counts, as flake8 would read it)."""
    try:
        return {
            token.start for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT
        }
    except (tokenize.TokenError, SyntaxError):
        return None


def _mentions_noqa(text: str) -> bool:
    # Two substring tests are ten times faster than one case-insensitive regex search,
    # and most files have no noqa at all.
    return "noqa" in text or "NOQA" in text.upper()


def _codes(listed: str) -> frozenset[str]:
    return frozenset(code.upper() for code in _SEPARATOR.split(listed) if code)


class Suppressions:
    """Every suppression comment of one file, line level and file level. The file level is
    read at once (it decides whether the file is parsed); the line level when first asked."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._mentions_noqa = _mentions_noqa(text)
        self.file = find_file_exemption(text) if self._mentions_noqa else FileExemption()

    @functools.cached_property
    def lines(self) -> dict[int, frozenset[str] | None]:
        return find_suppressions(self._text) if self._mentions_noqa else {}

    def suppresses(self, code: str, line: int) -> bool:
        """True when the finding `code` reported on `line` is silenced."""
        return self.file.exempts(code) or is_suppressed(code, line, self.lines)
