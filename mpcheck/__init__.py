"""mpcheck: find and fix multiprocessing code that only works under fork.

The library API is what the command line uses:

    >>> import mpcheck
    >>> for d in mpcheck.check_source("from multiprocessing.context import ForkProcess\\n"):
    ...     print(d.line, d.column, d.code)
    1 37 MP101
    >>> print(mpcheck.fix_source("import os\\n").text, end="")
    import os
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .config import ConfigError, Settings, load_settings
    from .engine import Checker
    from .findings import Applicability, Diagnostic

# Imported on first use: `import mpcheck.runtime.pytest_plugin`, which pytest does in every
# environment mpcheck is installed in, must not pay for libcst and the rules.
_LAZY = {
    "ConfigError": "config", "Settings": "config", "load_settings": "config",
    "Checker": "engine", "Applicability": "findings", "Diagnostic": "findings",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'mpcheck' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


@dataclass(frozen=True)
class FixedSource:
    text: str  # the fixed source (the input itself when nothing was fixed)
    fixed: list[Diagnostic]  # the findings the fixes resolved
    remaining: list[Diagnostic]  # findings in the fixed text (no fix, or not allowed)


def check_source(text: str, path: str = "<stdin>", *, settings: Settings | None = None,
                 unsafe_fixes: bool = False, project_files: Iterable[Path] = ()) -> list[Diagnostic]:
    """The findings in `text`; input errors (syntax, nesting) come back as MP000 unless
    `settings` ignore MP000. `# noqa` and `# mpcheck: noqa` comments are honoured.
    `project_files`: the other files of the project, for the rules that look across files."""
    from .engine import Checker

    return Checker(settings, unsafe_fixes, project_files).check_text(text, path)


def fix_source(text: str, path: str = "<stdin>", *, settings: Settings | None = None,
               unsafe_fixes: bool = False, project_files: Iterable[Path] = ()) -> FixedSource:
    """`text` with every allowed fix applied, re-parsed and re-checked."""
    from .engine import Checker

    result = Checker(settings, unsafe_fixes, project_files).fix_text(text, path)
    return FixedSource(result.fixed_text if result.fixed_text is not None else text, result.fixed, result.diagnostics)


__all__ = [
    "Applicability", "Checker", "ConfigError", "Diagnostic", "FixedSource", "Settings",
    "check_source", "fix_source", "load_settings", "__version__",
]
