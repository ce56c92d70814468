"""The cheap text test that decides, per rule, whether a file is parsed at all.

Parsing is the dominant cost (libcst parses the CPython stdlib in about 9 s; reading it
and searching it takes under 0.1 s), and most files of most projects never touch
processes. Each rule's entry in the registry (rules/__init__.py) declares what every file it
can flag contains:

- `triggers`: literal words, one of which is in the text (`word in text` runs at memory
  speed; one regex alternation over every file cost a second on the stdlib);
- `trigger_also`: optionally, more words, one of which must be there too;
- `trigger_pattern`: optionally, a regular expression the text must also match;
- `trigger_imports`: the words are modules, and an import statement names one (the
  `fork-only-modules` option adds its modules to them);
- `trigger_files`: optionally, the file names (globs) the rule looks at (`__init__.py`);
- `trigger_in_code`: the words count only in the code, not in comments and strings
  (reach.code_text), for a rule whose words are names the semantic model resolves;
- `applies_to`: optionally, a test of the file's place in its project (asked only of a file
  whose text passes: it reads the project's import lines, and the import statements of the
  modules that import it, with CPython's `ast`);
- a name the file imports from a module of its project that re-exports it
  (`from lib import multiproc` and `multiproc.Process`, with lib/multiproc.py importing
  `Process` from multiprocessing) counts as the name it re-exports: the words are also looked
  for in those names (ProjectIndex.reexports_used, read from the import lines only);
- `trigger_through_project`: the rule also flags a file that uses a name of another module
  of its project whose definition holds a trigger word (or a name of the `process-apis`
  option), found by a name-based pass over the project's text (reach.py), not by parsing.

The test over-approximates: tests/test_prefilter.py runs every rule's INVALID examples and
every fixture through it. Only the rules that pass are run on a parsed file.
"""

from __future__ import annotations

import fnmatch
import re
from functools import partial
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Callable, Iterable, Pattern, Protocol, Sequence

if TYPE_CHECKING:
    from .project import ProjectIndex


class Triggered(Protocol):
    """What the prefilter reads of a rule: its entry in the registry (rules.RuleSpec)."""

    code: str
    triggers: tuple[str, ...]
    trigger_also: tuple[str, ...]
    trigger_pattern: str | None
    trigger_files: tuple[str, ...]
    trigger_imports: bool
    trigger_in_code: bool
    trigger_through_project: bool
    applies_to: Callable[[str, ProjectIndex | None], bool] | None


def _imports_pattern(modules: Sequence[str]) -> Pattern[str]:
    """An import statement that names one of `modules` (`import a, spaces.zero`, `from spaces
    import GPU`, over backslash continuations), or text that looks like one (a `\\b` before
    `import` would make the search two times slower: `reimport spaces` counts)."""
    names = "|".join(map(re.escape, modules))
    return re.compile(rf"(?:import|from)\b(?:\\\n|[^\n])*?\b(?:{names})\b")


@dataclass(frozen=True)
class _Test:
    code: str
    words: tuple[str, ...]
    also: tuple[str, ...]
    pattern: Pattern[str] | None
    files: tuple[str, ...]
    applies_to: Callable[[str, ProjectIndex | None], bool] | None
    through_project: tuple[str, ...]  # the words looked for in the project; () when not
    in_code: bool  # the words are looked for in the code only

    def passes_text(self, text: _Text) -> bool:
        return text.has(self.words) and (not self.in_code or text.has_in_code(self.words)) \
            and (not self.also or text.has(self.also)) and (self.pattern is None or text.matches(self.pattern))


class _Text:
    """A file's text as the tests read it, each word looked for once whatever the tests
    that name it (several rules share their words: PROCESS_WORDS). `before`: the file's
    own text, when this one holds the names the file may reach through its project's
    re-exports, read as more lines after it: a word is in one or the other (none holds a
    line break), and a regular expression is matched against both together."""

    def __init__(self, text: str, before: _Text | None = None) -> None:
        self.text = text
        self.before = before
        self._words: dict[str, bool] = {}
        self._code_words: dict[str, bool] = {}
        self._code: str | None = None
        self._patterns: dict[Pattern[str], bool] = {}

    def has(self, words: Iterable[str]) -> bool:
        return (self.before is not None and self.before.has(words)) or any(self._has(word) for word in words)

    def has_in_code(self, words: Iterable[str]) -> bool:
        """One of `words` is in the code: not in a comment or a string (reach.code_text)."""
        return (self.before is not None and self.before.has_in_code(words)) or \
            any(self._has_in_code(word) for word in words)

    def matches(self, pattern: Pattern[str]) -> bool:
        found = self._patterns.get(pattern)
        if found is None:
            whole = self.text if self.before is None else f"{self.before.text}\n{self.text}"
            found = self._patterns[pattern] = pattern.search(whole) is not None
        return found

    def _has(self, word: str) -> bool:
        found = self._words.get(word)
        if found is None:
            found = self._words[word] = word in self.text
        return found

    def _has_in_code(self, word: str) -> bool:
        found = self._code_words.get(word)
        if found is None:
            found = self._has(word)  # (blanking literals adds no word to the text)
            if found:
                if self._code is None:
                    from .reach import code_text

                    self._code = code_text(self.text)
                found = word in self._code
            self._code_words[word] = found
        return found


def _memo(seen: dict[object, bool], key: object, answer: Callable[[], bool]) -> bool:
    found = seen.get(key)
    if found is None:
        found = seen[key] = answer()
    return found


@dataclass(frozen=True)
class Verdict:
    """The codes of the rules that may find something in a file."""

    codes: frozenset[str]


class Prefilter:
    def __init__(self, rules: Iterable[Triggered], process_api_names: Iterable[str] = (),
                 imported_modules: Iterable[str] = ()) -> None:
        """`process_api_names`: plain names of the project's own process-starting functions;
        a file naming one passes every rule that looks through the project.
        `imported_modules`: modules the settings add to those of the rules whose words are
        imported modules (the `fork-only-modules` option's)."""
        extra = tuple(process_api_names)
        modules = tuple(imported_modules)
        self.tests = []
        for rule in rules:
            words = tuple(rule.triggers) + (modules if rule.trigger_imports else ()) + \
                (extra if rule.trigger_through_project else ())
            pattern = _imports_pattern(words) if rule.trigger_imports else \
                re.compile(rule.trigger_pattern) if rule.trigger_pattern else None
            self.tests.append(_Test(rule.code, words, tuple(rule.trigger_also), pattern, tuple(rule.trigger_files),
                                    rule.applies_to, words if rule.trigger_through_project else (),
                                    rule.trigger_in_code))

    def verdict(self, text: str, path: str, codes: Sequence[str],
                project: Callable[[], ProjectIndex | None]) -> Verdict:
        """Which of the rules `codes` may find something in the file at `path` with `text`.
        `project` gives the file's project (None for stdin), for the rules that look at it;
        it is asked only when a rule's words leave the answer open."""
        passed: set[str] = set()
        name = PurePath(path).name
        plain = _Text(text)
        extended: list[_Text | None] = []  # with the names reached through re-exports, once asked
        reaching: dict[tuple[str, ...], bool] = {}  # the name-based pass's answers, by words

        def through_reexports() -> _Text | None:
            """The text with the names the file may reach through its project's re-exports
            (asked once, and only of a file with an import statement); None without any."""
            if not extended:
                index = project() if "import" in text else None
                names = "\n".join(index.reexports_used(path, text)) if index is not None else ""
                extended.append(_Text(names, before=plain) if names else None)
            return extended[0]

        for test in self.tests:
            if test.code not in codes or (test.files and not any(fnmatch.fnmatchcase(name, f) for f in test.files)):
                continue
            if test.passes_text(plain) or ((more := through_reexports()) is not None and test.passes_text(more)):
                if test.applies_to is None or test.applies_to(path, project()):
                    passed.add(test.code)
            elif test.through_project:
                index = project()
                if index is not None and (test.applies_to is None or test.applies_to(path, index)) and _memo(
                        reaching, test.through_project, partial(index.uses_names_reaching, path, text, test.through_project)):
                    passed.add(test.code)
        return Verdict(frozenset(passed))
