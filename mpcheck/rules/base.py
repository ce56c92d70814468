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

import libcst as cst

from ..findings import Violation
from ..fixes import FixContext

if TYPE_CHECKING:
    from ..config import Settings
    from ..model import SemanticModel
    from ..project import Project


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
    # The other checked files (project.py); an empty project when checking one text.
    project: Project | None = None

    @cached_property
    def fix_context(self) -> FixContext:
        """What this file's fixes are built against (see mpcheck.fixes); `fix_context.fix()`
        starts one."""
        return FixContext(self.model.module, _names_in_use(self.model))


def _names_in_use(model: SemanticModel) -> frozenset[str]:
    """Every name bound in any scope of the module, or read in it."""
    names = {name for scope in model.scopes() for name in scope.bindings}
    names.update(site.node.value for site in model.references if isinstance(site.node, cst.Name))
    return frozenset(names)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # states the pattern flagged, kebab-case: "fork-only-api"
    summary: ClassVar[str]  # one line for `mpcheck rules`
    # The prefilter parses a file only when its text contains one of these words (for any
    # enabled rule) and, if set, matches `trigger_pattern`. Every file the rule can flag
    # must pass that test.
    triggers: ClassVar[tuple[str, ...]]
    trigger_pattern: ClassVar[str | None] = None
    explanation: ClassVar[Explanation]
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def check(self, context: RuleContext) -> Iterable[Violation]:
        raise NotImplementedError

    @classmethod
    def fix_availability(cls) -> str:
        """"safe", "unsafe" or "none", read from the rule's examples."""
        if any(example.fixed is not None for example in cls.INVALID):
            return "safe"
        if any(example.unsafe_fixed is not None for example in cls.INVALID):
            return "unsafe"
        return "none"
