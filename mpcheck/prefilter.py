"""The cheap text test that decides whether a file is parsed at all.

Parsing is the dominant cost (libcst parses the CPython stdlib in about 9 s; one regex
over it takes 0.06 s), and most files of most projects never touch processes. Each rule
names regular expressions one of which every file it can flag matches; a file containing none of the
enabled rules' patterns cannot produce a finding and is skipped.
"""

from __future__ import annotations

import re
from typing import Iterable, Pattern

from .rules import Rule


def build_prefilter(rules: Iterable[type[Rule]], extra_words: Iterable[str] = ()) -> Pattern[str]:
    """One regex for the enabled rules' triggers and `extra_words` (plain names, such as
    the project's own process-starting functions)."""
    triggers = {trigger for rule in rules for trigger in rule.triggers}
    triggers.update(re.escape(word) for word in extra_words)
    if not triggers:
        return re.compile(r"(?!)")  # matches nothing: no rule is enabled
    return re.compile("|".join(f"(?:{trigger})" for trigger in sorted(triggers)))


def may_contain_findings(text: str, prefilter: Pattern[str]) -> bool:
    return prefilter.search(text) is not None
