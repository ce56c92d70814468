"""`# noqa` comments, read the way flake8 reads them.

`# noqa` alone silences every finding on its line; `# noqa: MP101, MP2` silences the
findings whose code starts with one of the listed codes. Codes of other tools on the same
comment (`# noqa: E501, MP101`) are left alone.
"""

from __future__ import annotations

import re
from typing import Mapping

# flake8's own pattern (NOQA_INLINE_REGEXP in flake8/defaults.py), so both tools agree on
# what a noqa is. Codes are letters then digits: `[A-Z][0-9]+` would not match `MP101`.
_NOQA = re.compile(
    r"# noqa"
    r"(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[,\s]+")

# line number -> None (blanket noqa) or the code prefixes listed
Suppressions = Mapping[int, "frozenset[str] | None"]


def find_suppressions(text: str) -> dict[int, frozenset[str] | None]:
    if "noqa" not in text and "NOQA" not in text.upper():
        return {}
    found: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = None if codes is None else frozenset(
            code.upper() for code in _SEPARATOR.split(codes) if code
        )
    return found


def is_suppressed(code: str, line: int, suppressions: Suppressions) -> bool:
    if line not in suppressions:
        return False
    codes = suppressions[line]
    return codes is None or any(code.startswith(prefix) for prefix in codes)
