"""The project a file belongs to: its modules, who imports whom, its entry points, and which
functions of other modules start processes.

Cross-file facts must not depend on which paths a run was given: pre-commit passes only the
staged files and flake8 one file at a time. So the project is found from the file itself --
its root is the nearest directory upwards holding .git, pyproject.toml, setup.py or setup.cfg
(without one: the parent of the file's top-level package, or its own directory) -- and indexed
once per process, lazily, when a rule first asks. The index reads each module's imports with a
regex; a module is parsed only when a question needs its model (a function of it is called at
import time somewhere). An index that had to stop (more than `MAX_FILES` modules) is
incomplete, and then answers the safety questions conservatively (`is_imported` is True).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .config import Settings
from .discovery import DiscoveredFile, discover
from .frozen import project_root
from .model import ProcessStart, Search, SemanticModel
from .parsing import parse_module, run_deep
from .source import InputError, read_regular_file, read_source

MAX_FILES = 20_000
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^#\n)]*)|import[ \t]+([^#\n]+))", re.M)
_DYNAMIC_IMPORT = re.compile(r"""(?:import_module|__import__|run_module)\(\s*["']([\w.]+)["']""")
_MAX_CONFIG_BYTES = 1 << 20  # pyproject.toml, setup.cfg, setup.py: larger ones are not configuration
_ENTRY_POINT = re.compile(r"""["']?[\w.-]+["']?\s*=\s*["']?([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_][\w.]*""")
# Top-level packages whose import is needed to start processes without another module's help.
_PROCESS_PACKAGES = frozenset({"multiprocessing", "multiprocess", "concurrent", "torch", "billiard", "joblib",
                               "pathos", "loky"})


def module_name(path: Path) -> tuple[Path, str]:
    """The directory a file is imported from and its dotted module name there:
    `src/app/jobs.py` with `src/app/__init__.py` is `app.jobs`, imported from `src`."""
    path = Path(os.path.abspath(path))
    parts = [] if path.name == "__init__.py" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return directory, ".".join(parts)


def find_root(path: Path) -> Path:
    """Where the project of the file at `path` starts (see the module docstring)."""
    start = Path(os.path.abspath(path)).parent
    marked = project_root(start)
    if marked is not None:
        return marked
    return module_name(Path(os.path.abspath(path)))[0]


@dataclass(eq=False)
class _Module:
    path: Path
    root: Path  # the directory it is imported from
    name: str
    imports: frozenset[str]  # absolute dotted names imported (modules or module.attribute)
    names_process_packages: bool
    model: SemanticModel | None = field(default=None, repr=False)
    parsed: bool = False
    starts: bool | None = None  # may running its functions start processes (text test)


class ProjectIndex:
    """The modules of one project. `files`: the modules, when the caller knows them (the
    library API's `project_files`); otherwise they are found under `root`. `texts` overrides
    what is on disk for some paths (the text being checked)."""

    def __init__(self, root: Path, files: Iterable[Path] | None = None, process_apis: Iterable[str] = (),
                 texts: dict[Path, str] | None = None) -> None:
        self.root = root
        self.process_apis = tuple(process_apis)
        self.texts = dict(texts or {})
        self.complete = True
        self._by_path: dict[Path, _Module] = {}
        self._by_name: dict[str, list[_Module]] = {}
        self._importers: dict[int, set[int]] | None = None
        self._entry_modules: frozenset[str] | None = None
        paths = list(files) if files is not None else self._walk()
        for path in paths:
            self._add(Path(os.path.abspath(path)))

    def _walk(self) -> list[Path]:
        found: list[Path] = []
        for item in discover([str(self.root)], Settings(root=self.root)):
            if isinstance(item, DiscoveredFile) and item.path.suffix == ".py":
                found.append(item.path)
                if len(found) > MAX_FILES:
                    self.complete = False
                    break
        return found

    def _add(self, path: Path) -> None:
        text = self._text(path)
        if text is None:
            return
        root, name = module_name(path)
        imports = _imported_names(text, name, path.name == "__init__.py")
        module = _Module(path, root, name, frozenset(imports),
                         any(item.split(".", 1)[0] in _PROCESS_PACKAGES for item in imports))
        self._by_path[path] = module
        self._by_name.setdefault(name, []).append(module)

    def _text(self, path: Path) -> str | None:
        if path in self.texts:
            return self.texts[path]
        try:
            return read_source(path).text
        except InputError:
            return None

    def set_text(self, path: Path, text: str) -> None:
        """Use `text` for the module at `path` (the text being checked, if it differs)."""
        path = Path(os.path.abspath(path))
        module = self._by_path.get(path)
        if module is not None and path in self.texts and self.texts[path] == text:
            return
        self.texts[path] = text
        if module is not None:
            self._by_name[module.name].remove(module)
        self._add(path)
        self._importers = None

    # -- lookups ---------------------------------------------------------------------------

    def module_at(self, path: str | Path) -> _Module | None:
        return self._by_path.get(Path(os.path.abspath(path)))

    def _find(self, root: Path, dotted: str) -> _Module | None:
        """The module `dotted` names (or whose attribute it names), seen from `root`."""
        parts = dotted.split(".")
        for length in range(len(parts), 0, -1):
            name = ".".join(parts[:length])
            matches = self._by_name.get(name, [])
            same_root = [module for module in matches if module.root == root]
            if same_root:
                return same_root[0]
            if len(matches) == 1:
                return matches[0]
        return None

    def _imported(self, module: _Module) -> list[_Module]:
        found = []
        for name in module.imports:
            target = self._find(module.root, name)
            if target is not None and target is not module:
                found.append(target)
        return found

    # -- questions ------------------------------------------------------------------------------

    def is_imported(self, path: str | Path) -> bool:
        """True when another module of the project imports the module at `path` (or the
        index is incomplete and cannot rule it out)."""
        target = self.module_at(path)
        if target is None:
            return not self.complete
        if self._importers is None:
            self._importers = {}
            for module in self._by_path.values():
                for imported in self._imported(module):
                    self._importers.setdefault(id(imported), set()).add(id(module))
        return bool(self._importers.get(id(target))) or not self.complete

    def is_entry_point(self, path: str | Path) -> bool:
        """True when the project's packaging names the module as an entry point's target
        (`[project.scripts]`, `console_scripts`, ...): its functions are called by an
        installed command that imports it."""
        module = self.module_at(path)
        if module is None:
            return False
        if self._entry_modules is None:
            self._entry_modules = _entry_point_modules(self.root)
        return module.name in self._entry_modules

    def is_package_module(self, path: str | Path) -> bool:
        """True for `__init__.py` and every module inside a package."""
        absolute = Path(os.path.abspath(path))
        return absolute.name == "__init__.py" or (absolute.parent / "__init__.py").is_file()

    def may_start_processes(self, path: str | Path) -> bool:
        """True when the module at `path` imports a module of the project whose functions may
        start processes (by its text): its own text need not name a process API for a call
        it makes to start some, so the prefilter must not skip it."""
        module = self.module_at(path)
        return module is not None and any(self._starts(other, frozenset()) for other in self._imported(module))

    def _starts(self, module: _Module, seen: frozenset[int]) -> bool:
        if module.starts is None:
            if id(module) in seen:
                return False
            text = self._text(module.path) or ""
            module.starts = module.names_process_packages or \
                any(api.rsplit(".", 1)[-1] in text for api in self.process_apis) or \
                any(self._starts(other, seen | {id(module)}) for other in self._imported(module))
        return module.starts

    def _callee_module(self, qualname: str, from_path: str, needs_starts: bool) -> tuple[_Module, str] | None:
        """The other module of the project that defines `qualname` as imported in the file
        `from_path`, and the absolute dotted name; with `needs_starts`, only a module whose
        functions may start processes (by its text)."""
        caller = self.module_at(from_path)
        root = caller.root if caller is not None else Path(os.path.abspath(from_path)).parent
        dotted = _absolute(qualname, caller.name if caller else "", bool(caller and caller.path.name == "__init__.py"))
        if dotted is None:
            return None
        module_part = dotted.split("(", 1)[0]
        module = self._find(root, module_part.rsplit(".", 1)[0] if "." in module_part else module_part)
        if module is None or module is caller or not dotted.startswith(module.name + ".") or \
                (needs_starts and not self._starts(module, frozenset())):
            return None
        return module, dotted

    def process_start(self, qualname: str, from_path: str, seen: frozenset, looking_for: Search = Search.PROCESSES) -> ProcessStart | None:
        """How calling `qualname` (a name of another module as imported in the file
        `from_path`: `jobs.run_batch`, `.batch.Runner().run`) starts processes, if it does;
        the chain starts with the absolute dotted name called."""
        found = self._callee_module(qualname, from_path, needs_starts=looking_for is Search.PROCESSES)
        if found is None:
            return None
        module, dotted = found
        key = (id(module), dotted, looking_for)
        if key in seen:
            return None
        model = self.model_of(module)
        if model is None:
            return None
        found = model.processes.name_process_start(dotted[len(module.name) + 1:], seen | {key}, looking_for)
        return None if found is None else ProcessStart(found.node, found.starter, (dotted, *found.chain[1:]))

    def pickled_parameters(self, qualname: str, from_path: str, seen: frozenset) -> tuple:
        """The parameters that calling `qualname` (a name of another module as imported in
        the file `from_path`: `tools.parmap`, `.pool.Runner().map`) hands to a child by
        pickle (model.workers.PickledParameter), indexed as the call's arguments."""
        found = self._callee_module(qualname, from_path, needs_starts=True)
        if found is None:
            return ()
        module, dotted = found
        key = (id(module), dotted, "pickled")
        if key in seen:
            return ()
        model = self.model_of(module)
        if model is None:
            return ()
        return model.workers.name_pickled_parameters(dotted[len(module.name) + 1:], seen | {key})

    def model_of(self, module: _Module) -> SemanticModel | None:
        """The semantic model of another module of the project (parsed once)."""
        if not module.parsed:
            module.parsed = True
            text = self._text(module.path)
            if text is not None:
                try:
                    module.model = run_deep(lambda: SemanticModel(parse_module(text), str(module.path),
                                                                   self.process_apis, self))
                except InputError:
                    module.model = None
        return module.model


class Projects:
    """The project index of every file a run meets, each made once, when first needed."""

    def __init__(self, process_apis: Iterable[str] = (), files: Iterable[Path] = ()) -> None:
        self.process_apis = tuple(process_apis)
        self._explicit: ProjectIndex | None = None
        given = [Path(os.path.abspath(path)) for path in files]
        if given:
            root = Path(os.path.commonpath([str(path.parent) for path in given]))
            self._explicit = ProjectIndex(root, given, self.process_apis)
        self._by_root: dict[Path, ProjectIndex] = {}

    def for_path(self, path: str) -> ProjectIndex | None:
        """The index of the project the file at `path` belongs to; None for stdin."""
        if path in ("<stdin>", "-", ""):
            return None
        absolute = Path(os.path.abspath(path))
        if self._explicit is not None and (self._explicit.module_at(absolute) is not None
                                           or absolute.parent == self._explicit.root):
            return self._explicit
        root = find_root(absolute)
        index = self._by_root.get(root)
        if index is None:
            index = self._by_root[root] = ProjectIndex(root, None, self.process_apis)
        return index


def _imported_names(text: str, own_name: str, is_package: bool) -> set[str]:
    names = set()
    for match in _IMPORT.finditer(text):
        source, imported, plain = match.groups()
        if plain is not None:
            names.update(part.split(" as ")[0].strip() for part in plain.split(","))
            continue
        base = _absolute(source, own_name, is_package)
        if base is None:
            continue
        names.add(base)
        for part in imported.split(","):
            name = part.split(" as ")[0].strip()
            if name and name != "*":
                names.add(f"{base}.{name}" if base else name)
    names.update(_DYNAMIC_IMPORT.findall(text))
    names.discard("")
    return names


def _absolute(dotted: str, own_name: str, is_package: bool) -> str | None:
    """`dotted` with leading dots resolved against the module `own_name`."""
    level = len(dotted) - len(dotted.lstrip("."))
    if level == 0:
        return dotted
    package = own_name.split(".") if is_package else own_name.split(".")[:-1]
    if level - 1 > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    rest = dotted[level:]
    return ".".join(base + ([rest] if rest else []))


@lru_cache(maxsize=None)
def _entry_point_modules(root: Path) -> frozenset[str]:
    """Modules that pyproject.toml, setup.cfg or setup.py name as entry-point targets
    (`tool = "pkg.cli:main"`)."""
    found: set[str] = set()
    for name in ("pyproject.toml", "setup.cfg", "setup.py"):
        try:
            text = read_regular_file(root / name, _MAX_CONFIG_BYTES).decode("utf-8", errors="replace")
        except InputError:
            continue
        found.update(_ENTRY_POINT.findall(text))
    return frozenset(found)
