"""What a file's result was computed from besides its own text: the other files read, the
directories listed, the projects whose modules were looked up, and the projects whose import
graph was consulted. The result cache (cache.py) keeps these with each entry and trusts the
entry only while all of them are unchanged.

The readers note what they read as they read it -- the project index (project.py) and the
name-based pass (reach.py) each module's text and import lines, frozen.py the dependency
lists and build files it looks at -- into every recording open at that moment. What a reader
memoises for the run is noted again on every use (`remembered`), so a file checked after
another one records what the first one's check had to read for both.
"""

from __future__ import annotations

import functools
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Generic, Hashable, Iterator, TypeVar

_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)


def content_digest(data: bytes) -> str:
    """The hash a file's content is known by (the result cache compares them)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(eq=False)  # a recording is closed by identity: two may hold the same reads
class Reads:
    """Absolute paths, as strings."""

    # Contents read (with the digest of what was read, when the reader knew it), or looked
    # for and found missing.
    files: dict[str, str | None] = field(default_factory=dict)
    directories: set[str] = field(default_factory=set)  # the names of the files in them
    projects: set[str] = field(default_factory=set)  # roots whose list of modules was used
    graphs: set[str] = field(default_factory=set)  # roots whose every module's imports were used

    def add(self, other: Reads) -> None:
        for path, digest in other.files.items():
            _note_in(self, path, digest)
        self.directories |= other.directories
        self.projects |= other.projects
        self.graphs |= other.graphs


_open: list[Reads] = []


@contextmanager
def recording() -> Iterator[Reads]:
    """Collect what is noted until the block ends (recordings nest: an inner one's reads
    are the outer one's too)."""
    reads = Reads()
    _open.append(reads)
    try:
        yield reads
    finally:
        _open.remove(reads)


def last_recording() -> Reads | None:
    """The recording opened last, None when none is open. What was noted while it was the
    last one open is in it and in every one open around it: a reader that notes the same
    reads over and over may skip them while this is the same object."""
    return _open[-1] if _open else None


@contextmanager
def unrecorded() -> Iterator[None]:
    """Note nothing in the block: for work whose result a coarser note stands for (every
    module's imports, for `note_graph`)."""
    saved = _open[:]
    _open.clear()
    try:
        yield
    finally:
        _open[:] = saved


def note_file(path: str | os.PathLike[str], digest: str | None = None) -> None:
    """The file at `path` was read (its content had `digest`, when given) or looked for."""
    if _open:
        absolute = _absolute(path)
        for reads in _open:
            _note_in(reads, absolute, digest)


# The absolute form of each absolute path noted (a check notes the modules it consults
# thousands of times: os.path.abspath each time was a tenth of a run over the stdlib).
# Relative paths are not kept: theirs depends on the working directory. Emptied when full.
_ABSOLUTE: dict[str | os.PathLike[str], str] = {}
_MAX_ABSOLUTE = 100_000


def _absolute(path: str | os.PathLike[str]) -> str:
    found = _ABSOLUTE.get(path)
    if found is None:
        found = os.path.abspath(path)
        if os.path.isabs(path):
            if len(_ABSOLUTE) >= _MAX_ABSOLUTE:
                _ABSOLUTE.clear()
            _ABSOLUTE[path] = found
    return found


def _note_in(reads: Reads, path: str, digest: str | None) -> None:
    if digest is not None or path not in reads.files:
        reads.files[path] = digest


def note_directory(path: str | os.PathLike[str]) -> None:
    if _open:
        absolute = os.path.abspath(path)
        for reads in _open:
            reads.directories.add(absolute)


def note_project(root: str | os.PathLike[str]) -> None:
    if _open:
        absolute = os.path.abspath(root)
        for reads in _open:
            reads.projects.add(absolute)


def note_graph(root: str | os.PathLike[str]) -> None:
    if _open:
        absolute = os.path.abspath(root)
        for reads in _open:
            reads.graphs.add(absolute)


def note(reads: Reads) -> None:
    for open_reads in _open:
        open_reads.add(reads)


class Remembered(Generic[_K, _T]):
    """Results worked out once per key, for the run, with what working one out read noted
    again on every use (a file checked after another records the reads the first one's
    check made for both)."""

    def __init__(self) -> None:
        self._results: dict[_K, tuple[_T, Reads]] = {}

    def get(self, key: _K, work_out: Callable[[], _T]) -> _T:
        """The result for `key`: `work_out()`'s, called the first time only."""
        found = self._results.get(key)
        if found is None:
            with recording() as reads:
                value = work_out()
            found = self._results[key] = (value, reads)
        else:
            note(found[1])
        return found[0]

    def clear(self) -> None:
        self._results.clear()


def remembered(function: Callable[..., _T]) -> Callable[..., _T]:
    """`functools.cache` by `Remembered`: what the first call read is noted again on every call."""
    results: Remembered[tuple, _T] = Remembered()

    @functools.wraps(function)
    def wrapper(*arguments):
        return results.get(arguments, lambda: function(*arguments))

    wrapper.cache_clear = results.clear  # type: ignore[attr-defined]
    return wrapper
