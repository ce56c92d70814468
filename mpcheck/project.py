"""What mpcheck knows across the files it checks: which module each file is, who imports
whom, and which functions of other checked modules start processes.

Built once per run from the files being checked (the CLI passes what it discovered; the
library API can pass paths too) and handed to every rule in RuleContext. It stays cheap:
imports are read with a regex from the raw text, and a file is parsed only when another
file calls one of its functions at import time and the file can start processes at all
(the prefilter says so). Checking a single text without a project works with what that
file gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Pattern

from .model import ProcessStart, SemanticModel
from .parsing import parse_module, run_deep
from .prefilter import may_contain_findings
from .source import InputError, read_source

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^#\n)]*)|import[ \t]+([^#\n]+))", re.M)
# Files whose presence (or whose mention of pyinstaller) says the project ships frozen apps.
_DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "requirements-dev.txt",
                     "Pipfile", "environment.yml")
_PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


def module_name(path: Path) -> tuple[Path, str]:
    """The directory a file is imported from and its dotted module name there:
    `src/app/jobs.py` with `src/app/__init__.py` is `jobs` of package `app` in `src`."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return directory, ".".join(parts)


@dataclass
class _Module:
    path: Path
    root: Path
    name: str
    imports: set[str]  # absolute dotted names imported (modules or module.attribute)
    may_start_processes: bool
    model: SemanticModel | None = field(default=None, repr=False)
    parsed: bool = False


class Project:
    """The checked files as modules: the cross-file answers MP201 and MP202 need."""

    def __init__(self, paths: Iterable[Path] = (), prefilter: Pattern[str] | None = None) -> None:
        self._modules: dict[tuple[Path, str], _Module] = {}
        self._by_path: dict[Path, _Module] = {}
        for path in paths:
            try:
                text = read_source(path).text
            except InputError:
                continue
            root, name = module_name(path)
            module = _Module(path.resolve(), root, name, _imported_names(text, name, path.name == "__init__.py"),
                             prefilter is None or may_contain_findings(text, prefilter))
            self._modules[(root, name)] = module
            self._by_path[module.path] = module
        self._spread_process_candidates()

    def _spread_process_candidates(self) -> None:
        """A module that imports one that may start processes may start them too."""
        changed = True
        while changed:
            changed = False
            for module in self._modules.values():
                if not module.may_start_processes and any(
                    target.may_start_processes for target in self._imported_modules(module)
                ):
                    module.may_start_processes = changed = True

    def _imported_modules(self, module: _Module) -> Iterable[_Module]:
        for name in module.imports:
            target = self._find(module.root, name)
            if target is not None and target is not module:
                yield target

    def _find(self, root: Path, dotted: str) -> _Module | None:
        """The checked module `dotted` names (or whose attribute it names), seen from `root`."""
        parts = dotted.split(".")
        for length in range(len(parts), 0, -1):
            name = ".".join(parts[:length])
            module = self._modules.get((root, name))
            if module is None:
                matches = [m for (_, other), m in self._modules.items() if other == name]
                module = matches[0] if len(matches) == 1 else None
            if module is not None:
                return module
        return None

    def _module_of(self, path: str) -> _Module | None:
        return self._by_path.get(Path(path).resolve())

    # -- questions ----------------------------------------------------------------------

    def may_start_processes(self, path: str) -> bool:
        """True when the file imports a checked module that can start processes: the
        prefilter must not skip it even when its own text names no process API."""
        module = self._module_of(path)
        return module is not None and module.may_start_processes

    def is_imported(self, path: str) -> bool:
        """True when another checked module imports the module at `path`."""
        target = self._module_of(path)
        if target is None:
            return False
        return any(
            other is not target and target in self._imported_modules(other) for other in self._modules.values()
        )

    def function_process_start(self, qualname: str, from_path: str, process_apis: Iterable[str],
                               seen: frozenset[int]) -> ProcessStart | None:
        """How calling `qualname` (a function of another checked module, as imported in
        `from_path`) starts processes, if it does."""
        caller = self._module_of(from_path)
        root = caller.root if caller is not None else Path(from_path).resolve().parent
        dotted = _absolute(qualname, caller.name if caller else "", bool(caller and caller.path.name == "__init__.py"))
        if dotted is None or "." not in dotted:
            return None
        module = self._find(root, dotted.rsplit(".", 1)[0])
        if module is None or not module.may_start_processes or dotted.rsplit(".", 1)[0] != module.name:
            return None
        model = self._model(module)
        function = model.function_named(dotted.rsplit(".", 1)[1]) if model is not None else None
        if function is None:
            return None
        found = model.function_process_start(function, process_apis, self, seen)
        return None if found is None else ProcessStart(found.node, found.starter, (dotted, *found.chain))

    def _model(self, module: _Module) -> SemanticModel | None:
        if not module.parsed:
            module.parsed = True
            try:
                text = read_source(module.path).text
                module.model = run_deep(lambda: SemanticModel(parse_module(text), str(module.path)))
            except InputError:
                module.model = None
        return module.model

    @staticmethod
    def is_frozen_app(path: str) -> bool:
        """True when the project the file belongs to is frozen into an executable: a
        PyInstaller `.spec` file in its tree, or pyinstaller among its dependencies."""
        return _frozen_project(Path(path).resolve().parent)


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
def _frozen_project(directory: Path) -> bool:
    if any(directory.glob("*.spec")):
        return True
    for name in _DEPENDENCY_FILES:
        candidate = directory / name
        if candidate.is_file():
            try:
                if "pyinstaller" in candidate.read_text(encoding="utf-8", errors="replace").lower():
                    return True
            except OSError:
                pass
    if any((directory / marker).exists() for marker in _PROJECT_MARKERS) or directory.parent == directory:
        return False
    return _frozen_project(directory.parent)
