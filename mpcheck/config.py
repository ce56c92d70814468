"""Settings: `[tool.mpcheck]` in pyproject.toml, overridden by command-line flags.

Every key and every rule code is checked: a typo is an error that names it, never a
setting silently ignored.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from .findings import ALL_VERSIONS, INPUT_ERROR_CODE, Breakage, names_input_errors, narrow

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PLATFORMS = ("windows", "macos", "linux")
CACHE_DIRECTORY_NAME = ".mpcheck_cache"

# Directories no one wants linted: VCS data, virtual environments, caches, build output.
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox", ".venv", "venv", ".eggs", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".mpcheck_cache", "build", "dist", "node_modules",
    "site-packages", "__pypackages__", ".ipynb_checkpoints",
)


class ConfigError(Exception):
    """A usage error: unknown option or rule code, bad value. Exit status 2."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("MP",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The platforms the checked code runs on, and the lowest Python version it supports
    # (None: any): findings that cannot break there are not reported (see `reachable`).
    platforms: tuple[str, ...] = PLATFORMS
    target_version: tuple[int, int] | None = None
    # Qualified names of the project's own functions that start processes (MP201 and
    # friends treat a call to one like a call to Pool()).
    process_apis: tuple[str, ...] = ()
    # Third-party modules whose import needs fork, on top of mpcheck's own table (MP103).
    fork_only_modules: tuple[str, ...] = ()
    respect_gitignore: bool = True
    # The directory relative paths in exclude and per-file-ignores are taken from.
    root: Path = field(default_factory=Path.cwd)
    # The result cache (cache.py): whether to use it, and where it is (None: `.mpcheck_cache`
    # in `root`; the MPCHECK_CACHE_DIR environment variable comes first).
    cache: bool = True
    cache_dir: Path | None = None

    def cache_directory(self, environment: Mapping[str, str]) -> Path | None:
        """Where the result cache is, or None when it is off (`cache = false`, or the
        MPCHECK_NO_CACHE environment variable set to anything but "", "0" or "false")."""
        if not self.cache or environment.get("MPCHECK_NO_CACHE", "").lower() not in ("", "0", "false"):
            return None
        if environment.get("MPCHECK_CACHE_DIR"):
            return Path(environment["MPCHECK_CACHE_DIR"]).absolute()
        return self.root / (self.cache_dir or CACHE_DIRECTORY_NAME)

    def is_enabled(self, code: str) -> bool:
        """ruff's rule: the most specific matching selector wins; ignore wins a tie."""
        selected = max((len(p) for p in (*self.select, *self.extend_select) if _matches(code, p)), default=-1)
        ignored = max((len(p) for p in self.ignore if _matches(code, p)), default=-1)
        return selected >= 0 and selected > ignored

    def reachable(self, breakages: Iterable[Breakage]) -> tuple[Breakage, ...]:
        """What of `breakages` (where a finding breaks) the code can meet on the configured
        `platforms` from `target-version` on; empty: the finding cannot break there."""
        versions = ALL_VERSIONS if self.target_version is None else (self.target_version, ALL_VERSIONS[1])
        return narrow(breakages, self.platforms, versions)

    def ignored_for_file(self, code: str, path: str) -> bool:
        return any(_matches(code, prefix) for prefix in self._per_file_codes(path))

    def input_errors_hidden(self, path: str) -> bool:
        """True when `ignore` or a `per-file-ignores` entry for `path` names MP000: the file
        is then left unchecked without a report or an exit status of 2 (see the guide)."""
        return any(names_input_errors(code) for code in (*self.ignore, *self._per_file_codes(path)))

    def _per_file_codes(self, path: str) -> list[str]:
        """The codes `per-file-ignores` lists for `path`."""
        if not self.per_file_ignores:
            return []
        relative = _relative_posix(path, self.root)
        return [code for pattern, codes in self.per_file_ignores.items() if _path_matches(relative, pattern) for code in codes]


def _matches(code: str, selector: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _relative_posix(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _path_matches(relative: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return (
        fnmatch.fnmatch(relative, pattern)
        or fnmatch.fnmatch(Path(relative).name, pattern)
        or relative.startswith(pattern + "/")
    )


# --- loading ------------------------------------------------------------------------

_LIST_KEYS = {"select", "ignore", "extend-select", "exclude", "extend-exclude", "platforms", "process-apis",
              "fork-only-modules"}
_KNOWN_KEYS = _LIST_KEYS | {"per-file-ignores", "respect-gitignore", "target-version", "cache", "cache-dir"}
_EXTENDING_KEYS = {"extend-select", "extend-exclude"}
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.mpcheck] table, from `start` upwards."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            tool = _read_toml(candidate).get("tool", {})
            if isinstance(tool, Mapping) and "mpcheck" in tool:
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def load_settings(
    config_path: Path | None,
    known_codes: Iterable[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    search_from: Path | None = None,
) -> Settings:
    """Settings from `config_path` (or the nearest pyproject.toml with [tool.mpcheck] from
    `search_from` upwards), with `overrides` (option name -> value, from the command line)
    applied on top. `known_codes` defaults to every registered rule's code."""
    if known_codes is None:
        from .rules import RULE_CODES  # here: the rules import this module's types

        known_codes = RULE_CODES
    known = tuple(known_codes)
    values: dict[str, Any] = {}
    root = Path.cwd()
    if config_path is None:
        config_path = find_config((search_from or Path.cwd()).resolve())
    if config_path is not None:
        document = _read_toml(config_path)
        if config_path.name == "pyproject.toml":
            table = document.get("tool", {}).get("mpcheck", {})
        else:  # a dedicated mpcheck.toml: top level, or [tool.mpcheck]
            table = document.get("tool", {}).get("mpcheck", document)
        if not isinstance(table, Mapping):
            raise ConfigError(f"{config_path}: [tool.mpcheck] must be a table of options")
        values.update(_validate(table, str(config_path), known))
        root = config_path.resolve().parent
    for key, value in (overrides or {}).items():
        if value is not None:
            validated = _validate({key: value}, "command line", known)[key]
            # As with ruff, --extend-* add to what the file says; every other flag replaces it.
            values[key] = (*values.get(key, ()), *validated) if key in _EXTENDING_KEYS else validated
    return _build(values, root)


def _validate(table: Mapping[str, Any], origin: str, known: tuple[str, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KNOWN_KEYS:
            suggestion = _closest(key, _KNOWN_KEYS)
            raise ConfigError(f"{origin}: unknown option `{key}`" + (f" (did you mean `{suggestion}`?)" if suggestion else ""))
        if key in _LIST_KEYS:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{origin}: `{key}` must be a list of strings")
            value = tuple(value)
            if key in ("select", "ignore", "extend-select"):
                for code in value:
                    _check_code(code, origin, key, known)
            if key == "platforms":
                for platform in value:
                    if platform not in PLATFORMS:
                        raise ConfigError(f"{origin}: unknown platform `{platform}` in `platforms` (choose from {', '.join(PLATFORMS)})")
            if key == "fork-only-modules":
                for module in value:
                    if not _DOTTED_NAME.fullmatch(module):
                        raise ConfigError(f"{origin}: `{module}` in `fork-only-modules` is not a module name")
        elif key == "per-file-ignores":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: `per-file-ignores` must be a table of glob = [codes]")
            table_value = {}
            for pattern, codes in value.items():
                if isinstance(codes, str):
                    codes = [codes]
                if not isinstance(codes, (list, tuple)) or not all(isinstance(code, str) for code in codes):
                    raise ConfigError(f"{origin}: `per-file-ignores.{pattern}` must be a list of rule codes")
                for code in codes:
                    _check_code(code, origin, f"per-file-ignores.{pattern}", known)
                table_value[pattern] = tuple(codes)
            value = table_value
        elif key in ("respect-gitignore", "cache") and not isinstance(value, bool):
            raise ConfigError(f"{origin}: `{key}` must be true or false")
        elif key == "cache-dir":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{origin}: `cache-dir` must be a directory name")
            value = Path(value)
        elif key == "target-version":
            value = parse_version(value, origin)
        result[key] = value
    return result


_VERSION = re.compile(r"(?:py(?P<compact>3)(?P<minor>[0-9]{1,2})|(?P<major>3)\.(?P<dotted_minor>[0-9]{1,2}))")


def parse_version(value: Any, origin: str) -> tuple[int, int]:
    """`target-version`: "3.10" or ruff's spelling "py310" -> (3, 10). Raises ConfigError."""
    match = _VERSION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"{origin}: `target-version` must be a Python version such as \"3.10\" or \"py310\", "
                          f"not {value!r}")
    return 3, int(match["minor"] or match["dotted_minor"])


def _check_code(code: str, origin: str, key: str, known: tuple[str, ...]) -> None:
    """`known`: the rule codes; MP000 (input errors) is always known."""
    codes = (INPUT_ERROR_CODE, *known)
    if code == "ALL" or any(known_code.startswith(code) for known_code in codes):
        return
    raise ConfigError(f"{origin}: unknown rule code `{code}` in `{key}` (known: {', '.join(codes)})")


def _closest(key: str, choices: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(choices), n=1)
    return matches[0] if matches else None


def _build(values: Mapping[str, Any], root: Path) -> Settings:
    settings = Settings(root=root)
    mapping = {key.replace("-", "_"): value for key, value in values.items()}
    return replace(settings, **mapping)
