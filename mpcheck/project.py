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
from typing import Iterable

from .model import ProcessStart, SemanticModel
from .parsing import parse_module, run_deep
from .prefilter import Prefilter
from .source import InputError, read_source

_WORD = re.compile(r"\w+")
_TOP_LEVEL_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^#\n)]*)|import[ \t]+([^#\n]+))", re.M)


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
    text: str = field(repr=False)
    names_process_apis: bool  # imports a process API (or names a process-apis function)
    model: SemanticModel | None = field(default=None, repr=False)
    parsed: bool = False
    starters: frozenset[str] | None = None  # its module-level functions that start processes
    calls_starters: bool | None = None


class Project:
    """The checked files as modules: the cross-file answers MP201 and MP202 need."""

    def __init__(self, paths: Iterable[Path] = (), prefilter: Prefilter | None = None,
                 process_apis: Iterable[str] = ()) -> None:
        self.process_apis = tuple(process_apis)
        self._modules: dict[tuple[Path, str], _Module] = {}
        self._by_path: dict[Path, _Module] = {}
        self._by_name: dict[str, list[_Module]] = {}
        for path in paths:
            try:
                text = read_source(path).text
            except InputError:
                continue
            root, name = module_name(path)
            imports = _imported_names(text, name, path.name == "__init__.py")
            module = _Module(path.resolve(), root, name, imports, text,
                             _can_start_processes_itself(text, imports, prefilter, self.process_apis))
            self._modules[(root, name)] = module
            self._by_path[module.path] = module
            self._by_name.setdefault(name, []).append(module)
        self._imports = {id(module): list(self._resolve_imports(module)) for module in self._modules.values()}
        self._importers: set[int] | None = None

    def _starter_functions(self, module: _Module) -> frozenset[str]:
        """The module-level functions of `module` that start processes; the module is
        parsed only when its text names a process API or it calls into such functions."""
        if module.starters is None:
            module.starters = frozenset()  # what an import cycle sees while this is computed
            if module.names_process_apis or self._calls_starters(module):
                model = self._model(module)
                if model is not None:
                    module.starters = frozenset(
                        name for name in _top_level_functions(module.text)
                        if (function := model.function_named(name)) is not None
                        and model.function_process_start(function, self.process_apis, self) is not None
                    )
        return module.starters

    def _calls_starters(self, module: _Module) -> bool:
        """True when `module` names a process-starting function of a module it imports."""
        if module.calls_starters is None:
            module.calls_starters = False
            starters = [self._starter_functions(target) for target in self._imported_modules(module)]
            starters = [names for names in starters if names]
            if starters:  # only then is splitting the text into words worth it
                words = set(_WORD.findall(module.text))
                module.calls_starters = any(words & names for names in starters)
        return module.calls_starters

    def _imported_modules(self, module: _Module) -> list[_Module]:
        return self._imports[id(module)]

    def _resolve_imports(self, module: _Module) -> Iterable[_Module]:
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
                matches = self._by_name.get(name, [])
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
        return module is not None and self._calls_starters(module)

    def is_imported(self, path: str) -> bool:
        """True when another checked module imports the module at `path`."""
        target = self._module_of(path)
        if target is None:
            return False
        if self._importers is None:
            self._importers = {id(imported) for other in self._modules.values() for imported in self._imported_modules(other)}
        return id(target) in self._importers

    def function_process_start(self, qualname: str, from_path: str, process_apis: Iterable[str],
                               seen: frozenset[int]) -> ProcessStart | None:
        """How calling `qualname` (a function of another checked module, as imported in
        `from_path`) starts processes, if it does."""
        caller = self._module_of(from_path)
        root = caller.root if caller is not None else Path(from_path).resolve().parent
        dotted = _absolute(qualname, caller.name if caller else "", bool(caller and caller.path.name == "__init__.py"))
        if dotted is None or "." not in dotted:
            return None
        module_dotted, name = dotted.rsplit(".", 1)
        module = self._find(root, module_dotted)
        if module is None or module.name != module_dotted or name not in self._starter_functions(module):
            return None
        model = self._model(module)
        function = model.function_named(name) if model is not None else None
        if function is None:
            return None
        found = model.function_process_start(function, process_apis, self, seen)
        return None if found is None else ProcessStart(found.node, found.starter, (dotted, *found.chain))

    def model(self, path: str, text: str) -> SemanticModel:
        """The semantic model of `text` (raises InputError). A checked module that others
        import keeps its model, so cross-file questions and the check share one parse."""
        module = self._module_of(path)
        if module is not None and module.model is not None and module.text == text:
            return module.model
        model = SemanticModel(parse_module(text), path)
        if module is not None and module.text == text and self.is_imported(path):
            module.model, module.parsed = model, True
        return model

    def _model(self, module: _Module) -> SemanticModel | None:
        if not module.parsed:
            module.parsed = True
            try:
                text = read_source(module.path).text
                module.model = run_deep(lambda: SemanticModel(parse_module(text), str(module.path)))
            except InputError:
                module.model = None
        return module.model


# Top-level packages whose import is needed to start processes without a checked module's help.
_PROCESS_PACKAGES = frozenset({"multiprocessing", "multiprocess", "concurrent", "torch", "billiard", "joblib"})


def _can_start_processes_itself(text: str, imports: set[str], prefilter: Prefilter | None,
                                process_apis: tuple[str, ...]) -> bool:
    """Whether a module's own functions may start processes: it passes the prefilter and
    imports a process package (a mention in a comment is not enough: `logging` names
    multiprocessing, and parsing it for every module importing logging cost seconds),
    or it names one of the project's own process-starting functions."""
    if prefilter is not None and not prefilter.may_contain_findings(text):
        return False
    return (
        any(name.split(".", 1)[0] in _PROCESS_PACKAGES for name in imports)
        or any(api.rsplit(".", 1)[-1] in text for api in process_apis)
    )


@lru_cache(maxsize=256)
def _top_level_functions(text: str) -> frozenset[str]:
    return frozenset(_TOP_LEVEL_DEF.findall(text))


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
