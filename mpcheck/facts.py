"""The fact base the rules cite (facts.md, shipped in the package; docs/facts.md is a copy
`python -m mpcheck.docs` writes): the exact errors per Python version, platform and start
method, with their sources. `mpcheck facts N` prints section N."""

from __future__ import annotations

import re
from importlib.resources import files

_SECTION = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def text() -> str:
    """The whole fact base."""
    return files(__package__).joinpath("facts.md").read_text(encoding="utf-8")


def section(number: int) -> str | None:
    """Section `number` ("## 3. Missing ..." up to the next numbered section), or None."""
    document = text()
    starts = [(int(match.group(1)), match.start()) for match in _SECTION.finditer(document)]
    for index, (found, start) in enumerate(starts):
        if found == number:
            end = starts[index + 1][1] if index + 1 < len(starts) else len(document)
            return document[start:end].rstrip() + "\n"
    return None


def numbers() -> list[int]:
    return [int(match.group(1)) for match in _SECTION.finditer(text())]
