"""Is a file part of an application frozen into an executable? (MP202 asks.)

A frozen app (PyInstaller, cx_Freeze, Nuitka, py2exe) re-runs its own executable for every
spawned child, and only `multiprocessing.freeze_support()` turns that run into the child
(`mpcheck facts 4`). What says a project is frozen, looked for from the file's
directory up to its project root (the nearest directory with .git, pyproject.toml,
setup.py or setup.cfg; without one, the file's directory only):

- a dependency on a freezer, read as the packaging tools read it: requirements files
  (`*requirements*.txt`, any `*.in` but MANIFEST.in, and every `*.txt`/`*.in` in a
  `requirements/` directory), pyproject.toml (`[project]` dependencies and
  optional-dependencies, PEP 735 `[dependency-groups]`, Poetry's dependencies and groups,
  PDM's and uv's dev-dependencies, Hatch environments), setup.cfg (`install_requires`,
  `setup_requires`, `extras_require`), setup.py (the same `setup()` keywords), Pipfile, and
  conda's environment.yml;
- a PyInstaller `.spec` file (one that calls `Analysis(...)` and builds a `PYZ` or `EXE`;
  an RPM `.spec` is not one); the scripts its `Analysis([...])` names are the app's entry
  scripts, also when the evidence found is a dependency and the spec is kept elsewhere in
  the project (`exe/app.spec`, up to two directories down from the root);
- a Python file that imports a freezer (`import PyInstaller.__main__`,
  `from cx_Freeze import setup, Executable`, `import py2exe`) or carries Nuitka's
  `# nuitka-project:` build options.

Names are compared after PEP 503 normalisation (`cx_Freeze`, `CX-freeze` and `cx.freeze` are
one name). Only the freezers and their own companions count (`pyinstaller-hooks-contrib`,
`auto-py-to-exe`): `pyinstaller-extractor` unpacks executables and `nuitka-setuptools`
compiles modules, neither freezes an app, so a name that merely starts like a freezer's does
not count. Comments, strings and prose never count.

Results are cached per directory for the life of the process (a CLI run, a flake8 run);
the files read and the directories listed are noted for the result cache (dependencies.py).
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from typing import TYPE_CHECKING

from .dependencies import content_digest, note_directory, note_file, remembered

if TYPE_CHECKING:
    from packaging.requirements import Requirement

from .roots import project_root
from .source import InputError, read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# PEP 503-normalised distribution name -> the freezer it means.
FREEZER_DISTRIBUTIONS: Mapping[str, str] = {
    "pyinstaller": "PyInstaller",
    "pyinstaller-hooks-contrib": "PyInstaller",  # PyInstaller's own hooks, a dependency of it
    "auto-py-to-exe": "PyInstaller",  # a front end that runs PyInstaller
    "cx-freeze": "cx_Freeze",
    "nuitka": "Nuitka",
    "py2exe": "py2exe",
}
# Top-level import name -> the freezer it means.
FREEZER_MODULES: Mapping[str, str] = {
    "PyInstaller": "PyInstaller",
    "cx_Freeze": "cx_Freeze",
    "nuitka": "Nuitka",
    "py2exe": "py2exe",
}

_REQUIREMENTS_FILE = re.compile(r".*requirements.*\.(?:txt|in)|.*\.in", re.IGNORECASE)
_REQUIREMENTS_DIRECTORY = "requirements"
_SPEC_ANALYSIS = re.compile(r"^\s*\w+\s*=\s*Analysis\s*\(", re.MULTILINE)
_SPEC_ARCHIVE = re.compile(r"\b(?:PYZ|EXE)\s*\(")
_MENTIONS_A_FREEZER = re.compile(r"\b(?:" + "|".join(FREEZER_MODULES) + r")\b")
_NUITKA_PROJECT = re.compile(r"^#[ \t]*nuitka-project(?:-if)?:", re.MULTILINE)
_OPTION = re.compile(r"\s+--?[A-Za-z]")
_CONDA_ITEM = re.compile(r"^\s*-\s*(?:[\w.-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)")
# Larger files are not build scripts or dependency lists anyone writes by hand.
_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class FrozenEvidence:
    """Why a file counts as part of a frozen app: `freezer` ("PyInstaller"), the file that
    says so, and where in it (":3" for a line, " [dependency-groups] build" for a table)."""

    freezer: str
    path: Path  # absolute
    location: str = ""
    shown_from: Path | None = None  # the directory `describe` shows `path` relative to
    # The scripts a PyInstaller spec freezes (`Analysis(["main.py"])`), absolute; empty when
    # the evidence does not say which scripts are frozen.
    entry_scripts: tuple[Path, ...] = ()

    def freezes(self, path: str | os.PathLike[str]) -> bool:
        """Whether the script at `path` is one the frozen app runs (any script, when the
        evidence does not name them)."""
        return not self.entry_scripts or Path(os.path.abspath(path)) in self.entry_scripts

    def describe(self) -> str:
        """"frozen with PyInstaller: requirements/build.txt:3"."""
        path = self.path
        if self.shown_from is not None:
            try:
                path = path.relative_to(self.shown_from)
            except ValueError:
                pass
        return f"frozen with {self.freezer}: {path.as_posix()}{self.location}"


def frozen_evidence(path: str | os.PathLike[str]) -> FrozenEvidence | None:
    """The first evidence that the file at `path` belongs to a frozen app, looking in its
    own directory first and then each parent up to its project root; None when nothing
    says so. `path` need not exist (a file read from stdin is named by `--stdin-filename`).
    Never raises: an unreadable or malformed file is no evidence."""
    start = Path(os.path.abspath(path)).parent
    root = project_root(start)
    for directory in _up_to(start, root):
        found = _directory_evidence(directory)
        if found is not None:
            scripts = found.entry_scripts or (_project_spec_scripts(root) if root is not None else ())
            return FrozenEvidence(found.freezer, found.path, found.location, root or start, scripts)
    return None


# Directories where a PyInstaller spec is never kept (virtual environments, caches, builds).
_NOT_SPEC_DIRECTORIES = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv"})


@remembered
def _project_spec_scripts(root: Path) -> tuple[Path, ...]:
    """The scripts the project's PyInstaller specs freeze, wherever in the project's top two
    levels they are kept (`exe/app.spec`, `packaging/windows/app.spec`): when a dependency
    on PyInstaller says the project is frozen, its specs say which scripts are. () when
    there is no spec, or one whose scripts cannot be read (then any script may be frozen)."""
    scripts: list[Path] = []
    directories = [root]
    for depth in range(3):
        deeper = []
        for directory in directories:
            note_directory(directory)  # a spec added there changes what is frozen
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.endswith(".spec") and entry.is_file() and _is_pyinstaller_spec(Path(entry.path)):
                    named = _spec_scripts(Path(entry.path))
                    if not named:
                        return ()
                    scripts += named
                elif depth < 2 and entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".") \
                        and entry.name not in _NOT_SPEC_DIRECTORIES:
                    deeper.append(Path(entry.path))
        directories = deeper
    return tuple(scripts)


def _up_to(start: Path, root: Path | None) -> Iterator[Path]:
    if root is None:
        yield start
        return
    for directory in (start, *start.parents):
        yield directory
        if directory == root:
            return


@remembered
def _directory_evidence(directory: Path) -> FrozenEvidence | None:
    names = _file_names(directory)
    return None if names is None else next(_evidence_in(directory, names), None)


def _file_names(directory: Path) -> list[str] | None:
    """The names of the files in `directory`, sorted (None when it cannot be listed)."""
    note_directory(directory)
    try:
        return sorted(entry.name for entry in os.scandir(directory) if entry.is_file())
    except OSError:
        return None


def _evidence_in(directory: Path, names: list[str]) -> Iterator[FrozenEvidence]:
    """Every piece of evidence in `directory` (whose files are `names`), cheapest first."""
    for name in names:
        if name.endswith(".spec") and _is_pyinstaller_spec(directory / name):
            yield FrozenEvidence("PyInstaller", directory / name, entry_scripts=_spec_scripts(directory / name))
    for path, requirements in _dependency_lists(directory, names):
        yield from _evidence(path, requirements)
    for name in names:
        if name.endswith(".py"):
            yield from _python_file(directory / name)


def _dependency_lists(directory: Path, names: list[str]) -> Iterator[tuple[Path, Iterator[tuple[str, str]]]]:
    """The files of `directory` that declare dependencies, each with its (requirement,
    location) pairs: requirements files, pyproject.toml, setup.cfg, Pipfile, environment.yml."""
    requirements = [directory / name for name in names if _is_requirements_file(name)]
    nested = directory / _REQUIREMENTS_DIRECTORY
    requirements += [nested / name for name in _file_names(nested) or () if Path(name).suffix in (".txt", ".in")]
    for path in requirements:
        yield path, _requirements_file(path)
    readers = {"pyproject.toml": _pyproject, "setup.cfg": _setup_cfg, "Pipfile": _pipfile,
               "environment.yml": _conda_environment, "environment.yaml": _conda_environment}
    for name, reader in readers.items():
        if name in names:
            yield directory / name, reader(directory / name)


def declared_requirements(path: str | os.PathLike[str], distribution: str) -> list[Requirement]:
    """The requirements on `distribution` that the project of the file at `path` declares,
    in the same files and directories as the freezer evidence (the file's directory up to
    its project root); malformed ones are left out. Never raises."""
    # Imported here: only a file that names a freezer needs them.
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    wanted = canonicalize_name(distribution)
    start = Path(os.path.abspath(path)).parent
    found: list[Requirement] = []
    for directory in _up_to(start, project_root(start)):
        names = _file_names(directory)
        if names is None:
            continue
        for _, requirements in _dependency_lists(directory, names):
            for text, _ in requirements:
                try:
                    requirement = Requirement(text.strip())
                except InvalidRequirement:
                    continue
                if canonicalize_name(requirement.name) == wanted:
                    found.append(requirement)
    return found


def _evidence(path: Path, requirements: Iterable[tuple[str, str]]) -> Iterator[FrozenEvidence]:
    """Evidence from (requirement, location) pairs: the first that names a freezer."""
    for requirement, location in requirements:
        freezer = _freezer_named(requirement)
        if freezer is not None:
            yield FrozenEvidence(freezer, path, location)
            return


def _freezer_named(requirement: str) -> str | None:
    """The freezer a PEP 508 requirement string (or a bare name) names, if any."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        name = Requirement(requirement.strip()).name
    except InvalidRequirement:
        return None
    return FREEZER_DISTRIBUTIONS.get(canonicalize_name(name))


def _read(path: Path) -> str | None:
    try:
        data = read_regular_file(path, _MAX_BYTES)
    except InputError:
        note_file(path)
        return None
    note_file(path, content_digest(data))
    # As Path.read_text reads it: universal newlines.
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _is_pyinstaller_spec(path: Path) -> bool:
    text = _read(path)
    return text is not None and bool(_SPEC_ANALYSIS.search(text)) and bool(_SPEC_ARCHIVE.search(text))


def _spec_scripts(path: Path) -> tuple[Path, ...]:
    """The scripts `Analysis([...])` of a PyInstaller spec names, relative to the spec's
    directory as PyInstaller resolves them; () when one of them cannot be told (see
    `_spec_script`)."""
    try:
        tree = ast.parse(_read(path) or "")
    except (SyntaxError, ValueError):
        return ()
    assigned = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Analysis" \
                and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
            scripts = [_spec_script(path.parent, element, assigned) for element in node.args[0].elts]
            return () if None in scripts else tuple(scripts)
    return ()


def _spec_script(directory: Path, expr: ast.expr, assigned: dict[str, ast.expr]) -> Path | None:
    """The script an element of `Analysis([...])` names: a string, or a module-level name
    bound to one or to `os.path.join(base, "src", "app", "cli.py")`. A base the file cannot
    tell (`os.getcwd()`: the directory PyInstaller runs in) is the spec's directory or one
    above it, the only one where the rest names a file. None when nothing settles it."""
    if isinstance(expr, ast.Name) and isinstance(assigned.get(expr.id), (ast.Constant, ast.Call)):
        expr, assigned = assigned[expr.id], {name: value for name, value in assigned.items() if name != expr.id}
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return Path(os.path.abspath(directory / expr.value))
    if not (isinstance(expr, ast.Call) and ast.unparse(expr.func) == "os.path.join" and expr.args
            and all(isinstance(part, ast.Constant) and isinstance(part.value, str) for part in expr.args[1:])):
        return None
    rest = Path(*(part.value for part in expr.args[1:]))
    base = _spec_script(directory, expr.args[0], assigned)
    if base is not None:
        return Path(os.path.abspath(base / rest))
    candidates = [candidate / rest for candidate in (directory, *directory.parents)[:3]]
    for candidate in candidates:
        note_file(candidate)  # a script added or removed there changes what is frozen
    found = [candidate for candidate in candidates if candidate.is_file()]
    return Path(os.path.abspath(found[0])) if len(found) == 1 else None


def _is_requirements_file(name: str) -> bool:
    return bool(_REQUIREMENTS_FILE.fullmatch(name)) and name.lower() != "manifest.in"


def _requirements_file(path: Path) -> Iterator[tuple[str, str]]:
    """pip's requirements format: one requirement per line, `\\` continues a line, `#` after
    whitespace starts a comment, lines starting with `-` are options (-r, -e, -c ...), and
    options after a requirement (--hash) belong to it."""
    text = _read(path)
    if text is None:
        return
    pending, first_line = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            first_line = number
        line = re.sub(r"(^|\s)#.*", "", line)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical, pending = (pending + line).strip(), ""
        if logical and not logical.startswith("-"):
            # without the options a requirement may carry: `pkg==1.0 --hash=sha256:...`
            yield _OPTION.split(logical, 1)[0], f":{first_line}"


def _load_toml(path: Path) -> dict[str, Any]:
    text = _read(path)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _table(document: Any, *keys: str) -> Any:
    for key in keys:
        document = document.get(key) if isinstance(document, Mapping) else None
    return document


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _groups(table: Any, heading: str) -> Iterator[tuple[str, str]]:
    """The requirement strings of a table of lists (`[project.optional-dependencies]`)."""
    if isinstance(table, Mapping):
        for group, requirements in table.items():
            for requirement in _strings(requirements):
                yield requirement, f" [{heading}] {group}"


def _names(table: Any, heading: str) -> Iterator[tuple[str, str]]:
    """The keys of a table that maps names to versions (Poetry, Pipfile)."""
    if isinstance(table, Mapping):
        for name in table:
            yield str(name), f" [{heading}]"


def _pyproject(path: Path) -> Iterator[tuple[str, str]]:
    document = _load_toml(path)
    for requirement in _strings(_table(document, "project", "dependencies")):
        yield requirement, " [project] dependencies"
    yield from _groups(_table(document, "project", "optional-dependencies"), "project.optional-dependencies")
    yield from _groups(_table(document, "dependency-groups"), "dependency-groups")  # PEP 735
    poetry = _table(document, "tool", "poetry")
    yield from _names(_table(poetry, "dependencies"), "tool.poetry.dependencies")
    yield from _names(_table(poetry, "dev-dependencies"), "tool.poetry.dev-dependencies")
    groups = _table(poetry, "group")
    if isinstance(groups, Mapping):
        for group in groups:
            yield from _names(_table(groups, group, "dependencies"), f"tool.poetry.group.{group}.dependencies")
    yield from _groups(_table(document, "tool", "pdm", "dev-dependencies"), "tool.pdm.dev-dependencies")
    for requirement in _strings(_table(document, "tool", "uv", "dev-dependencies")):
        yield requirement, " [tool.uv] dev-dependencies"
    environments = _table(document, "tool", "hatch", "envs")
    if isinstance(environments, Mapping):
        for name in environments:
            for key in ("dependencies", "extra-dependencies"):
                for requirement in _strings(_table(environments, name, key)):
                    yield requirement, f" [tool.hatch.envs.{name}] {key}"


def _pipfile(path: Path) -> Iterator[tuple[str, str]]:
    document = _load_toml(path)
    for section in ("packages", "dev-packages"):
        yield from _names(document.get(section), section)


def _setup_cfg(path: Path) -> Iterator[tuple[str, str]]:
    text = _read(path)
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return
    for key in ("install_requires", "setup_requires"):
        for line in parser.get("options", key, fallback="").splitlines():
            yield line, f" [options] {key}"
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            for line in value.splitlines():
                yield line, f" [options.extras_require] {extra}"


def _conda_environment(path: Path) -> Iterator[tuple[str, str]]:
    """The list items of environment.yml (conda `name=version` and pip's `name==version`),
    read line by line: PyYAML is not a dependency of mpcheck."""
    text = _read(path)
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CONDA_ITEM.match(line)
        if match is not None:
            yield match.group(1), f":{number}"


def _python_file(path: Path) -> Iterator[FrozenEvidence]:
    """A build script: imports of a freezer, Nuitka's `# nuitka-project:` options, and for
    setup.py its `setup(install_requires=..., extras_require=...)` requirements."""
    text = _read(path)
    if text is None:
        return
    nuitka = _NUITKA_PROJECT.search(text)
    if nuitka is not None:
        yield FrozenEvidence("Nuitka", path, f":{text.count(chr(10), 0, nuitka.start()) + 1}")
        return
    if _MENTIONS_A_FREEZER.search(text) is None and path.name != "setup.py":
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return
    for node in ast.walk(tree):
        modules = (
            [alias.name for alias in node.names] if isinstance(node, ast.Import)
            else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            else []
        )
        for module in modules:
            freezer = FREEZER_MODULES.get(module.split(".", 1)[0])
            if freezer is not None:
                yield FrozenEvidence(freezer, path, f":{node.lineno}")
                return
    if path.name == "setup.py":
        yield from _evidence(path, _setup_keywords(tree))


def _setup_keywords(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """The string constants of setup()'s requirement keywords, with their lines."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ("install_requires", "setup_requires", "extras_require"):
                    # extras_require={"freeze": ["pyinstaller"]}: the values, not the extras' names
                    values = keyword.value.values if isinstance(keyword.value, ast.Dict) else [keyword.value]
                    for constant in (node for value in values for node in ast.walk(value)):
                        if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                            for line in constant.value.splitlines():
                                yield line, f":{constant.lineno}"
