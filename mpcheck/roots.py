"""Where a file's project starts, and the name its module is imported by.

A project's root is the nearest directory upwards holding .git, pyproject.toml, setup.py or
setup.cfg; without one, the directory above the file's top-level package (or the file's own
directory). These are the first questions of every run, a cached one included: this module
imports nothing else of mpcheck, so answering them does not import the project index, the
name-based pass or the rules.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


@functools.lru_cache(maxsize=None)
def project_root(directory: Path) -> Path | None:
    """The nearest directory from `directory` upwards holding one of PROJECT_MARKERS."""
    for candidate in (directory, *directory.parents):
        if any(os.path.exists(candidate / marker) for marker in PROJECT_MARKERS):
            return candidate
    return None


def module_name(path: Path) -> tuple[Path, str]:
    """The directory a file is imported from and its dotted module name there:
    `src/app/jobs.py` with `src/app/__init__.py` is `app.jobs`, imported from `src`."""
    path = Path(os.path.abspath(path))
    root, package = _package_of(path.parent)
    return root, ".".join([*package, *([] if path.name == "__init__.py" else [path.stem])])


@functools.lru_cache(maxsize=None)
def _package_of(directory: Path) -> tuple[Path, tuple[str, ...]]:
    """The directory above the packages `directory` is in, and their names (once per
    directory for the run: an index of N modules in D directories looks D times, not N)."""
    if directory.parent == directory or not (directory / "__init__.py").is_file():
        return directory, ()
    root, package = _package_of(directory.parent)
    return root, (*package, directory.name)


def find_root(path: Path) -> Path:
    """Where the project of the file at `path` starts (see the module docstring)."""
    start = Path(os.path.abspath(path)).parent
    marked = project_root(start)
    if marked is not None:
        return marked
    return module_name(Path(os.path.abspath(path)))[0]
