"""The cheap text test that decides, per rule, whether a file is parsed at all.

Parsing is the dominant cost (libcst parses the CPython stdlib in about 9 s; reading it
and searching it takes under 0.1 s), and most files of most projects never touch
processes. Each rule declares what every file it can flag contains:

- `triggers`: literal words, one of which is in the text (`word in text` runs at memory
  speed; one regex alternation over every file cost a second on the stdlib);
- `trigger_pattern`: optionally, a regular expression the text must also match;
- `trigger_files`: optionally, the file names (globs) the rule looks at (`__init__.py`);
- `trigger_through_project`: the rule also flags a file that uses a name of another module
  of its project whose definition holds a trigger word (or a name of the `process-apis`
  option), found by a name-based pass over the project's text (reach.py), not by parsing.

The test over-approximates: tests/test_prefilter.py runs every rule's INVALID examples and
every fixture through it. Only the rules that pass are run on a parsed file.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Iterable, Pattern, Protocol, Sequence

if TYPE_CHECKING:
    from .project import ProjectIndex


class Triggered(Protocol):
    """What the prefilter reads of a rule (a Rule class, or its catalogue entry)."""

    code: str
    triggers: tuple[str, ...]
    trigger_pattern: str | None
    trigger_files: tuple[str, ...]
    trigger_through_project: bool


@dataclass(frozen=True)
class _Test:
    code: str
    words: tuple[str, ...]
    pattern: Pattern[str] | None
    files: tuple[str, ...]
    through_project: tuple[str, ...]  # the words looked for in the project; () when not

    def passes_text(self, text: str) -> bool:
        return any(word in text for word in self.words) and (self.pattern is None or self.pattern.search(text) is not None)


@dataclass(frozen=True)
class Verdict:
    """The codes of the rules that may find something in a file, and the project modules
    the answer read (a cached result depends on them)."""

    codes: frozenset[str]
    read: frozenset[Path] = frozenset()


class Prefilter:
    def __init__(self, rules: Iterable[Triggered], process_api_names: Iterable[str] = (),
                 extra_words: Iterable[str] = ()) -> None:
        """`process_api_names`: plain names of the project's own process-starting functions;
        a file naming one passes every rule that looks through the project. `extra_words`:
        words the settings add to every rule's (the `fork-only-modules` option's modules)."""
        extra = tuple(process_api_names)
        more = tuple(extra_words)
        self.tests = [
            _Test(rule.code, tuple(rule.triggers) + more + (extra if rule.trigger_through_project else ()),
                  re.compile(rule.trigger_pattern) if rule.trigger_pattern else None,
                  tuple(rule.trigger_files),
                  tuple(rule.triggers) + extra if rule.trigger_through_project else ())
            for rule in rules
        ]

    def verdict(self, text: str, path: str, codes: Sequence[str], project: ProjectIndex | None) -> Verdict:
        """Which of the rules `codes` may find something in the file at `path` with `text`.
        `project`: the file's project (None for stdin), for the rules that look through it."""
        passed: set[str] = set()
        read: set[Path] = set()
        name = PurePath(path).name
        for test in self.tests:
            if test.code not in codes or (test.files and not any(fnmatch.fnmatchcase(name, f) for f in test.files)):
                continue
            if test.passes_text(text):
                passed.add(test.code)
            elif test.through_project and project is not None:
                uses, modules = project.uses_names_reaching(path, text, test.through_project)
                read |= modules
                if uses:
                    passed.add(test.code)
        return Verdict(frozenset(passed), frozenset(read))
