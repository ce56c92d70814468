"""The result cache: what checking a file found, kept in `.mpcheck_cache/` so that a file
checked before with the same text, settings and dependencies is not read further, parsed or
checked again (ruff's `.ruff_cache/`, which it resembles: a directory in the project root with
a `.gitignore` of `*` and a `CACHEDIR.TAG`, one subdirectory per mpcheck version).

An entry is one JSON file, named by a hash of what the result depends on as a whole: the
mpcheck version (and a stamp of its installed source, so that an edited checkout is not
served old results), the Python version, the effective settings (rules selected, per-file
ignores, platforms, target version, options) and the file's absolute path. Inside it: a hash
of the file's content, and everything else the result was computed from (dependencies.py) --
the other files read, each with a hash of its content (or "missing"); the directories listed;
the project root the file belongs to; for each project whose module list was used, a hash of
that list; for each project whose import graph was used (who imports whom: MP601, the
fix-safety questions), a hash of the graph. An entry is used only while every one of these is
unchanged, so a change to an imported module invalidates its importers' results.

A project's hashes are kept too (`projects.json`), each with the stat (modification time,
size, inode) of every path it was computed from: the directories its walk listed, the
.gitignore files, and for the graph its modules. While none of those has changed, a run
reuses the hash instead of walking the project and reading its modules, as git's index and
ruff's cache trust a file's stat. A hash is not kept when one of those paths changed after the
run (the checker) started, since what the hash was computed from may have been read before the
change, nor when one changed in the two seconds before (a coarse clock could hide a second
change from the next stat: git's "racily clean" files).

What runs learnt of each module of a project is kept too (`modules.json`, see
`ResultCache.module_facts`): the hash of its text, the modules it imports and the names that
reach.py found reaching process APIs, trusted while its stat and the project's module list
are unchanged. A pre-commit run on two edited files otherwise reads and scans every module
they import, directly or not, to tell whether they call into code that starts processes.
So are the answers to questions across files that a check worked out (`answers.json`, see
`answer`: what calling a function of another module configures), each with every file
working it out read and the hash of its content, trusted while each of those files still
hashes so: a check of an edited file then parses none of the modules those answers came
from, unless one of them was edited too. Worker processes hand what they learn to the
parent (`take_learnt`), which keeps it when the run ends.

Entries are written to a temporary file and renamed over (`os.replace`): two runs at once
each see a whole entry or none, and the last writer wins. An entry that cannot be read or
parsed (a crash, a disk full, another version's format) is a miss, never an error; so is a
cache directory that cannot be written.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from . import __version__
from .dependencies import Reads, content_digest
from .findings import Applicability, Breakage, Diagnostic, Edit, FixInfo
from .source import MAX_FILE_BYTES, InputError, read_regular_file

if TYPE_CHECKING:
    from .reach import Reaching

_FORMAT = 1
_MISSING = "missing"
_MERGES = 3  # how many times close() writes modules.json at most (see there)
_RACY_NS = 2_000_000_000  # a change this close to a stat may not show in its modification time
_GITIGNORE = "# Automatically created by mpcheck.\n*\n"
_CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                 "# This file is a cache directory tag created by mpcheck.\n"
                 "# For information about cache directory tags see https://bford.info/cachedir/\n")


@dataclass(frozen=True)
class ModuleFacts:
    """What a run learnt of one module of a project from its text: the hash of that text,
    the modules of the project it imports and the packages it binds (ProjectIndex.imported
    and .bound_packages: absolute paths), and for each set of words
    reach.py was asked about (its key), what the module's names reach (reach.Reaching)."""

    digest: str
    imported: tuple[str, ...]
    packages: tuple[str, ...]
    reaching: dict[str, Reaching]


@dataclass(frozen=True)
class Learnt:
    """ResultCache.take_learnt's: the module facts and the answers a run learnt."""

    modules: list[tuple[str, str, list[int], ModuleFacts]]
    answers: list[tuple[str, str, list]]


@dataclass(frozen=True)
class CachedResult:
    """What a cache entry gives back: the file's diagnostics (their `path` is filled in by
    the caller, who knows how the user named the file) and whether it went unchecked."""

    diagnostics: tuple[Diagnostic, ...]
    unchecked: bool


class FileHashes:
    """Hashes of file contents, each file read once per run."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def know(self, path: str, digest: str) -> None:
        """The file at `path` (absolute) was read, and its content hashes to `digest`."""
        self._known[path] = digest

    def of_file(self, path: str) -> str:
        """The hash of the content of the file at `path` (absolute); `_MISSING` for what no
        reader of mpcheck reads either (source.read_regular_file): a missing file, one over
        the size limit, or no regular file -- a named pipe among a project's modules would
        otherwise wait here for a writer forever."""
        digest = self._known.get(path)
        if digest is None:
            try:
                digest = content_digest(read_regular_file(Path(path), MAX_FILE_BYTES))
            except InputError:
                digest = _MISSING
            self._known[path] = digest
        return digest


class ResultCache:
    """The entries of one cache directory for one configuration. `configuration`: what else
    the results depend on as a whole (the checker's settings and options, see
    `configuration_key`). `project_hashes(root, graph)`: a hash of the module list (or, with
    `graph`, of the import graph) of the project at `root` as it is now, the paths
    (absolute) whose state it was computed from, and (for the module list, when it is
    whole) the modules' paths, kept for `kept_module_list`."""

    def __init__(self, directory: Path, configuration: str,
                 project_hashes: Callable[[str, bool], tuple[str, list[str], list[str] | None]]) -> None:
        self.directory = directory
        self.entries = directory / __version__
        self.configuration = configuration
        self.project_hashes = project_hashes
        self.hashes = FileHashes()
        self._projects: dict[tuple[str, bool], str] = {}
        self._lists: dict[tuple, str] = {}
        self._lines: dict[tuple[str | None, str], str] = {}  # (root, path) -> "path digest"
        self._imports: dict[str, list[str]] | None = None  # content hash -> the modules it imports
        self._new_imports = False
        self._snapshots: dict[str, dict] | None = None  # projects.json: see the module docstring
        self._holding: dict[str, dict | None] = {}  # its snapshots still holding, as checked this run
        self._modules: dict[str, dict] | None = None  # modules.json: see module_facts
        self._learnt: list[tuple[str, str, list[int], ModuleFacts]] = []  # kept by close()
        self._answers: dict[str, dict] | None = None  # answers.json: see answer
        self._new_answers: list[tuple[str, str, list]] = []  # kept by close()
        # When the run started, before anything a project's hash is computed from was read (in
        # a worker process, its parent's: what the worker keeps goes to the parent, `learnt`).
        self.started = time.time_ns()
        self._writable = True

    # -- reading ------------------------------------------------------------------------------

    def lookup(self, path: Path, content: str, root: str | None) -> CachedResult | None:
        """The cached result for the file at `path` (absolute) whose content hashes to
        `content` and whose project root is `root`, if one is there and still holds."""
        try:
            with open(self._entry(path), "rb") as stream:
                entry = json.loads(stream.read())
            if entry["format"] != _FORMAT or entry["content"] != content or entry["root"] != root \
                    or not self._unchanged(entry, root):
                return None
            result = entry["result"]
            return CachedResult(tuple(_diagnostic(item) for item in result["diagnostics"]), bool(result["unchecked"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, corrupt, half-written by a crashed run, another format: a miss

    def _unchanged(self, entry: dict, root: str | None) -> bool:
        files = entry["files"]
        return self._files_digest(root, tuple(files["paths"])) == files["digest"] and \
            all(_listing(path) == digest for path, digest in entry["directories"].items()) and \
            all(self._project(root, False) == digest for root, digest in entry["projects"].items()) and \
            all(self._project(root, True) == digest for root, digest in entry["graphs"].items())

    def _files_digest(self, root: str | None, paths: tuple[str, ...]) -> str:
        """The hash of the files `paths` (relative to `root`, or absolute) as they are now;
        entries that list the same files share the work."""
        key = (root, paths)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = hash_lines(self._line(root, path) for path in paths)
        return found

    def _line(self, root: str | None, path: str) -> str:
        """`path` (relative to `root`, or absolute) and the hash of its content, as an entry's
        file list is hashed; once per file for the run, as most entries list the same files."""
        key = (root, path)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = f"{path} {self.hashes.of_file(os.path.join(root or '', path))}"
        return line

    def _project(self, root: str, graph: bool) -> str:
        key = (root, graph)
        found = self._projects.get(key)
        if found is None:
            found = self._projects[key] = self._kept_project(root, graph) or self._computed_project(root, graph)
        return found

    def _kept_project(self, root: str, graph: bool) -> str | None:
        """The hash kept by an earlier run, if none of the paths it was computed from changed."""
        kept = self._holding_snapshot(root, graph)
        return None if kept is None else kept["digest"]

    def kept_module_list(self, root: str) -> tuple[list[str], list[str]] | None:
        """The modules of the project at `root` (absolute paths) as an earlier run's walk
        found them, if none of the paths that walk's outcome depends on changed since (see
        discovery.py), and those paths: the walk need not be made again."""
        kept = self._holding_snapshot(root, False)
        modules = None if kept is None else kept.get("modules")
        if not isinstance(modules, list) or not all(isinstance(name, str) for name in modules):
            return None
        return [os.path.join(root, name) for name in modules], list(kept["stats"])

    def _holding_snapshot(self, root: str, graph: bool) -> dict | None:
        """projects.json's snapshot of the project at `root`, if none of the paths it was
        computed from changed (checked once a run)."""
        key = _snapshot_key(root, graph)
        if key not in self._holding:
            kept = self._kept_snapshots().get(key)
            try:
                holds = isinstance(kept, dict) and isinstance(kept["digest"], str) and \
                    all(_stat(path) == stat for path, stat in kept["stats"].items())
            except (KeyError, TypeError, AttributeError):
                holds = False  # another format: computed again
            self._holding[key] = kept if holds else None
        return self._holding[key]

    def _computed_project(self, root: str, graph: bool) -> str:
        digest, paths, modules = self.project_hashes(root, graph)
        stats = {path: _stat(path) for path in paths}
        if all(stat is None or stat[0] < self.started - _RACY_NS for stat in stats.values()):
            snapshots = self._kept_snapshots()
            snapshots[_snapshot_key(root, graph)] = {"digest": digest, "stats": stats}
            if modules is not None:
                snapshots[_snapshot_key(root, graph)]["modules"] = [_relative(module, root) for module in modules]
            # Written now, not by close(): the flake8 plugin's processes see no end of the run.
            self._write("projects.json", snapshots)
        return digest

    def _kept_snapshots(self) -> dict[str, dict]:
        if self._snapshots is None:
            self._snapshots = self._read("projects.json")
        return self._snapshots

    def _read(self, name: str) -> dict:
        """What an earlier run kept in the file `name` of the cache ({} for nothing usable)."""
        try:
            with open(self.entries / name, "rb") as stream:
                return dict(json.loads(stream.read()))
        except (OSError, ValueError, TypeError):
            return {}

    def module_facts(self, root: str, path: str) -> ModuleFacts | None:
        """What an earlier run learnt of the module at `path` (absolute) of the project at
        `root`, while it still holds: the module's stat and the project's module list (which
        the paths of the modules it imports were resolved against) are unchanged. As git's
        index does, a file whose stat is unchanged is taken to hold what it held: a run on
        two edited files then reads none of the modules they import, directly or not."""
        try:
            project = self._kept_modules().get(root)
            if project is None or project["list"] != self._project(root, False):
                return None
            entry = project["modules"].get(_relative(path, root))
            if entry is None or entry[:3] != _stat(path):
                return None
            from .reach import Reaching  # a run that asks has imported it

            digest, imported, packages, reaching = entry[3:]
            return ModuleFacts(digest, tuple(os.path.join(root, name) for name in imported),
                               tuple(os.path.join(root, name) for name in packages), {
                words: Reaching(frozenset(names), {os.path.join(root, other): frozenset(found)
                                                   for other, found in inputs.items()},
                                {alias: os.path.join(root, other) for alias, other in modules.items()})
                for words, (names, inputs, modules) in reaching.items()})
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # another format: learnt again

    def keep_module_facts(self, root: str, path: str, facts: ModuleFacts) -> None:
        """Keep `facts` of the module at `path` (absolute, inside `root`) for later runs
        (written by close()), unless the module changed after the run started or in the two
        seconds before (see the module docstring: what was read may not be what is there)."""
        stat = _stat(path)
        if stat is not None and stat[0] < self.started - _RACY_NS:
            self._learnt.append((root, path, stat, facts))

    def _merge_learnt(self, projects: dict[str, dict]) -> bool:
        """Add what this run learnt of the modules to `projects` (modules.json's); whether
        anything changed."""
        changed = False
        for root, path, stat, facts in self._learnt:
            modules = self._project_part(projects, root, "modules")
            name = _relative(path, root)
            entry = [*stat, facts.digest, [_relative(other, root) for other in facts.imported],
                     [_relative(other, root) for other in facts.packages],
                     {words: [sorted(found.names), {_relative(other, root): sorted(names)
                                                    for other, names in found.inputs.items()},
                              {alias: _relative(other, root) for alias, other in found.modules.items()}]
                      for words, found in facts.reaching.items()}]
            kept = modules.get(name)
            if isinstance(kept, list) and len(kept) == 7 and kept[:6] == entry[:6] and isinstance(kept[6], dict):
                entry[6] = {**kept[6], **entry[6]}  # what it learnt of other words still holds
            if entry != kept:
                modules[name] = entry
                changed = True
        return changed

    def answer(self, root: str, key: str) -> tuple[object, dict[str, str]] | None:
        """The answer to the question `key` that an earlier run kept for the project at
        `root` (ProjectIndex.kept_answer), while the project's module list is unchanged, and
        the files (absolute paths) working it out read, with the hash of each: the caller
        takes it only while each still hashes so."""
        try:
            project = self._kept_answers().get(root)
            if project is None or project["list"] != self._project(root, False):
                return None
            entry = project["answers"].get(key)
            if entry is None:
                return None
            answer, files = entry
            return answer, {os.path.join(root, name): str(digest) for name, digest in files.items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # another format: worked out again

    def keep_answer(self, root: str, key: str, answer: object, files: dict[str, str]) -> None:
        """Keep an answer (`answer`) for later runs (written by close()), unless one of the
        files it was worked out from changed after the run started or in the two seconds
        before."""
        for path in files:
            stat = _stat(path)
            if stat is None or stat[0] >= self.started - _RACY_NS:
                return
        self._new_answers.append((root, key, [answer, {_relative(path, root): digest
                                                       for path, digest in sorted(files.items())}]))

    def _merge_answers(self, projects: dict[str, dict]) -> bool:
        """Add the answers this run worked out to `projects` (answers.json's); whether
        anything changed."""
        changed = False
        for root, key, entry in self._new_answers:
            answers = self._project_part(projects, root, "answers")
            if answers.get(key) != entry:
                answers[key] = entry
                changed = True
        return changed

    def _project_part(self, projects: dict[str, dict], root: str, part: str) -> dict:
        """`part` ("modules", "answers") of the project at `root` in `projects`, emptied when
        it was kept for another module list than the project's now."""
        listed = self._project(root, False)
        project = projects.get(root)
        if not isinstance(project, dict) or project.get("list") != listed or not isinstance(project.get(part), dict):
            project = projects[root] = {"list": listed, part: {}}
        return project[part]

    def _kept_answers(self) -> dict[str, dict]:
        if self._answers is None:
            self._answers = self._kept_projects("answers.json")
        return self._answers

    def _kept_modules(self) -> dict[str, dict]:
        if self._modules is None:
            self._modules = self._kept_projects("modules.json")
        return self._modules

    # -- writing ------------------------------------------------------------------------------

    def store(self, path: Path, content: str, root: str | None, reads: Reads,
              diagnostics: Iterable[Diagnostic], unchecked: bool) -> None:
        """Keep a result of the file at `path` (absolute) whose content hashed to `content`,
        computed from what `reads` lists. A file read is kept with the hash of what was read,
        where the reader knew it (the project's modules, the files frozen.py reads); one only
        looked for (`__init__.py`, a missing config) is hashed now."""
        if not self._writable:
            return
        files = sorted((_relative(file, root), digest or self.hashes.of_file(file))
                       for file, digest in reads.files.items() if file != str(path))
        entry = {
            "format": _FORMAT,
            "content": content,
            "root": root,
            "files": {"paths": [file for file, _ in files],
                      "digest": hash_lines(f"{file} {digest}" for file, digest in files)},
            "directories": {directory: _listing(directory) for directory in sorted(reads.directories)},
            "projects": {project: self._project(project, False) for project in sorted(reads.projects)},
            "graphs": {project: self._project(project, True) for project in sorted(reads.graphs)},
            "result": {"diagnostics": [_json(diagnostic) for diagnostic in diagnostics], "unchecked": unchecked},
        }
        try:
            self._prepare()
            _write_replacing(self._entry(path), json.dumps(entry, separators=(",", ":")).encode("utf-8"))
        except OSError:
            self._writable = False  # a read-only tree: check without keeping results

    def imports(self, content: str) -> list[str] | None:
        """The modules a module whose content hashes to `content` imports, if a run found
        them before (kept in the cache, so that a warm run need not read every module to
        hash its project's import graph)."""
        if self._imports is None:
            self._imports = self._read("imports.json")
        return self._imports.get(content)

    def remember_imports(self, content: str, names: list[str]) -> None:
        if self.imports(content) != names:
            assert self._imports is not None
            self._imports[content] = names
            self._new_imports = True

    def take_learnt(self) -> Learnt:
        """What this run learnt and has not kept yet (`keep_module_facts`, `keep_answer`),
        handed over: a worker process gives it to its parent's cache
        (`add_learnt`), which keeps it when the run ends."""
        learnt = Learnt(self._learnt, self._new_answers)
        self._learnt, self._new_answers = [], []
        return learnt

    def add_learnt(self, learnt: Learnt) -> None:
        self._learnt.extend(learnt.modules)
        self._new_answers.extend(learnt.answers)

    def close(self, keep_modules: bool = True) -> None:
        """Keep what the run learnt of the modules' imports (at the end of a run), and
        with `keep_modules`, of the modules (`keep_module_facts`): a fix run, which keeps
        no result either, leaves the project as it found it but for the fixes."""
        if self._new_imports:
            self._write("imports.json", self._imports)
            self._new_imports = False
        # Another run may have written since this one read (flake8's workers end together):
        # what is there now is read again and merged, until it holds what this run learnt.
        if keep_modules:
            self._merge_into("modules.json", self._learnt, self._merge_learnt)
            self._merge_into("answers.json", self._new_answers, self._merge_answers)
        self._learnt.clear()
        self._new_answers.clear()

    def _merge_into(self, name: str, learnt: list, merge: Callable[[dict[str, dict]], bool]) -> None:
        """Write the file `name` with what `merge` adds of `learnt` to what is there now,
        until nothing is added (at most _MERGES times)."""
        for _ in range(_MERGES if learnt else 0):
            projects = self._kept_projects(name)
            if not merge(projects):
                break
            self._write(name, {"source": _source_stamp(), "projects": projects})

    def _kept_projects(self, name: str) -> dict[str, dict]:
        """The projects of the file `name` (modules.json, answers.json), if the same
        mpcheck source wrote it (an edited checkout may learn otherwise)."""
        kept = self._read(name)
        projects = kept.get("projects") if kept.get("source") == _source_stamp() else None
        return projects if isinstance(projects, dict) else {}

    def _write(self, name: str, learnt: dict) -> None:
        if not self._writable:
            return
        try:
            self._prepare()
            _write_replacing(self.entries / name, json.dumps(learnt).encode("utf-8"))
        except OSError:
            self._writable = False

    def _entry(self, path: Path) -> Path:
        return self.entries / (_digest(f"{self.configuration}\0{path}".encode("utf-8", "surrogatepass")) + ".json")

    def _prepare(self) -> None:
        if self.entries.is_dir():
            return
        self.entries.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            if not (self.directory / name).exists():
                _write_replacing(self.directory / name, text.encode("utf-8"))


def configuration_key(*parts: object) -> str:
    """A hash of what every result depends on besides its file: mpcheck's version and the
    stamp of its source files, the Python version, and `parts` (the settings, the rules
    selected, the checker's options), by their `repr`."""
    return _digest(repr((_FORMAT, __version__, _source_stamp(), sys.version, *parts)).encode("utf-8"))


@functools.cache
def _source_stamp() -> str:
    """Size and modification time of every module of mpcheck: an edited checkout (an
    editable install) invalidates the cache as a new version would."""
    package = Path(__file__).parent
    stamps = []
    for directory, _, names in os.walk(package):
        for name in sorted(names):
            if name.endswith(".py"):
                status = os.stat(os.path.join(directory, name))
                stamps.append(f"{os.path.relpath(os.path.join(directory, name), package)}:{status.st_size}:{status.st_mtime_ns}")
    return _digest("\n".join(sorted(stamps)).encode("utf-8"))


def hash_lines(lines: Iterable[str]) -> str:
    """A hash of `lines` (a module list, an import graph), for `project_hashes`."""
    return _digest("\n".join(lines).encode("utf-8", "surrogatepass"))


_digest = content_digest


def _relative(path: str, root: str | None) -> str:
    """`path` relative to `root` when it is inside it (entries stay small), else absolute."""
    if root is not None and path.startswith(root + os.sep):
        return path[len(root) + 1:]
    return path


def _snapshot_key(root: str, graph: bool) -> str:
    return f"{'graph' if graph else 'modules'} {root}"


def _stat(path: str) -> list[int] | None:
    """What tells that the file or directory at `path` changed (None: it is not there)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size, status.st_ino]


def _listing(directory: str) -> str:
    try:
        names = sorted(entry.name for entry in os.scandir(directory) if entry.is_file())
    except OSError:
        return _MISSING
    return hash_lines(names)


def _write_replacing(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path` and rename it over `path`: a reader
    sees the old file or the new one, whole. (No fsync: a lost entry is only a miss.)"""
    import tempfile  # only a run that stores something needs it

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


# -- diagnostics as JSON ------------------------------------------------------------------------


def _json(diagnostic: Diagnostic) -> dict:
    fix = diagnostic.fix
    return {
        "line": diagnostic.line, "column": diagnostic.column, "code": diagnostic.code,
        "message": diagnostic.message, "end_line": diagnostic.end_line, "end_column": diagnostic.end_column,
        "fix": None if fix is None else {
            "applicability": fix.applicability.value, "description": fix.description,
            "edit": None if fix.edit is None else [fix.edit.line, fix.edit.column, fix.edit.end_line,
                                                   fix.edit.end_column, fix.edit.content],
        },
        "name": diagnostic.name, "hidden_unsafe_fix": diagnostic.hidden_unsafe_fix,
        "breaks_on": [[b.platform, b.since, b.until] for b in diagnostic.breaks_on],
    }


def _diagnostic(item: dict) -> Diagnostic:
    fix = item["fix"]
    return Diagnostic(
        "", item["line"], item["column"], item["code"], item["message"], item["end_line"], item["end_column"],
        fix=None if fix is None else FixInfo(Applicability(fix["applicability"]), fix["description"],
                                             None if fix["edit"] is None else Edit(*fix["edit"])),
        name=item["name"], hidden_unsafe_fix=item["hidden_unsafe_fix"],
        breaks_on=tuple(Breakage(platform, _version(since), _version(until)) for platform, since, until in item["breaks_on"]),
    )


def _version(value: list[int] | None) -> tuple[int, int] | None:
    return None if value is None else (value[0], value[1])
