"""Which files to check: the paths given, directories walked, excludes and .gitignore.

Directories are walked without following symlinks (a symlink loop cannot trap the walk),
virtual environments are recognised by their `pyvenv.cfg` wherever they live, and a path
that cannot be used is reported as such, once, while every other path is still checked.

A walk can say what its outcome depends on (`walked`): the directories it listed or looked
into (a file added, removed or renamed in one changes its modification time), the .gitignore
files it looked for, and the `.git` it looked for above the walked directory. While none of
them has changed, the walk finds the same files; the result cache keeps a project's module
list on that ground.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .config import Settings
from .source import InputError, read_regular_file

_MAX_GITIGNORE_BYTES = 1 << 20

if TYPE_CHECKING:
    import pathspec  # imported where a .gitignore is read: a tree without one does not pay for it


@dataclass(frozen=True)
class DiscoveredFile:
    path: Path
    display: str  # how the user named it (relative paths stay relative)


@dataclass(frozen=True)
class DiscoveryError:
    display: str
    reason: str


def discover(paths: Iterable[str], settings: Settings,
             walked: list[str] | None = None) -> Iterator[DiscoveredFile | DiscoveryError]:
    """The files to check under `paths`, each once, and what could not be used. `walked`,
    when given, receives the paths a directory walk's outcome depends on (absolute; see the
    module docstring)."""
    seen: set[tuple[int, int] | Path] = set()
    excludes = (*settings.exclude, *settings.extend_exclude)
    for given in paths:
        path = Path(given)
        if not os.path.lexists(path):
            yield DiscoveryError(given, "no such file or directory")
            continue
        if path.is_dir():
            ignore = _GitIgnore(path, walked) if settings.respect_gitignore else None
            for found in _walk(path, excludes, settings.root, ignore, walked):
                key = _identity(found)
                if key not in seen:
                    seen.add(key)
                    yield DiscoveredFile(found, str(found))
        else:
            # A file named explicitly is checked even if it is not *.py, unless excluded
            # (pre-commit passes every staged file by name).
            if any(_is_excluded(part, excludes, settings.root) for part in _self_and_parents(path, settings.root)):
                continue
            key = _identity(path)
            if key not in seen:
                seen.add(key)
                yield DiscoveredFile(path, given)


def _identity(path: Path) -> tuple[int, int] | Path:
    """What makes two paths one file: its device and inode (one `stat`, where resolving the
    path took one system call per component), or the absolute path when it cannot be
    stat'ed (a dangling symlink, a symlink loop: it will fail to read, once)."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return path.absolute()
    return status.st_dev, status.st_ino


def _walk(root: Path, excludes: tuple[str, ...], base: Path, ignore: _GitIgnore | None,
          walked: list[str] | None) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(directory)
        if walked is not None:
            walked.append(os.path.abspath(directory))
        resolved = ignore.enter(current) if ignore is not None else current
        kept = []
        for name in sorted(dirnames):
            child = current / name
            if (
                _is_excluded(child, excludes, base)
                or (ignore is not None and ignore.ignores(resolved / name, is_dir=True))
            ):
                continue
            if (child / "pyvenv.cfg").exists():
                if walked is not None:  # removing its pyvenv.cfg would bring it into the walk
                    walked.append(os.path.abspath(child))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            child = current / name
            if _is_excluded(child, excludes, base) or (ignore is not None and ignore.ignores(resolved / name, is_dir=False)):
                continue
            yield child


def _self_and_parents(path: Path, base: Path) -> list[Path]:
    """The file and the directories it is in below `base`: `build/gen.py` is excluded by
    `build` as it would be when the walk reached it."""
    try:
        relative = path.resolve().relative_to(base.resolve())
    except (ValueError, OSError, RuntimeError):
        return [path]
    return [base / relative, *(base / parent for parent in relative.parents if parent.parts)]


@functools.lru_cache(maxsize=None)
def _names_pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression for `fnmatch.fnmatch(name, pattern)` over every pattern (a
    walk asks it of every name: one match instead of one per pattern)."""
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(os.path.normcase(pattern.rstrip("/"))) for pattern in patterns))


def _is_excluded(path: Path, patterns: tuple[str, ...], base: Path) -> bool:
    """ruff's matching: a pattern matches the file or directory name, or its path
    relative to the configuration's directory."""
    names = _names_pattern(patterns)
    if names is not None and names.match(os.path.normcase(path.name)):
        return True
    path_patterns = [pattern.rstrip("/") for pattern in patterns if "/" in pattern.rstrip("/")]
    if not path_patterns:
        return False  # resolving every path costs more than the rest of discovery
    try:
        relative = path.resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, pattern) or relative.startswith(pattern + "/")
        for pattern in path_patterns
    )


class _GitIgnore:
    """The .gitignore files that apply under a walked directory: those of its ancestors up
    to the repository root, and those found on the way down."""

    def __init__(self, root: Path, walked: list[str] | None = None) -> None:
        self.specs: list[tuple[Path, pathspec.PathSpec]] = []
        self.walked = walked
        absolute = root.resolve()
        looked_into = []
        for directory in (absolute, *absolute.parents):
            looked_into.append(directory)
            if (directory / ".git").exists():
                ancestors = looked_into
                break
        else:
            ancestors = [absolute]  # not in a repository: only .gitignore files below root
        if walked is not None:  # a .git made above the root would bring in .gitignore files
            walked.extend(str(directory / ".git") for directory in looked_into[1:])
        for directory in reversed(ancestors[1:]):
            self._load(directory)
        self.visited: set[Path] = set()

    def _load(self, directory: Path) -> None:
        gitignore = directory / ".gitignore"
        if self.walked is not None:
            self.walked.append(str(gitignore))
        try:
            lines = read_regular_file(gitignore, _MAX_GITIGNORE_BYTES).decode("utf-8", errors="replace").splitlines()
        except InputError:
            return
        import pathspec

        self.specs.append((directory, pathspec.GitIgnoreSpec.from_lines(_valid_patterns(lines))))

    def enter(self, directory: Path) -> Path:
        """Load the directory's .gitignore; return the directory resolved, which entries
        found in it are matched under (resolved once per directory, not per file)."""
        absolute = directory.resolve()
        if absolute not in self.visited:
            self.visited.add(absolute)
            self._load(absolute)
        return absolute

    def ignores(self, absolute: Path, is_dir: bool) -> bool:
        """`absolute`: an entry of a directory `enter` returned."""
        for base, spec in self.specs:
            try:
                relative = absolute.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def _valid_patterns(lines: list[str]) -> list[str]:
    """The lines pathspec accepts: git itself skips a pattern it cannot use (a bare `!`, as
    black's own .gitignore has), and so does the walk, instead of failing the run."""
    import pathspec

    valid = []
    for line in lines:
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except (ValueError, TypeError):  # pathspec's GitIgnorePatternError is a ValueError
            continue
        valid.append(line)
    return valid
