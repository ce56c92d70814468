"""The project a file belongs to: its modules, who imports whom, its entry points, and which
functions of other modules start processes.

Cross-file facts must not depend on which paths a run was given: pre-commit passes only the
staged files and flake8 one file at a time. So the project is found from the file itself --
its root is the nearest directory upwards holding .git, pyproject.toml, setup.py or setup.cfg
(without one: the parent of the file's top-level package, or its own directory: roots.py) --
and indexed once per process, lazily, when a rule first asks. The index reads each module's
imports with a regex; a module is parsed only when a question needs its model (a function of
it is called at import time somewhere). An index that had to stop (more than `MAX_FILES`
modules) is incomplete, and then answers the safety questions conservatively (`is_imported`
is True).
"""

from __future__ import annotations

import ast
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Container, Iterable, Iterator

from .apis import PROCESS_WORDS, UNIX_ONLY_MODULES, Imported, one_api
from .config import Settings
from .dependencies import (Remembered, content_digest, note_file, note_graph, note_project, recording, remembered,
                           unrecorded)
from .discovery import DiscoveredFile, discover
from .reach import (IDENTIFIER, ImportBinding, Reach, Reaching, absolute_name, import_bindings, not_run_at_import)
from .roots import find_root, module_name
from .source import InputError, read_regular_file, read_source
from .syntax import cpython_tree, within_limits

if TYPE_CHECKING:
    import libcst as cst

    from .cache import ModuleFacts, ResultCache
    from .model import ProcessStart, Search, SemanticModel, Site
    from .model.processes import CallShape
    from .model.regions import Facts
    from .model.state import ImportedPrimitive

MAX_FILES = 20_000
_JSON = Any  # an answer kept in the result cache as JSON (ProjectIndex.kept_answer)
# Models kept between files, by the size of their source: a model holds its libcst tree
# (about 40 bytes per character of source, measured on huggingface/datasets), and a run over a
# big project would otherwise keep one for every module another file's questions needed (630 MB
# on the stdlib). Fewer only costs parsing again, but a budget smaller than what one file's
# questions reach makes every file parse them all again: a file of huggingface/datasets reaches
# 40 modules, 1.1 million characters (with a cap of 6 models, checking 3 of its files took 47 s
# instead of 25 s).
MAX_MODEL_SOURCE = 1_500_000
# What may configure which records reach logging.lastResort (ProjectIndex.logging_quieted_around).
_LOGGING_CONFIGURATION = re.compile(
    r"\.addHandler\s*\(|basicConfig\s*\(|dictConfig\s*\(|fileConfig\s*\(|\.disable\s*\(|\blastResort\b"
    r"|\.setLevel\s*\(|\.(?:handlers|disabled)\s*=[^=]")
_DYNAMIC_IMPORT_CALLS = ("import_module(", "__import__(", "run_module(")
# What a module that sets a platform flag holds (`sys.platform`, `platform.system()`,
# `os.name`, `hasattr(os, "fork")`, a fork probe, `sys.version_info`): flag_facts parses no other.
_PLATFORM_WORDS = ("platform", "os.name", "hasattr", "fork", "version_info")
_DYNAMIC_IMPORT = re.compile(r"""(?:import_module|__import__|run_module)\(\s*["']([\w.]+)["']""")
_MAX_CONFIG_BYTES = 1 << 20  # pyproject.toml, setup.cfg, setup.py: larger ones are not configuration
_NAMINGS_KEPT = 8  # ProjectIndex._naming's tests kept, each holding an answer per module
MAX_REEXPORT_DEPTH = 4  # modules a re-exported name is followed through
MAX_IMPORT_CHAIN = 16  # importers of importers imported_only_where_fork_exists follows
_DOTTED_AFTER = r"((?:\s*\.\s*[A-Za-z_]\w*)*)"  # `.Process`, `. Queue`: the attributes written after a name
_ATTRIBUTES = re.compile(_DOTTED_AFTER)
_ENTRY_POINT = re.compile(r"""["']?[\w.-]+["']?\s*=\s*["']?([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_][\w.]*""")


class Searches:
    """What the call-graph searches of one project's models share (model/processes.py's
    `process_start`, model/workers.py's `pickled_parameters`; a model outside a project has
    its own), since a search goes from module to module.

    A search that meets a function already being searched higher up stops there (`cut`), so
    an answer depends on where the search began. Each answer is memoised with the functions
    above it that its search stopped at and those it searched (`Answers`), and is reused only
    by a search that is under every one of the first and none of the second: exactly where a
    new search would find the same. Each function is then searched about once, so a chain of
    wrappers costs its length, not 2**length (a function that calls itself, or a pair that
    call each other, once cost a search per call site: 100 s for huggingface/datasets), and
    the findings do not depend on the order in which files and functions are checked.
    `generation` changes when a module's text does (`ProjectIndex.set_text`): answers
    memoised before, which may have gone through that module, are then forgotten."""

    def __init__(self) -> None:
        self.generation = 0
        self._frames: list[_Frame] = []  # the functions being searched, innermost last

    @contextmanager
    def search(self, key: object) -> Iterator[None]:
        """Search the function `key` (as the searches' `seen` sets hold it)."""
        frame = _Frame(key)
        self._frames.append(frame)
        try:
            yield
        finally:
            self._frames.pop()
            if self._frames:
                self._frames[-1].merge(frame.hit - {key}, frame.visited)

    def cut(self, key: object) -> None:
        """The search met the function `key` while it was being searched, higher up."""
        if self._frames:
            self._frames[-1].hit.add(key)

    def reuse(self, answer: _Answer) -> None:
        """A memoised answer was used: the search under way depends on what it did."""
        if self._frames:
            self._frames[-1].merge(answer.hit, answer.visited)

    def dependencies(self) -> tuple[frozenset[object], frozenset[object]]:
        """What the answer of the search under way depends on: the functions above it that
        it stopped at, and the functions it searched."""
        frame = self._frames[-1]
        return frozenset(frame.hit - {frame.key}), frozenset(frame.visited)


@dataclass
class _Frame:
    key: object
    hit: set[object] = field(default_factory=set)  # functions above that the search stopped at
    visited: set[object] = field(default_factory=set)  # the functions it searched

    def __post_init__(self) -> None:
        self.visited.add(self.key)

    def merge(self, hit: Iterable[object], visited: Iterable[object]) -> None:
        self.hit.update(hit)
        self.visited.update(visited)


@dataclass(frozen=True)
class _Answer:
    value: object
    hit: frozenset[object]
    visited: frozenset[object]


class Answers:
    """One model's memoised answers of a search (`Searches`), by a key of the caller's."""

    def __init__(self, searches: Searches) -> None:
        self.searches = searches
        self._generation = searches.generation
        self._answers: dict[object, list[_Answer]] = {}

    def recall(self, key: object, seen: frozenset) -> _Answer | None:
        """The answer memoised for `key` that a search under the functions `seen` would
        find (None when there is none); the search above then depends on what it did."""
        if self._generation != self.searches.generation:
            self._answers.clear()
            self._generation = self.searches.generation
        for answer in self._answers.get(key, ()):
            if answer.hit <= seen and answer.visited.isdisjoint(seen):
                self.searches.reuse(answer)
                return answer
        return None

    def remember(self, key: object, value: object) -> None:
        """Memoise `value`, the answer of the search under way (inside `Searches.search`)."""
        self._answers.setdefault(key, []).append(_Answer(value, *self.searches.dependencies()))


@dataclass(frozen=True)
class CallSummary:
    """`ProjectIndex.call_summary`'s answer: what the summary function returned, and the
    files (absolute paths) working it out read."""

    answer: int | None
    read: frozenset[str]


def _is_call_summary(kept: object) -> bool:
    return kept is None or (isinstance(kept, list) and len(kept) == 1 and (kept[0] is None or type(kept[0]) is int))


@dataclass(eq=False)
class _Module:
    path: Path
    key: str  # the absolute path as a string
    root: Path  # the directory it is imported from
    name: str
    # Read from the text when first needed (see ProjectIndex.bindings).
    bindings: tuple[ImportBinding, ...] | None = None
    imports: frozenset[str] = frozenset()  # absolute dotted names imported (modules or module.attribute)
    imported: list[_Module] | None = None  # the modules of the project those name
    packages: list[_Module] | None = None  # see ProjectIndex.bound_packages
    model: SemanticModel | None = field(default=None, repr=False)
    model_text: str | None = field(default=None, repr=False)  # the text `model` was made from
    parsed: bool = False
    size: int = 0  # characters of the text its model was made from
    # See ProjectIndex._import_statements; [] when they cannot be read without the model.
    import_statements: list[tuple[str, bool, bool]] | None = field(default=None, repr=False)
    digest: str | None = None  # a hash of the text first read (None: not read, or unreadable)
    # `hash()` of a text of it that parse_module takes without asking CPython (its `accepted`).
    accepted: int | None = None
    defined: frozenset[str] | None = None  # the names it defines at column 0 (_defined_at_top_level)
    not_run: list[tuple[int, int]] | None = None  # reach.not_run_at_import ([] for None)
    facts: ModuleFacts | None = None  # what an earlier run learnt of it (ProjectIndex.kept_facts)
    facts_asked: bool = False


class ProjectIndex:
    """The modules of one project. `files`: the modules, when the caller knows them (the
    library API's `project_files`); otherwise they are found under `root`. `texts` overrides
    what is on disk for some paths (the text being checked). A module's text is read when a
    question first needs it. `kept`: the result cache, for what earlier runs learnt of the
    modules (`kept_facts`); only for an index of the modules found under `root`, which is
    the module list the cache checks them against."""

    def __init__(self, root: Path, files: Iterable[Path] | None = None, process_apis: Iterable[str] = (),
                 texts: dict[Path, str] | None = None, kept: ResultCache | None = None) -> None:
        self.root = root
        self._kept = kept if files is None else None
        self.process_apis = tuple(process_apis)
        self.texts = dict(texts or {})
        self.complete = True
        self._by_path: dict[str, _Module] = {}
        self._by_id: dict[int, _Module] = {}  # the same modules, by id (what the import graph holds)
        self._by_name: dict[str, list[_Module]] = {}
        self._splits: dict[tuple[str, str], tuple[_Module | None, str]] = {}
        self._importers: dict[int, set[int]] | None = None
        self._reaches: dict[tuple[str, ...], Reach] = {}
        self._modeled: dict[int, _Module] = {}  # the modules with a model, the least recently used first
        self._forgotten: list[SemanticModel] = []  # let go by forget_models, released between files
        self._modeled_size = 0  # the sum of their sizes
        self._top_names: frozenset[str] | None = None
        self._reexports: dict[tuple[str, str], tuple[Imported | None, tuple[_Module, ...]]] = {}
        self._no_function: set[tuple[int, str]] = set()  # (module, name) that definition_of found no function for
        self._leads: Remembered[tuple[int, int], bool] = Remembered()  # leads_to's, by (module, target)
        self._logging_around: Remembered[int, list | None] = Remembered()  # logging_quieted_around's, by module
        self._answers: Remembered[str, tuple[_JSON, frozenset[str]]] = Remembered()  # kept_answer's
        self._beneath: dict[int, list[_Module]] = {}  # package -> the modules beneath it
        self._unix_only: dict[int, bool] = {}  # see imports_unix_only (False while it is worked out)
        self._flag_depth = 0  # how many modules flag_facts is following a flag through
        self._fork_only: Remembered[int, bool] = Remembered()  # imported_only_where_fork_exists's
        # inherited_primitive's, by (module, name)
        self._primitives: Remembered[tuple[int, str], ImportedPrimitive | None] = Remembered()
        self._primitives_used: Remembered[tuple[int, str], ImportedPrimitive | None] = Remembered()  # by (module, name)
        self._packages: frozenset[str] | None = None  # the names of the project's packages
        self._namings: dict[tuple[int, tuple[str, ...]], Callable[[_Module], bool]] = {}  # _naming's, last used last
        self.searches = Searches()
        # What the module list depends on, when it was found by a walk (discover's `walked`).
        self.walked: list[str] = []
        kept_list = self._kept.kept_module_list(str(root)) if self._kept is not None else None
        if files is not None:
            paths = list(files)
        elif kept_list is not None:  # an earlier run's walk, which would find the same
            paths, self.walked = kept_list  # type: ignore[assignment]
        else:
            paths = self._walk()
        for path in paths:
            self._add(Path(os.path.abspath(path)))

    @property
    def modules(self) -> list[Path]:
        """The paths of the project's modules (absolute)."""
        return [module.path for module in self._by_path.values()]

    def _walk(self) -> list[Path]:
        found: list[Path] = []
        for item in discover([str(self.root)], Settings(root=self.root), self.walked):
            if isinstance(item, DiscoveredFile) and item.path.suffix == ".py":
                found.append(item.path)
                if len(found) > MAX_FILES:
                    self.complete = False
                    break
        return found

    def _add(self, path: Path) -> None:
        root, name = module_name(path)
        module = _Module(path, str(path), root, name)
        self._by_path[module.key] = module
        self._by_id[id(module)] = module
        self._by_name.setdefault(name, []).append(module)

    def text_of(self, module: _Module) -> str | None:
        """The module's text (None when it cannot be read). It is read again when asked
        again (what is learnt from it is kept instead); the hash of what was read first is
        what a result depending on it is kept with (`note`)."""
        if module.path in self.texts:
            note_file(module.path)
            return self.texts[module.path]
        try:
            source = read_source(module.path, digest=module.digest is None)  # (the first read's is noted)
        except InputError:
            text = None
        else:
            text = source.text
            if module.digest is None:
                module.digest = source.digest
        self.note(module)
        return text

    def note(self, module: _Module) -> None:
        """Note that a result depends on the module's content (dependencies.py)."""
        note_file(module.path, module.digest)

    def bindings(self, module: _Module) -> tuple[ImportBinding, ...]:
        """The names the module's import statements bind."""
        self.note(module)
        if module.bindings is None:
            text = self.text_of(module) or ""
            is_package = module.path.name == "__init__.py"
            module.bindings = tuple(import_bindings(text, module.name, is_package))
            names = {binding.target for binding in module.bindings}
            names.update(binding.target.rsplit(".", 1)[0] for binding in module.bindings if not binding.module_import)
            if any(call in text for call in _DYNAMIC_IMPORT_CALLS):  # (searched 3x faster than the pattern)
                names.update(_DYNAMIC_IMPORT.findall(text))
            names.discard("")
            module.imports = frozenset(names)
        return module.bindings

    def set_text(self, path: Path, text: str) -> None:
        """Use `text` for the module at `path` (the text being checked, if it differs from
        what the index read): what was learnt from the old text is forgotten."""
        path = Path(os.path.abspath(path))
        module = self._by_path.get(str(path))
        if module is not None and self.text_of(module) == text:
            return
        self.texts[path] = text
        if module is None:  # the module list is not the one the kept facts were learnt with
            self._kept = None
        self.searches.generation += 1
        if module is not None:
            self._by_name[module.name].remove(module)
            del self._by_id[id(module)]
        self._add(path)
        self._splits.clear()
        self._importers = None
        self._reaches.clear()
        self._top_names = None
        self._reexports.clear()
        self._no_function.clear()
        self._leads.clear()
        self._logging_around.clear()
        self._answers.clear()
        self._beneath.clear()
        self._packages = None
        self._unix_only.clear()
        self._fork_only.clear()
        self._primitives.clear()
        self._primitives_used.clear()
        self._namings.clear()
        for other in self._by_path.values():
            other.imported = other.packages = None  # a module may have been added
            if self._kept is None:
                other.facts = None

    def adopt(self, path: Path, model: SemanticModel, text: str) -> None:
        """Use `model`, made from `text`, the text set for `path` (`set_text`), as that
        module's model when another module's question leads back to it: the file being
        checked is parsed once."""
        module = self.module_at(path)
        if module is not None:
            if module.model is not None and module.model is not model:
                self._forgotten.append(module.model)
            module.parsed, module.model, module.model_text, module.size = True, model, text, len(text)
            module.accepted = hash(text)
            self._used(module)

    def accepts(self, path: Path, text: str) -> bool:
        """Whether `text`, a text of the module at `path`, is one `parse_module` takes without
        asking CPython's parser (`accepted`): the index read CPython's tree of this text for
        its import statements (`_import_statements`) and it was within libcst's limits, or a
        model was made from it. Its `hash()` is compared: computed once per string, and by
        the time two texts of one module differ, the file changed while mpcheck ran."""
        module = self.module_at(path)
        return module is not None and module.accepted is not None and module.accepted == hash(text)

    def kept_model(self, path: Path, text: str) -> SemanticModel | None:
        """The model of the module at `path` that a question of another file's check made
        from `text`, while it is kept (`forget_models`): the file being checked is parsed
        once. None when it was made from another text: the index reads a module's file
        again when asked, and the file may have changed on disk since (another `mpcheck fix`
        wrote it)."""
        module = self.module_at(path)
        if module is None or module.model is None or module.model_text != text:
            return None
        self._used(module)
        return module.model

    # -- lookups ---------------------------------------------------------------------------

    def module_at(self, path: str | Path) -> _Module | None:
        return self._by_path.get(os.path.abspath(path))

    def find(self, root: Path, dotted: str) -> _Module | None:
        """The module `dotted` names (or whose attribute it names), seen from a module
        imported from `root`."""
        return self.split(root, dotted)[0]

    def split(self, root: Path, dotted: str) -> tuple[_Module | None, str]:
        """`find`'s module, and the rest of `dotted` after the part that names it
        (`pkg.jobs.run` -> the module pkg/jobs.py, "run")."""
        key = (str(root), dotted)
        found = self._splits.get(key)
        if found is None:
            found = self._splits[key] = self._split(root, dotted)
        return found

    def _split(self, root: Path, dotted: str) -> tuple[_Module | None, str]:
        parts = dotted.split(".")
        for length in range(len(parts), 0, -1):
            rest = ".".join(parts[length:])
            # The file the name leads to from `root` first: a directory without __init__.py
            # (an implicit namespace package) gives its modules names that do not say it.
            # A package comes before a module of the same name, as CPython's FileFinder
            # takes it (shop/tools/__init__.py, not shop/tools.py, is `shop.tools`).
            beneath = os.path.join(root, *parts[:length])
            for candidate in (os.path.join(beneath, "__init__.py"), beneath + ".py"):
                if candidate in self._by_path:
                    return self._by_path[candidate], rest
            name = ".".join(parts[:length])
            matches = sorted(self._by_name.get(name, []), key=lambda module: module.path.name != "__init__.py")
            same_root = [module for module in matches if module.root == root]
            if same_root:
                return same_root[0], rest
            if len(matches) == 1:
                return matches[0], rest
        return None, dotted

    def imported(self, module: _Module) -> list[_Module]:
        """The modules of the project that `module` imports (as an earlier run found them,
        while they hold: `kept_facts`)."""
        if module.imported is None:
            facts = self.kept_facts(module)
            if facts is not None:
                found = [self._by_path.get(path) for path in facts.imported]
                if None not in found:
                    self.note(module)
                    module.imported = found  # type: ignore[assignment]
                    return module.imported
            self.bindings(module)
            found: dict[int, _Module] = {}
            for name in sorted(module.imports):
                target = self.find(module.root, name)
                if target is not None and target is not module:
                    found[id(target)] = target
            module.imported = list(found.values())
        return module.imported

    def bound_packages(self, module: _Module) -> list[_Module]:
        """The packages of the project whose module object an import statement of `module`
        binds a name to (`import shop.config` binds `shop`; `from shop import sub`, with
        shop/sub/__init__.py, binds `sub`), and the modules beneath them that the text names
        as their attributes: once anything imported it, a submodule is an attribute of its
        package, so `shop.jobs.run_all()` may call a function of shop/jobs.py that `module`
        never imports. For `from shop import *`, every module beneath. (As an earlier run
        found them, while they hold: `kept_facts`.)"""
        if module.packages is None:
            facts = self.kept_facts(module)
            kept = None if facts is None else [self._by_path.get(path) for path in facts.packages]
            if kept is not None and None not in kept:
                self.note(module)
                module.packages = kept  # type: ignore[assignment]
                return module.packages
            found: dict[int, _Module] = {}
            for binding in self.bindings(module):
                if _bound_module(binding) not in self._package_names():
                    continue  # no package of the project has that name (most imports)
                bound = self.find(module.root, _bound_module(binding))
                if bound is None or bound is module or bound.path.name != "__init__.py" or \
                        bound.name != _bound_module(binding):
                    continue
                found[id(bound)] = bound
                if binding.local == "*":
                    found.update((id(beneath), beneath) for beneath in self.beneath(bound))
                    continue
                for chain in _written_chains(self.text_of(module) or "", binding.local):
                    parts = chain.split(".")[1:]
                    for length in range(1, len(parts) + 1):
                        named = self.find(module.root, ".".join([bound.name, *parts[:length]]))
                        if named is not None and named.name == ".".join([bound.name, *parts[:length]]):
                            found[id(named)] = named
            found.pop(id(module), None)
            module.packages = list(found.values())
        return module.packages

    def _package_names(self) -> frozenset[str]:
        if self._packages is None:
            self._packages = frozenset(module.name for module in self._by_path.values()
                                       if module.path.name == "__init__.py")
        return self._packages

    def beneath(self, package: _Module) -> list[_Module]:
        """The modules of the project beneath `package` (an `__init__.py`), at any depth."""
        found = self._beneath.get(id(package))
        if found is None:
            prefix = package.name + "."
            found = self._beneath[id(package)] = [
                module for name, modules in self._by_name.items() if name.startswith(prefix)
                for module in modules if module.root == package.root]
        return found

    def kept_facts(self, module: _Module) -> ModuleFacts | None:
        """What an earlier run learnt of `module` and kept in the result cache, if it still
        holds (`ResultCache.module_facts`); never for a module whose text is set here."""
        if not module.facts_asked:
            module.facts_asked = True
            if self._kept is not None and module.path not in self.texts:
                facts = self._kept.module_facts(str(self.root), module.key)
                if facts is not None and module.digest in (None, facts.digest):
                    module.digest, module.facts = facts.digest, facts
        return module.facts

    @property
    def keeps_facts(self) -> bool:
        """Whether what is learnt of the modules is kept for later runs (`keep_reaching`)."""
        return self._kept is not None

    def keep_reaching(self, module: _Module, words: str, reaching: Reaching) -> None:
        """Keep, for later runs, what `module`'s names reach of `words` (a Reach's key),
        with the modules it imports, when the module was read from disk and the index has
        a result cache."""
        if self._kept is None or module.digest is None or module.imported is None or module.packages is None \
                or module.path in self.texts:
            return
        from .cache import ModuleFacts

        imported = tuple(other.key for other in module.imported)
        packages = tuple(other.key for other in module.packages)
        self._kept.keep_module_facts(str(self.root), module.key,
                                     ModuleFacts(module.digest, imported, packages, {words: reaching}))

    # -- re-exports ----------------------------------------------------------------------------

    def reexported(self, dotted: str, from_path: str) -> Imported | None:
        """What the name `dotted` (as imported in the file `from_path`; leading dots are
        relative to it) names when a module of the project binds it by an import statement,
        as an `apis.Imported`: `lib.multiproc.Process`, with lib/multiproc.py doing `from
        multiprocessing import Process`, is `multiprocessing.Process`; `compat.mp.Pool` with
        `import multiprocessing as mp` in compat.py is `multiprocessing.Pool`. Followed through up to
        `MAX_REEXPORT_DEPTH` modules (relative imports included). None when it is not such a
        re-export of a name from outside the project (a function re-exported by a package's
        `__init__.py` keeps the name it was called by: `definition_of` and `process_start`
        follow those, and say the way they went): a name whose first part is no top-level module of the project is answered
        without reading anything; a module that also defines the name at its top level (`def`,
        `class`, an assignment at column 0), or binds it by imports of different APIs, is not
        followed. Where a module binds it by imports of the same API from different families
        (`from billiard import Process` on old macOS, `from multiprocessing import Process`
        elsewhere), the answer is `apis.one_api`'s, as for the same imports in one file: the
        standard library's, with the other families' flavours. The modules read are noted
        (dependencies.py)."""
        _, root, absolute = self._as_seen_from(dotted, from_path)
        if absolute is None or absolute.split(".", 1)[0] not in self._project_top_names():
            return None
        key = (str(root), absolute)
        found = self._reexports.get(key)
        if found is None:
            read: dict[int, _Module] = {}
            target = self._follow(root, absolute, read, 0)
            outside = target.name.split(".", 1)[0] not in self._project_top_names()
            found = self._reexports[key] = (target if outside else None, tuple(read.values()))
        for module in found[1]:
            self.note(module)
        return found[0]

    def _project_top_names(self) -> frozenset[str]:
        """The first parts of the names of the project's modules."""
        if self._top_names is None:
            self._top_names = frozenset(name.split(".", 1)[0] for name in self._by_name)
        return self._top_names

    def _follow(self, root: Path, dotted: str, read: dict[int, _Module], depth: int) -> Imported:
        """`dotted` with the import bindings of the project's modules it passes through
        applied (see `reexported`); the modules read are added to `read`."""
        if depth >= MAX_REEXPORT_DEPTH or dotted.split(".", 1)[0] not in self._project_top_names():
            return Imported(dotted)
        module, rest = self.split(root, dotted)
        if module is None or not rest:
            return Imported(dotted)
        read[id(module)] = module
        head, _, tail = rest.partition(".")
        targets = {_bound_module(binding) for binding in self.bindings(module) if binding.local == head}
        if module.defined is None:
            module.defined = _defined_at_top_level(self.text_of(module) or "")
        if not targets or head in module.defined:
            return Imported(dotted)
        finals = []
        for target in targets:
            final = self._follow(module.root, target, read, depth + 1)
            finals.append(Imported(final.name + (f".{tail}" if tail else ""), final.other_flavours))
        return one_api(finals) or Imported(dotted)

    def reexports_used(self, path: str | Path, text: str) -> list[str]:
        """What the file at `path` (with `text`) may name through re-exports of the project's
        modules (`reexported`): for each name its import statements bind to a name of the
        project, every dotted name the text writes from it (`multiproc.Process`,
        `multiproc . Queue`, in strings and comments too), followed; through `from compat
        import *`, the names compat.py imports that the text writes. An over-approximation of
        the names the file's semantic model resolves through re-exports, for the prefilter;
        read without parsing."""
        module = self.module_at(path)
        name = module.name if module is not None else ""
        is_package = Path(path).name == "__init__.py"
        tops = self._project_top_names()
        bound: dict[str, set[str]] = {}  # local name -> the dotted names it may be bound to
        root = module.root if module is not None else Path(os.path.abspath(path)).parent
        identifiers: frozenset[str] | None = None  # in the text, strings and comments too
        for binding in import_bindings(text, name, is_package):
            if binding.target.split(".", 1)[0] not in tops:
                continue
            if binding.local != "*":
                bound.setdefault(binding.local, set()).add(_bound_module(binding))
                continue
            # `from .compat import *`: a name the text writes may be one that compat.py imports.
            # (One search per name cost 3 ms a file under `from tkinter import *`.)
            source = self.find(root, binding.target)
            if identifiers is None:
                identifiers = frozenset(IDENTIFIER.findall(text))
            for imported in self.bindings(source) if source is not None and source is not module else ():
                if imported.local != "*" and imported.local in identifiers:
                    bound.setdefault(imported.local, set()).add(f"{source.name}.{imported.local}")
        if not bound:
            return []
        written = {(local, chain) for local in bound for chain in _written_chains(text, local)}
        found = {self.reexported(target + chain, str(path)) for local, chain in written for target in bound[local]}
        return sorted({imported.name for imported in found if imported is not None})

    # -- questions ------------------------------------------------------------------------------

    def is_imported(self, path: str | Path) -> bool:
        """True when another module of the project imports the module at `path` (or the
        index is incomplete and cannot rule it out)."""
        target = self.module_at(path)
        if target is None:
            return not self.complete
        return bool(self._importers_of(target)) or not self.complete

    def _importers_of(self, target: _Module) -> set[int]:
        """The modules that import `target` (ids). The answer depends on every module's
        import lines: it is noted as the project's import graph, not as each module read."""
        note_graph(self.root)
        if self._importers is None:
            with unrecorded():
                importers: dict[int, set[int]] = {}
                for module in self._by_path.values():
                    for imported in self.imported(module):
                        importers.setdefault(id(imported), set()).add(id(module))
            self._importers = importers
        return self._importers.get(id(target), set())

    def import_names(self, path: str | Path) -> frozenset[str]:
        """The absolute dotted names the module at `path` imports (read from its import
        lines): what the project's import graph is made of."""
        module = self.module_at(path)
        if module is None:
            return frozenset()
        with unrecorded():
            self.bindings(module)
        return module.imports

    def is_entry_point(self, path: str | Path) -> bool:
        """True when the project's packaging names the module as an entry point's target
        (`[project.scripts]`, `console_scripts`, ...): its functions are called by an
        installed command that imports it."""
        module = self.module_at(path)
        if module is None:
            return False
        return module.name in _entry_point_modules(self.root)

    def imported_only_where_fork_exists(self, path: str | Path) -> bool:
        """True when the module at `path` runs only where fork exists because of how its
        project imports it: something imports it, every import statement of it runs only
        where fork exists -- under a test that excludes Windows, around the statement or
        around the def or class it is in (model/regions.py), below a top-level import that
        raises on Windows (`SemanticModel.unix_only_from`), or in a module that is itself
        imported only where fork exists -- and nothing runs it otherwise: it is no script (a
        main guard, a `#!` line), no `__init__.py` (importing any module beneath runs it) or
        `__main__.py`, no entry point's target. False when an importer names it only in a
        call (`importlib.import_module("pkg._posix")`), when the index is incomplete, and
        in an import cycle of unguarded imports. Worked out once per run for each module; a
        result that uses it depends on the project's import graph and on the texts of the
        modules read for it (noted: dependencies.py)."""
        target = self.module_at(path)
        if target is None or not self.complete:
            return False
        return self._fork_only.get(id(target), lambda: self._only_where_fork_exists(target, frozenset()))

    def _only_where_fork_exists(self, module: _Module, seen: frozenset[int]) -> bool:
        """`imported_only_where_fork_exists` of `module`, asked while the modules `seen` (ids)
        are worked out: one of them met again is not (its answer needs this one's)."""
        if id(module) in seen or len(seen) >= MAX_IMPORT_CHAIN or module.path.name in ("__init__.py", "__main__.py"):
            return False
        importers = self._sorted_importers(module)
        if not importers or self.is_entry_point(module.path):
            return False
        model = self.model_of(module)
        if model is None or _has_shebang(model.module) or any(model.is_main_guard(statement)
                                                              for statement in model.module.body):
            return False
        imported = False  # at run time, by an importer so far
        for importer in importers:
            answer = self._imports_only_where_fork_exists(importer, module, seen | {id(module)})
            if answer is False:
                return False
            imported = imported or answer is True
        return imported

    def _imports_only_where_fork_exists(self, importer: _Module, target: _Module, seen: frozenset[int]) -> bool | None:
        """Whether every import statement of `importer` that imports `target` at run time runs
        only where fork exists (see `imported_only_where_fork_exists`); None when all of them
        are for type checkers only (`if TYPE_CHECKING:`)."""
        model = self.model_of(importer)
        sites = self._import_sites(model, importer, target) if model is not None else []
        if not sites:
            return False  # named only in a call (importlib.import_module), or not read
        sites = [site for site in sites if model.runs_at_runtime(site)]
        if not sites:
            return None
        unix_only_from = model.unix_only_from
        unguarded = [site for site in sites if not model.facts(site).has_fork and not (
            unix_only_from is not None and model.position(site.node).start.line > unix_only_from)]
        return not unguarded or self._only_where_fork_exists(importer, seen)

    def is_package_module(self, path: str | Path) -> bool:
        """True for `__init__.py` and every module inside a package."""
        absolute = Path(os.path.abspath(path))
        if absolute.name == "__init__.py":
            return True
        note_file(absolute.parent / "__init__.py")
        return (absolute.parent / "__init__.py").is_file()

    def uses_names_reaching(self, path: str | Path, text: str, words: Iterable[str]) -> bool:
        """Whether the file at `path` (with `text`) uses a name of another module of the
        project whose definition holds one of `words`, directly or through the names it uses
        in turn (reach.py). A file whose own text names no process API can start processes
        through such a call, so the prefilter asks this."""
        return self._reach(words).file_uses(path, text)

    def reaches(self, module: _Module, name: str, words: Iterable[str]) -> bool:
        """Whether the top-level `name` of `module` holds one of `words`, directly or through
        the names it uses (reach.py)."""
        return self._reach(words).reaches(module, name)

    def _reach(self, words: Iterable[str]) -> Reach:
        key = tuple(sorted(set(words)))
        reach = self._reaches.get(key)
        if reach is None:
            reach = self._reaches[key] = Reach(self, key)
        return reach

    def _as_seen_from(self, qualname: str, from_path: str) -> tuple[_Module | None, Path, str | None]:
        """The module of the file `from_path` (None outside the index), the directory its
        imports are resolved from, and `qualname` as imported there made absolute (None when
        its leading dots go above the top package)."""
        caller = self.module_at(from_path)
        root = caller.root if caller is not None else Path(os.path.abspath(from_path)).parent
        is_package = bool(caller and caller.path.name == "__init__.py")
        return caller, root, absolute_name(qualname, caller.name if caller else "", is_package)

    def _callee_module(self, qualname: str, from_path: str, words: Iterable[str]) -> tuple[_Module, str] | None:
        """The other module of the project that defines `qualname` as imported in the file
        `from_path`, and the absolute dotted name -- only when the name called holds one of
        `words`, directly or through the names it uses (other modules are not parsed)."""
        caller, root, dotted = self._as_seen_from(qualname, from_path)
        if dotted is None:
            return None
        module_part = dotted.split("(", 1)[0]
        module = self.find(root, module_part.rsplit(".", 1)[0] if "." in module_part else module_part)
        if module is None or module is caller or not dotted.startswith(module.name + "."):
            return None
        if not self.reaches(module, re.split(r"[.(]", dotted[len(module.name) + 1:], maxsplit=1)[0], words):
            return None
        return module, dotted

    def _process_words(self) -> tuple[str, ...]:
        return PROCESS_WORDS + tuple(api.rsplit(".", 1)[-1] for api in self.process_apis)

    def process_start(self, qualname: str, from_path: str, seen: frozenset, looking_for: Search | None = None,
                      shape: Callable[[], CallShape] | None = None) -> ProcessStart | None:
        """How calling `qualname` (a name of another module as imported in the file
        `from_path`: `jobs.run_batch`, `.batch.Runner().run`), with arguments as `shape()` says
        (asked once the module is found; None: not known), starts processes, if it does; the
        chain starts with the absolute dotted name called. (Only a semantic model asks this, so
        the model's module is loaded by then.)"""
        from .model import ProcessStart, Search
        from .model.processes import UNKNOWN_CALL

        looking_for = looking_for or Search.PROCESSES
        words = ("freeze_support",) if looking_for is Search.FREEZE_SUPPORT else self._process_words()
        found = self._callee_module(qualname, from_path, words)
        if found is None:
            return None
        module, dotted = found
        key = (id(module), dotted, looking_for)
        if key in seen:
            self.searches.cut(key)
            return None
        model = self.model_of(module)
        if model is None:
            return None
        with self.searches.search(key):
            started = model.processes.name_process_start(dotted[len(module.name) + 1:], seen | {key}, looking_for,
                                                         shape() if shape is not None else UNKNOWN_CALL)
        return None if started is None else \
            ProcessStart(started.node, started.starter, (dotted, *started.chain[1:]), waited=started.waited)

    def pickled_parameters(self, qualname: str, from_path: str, seen: frozenset) -> tuple:
        """The parameters that calling `qualname` (a name of another module as imported in
        the file `from_path`: `tools.parmap`, `.pool.Runner().map`) hands to a child by
        pickle (model.workers.PickledParameter), indexed as the call's arguments."""
        found = self._callee_module(qualname, from_path, self._process_words())
        if found is None:
            return ()
        module, dotted = found
        key = (id(module), dotted, "pickled")
        if key in seen:
            self.searches.cut(key)
            return ()
        model = self.model_of(module)
        if model is None:
            return ()
        with self.searches.search(key):
            return model.workers.name_pickled_parameters(dotted[len(module.name) + 1:], seen | {key})

    def definition_of(self, qualname: str, from_path: str, _depth: int = 0) -> tuple[SemanticModel, cst.FunctionDef] | None:
        """The function of another module of the project that calling `qualname` (a name as
        imported in the file `from_path`: `setup.configure_logging`) runs, with that module's
        model; re-exports (`from .setup import configure_logging` in a package) are followed.
        None for names outside the project, classes and what cannot be resolved."""
        called = self._called_module(qualname, from_path)
        return None if called is None or _depth > 4 else self._function_in(*called, _depth)

    def _called_module(self, qualname: str, from_path: str) -> tuple[_Module, str] | None:
        """The other module of the project that `qualname` (as imported in the file
        `from_path`) is a name of, and the name in it (`rest`); read from the module list."""
        caller, root, dotted = self._as_seen_from(qualname, from_path)
        if dotted is None or "(" in dotted:
            return None
        module, rest = self.split(root, dotted)
        if module is None or module is caller or not rest:
            return None
        return module, rest

    def _function_in(self, module: _Module, rest: str, depth: int) -> tuple[SemanticModel, cst.FunctionDef] | None:
        import libcst as cst

        if (id(module), rest) in self._no_function:
            self.note(module)
            return None
        model = self.model_of(module)
        symbol = model.symbol_of_name(rest) if model is not None else None
        if model is not None and symbol is not None and isinstance(symbol.definition, cst.FunctionDef):
            return model, symbol.definition
        if model is not None and symbol is not None and symbol.definition is None:
            return self.definition_of(symbol.written, str(module.path), depth + 1)
        # Not a function of the module, whoever asks: known without its model next time (on
        # the stdlib, `warnings.warn`, defined twice, was asked 120 times).
        self._no_function.add((id(module), rest))
        return None

    def inherited_primitive(self, qualname: str, from_path: str) -> ImportedPrimitive | None:
        """The lock, queue or shared value that `qualname` (a name as imported in the file
        `from_path`: `shared.counter`, `.utils._lock`) is, when it is a module-level name
        that another module of the project binds, while it is imported, to a primitive made
        there (model.state's `inherited_primitives`: every process that imports the module
        makes its own); a name a module binds by an import of it is followed there, up to
        `MAX_REEXPORT_DEPTH` modules. A module is parsed only when the name-based pass finds
        a primitive's word reaching the name (reach.py); the modules read are noted."""
        called = self._called_module(qualname, from_path)
        if called is None:
            return None
        return self._primitives.get((id(called[0]), called[1]), lambda: self._primitive_in(*called, 0))

    def _primitive_in(self, module: _Module, name: str, depth: int) -> ImportedPrimitive | None:
        """`inherited_primitive`'s answer for the top-level `name` of `module`, reached through
        `depth` re-exports."""
        from .model.state import PRIMITIVE_WORDS, ImportedPrimitive

        if depth >= MAX_REEXPORT_DEPTH or not self.reaches(module, name, PRIMITIVE_WORDS):
            return None
        model = self.model_of(module)
        if model is None:
            return None
        primitive = model.parent_state.inherited_primitives().get(name)
        if primitive is not None:
            return ImportedPrimitive(module.name, name, primitive.made, primitive.role,
                                     model.position(primitive.node).start.line)
        bindings = model.module_scope.bindings.get(name, ())
        imported = bindings[0].qualname if len(bindings) == 1 and model.runs_at_import(bindings[0].site) else None
        if imported is None:  # not only bound by an import that runs at import
            return None
        called = self._called_module(imported, str(module.path))
        return None if called is None else self._primitive_in(*called, depth + 1)

    def primitive_used_by(self, qualname: str, from_path: str) -> ImportedPrimitive | None:
        """The first primitive made at import that calling `qualname` (a function of another
        module of the project as imported in the file `from_path`: `shared.log`) uses in its
        own body, nested functions included but not the functions it calls
        (`ParentState.primitive_uses` of that module: one it makes, or imports in turn); None
        when it uses none. The module is parsed only when the name-based pass finds a
        primitive's word reaching the name (reach.py); the modules read are noted."""
        from .model.state import PRIMITIVE_WORDS, ImportedPrimitive

        called = self._called_module(qualname, from_path)
        if called is None or not self.reaches(*called, PRIMITIVE_WORDS):
            return None

        def work_out() -> ImportedPrimitive | None:
            found = self._function_in(*called, 0)
            uses = found[0].parent_state.primitive_uses(found[1], calls=False) if found is not None else []
            if not uses:
                return None
            use = uses[0]
            maker = use.module if use.module is not None else self._by_path[found[0].path].name
            return ImportedPrimitive(maker, use.written, use.made, use.role, use.line)

        return self._primitives_used.get((id(called[0]), called[1]), work_out)

    def call_summary(self, qualname: str, from_path: str, depth: int,
                     summarize: Callable[[SemanticModel, cst.FunctionDef, int], int | None]) -> CallSummary | None:
        """What calling `qualname` (a name of another module of the project as imported in
        the file `from_path`) does, as `summarize(model, function, depth)` tells it of the
        function `definition_of` finds (None: no such function), with every file working it
        out read (`kept_answer`: once per run for each module, name and `depth`, and kept
        for later runs; a walk that need not go into the function, because it wants nothing
        of those files, then parses none of them). `summarize` must depend on nothing but
        the function and `depth`."""
        called = self._called_module(qualname, from_path)
        if called is None:
            return None
        module, rest = called

        def work_out() -> list[int | None] | None:
            found = self._function_in(module, rest, 0)
            return None if found is None else [summarize(*found, depth)]

        answer, read = self.kept_answer(f"call {module.key}:{rest}:{depth}", work_out, _is_call_summary)
        return None if answer is None else CallSummary(answer[0], read)

    def kept_answer(self, key: str, work_out: Callable[[], _JSON],
                    valid: Callable[[object], bool]) -> tuple[_JSON, frozenset[str]]:
        """`work_out()`'s answer to the question `key` names, and the files (absolute paths)
        working it out read: worked out once per run (`Remembered`: what it read is noted
        again on each use), and kept in the result cache (`ResultCache.answer`) with the hash
        of each of those files for later runs, which take it while each file still hashes
        so and the project's module list is the same (and note those files as read). The
        answer must be made of JSON's types (lists, not tuples) and depend on nothing but
        those files and the key; a kept one that `valid` refuses is worked out again."""
        return self._answers.get(key, lambda: self._kept_or_new_answer(key, work_out, valid))

    def _kept_or_new_answer(self, key: str, work_out: Callable[[], _JSON],
                            valid: Callable[[object], bool]) -> tuple[_JSON, frozenset[str]]:
        kept = self._kept.answer(str(self.root), key) if self._kept is not None else None
        if kept is not None and valid(kept[0]) and all(self._holds(path, digest) for path, digest in kept[1].items()):
            for path, digest in kept[1].items():
                note_file(path, digest)
            note_project(self.root)
            return kept[0], frozenset(kept[1])
        with recording() as reads:
            answer = work_out()
        files = {path: digest for path, digest in reads.files.items()
                 if digest is not None and Path(path) not in self.texts}
        if self._kept is not None and len(files) == len(reads.files) and not reads.directories and not reads.graphs \
                and reads.projects <= {str(self.root)}:
            self._kept.keep_answer(str(self.root), key, answer, files)
        return answer, frozenset(reads.files)

    def _holds(self, path: str, digest: str) -> bool:
        """Whether the module at `path` is read from disk and its text hashes to `digest`:
        known once read, or from what an earlier run kept while its stat is unchanged
        (`kept_facts`), or read now."""
        module = self._by_path.get(path)
        if module is None or module.path in self.texts:
            return False
        if module.digest is None and self.kept_facts(module) is None:
            self.text_of(module)
        return module.digest == digest

    def leads_to(self, qualname: str, from_path: str, path: str) -> bool:
        """Whether the module that `qualname` (a name as imported in the file `from_path`)
        belongs to is the module at `path`, imports it, or binds a package it is in (`import
        shop.config` binds `shop`, and `shop.tools.show()` is a function of shop/tools.py
        once anything imported it), directly or through the modules it imports: only then
        can calling it run that module's code (read from the import lines; nothing is
        parsed). True when the name's module is not found."""
        _, root, dotted = self._as_seen_from(qualname, from_path)
        target = self.module_at(path)
        module = self.split(root, dotted.split("(", 1)[0])[0] if dotted is not None else None
        if module is None or target is None:
            return True
        # Asked for every call a walk meets (on huggingface/accelerate, 33,000 times for 235 pairs).
        return self._leads.get((id(module), id(target)), lambda: self._imports_one_of(
            module, lambda module: module is target or any(
                target.name.startswith(_bound_module(binding) + ".") for binding in self.bindings(module))))

    def logging_quieted_around(self, path: str | Path) -> list[tuple[str, int]] | None:
        """What the modules that run when the module at `path` is imported, other than that
        module itself, may do to keep records from `logging.lastResort`, in whatever order:
        their `OutputFacts.quiets_anywhere`. They are the `__init__.py` of each package above
        it and every module of the project those and it import (at any depth, wherever the
        import stands); only those whose text names a logging configuration (`addHandler(`,
        `setLevel(`, `basicConfig(`, `dictConfig(`, `fileConfig(`, `.disable(`, `lastResort`,
        `.handlers =`, `.disabled =`) are parsed. None when that is not known: a file outside
        the project, a module that cannot be parsed."""
        module = self.module_at(path)
        if module is None:
            return None
        return self._logging_around.get(id(module), lambda: self._logging_quieted_around(module))

    def _logging_quieted_around(self, module: _Module) -> list[tuple[str, int]] | None:
        parts = module.name.split(".")
        pending = [found for found in (self.find(module.root, ".".join(parts[:length])) for length in range(1, len(parts)))
                   if found is not None]
        pending += self.imported(module)
        seen = {id(module)}
        quieted: list[tuple[str, int]] = []
        while pending:
            other = pending.pop()
            if id(other) in seen:
                continue
            seen.add(id(other))
            if _LOGGING_CONFIGURATION.search(self.text_of(other) or ""):
                model = self.model_of(other)
                if model is None:
                    return None
                quieted += model.output.quiets_anywhere
            pending += self.imported(other)
        return quieted

    def package_import_chain(self, path: str | Path) -> list[Path] | None:
        """How a package's `__init__.py` imports the module at `path` while it is imported:
        the modules from that `__init__.py` to this one (just the module, for an
        `__init__.py`), or None when no package of the project imports it at import time.
        Import statements are read from each importer's model: an import inside a function,
        under `if __name__ == "__main__":` or `if TYPE_CHECKING:` does not count."""
        return self._package_chain(path, self._imports_at_import_time)

    def may_be_imported_at_import_time_by_a_package(self, path: str | Path) -> bool:
        """False only when `package_import_chain` is None, found without parsing: an import
        statement in the first column of its line counts as one made at import time (at
        module level the model says so or leaves it open; in a string it is not one, and
        counting it only over-approximates), and so does one that CPython's `ast` cannot
        settle; the importer is read with `ast` only when its imports of the module are all
        indented."""
        return self._package_chain(path, self._may_import_at_import_time) is not None

    def _may_import_at_import_time(self, importer: _Module, target: _Module) -> bool:
        """False only when `_imports_at_import_time` is, found without parsing."""
        return self._imports_unindented(importer, target) or \
            self._imports_at_import_time_from_text(importer, target) is not False

    def _imports_unindented(self, importer: _Module, target: _Module) -> bool:
        """An import statement that starts one of `importer`'s lines, unindented, imports
        `target` (read from its import lines)."""
        return any(binding.unindented and self.split(importer.root, binding.target)[0] is target
                   for binding in self.bindings(importer))

    def _package_chain(self, path: str | Path, imports: Callable[[_Module, _Module], bool]) -> list[Path] | None:
        """`package_import_chain`, with `imports(importer, module)` telling whether an
        importer imports a module at import time."""
        target = self.module_at(path)
        if target is None:
            return None
        if target.path.name == "__init__.py":
            return [target.path]
        # Breadth first, each module's importers in the order of their paths: the first
        # package found is the answer. An importer is parsed only when its answer is needed:
        # the packages among a module's importers are asked first (none is ever queued, so
        # the first of them that imports it at import time is the answer whatever the others
        # say), the other modules only when no package does.
        chains: dict[int, list[Path]] = {id(target): [target.path]}
        pending = [target]
        while pending:
            module = pending.pop(0)
            importers = self._sorted_importers(module)
            for importer in importers:
                if importer.path.name == "__init__.py" and imports(importer, module):
                    return [importer.path, *chains[id(module)]]
            for importer in importers:
                if importer.path.name != "__init__.py" and id(importer) not in chains and imports(importer, module):
                    chains[id(importer)] = [importer.path, *chains[id(module)]]
                    pending.append(importer)
        return None

    def may_be_imported_by_a_package(self, path: str | Path) -> bool:
        """A cheap over-approximation of `package_import_chain` from the import lines alone
        (any import, even one inside a function): True for an `__init__.py`, and for a module
        that an `__init__.py` imports, directly or through other modules. Parses nothing."""
        target = self.module_at(path)
        if target is None:
            return Path(os.path.abspath(path)).name == "__init__.py" or not self.complete
        if target.path.name == "__init__.py":
            return True
        seen = {id(target)}
        pending = [target]
        while pending:
            for importer in self._importers_of(pending.pop()):
                if importer in seen:
                    continue
                if self._by_id[importer].path.name == "__init__.py":
                    return True
                seen.add(importer)
                pending.append(self._by_id[importer])
        return not self.complete

    def import_time_importers(self, path: str | Path, using: Iterable[str] | None = None,
                              excluding: Container[str] = ()) -> list[_Module]:
        """The modules of the project that import the module at `path` while they are
        imported (see `package_import_chain`); given `using` (names of the module), only
        those that can call one: a call of a function of the module is made by a module that
        imports it, or imports another module that names the function, directly or not: the
        module that makes the call need not import this one (`import shop` binds the package, and
        `shop.tools.show()` calls a function of shop/tools.py). The text and the import
        statements tell it: nothing is parsed for it. Those whose paths are in `excluding`
        are left out (and not asked about)."""
        target = self.module_at(path)
        if target is None:
            return []
        return [importer for importer in self._calling_importers(target, using, excluding)
                if self._imports_at_import_time(importer, target)]

    def may_have_import_time_importers(self, path: str | Path, using: Iterable[str] | None = None,
                                       excluding: Container[str] = ()) -> bool:
        """False only when `import_time_importers` is empty, found without parsing (see
        `may_be_imported_at_import_time_by_a_package`)."""
        target = self.module_at(path)
        return target is not None and any(self._may_import_at_import_time(importer, target)
                                          for importer in self._calling_importers(target, using, excluding))

    def _calling_importers(self, target: _Module, using: Iterable[str] | None,
                           excluding: Container[str]) -> list[_Module]:
        """The importers of `target` that `import_time_importers` asks whether they import
        it at import time."""
        importers = [importer for importer in self._sorted_importers(target) if importer.key not in excluding]
        if using is not None:
            calls = self._naming(target, using)
            importers = [importer for importer in importers if self._imports_one_of(importer, calls)]
        return importers

    def _naming(self, target: _Module, using: Iterable[str]) -> Callable[[_Module], bool]:
        """A test of a module: whether it is not `target` and its text names one of `using`,
        a whole identifier anywhere in it, strings and comments included (a module that may call one of `target`'s functions; `target`'s own calls start
        from a call into it). The last tests made are kept, with their answers: MP601 asks
        for a module's importers, then for the names of each that lead there, and each
        text is read once for them."""
        words = tuple(sorted(set(using)))
        key = (id(target), words)
        calls = self._namings.pop(key, None) or self._new_naming(target, words)
        self._namings[key] = calls
        while len(self._namings) > _NAMINGS_KEPT:
            del self._namings[next(iter(self._namings))]
        return calls

    def _new_naming(self, target: _Module, words: tuple[str, ...]) -> Callable[[_Module], bool]:
        names: dict[int, bool] = {}
        # A whole identifier: `main` in `__main__` or `domain` names no function `main`.
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, words))})\b")

        def calls(module: _Module) -> bool:
            if module is target:
                return False
            found = names.get(id(module))
            if found is None:
                text = self.text_of(module) or ""
                found = names[id(module)] = any(word in text for word in words) and pattern.search(text) is not None
            else:
                self.note(module)  # a result that depends on the answer depends on the text
            return found

        return calls

    def names_bound_to(self, importer: _Module, model: SemanticModel, path: str | Path,
                       names: Iterable[str] | None, reexports: bool = False) -> set[str]:
        """The module-level names that `model` (the model of `importer`) binds by an import
        statement to the module at `path`, to one of its `names` (None: any of them), to a
        package it is in (`import pkg.text` binds `pkg`), or to another module that may call
        one of them: that module or one it imports, directly or not, names one (None: imports
        the module at `path`), as `import_time_importers` reads it (a function of `importer`
        may call `util.go()`, which calls `shop.text.say()`). Given `reexports`, only those
        bound to one of `names` (`from .impl import show` in a package's `__init__.py`)."""
        from .model import Kind

        target = self.module_at(path)
        if target is None:
            return set()
        wanted = None if names is None else set(names)
        calls = (lambda module: module is target) if wanted is None or reexports else self._naming(target, wanted)
        is_package = importer.path.name == "__init__.py"
        found = set()
        for name, bindings in model.module_scope.bindings.items():
            for binding in bindings:
                dotted = absolute_name(binding.qualname, importer.name, is_package) \
                    if binding.kind is Kind.IMPORT and binding.qualname else None
                if dotted is None:
                    continue
                module, rest = self.split(importer.root, dotted)
                if module is target and rest and (wanted is None or rest.split(".", 1)[0] in wanted):
                    found.add(name)
                elif not reexports and (target.name.startswith(dotted + ".") or (module is target and not rest) or (
                        module is not None and module is not target and self._imports_one_of(module, calls))):
                    found.add(name)
        return found

    def _imports_one_of(self, start: _Module, wanted: Callable[[_Module], bool]) -> bool:
        """Whether `start` is a module `wanted` holds true of, or names one, directly or
        through other modules of the project: those it imports, and the packages above a
        module that a plain `import a.b.c` binds (`a`, and its attribute `a.b`), whose
        functions it may call."""
        seen = {id(start)}
        pending = [start]
        while pending:
            module = pending.pop()
            if wanted(module):
                return True
            for named in self._named_modules(module):
                if id(named) not in seen:
                    seen.add(id(named))
                    pending.append(named)
        return False

    def _named_modules(self, module: _Module) -> list[_Module]:
        """The modules of the project whose names `module`'s import statements bind, or
        bind a way to (see `_imports_one_of`)."""
        found = list(self.imported(module))
        for binding in self.bindings(module):
            if binding.module_import and binding.written == binding.target:
                parts = binding.target.split(".")
                packages = (self.find(module.root, ".".join(parts[:length])) for length in range(1, len(parts)))
                found += [package for package in packages if package is not None]
        return found

    def _sorted_importers(self, target: _Module) -> list[_Module]:
        return sorted((self._by_id[key] for key in self._importers_of(target)), key=lambda module: module.key)

    def _imports_at_import_time(self, importer: _Module, target: _Module) -> bool:
        """Whether `importer`'s model imports `target` in code that runs while it is imported.
        Where CPython's `ast` of the importer settles it, the importer is not parsed with
        libcst (`_import_statements`)."""
        settled = self._imports_at_import_time_from_text(importer, target)
        return settled if settled is not None else self._imports_at_import_time_by_model(importer, target)

    def _imports_at_import_time_by_model(self, importer: _Module, target: _Module) -> bool:
        model = self.model_of(importer)
        return model is not None and any(model.runs_at_import(site) for site in self._import_sites(model, importer, target))

    def _import_sites(self, model: SemanticModel, importer: _Module, target: _Module) -> list[Site]:
        """The sites of the import statements of `importer` (whose model is `model`) that
        import `target`, as its model reads them (an `importlib.import_module` call is none)."""
        import libcst as cst

        from .model import dotted_name

        is_package = importer.path.name == "__init__.py"
        found = []
        for binding in model.imports:
            node = binding.node
            if isinstance(node, cst.ImportAlias) and isinstance(binding.site.statement, cst.SimpleStatementLine) \
                    and any(isinstance(small, cst.Import) for small in binding.site.statement.body):
                written = dotted_name(node.name) or ""  # `import a.b` imports a.b, binding only `a`
            else:
                written = binding.qualname or ""
            name = absolute_name(written, importer.name, is_package)
            if name is not None and self.split(importer.root, name)[0] is target:
                found.append(binding.site)
        return found

    def _imports_at_import_time_from_text(self, importer: _Module, target: _Module) -> bool | None:
        """The model's answer to `_imports_at_import_time`, where the importer's text tells it
        without the model: False when every import statement of `target` is in a function or
        the body of a main guard (the text reading, reach.not_run_at_import, tells it without
        parsing); otherwise from CPython's `ast`: True when a statement that imports `target`
        stands at module level with no `if` before it at module level (the only statements
        that put conditions on the code after them: model/builder.py), so nothing conditions
        it; False when every one is inside a function or the body of `if __name__ ==
        "__main__":`; None otherwise."""
        if self._imported_only_where_not_run(importer, target):
            return False
        statements = self._import_statements(importer)
        if statements is None:
            return None
        is_package = importer.path.name == "__init__.py"
        not_run_at_import = True
        for written, top_level_unconditioned, in_function_or_main in statements:
            name = absolute_name(written, importer.name, is_package)
            if name is None or self.split(importer.root, name)[0] is not target:
                continue
            if top_level_unconditioned:
                return True
            not_run_at_import = not_run_at_import and in_function_or_main
        return False if not_run_at_import else None

    def _imported_only_where_not_run(self, importer: _Module, target: _Module) -> bool:
        """Every import statement of `importer` that imports `target` (read with regular
        expressions, as the index reads them) is in a function (at any depth) or the body of
        a main guard, as the text tells it (reach.not_run_at_import)."""
        positions = [binding.position for binding in self.bindings(importer)
                     if self.split(importer.root, binding.target)[0] is target]
        if not positions:
            return False
        if importer.not_run is None:  # (bindings noted the module)
            importer.not_run = not_run_at_import(self.text_of(importer) or "") or []
        spans = importer.not_run
        return bool(spans) and all(any(start < position < end for start, end in spans) for position in positions)

    def _import_statements(self, module: _Module) -> list[tuple[str, bool, bool]] | None:
        """Each name the module's import statements import, written as the model reads it
        (`a.b` for `import a.b`, `.pkg.name` for `from .pkg import name`, the module for a
        star), with whether the statement stands at module level with no module-level `if`
        before it, and whether it is inside a function or the body of an `if __name__ ==
        "__main__":` (it does not run at import); None when CPython cannot parse the
        module or a line mixes `import` and `from` statements (the model reads those
        differently)."""
        if module.import_statements is None:
            text = self.text_of(module) or ""
            tree = cpython_tree(text)
            module.import_statements = [] if tree is None else _import_statements(tree, text)
            if tree is not None and within_limits(tree):
                module.accepted = hash(text)
        else:
            self.note(module)
        return module.import_statements or None

    def flag_facts(self, dotted: str, from_path: str | Path, holds: bool) -> Facts | None:
        """What holds where the top-level name `dotted` of a module of the project (as
        imported in the file `from_path`: `pkg.compat.WINDOWS`, `.compat.WINDOWS`) is truthy
        (`holds`) or falsy, as its module's assignments tell (`WINDOWS = sys.platform ==
        "win32"`: only on Windows; model/regions.py), through re-exports. None when it names
        no such name, or when its module neither imports it nor has any of the words a
        platform test or a fork probe is written with (it is then not parsed). The modules
        read are noted (dependencies.py)."""
        called = self._called_module(dotted, str(from_path))
        if called is None or self._flag_depth >= MAX_REEXPORT_DEPTH:  # (a cycle of re-exports ends here too)
            return None
        module, name = called
        text = self.text_of(module) or ""
        if name not in text or not (any(word in text for word in _PLATFORM_WORDS) or
                                    any(binding.local == name for binding in self.bindings(module))):
            return None
        model = self.model_of(module)
        if model is None:
            return None
        self._flag_depth += 1
        try:
            return model.flag_facts(name, holds)
        finally:
            self._flag_depth -= 1

    def imports_unix_only(self, dotted: str, from_path: str | Path) -> bool | None:
        """Whether importing `dotted` (an absolute name, imported in the file `from_path`) runs
        a module of the project, or a package above it, that imports a module only Unix has
        at its top level, unconditionally (`unix_only_line`): it raises on Windows. None when
        the name's first part is no module of the project (`import resource` is the standard
        library's, unless the project has a `resource` module where it is imported from)."""
        caller = self.module_at(from_path)
        root = caller.root if caller is not None else Path(os.path.abspath(from_path)).parent
        parts = dotted.split(".")
        found = False
        for length in range(1, len(parts) + 1):
            name = ".".join(parts[:length])
            module = self.find(root, name)
            if module is None or module.name != name:
                continue
            if module is not caller and self._is_unix_only(module):
                return True
            found = True
        return False if found else None

    def _is_unix_only(self, module: _Module) -> bool:
        known = self._unix_only.get(id(module))
        if known is None:
            self._unix_only[id(module)] = False  # an import cycle adds nothing
            text = self.text_of(module) or ""
            known = self._unix_only[id(module)] = unix_only_line(
                text, module.name, module.path.name == "__init__.py",
                lambda dotted: self.imports_unix_only(dotted, module.path)) is not None
        return known

    def model_of(self, module: _Module) -> SemanticModel | None:
        """The semantic model of another module of the project (parsed once, unless
        `forget_models` let it go)."""
        self.note(module)
        if not module.parsed:
            from .model import SemanticModel
            from .parsing import parse_module, run_deep

            module.parsed = True
            text = self.text_of(module)
            module.size, module.model_text = len(text or ""), text
            if text is not None:
                accepted = self.accepts(module.path, text)
                try:
                    module.model = run_deep(lambda: SemanticModel(parse_module(text, accepted), str(module.path),
                                                                   self.process_apis, self))
                except InputError:
                    module.model = None
                else:
                    module.accepted = hash(text)
        self._used(module)
        return module.model

    def _used(self, module: _Module) -> None:
        """`module`'s model is the one used last (`forget_models` keeps the last used)."""
        if self._modeled.pop(id(module), None) is None:
            self._modeled_size += module.size
        self._modeled[id(module)] = module

    def forget_models(self, budget: int | None = None) -> None:
        """Keep only the models used last, up to `budget` characters of source (default:
        MAX_MODEL_SOURCE; 0: none). Called between files, never while one is checked: the
        nodes of a model a check holds must stay the nodes it compares."""
        budget = MAX_MODEL_SOURCE if budget is None else budget
        while self._modeled and (self._modeled_size > budget or not budget):
            oldest = self._modeled.pop(next(iter(self._modeled)))
            self._modeled_size -= oldest.size
            if oldest.model is not None:
                self._forgotten.append(oldest.model)
            oldest.model, oldest.model_text, oldest.parsed = None, None, False

    def release_forgotten(self) -> None:
        """Release (SemanticModel.release) the models `forget_models` let go. Called when a
        file's check is over: during it, a question or the check itself may still hold one."""
        forgotten, self._forgotten = self._forgotten, []
        for model in forgotten:
            model.release()


class Projects:
    """The project index of every file a run meets, each made once, when first needed."""

    def __init__(self, process_apis: Iterable[str] = (), files: Iterable[Path] = (),
                 kept: ResultCache | None = None) -> None:
        self.process_apis = tuple(process_apis)
        self.kept = kept
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
        return self.at_root(find_root(absolute))

    def release_forgotten(self) -> None:
        """ProjectIndex.release_forgotten of every index: call it between files only."""
        for index in self._indexes():
            index.release_forgotten()

    def release_models(self) -> None:
        """Release every model the indexes keep for the next files: when a run is over.
        Reference counting then frees them at once; left to the cycle collector, the models
        the budget keeps (a million objects on the stdlib) cost a full collection when the
        command turns it back on, 1 s at the end of `check --jobs 1` on the stdlib."""
        for index in self._indexes():
            index.forget_models(0)
            index.release_forgotten()

    def _indexes(self) -> list[ProjectIndex]:
        return [index for index in [self._explicit, *self._by_root.values()] if index is not None]

    def at_root(self, root: Path) -> ProjectIndex:
        """The index of the project whose root is `root` (a result that uses it depends on
        its list of modules: noted)."""
        index = self._by_root.get(root)
        if index is None:
            index = self._by_root[root] = ProjectIndex(root, None, self.process_apis, kept=self.kept)
        note_project(root)
        return index


@remembered
def _entry_point_modules(root: Path) -> frozenset[str]:
    """Modules that pyproject.toml, setup.cfg or setup.py name as entry-point targets
    (`tool = "pkg.cli:main"`)."""
    found: set[str] = set()
    for name in ("pyproject.toml", "setup.cfg", "setup.py"):
        try:
            data = read_regular_file(root / name, _MAX_CONFIG_BYTES)
        except InputError:
            note_file(root / name)
            continue
        note_file(root / name, content_digest(data))
        text = data.decode("utf-8", errors="replace")
        found.update(_ENTRY_POINT.findall(text))
    return frozenset(found)


# A line that starts (at column 0) a `def`, a `class` or an assignment: the name it defines.
_TOP_LEVEL_DEFINITION = re.compile(
    r"^(?:(?:async[ \t]+)?def[ \t]+(\w+)|class[ \t]+(\w+)|(\w+)[ \t]*(?::[^=\n]*)?=(?!=))", re.MULTILINE)


def _bound_module(binding: ImportBinding) -> str:
    """The dotted name of what an import binds its local name to: the top package for a
    plain `import a.b.c` (`a`), the module or its attribute otherwise (`import a.b as x`:
    `a.b`; `from a import b`: `a.b`)."""
    return binding.local if binding.module_import and binding.written == binding.target else binding.target


def unix_only_line(text: str, name: str, is_package: bool,
                   imports_unix_only: Callable[[str], bool | None] = lambda dotted: None) -> int | None:
    """The line of the first statement at the top level of `text` (the module `name`; not
    under an `if`, a `try` or in a function) that imports a module only Unix has
    (apis.UNIX_ONLY_MODULES: `import fcntl`), or a name `imports_unix_only` says leads to
    one (an absolute dotted name; it answers None for a name outside the project, True for
    a module of the project that does: ProjectIndex.imports_unix_only). On Windows that
    statement raises ImportError: nothing of the module below it runs there. None when there
    is none, or CPython cannot parse `text`."""
    tree = cpython_tree(text)
    if tree is None:
        return None
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            names = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = absolute_name("." * statement.level + (statement.module or ""), name, is_package)
            if base is None:
                continue
            names = [base, *(f"{base}.{alias.name}" if base else alias.name for alias in statement.names
                             if alias.name != "*")]
        else:
            continue
        for dotted in filter(None, names):
            in_project = imports_unix_only(dotted)
            if in_project or (in_project is None and dotted.split(".", 1)[0] in UNIX_ONLY_MODULES):
                return statement.lineno
    return None


def _written_chains(text: str, name: str) -> Iterator[str]:
    """For each place `text` writes the name `name` (a whole word, not an attribute), the
    attributes written after it, blanks removed (`shop.jobs .run_all` -> ".jobs.run_all";
    "" for the bare name). Found with `str.find`: a regular expression that starts with `\b`
    is searched for 30 times slower than the name, and one compiled for each file's names
    cost 0.4 s on the stdlib."""
    position = text.find(name)
    while position >= 0:
        end = position + len(name)
        before, after = text[position - 1:position], text[end:end + 1]
        if not (before.isidentifier() or before.isdigit() or before == "." or after.isidentifier() or after.isdigit()):
            yield "".join(_ATTRIBUTES.match(text, end).group(0).split())  # type: ignore[union-attr]  # (it matches "")
        position = text.find(name, end)


def _defined_at_top_level(text: str) -> frozenset[str]:
    """The names a line of `text` defines at column 0 (`def`, `class`, an assignment): the
    module-level definitions a re-export may not be the last word on (`_follow`)."""
    return frozenset(name for names in _TOP_LEVEL_DEFINITION.findall(text) for name in names if name)


def _import_statements(tree: ast.Module, text: str) -> list[tuple[str, bool, bool]]:
    """See ProjectIndex._import_statements ([] for None), from CPython's `tree` of `text`.
    Only a module whose every import statement stands alone on its lines is read: in a
    one-line block (`if x: import a.b`) or next to another statement (`from a import b;
    import c`) the model reads some names differently."""
    lines = text.encode("utf-8", "surrogatepass").splitlines()  # ast's lines, its offsets in bytes
    # (statement, under a test, not run at import: in a function or a main guard's body)
    statements: list[tuple[ast.AST, bool, bool]] = []
    pending: list[tuple[ast.AST, bool, bool]] = [(statement, False, False) for statement in tree.body]
    while pending:
        node, conditioned, not_run = pending.pop()
        statements.append((node, conditioned, not_run))
        inner = not_run or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        # Tests put conditions on what they hold (model/regions.py); try, with, for and class
        # bodies do not.
        inner_conditioned = conditioned or isinstance(node, (ast.If, ast.While, ast.Match))
        main_body = node.body if isinstance(node, ast.If) and _is_main_test(node.test) else ()
        pending.extend((child, inner_conditioned, inner or any(child is part for part in main_body))
                       for child in ast.iter_child_nodes(node)
                       if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)))
    # An `if` can put conditions on the code after it only when one of its branches may not
    # fall through (model/builder.py: `if windows: sys.exit()`): the lines such ifs start on.
    leaving = [node.lineno for node, _, not_run in statements
               if not not_run and isinstance(node, ast.If) and _may_leave(node)]
    found: list[tuple[str, bool, bool]] = []
    for node, conditioned, not_run in sorted(statements, key=lambda entry: _position(entry[0])):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not _alone_on_its_lines(node, lines):
                return []
            unconditioned = not (conditioned or not_run or any(line < node.lineno for line in leaving))
            if isinstance(node, ast.Import):
                found.extend((alias.name, unconditioned, not_run) for alias in node.names)
            else:
                source = "." * node.level + (node.module or "")
                for alias in node.names:
                    written = source if alias.name == "*" else \
                        source + alias.name if source.endswith(".") else f"{source}.{alias.name}"
                    found.append((written, unconditioned, not_run))
    return found


def _has_shebang(module: cst.Module) -> bool:
    """The module starts with a `#!` line: it is run as a program."""
    first = module.header[0] if module.header else None
    return first is not None and first.comment is not None and first.comment.value.startswith("#!")


def _is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round: what a spawned child, which imports the
    main module as `__mp_main__`, does not run."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    for name, value in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        if isinstance(name, ast.Name) and name.id == "__name__" and \
                isinstance(value, ast.Constant) and value.value == "__main__":
            return True
    return False


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


_LEAVING = (ast.Raise, ast.Return, ast.Break, ast.Continue)
_EXIT_CALLS = frozenset({"exit", "quit", "_exit", "abort"})


def _may_leave(node: ast.If) -> bool:
    """Whether a branch of the `if` may not fall through: it holds a raise, return, break,
    continue or a call of `exit`/`sys.exit()`/`os._exit()`/`os.abort()` anywhere (an
    over-approximation: nested functions' statements count too)."""
    for inner in ast.walk(node):
        if isinstance(inner, _LEAVING):
            return True
        if isinstance(inner, ast.Call):
            function = inner.func
            name = function.id if isinstance(function, ast.Name) else \
                function.attr if isinstance(function, ast.Attribute) else None
            if name in _EXIT_CALLS:
                return True
    return False


def _alone_on_its_lines(node: ast.stmt, lines: list[bytes]) -> bool:
    """Nothing but blanks before the statement on its first line, nor after it (but a
    comment) on its last, and no backslash continuation inside it."""
    end_line = node.end_lineno or node.lineno
    if end_line > len(lines):
        return False
    before = lines[node.lineno - 1][:node.col_offset]
    after = lines[end_line - 1][node.end_col_offset:] if node.end_col_offset is not None else b";"
    inside = lines[node.lineno - 1:end_line]
    return not before.strip() and (not after.strip() or after.strip().startswith(b"#")) and \
        not any(line.rstrip().endswith(b"\\") for line in inside)
