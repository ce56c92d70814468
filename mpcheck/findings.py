"""The values that flow out of the pipeline: violations found by rules, the fixes they
offer, and the located diagnostics every reporter and adapter prints."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # a run whose results are known needs no parser: libcst is not imported
    import libcst as cst

    from .fixes import FixEdit, ImportRequest


class Applicability(str, enum.Enum):
    """How sure a fix is to keep behaviour (ruff's split, see DESIGN.md "Fix safety")."""

    SAFE = "safe"  # fork behaviour unchanged; now also runs under spawn and forkserver
    UNSAFE = "unsafe"  # portable, but observable behaviour can change: needs --unsafe-fixes


@dataclass(frozen=True)
class Fix:
    """A rewrite of the parsed module, made with `mpcheck.fixes.FixBuilder`: edits of the
    tree the rule saw (replacements, statement inserts, removals and moves), the imports
    they need, and the names the fix binds (name, what binds it), so that two fixes that
    bind one name differently are not applied in the same round."""

    applicability: Applicability
    description: str
    edits: tuple[FixEdit, ...]
    imports: tuple[ImportRequest, ...] = ()
    names: tuple[tuple[str, object], ...] = ()


_PLATFORM_NAMES = {"windows": "Windows", "macos": "macOS", "linux": "Linux"}
# Every Python version, as a half-open range of (major, minor).
ALL_VERSIONS = ((0, 0), (99, 0))


@dataclass(frozen=True)
class Breakage:
    """Where a hazard breaks a program: a platform ("windows", "macos", "linux") and the
    Python versions there, the half-open range [since, until) (None: no bound)."""

    platform: str
    since: tuple[int, int] | None = None
    until: tuple[int, int] | None = None

    def describe(self) -> str:
        """"Windows", "Linux with Python ≥ 3.14", "macOS with Python < 3.13"."""
        versions = []
        if self.since is not None:
            versions.append(f"≥ {self.since[0]}.{self.since[1]}")
        if self.until is not None:
            versions.append(f"< {self.until[0]}.{self.until[1]}")
        name = _PLATFORM_NAMES[self.platform]
        return f"{name} with Python {', '.join(versions)}" if versions else name

    def possible(self, platforms: Iterable[str], versions: tuple[tuple[int, int], tuple[int, int]]) -> bool:
        """True when the program can run where this breaks: on one of `platforms`, under a
        Python in the half-open range `versions` ((lowest, highest) of (major, minor))."""
        low, high = versions
        return self.platform in platforms and (self.since is None or self.since < high) \
            and (self.until is None or low < self.until)

    def to_json(self) -> dict:
        """{"platform": "linux", "since": "3.14", "until": null, "text": "Linux with Python ≥ 3.14"}"""
        def version(bound: tuple[int, int] | None) -> str | None:
            return None if bound is None else f"{bound[0]}.{bound[1]}"

        return {"platform": self.platform, "since": version(self.since), "until": version(self.until),
                "text": self.describe()}


def describe_breakages(breakages: Iterable[Breakage]) -> str:
    """"Windows; macOS; Linux with Python ≥ 3.14" (empty when there are none)."""
    return "; ".join(breakage.describe() for breakage in breakages)


def narrow(breakages: Iterable[Breakage], platforms: Iterable[str],
           versions: tuple[tuple[int, int], tuple[int, int]] = ALL_VERSIONS) -> tuple[Breakage, ...]:
    """The entries of `breakages` the program can reach when it runs only on `platforms`
    and under Python versions in `versions` (half-open, (major, minor)); a bound that range
    makes redundant is dropped ("macOS with Python ≥ 3.8" is "macOS" when 3.10 is the lowest
    version). Used for what is left of a finding under the `platforms` and `target-version`
    settings, and by rules for a finding inside `if sys.platform == "darwin":` or
    `if sys.version_info < (3, 13):` (pass `model.facts(site)`'s platforms and versions)."""
    platforms = frozenset(platforms)
    low, high = versions
    return tuple(
        Breakage(breakage.platform,
                 breakage.since if breakage.since is not None and breakage.since > low else None,
                 breakage.until if breakage.until is not None and breakage.until < high else None)
        for breakage in breakages if breakage.possible(platforms, versions)
    )


# Where the default start method is not fork, so children re-import the main module and
# receive what they run by pickle (facts §1): Windows always, macOS from 3.8, Linux from 3.14.
WHERE_FORK_IS_NOT_THE_DEFAULT = (Breakage("windows"), Breakage("macos", since=(3, 8)), Breakage("linux", since=(3, 14)))
WHERE_FORK_IS_MISSING = (Breakage("windows"),)
# Everywhere, fork included (a lambda given to `Pool.map` fails on Linux too).
EVERYWHERE = (Breakage("windows"), Breakage("macos"), Breakage("linux"))


@dataclass(frozen=True)
class Violation:
    """What a rule reports: the node it is about, a message, and the fixes it offers,
    safest first (the engine applies the last one the user allowed)."""

    node: cst.CSTNode
    message: str
    fixes: tuple[Fix, ...] = ()
    # Where this finding breaks the program, when it differs from the rule's `breaks_on`
    # (see `narrow`). The engine keeps only what the `platforms` and `target-version`
    # settings can reach, and drops the finding when nothing is left.
    breaks_on: tuple[Breakage, ...] | None = None


@dataclass(frozen=True)
class Edit:
    """A fix as text: replace [start, end) of the original source with `content`.
    Lines and columns are 1-based; columns count characters."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class FixInfo:
    applicability: Applicability
    description: str
    # The fix as text; computed only for the reports that print it (json, sarif): finding
    # it renders the whole module once per finding.
    edit: Edit | None = None


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One located finding. Lines and columns are 1-based, like ruff's and flake8's output."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)
    fix: FixInfo | None = field(default=None, compare=False)
    # The rule's name (e.g. "fork-only-api"); empty for input errors (MP000).
    name: str = field(default="", compare=False)
    # No fix was allowed, but `--unsafe-fixes` would allow one.
    hidden_unsafe_fix: bool = field(default=False, compare=False)
    # Where the finding breaks the program, among the platforms and Python versions the
    # settings target; empty for input errors (MP000).
    breaks_on: tuple[Breakage, ...] = field(default=(), compare=False)

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    @property
    def text(self) -> str:
        """The message with where it breaks, as every line-oriented output prints it (the
        concise and github formats, flake8): "... (breaks on: Windows; macOS)"."""
        if not self.breaks_on:
            return self.message
        return f"{self.message} (breaks on: {describe_breakages(self.breaks_on)})"


# The code of findings that are not about multiprocessing at all: the file could not be
# read or parsed. They are reported whatever `select` says and make the exit status 2,
# unless an `ignore` entry names them (see `names_input_errors`).
INPUT_ERROR_CODE = "MP000"


# The code of a bug in mpcheck itself (a rule, a fix or the engine raised on a file): the
# file's report is incomplete and `fix` leaves it unchanged. Never ignored or suppressed,
# always exit status 2 (ruff reports its own panics the same way).
INTERNAL_ERROR_CODE = "MP999"
INTERNAL_ERROR_NAME = "internal-error"
# Not findings about the code: the file was not (fully) checked.
ERROR_CODES = frozenset({INPUT_ERROR_CODE, INTERNAL_ERROR_CODE})


def names_input_errors(selector: str) -> bool:
    """True when the `ignore`, `per-file-ignores` or `# mpcheck: noqa` entry `selector`
    hides input errors: MP000 itself, or MP0/MP00, prefixes of it that name no rule. `MP`
    and `ALL` turn rules off; they say nothing about files that cannot be read."""
    selector = selector.upper()
    return selector.startswith("MP0") and INPUT_ERROR_CODE.startswith(selector)
