"""What a rule is: metadata, an explanation, its own examples, and a check over the model.

A rule module defines one `Rule` subclass. Its `VALID` and `INVALID` examples are its
first tests (tests/test_rule_examples.py collects them from every registered rule), its
docs page and `mpcheck explain` text are generated from `explanation` and the examples,
and whether it can fix is read from its examples, not declared twice (Fixit's idea).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Iterable

from ..findings import EVERYWHERE, WHERE_FORK_IS_NOT_THE_DEFAULT, Breakage, Violation
from ..fixes import FixContext

if TYPE_CHECKING:
    from ..config import Settings
    from ..model import SemanticModel
    from ..project import ProjectIndex


@dataclass(frozen=True)
class Explanation:
    """ruff's headings, the same for every rule."""

    what: str  # What it does
    why: str  # Why is this bad? -- platforms, start methods, versions, the real error text
    example: str  # code that breaks
    use_instead: str  # the portable form
    fix_safety: str  # what the fix does and when it is unsafe, or why there is none
    references: tuple[str, ...] = ()  # sections of docs/facts.md and documentation links
    # The [tool.mpcheck] keys the rule reads, each "`key`: what it changes for this rule".
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Valid:
    """Code the rule must not flag."""

    code: str
    path: str = "example.py"

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")


@dataclass(frozen=True)
class Invalid:
    """Code the rule flags, where, and what its fixes make of it.

    `line`/`column` (1-based) locate the first finding; `message` must occur in its text.
    `fixed` is the source after `mpcheck fix` (safe fixes only; None: left unchanged),
    `unsafe_fixed` after `mpcheck fix --unsafe-fixes` (None: the same as `fixed`).
    """

    code: str
    line: int | None = None
    column: int | None = None
    message: str | None = None
    fixed: str | None = None
    unsafe_fixed: str | None = None
    path: str = "example.py"
    count: int = 1  # findings of this rule expected in the example

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def fixed_source(self) -> str | None:
        return None if self.fixed is None else textwrap.dedent(self.fixed).lstrip("\n")

    @property
    def unsafe_fixed_source(self) -> str | None:
        return None if self.unsafe_fixed is None else textwrap.dedent(self.unsafe_fixed).lstrip("\n")


@dataclass
class RuleContext:
    """What a rule is given for one file."""

    model: SemanticModel
    settings: Settings
    path: str
    violations: list[Violation] = field(default_factory=list)
    # The project the file belongs to (project.py); None for a text with no path (stdin).
    project: ProjectIndex | None = None

    def is_script(self) -> bool:
        """Whether the file runs only as a script, so that guarding its work changes nothing
        for anyone who imports it: not a package module, not imported by another module of
        its project, not the target of an entry point. Unknown (stdin): not a script."""
        project = self.project
        if project is None:
            return False
        return not (project.is_package_module(self.path) or project.is_imported(self.path)
                    or project.is_entry_point(self.path))

    @cached_property
    def fix_context(self) -> FixContext:
        """What this file's fixes are built against (see mpcheck.fixes); `fix_context.fix()`
        starts one."""
        return FixContext(self.model.module, self.model.names_in_use())


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # states the pattern flagged, kebab-case: "fork-only-api"
    summary: ClassVar[str]  # one line for `mpcheck rules`
    # Which files it is run on -- the prefilter's test -- is in its entry of the registry
    # (rules/__init__.py), read before any file is parsed.
    explanation: ClassVar[Explanation]
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    # Where the hazard breaks programs: platforms and Python versions (findings.Breakage).
    # A Violation may say otherwise for one finding (`Violation(breaks_on=narrow(...))` for
    # code that runs only on some platforms or versions). The engine, for every adapter,
    # drops findings that cannot break on the configured `platforms` from `target-version`
    # on, and every output format prints what is left ("breaks on: Windows; macOS").
    breaks_on: ClassVar[tuple[Breakage, ...]] = WHERE_FORK_IS_NOT_THE_DEFAULT
    # When the fix the examples show as safe is offered as unsafe instead, if ever: a
    # condition single-file examples cannot show ("another module imports the file").
    unsafe_fix_when: ClassVar[str] = ""

    def check(self, context: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError

    @classmethod
    def fix_availability(cls) -> FixAvailability:
        """What `fix` does for this rule's findings, read from its INVALID examples (each
        shows a safe fix, an unsafe one only, or none) and `unsafe_fix_when`."""
        kinds = {
            "safe" if example.fixed is not None else "unsafe" if example.unsafe_fixed is not None else "none"
            for example in cls.INVALID
        }
        return FixAvailability(
            kinds=frozenset(kinds),
            unsafe_alternative=any(example.fixed is not None and example.unsafe_fixed is not None for example in cls.INVALID),
            unsafe_when=cls.unsafe_fix_when,
        )


@dataclass(frozen=True)
class FixAvailability:
    """The fixes a rule offers. `rules`, `explain`, docs/rules and the README's rule table
    all print it from here, so they cannot disagree."""

    kinds: frozenset[str]  # of "safe", "unsafe" (only with --unsafe-fixes), "none": one per example
    unsafe_alternative: bool = False  # --unsafe-fixes replaces a safe fix with another one
    unsafe_when: str = ""  # the condition under which the safe fix is unsafe instead

    @property
    def kind(self) -> str:
        """The best fix any finding gets: "safe", "unsafe" or "none"."""
        return next(kind for kind in ("safe", "unsafe", "none") if kind in self.kinds)

    @property
    def always(self) -> bool:
        """Every finding gets a fix (of some kind)."""
        return "none" not in self.kinds

    def summary(self) -> str:
        """One cell of a table: `safe`, `unsafe` or `none`, then what varies, e.g.
        `safe (unsafe alternative; sometimes none)`."""
        notes = []
        if self.unsafe_alternative:
            notes.append("unsafe alternative")
        if self.unsafe_when:
            notes.append(f"unsafe when {self.unsafe_when}")
        if self.kind == "safe" and "unsafe" in self.kinds:
            notes.append("sometimes unsafe only")
        if self.kind != "none" and not self.always:
            notes.append("sometimes none")
        return f"{self.kind} ({'; '.join(notes)})" if notes else self.kind


_METHOD_ORDER = ("fork", "spawn", "forkserver")


def under_methods(methods: frozenset[str]) -> str:
    """"under every start method", "under spawn and forkserver", for a message."""
    if methods >= set(_METHOD_ORDER):
        return "under every start method"
    return "under " + " and ".join(method for method in _METHOD_ORDER if method in methods)


def breakage_under(methods: frozenset[str], start_method: str | None) -> tuple[Breakage, ...]:
    """Where a hazard that strikes under the start methods `methods` breaks a program whose
    start method is `start_method` (None: the platform's default): everywhere when fork is
    among them or the program chooses another method itself, else where fork is not the
    default."""
    if "fork" in methods or start_method in ("spawn", "forkserver"):
        return EVERYWHERE
    return WHERE_FORK_IS_NOT_THE_DEFAULT
