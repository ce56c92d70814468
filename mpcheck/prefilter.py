"""The cheap text test that decides whether a file is parsed at all.

Parsing is the dominant cost (libcst parses the CPython stdlib in about 9 s; reading it
and searching it takes under 0.1 s), and most files of most projects never touch
processes. Each rule names literal words one of which every file it can flag contains
(`triggers`), and may sharpen them with a regular expression (`trigger_pattern`). A file
that passes no enabled rule's test cannot produce a finding and is skipped.

Literal words go first because `word in text` runs at memory speed, while one regex
alternation over every file cost a second on the stdlib.
"""

from __future__ import annotations

import re
from typing import Iterable, Pattern

from .rules import Rule


class Prefilter:
    def __init__(self, rules: Iterable[type[Rule]], extra_words: Iterable[str] = ()) -> None:
        """`extra_words`: plain names, such as the project's own process-starting functions."""
        self.tests: dict[str, tuple[tuple[str, ...], Pattern[str] | None]] = {
            rule.code: (rule.triggers, re.compile(rule.trigger_pattern) if rule.trigger_pattern else None)
            for rule in rules
        }
        self.extra = tuple(extra_words)

    def may_contain_findings(self, text: str, codes: Iterable[str] | None = None) -> bool:
        """Whether one of the rules (all, or those of `codes`: the rules that apply to the
        file) may find something in `text`."""
        tests = self.tests.values() if codes is None else [self.tests[code] for code in codes if code in self.tests]
        if self.extra:
            tests = [*tests, (self.extra, None)]
        return any(
            any(word in text for word in words) and (pattern is None or pattern.search(text) is not None)
            for words, pattern in tests
        )
