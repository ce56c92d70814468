"""The torture test: `mpcheck check`, then `mpcheck fix --unsafe-fixes` twice, on a copy of
a source tree, as a user would run them, with every registered rule and every fix.

What must hold (issue 12):
- no run prints a traceback or an internal error (MP999);
- every file mpcheck parses (`Checker.verdict` names a rule) that Python cannot read or
  parse, and every file that cannot be decoded at all, is reported once as MP000, with the
  reason (a syntax error at the line Python names); an MP000 on a file Python parses is
  an error its compiler finds, or names one of mpcheck's own limits;
- `fix` leaves every file it does not change byte-identical and creates or removes none;
  every file it changes compiles and keeps all its comments; a second `fix` changes
  nothing and reports the same findings.

`torture(tree)` returns the counts; tests/test_torture.py runs it on the standard
library. On other trees (a project's checkout):

    python -m tests.torture PATH [PATH...]
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import sys
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from mpcheck.config import load_settings
from mpcheck.discovery import DiscoveredFile, discover
from mpcheck.engine import Checker
from mpcheck.parsing import run_deep
from mpcheck.rules import RULES_BY_CODE
from mpcheck.source import InputError, decode_source

from .support import measured, mpcheck_command

# The reasons an MP000 may give for a file Python itself reads and compiles: mpcheck's
# own limits (source.py, parsing.py, engine.py). Anything else is a bug.
OWN_LIMITS = (
    "valid Python that libcst, the parser mpcheck uses, cannot parse",
    "too deeply nested to check",
    "file is too large to check",
    "the parser cannot reproduce this file exactly",
)


@dataclass
class Run:
    command: str
    exit_code: int
    seconds: float
    cpu_seconds: float
    peak_mib: float  # of mpcheck and its workers
    diagnostics: list[dict]


@dataclass
class Report:
    tree: str
    files: int = 0  # Python files mpcheck was given (after excludes)
    parsed: int = 0  # of those, files checking parses (the others cannot hold a finding)
    findings: Counter = field(default_factory=Counter)  # per rule, from `check`
    input_errors: dict[str, str] = field(default_factory=dict)  # path -> MP000 message
    # Parsed files Python rejects and libcst accepts: checked as newer syntax (see
    # parsing.py), by display path with Python's reason.
    newer_syntax: dict[str, str] = field(default_factory=dict)
    changed: int = 0  # files the first `fix` changed
    fixed_findings_left: Counter = field(default_factory=Counter)  # per rule, after `fix`
    runs: list[Run] = field(default_factory=list)

    def summary(self) -> str:
        timings = ", ".join(f"{run.command} {run.seconds:.0f} s ({run.cpu_seconds:.0f} s CPU), {run.peak_mib:.0f} MiB"
                            for run in self.runs)
        rules = ", ".join(f"{code} {count}" for code, count in sorted(self.findings.items())) or "none"
        left = ", ".join(f"{code} {count}" for code, count in sorted(self.fixed_findings_left.items())) or "none"
        return (f"{self.tree}: {self.files} files ({self.parsed} parsed); findings: {rules}; "
                f"{len(self.input_errors)} MP000; {len(self.newer_syntax)} rejected by Python {sys.version_info.major}."
                f"{sys.version_info.minor} but parsed by libcst; fix --unsafe-fixes changed {self.changed} files, "
                f"left {left}; {timings}")


class TortureFailure(AssertionError):
    pass


def copy_tree(source: Path, destination: Path, only_python: bool = False) -> None:
    """Copy `source` without caches (and, with `only_python`, only its *.py files),
    symlinks as symlinks; an empty [tool.mpcheck] at the top, so that no configuration
    above the copy applies."""
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", "site-packages")

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(ignored(directory, names))
        if only_python:
            skipped |= {name for name in names if not name.endswith(".py") and not os.path.isdir(os.path.join(directory, name))}
        return skipped

    shutil.copytree(source, destination, symlinks=True, ignore=ignore)
    config = destination / "pyproject.toml"
    if config.exists():
        config.rename(destination / "pyproject.toml.original")
    config.write_text("[tool.mpcheck]\n")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` (not followed through symlinks), by relative path."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def run_mpcheck(tree: Path, *arguments: str, timeout: float, paths: list[str] | None = None) -> Run:
    command = [*mpcheck_command(), *arguments, "--output-format", "json", *(paths or ["."])]
    # The result cache, as a user's runs share it, outside the tree (its files are not the
    # project's): `fix` takes the results `check` left for files it has nothing to fix in.
    completed = measured(command, tree, timeout, env={"MPCHECK_CACHE_DIR": str(tree.parent / "mpcheck-cache")})
    label = " ".join(arguments)
    if "Traceback" in completed.stderr or completed.exit_code not in (0, 1, 2):
        raise TortureFailure(f"`mpcheck {label}` exited {completed.exit_code}:\n{completed.stderr[-5000:]}")
    diagnostics = json.loads(completed.stdout)["diagnostics"] if completed.stdout.strip() else []
    internal = [d for d in diagnostics if d["code"] == "MP999"]
    if internal:
        raise TortureFailure(f"`mpcheck {label}`: internal errors:\n" + "\n".join(
            f"{d['file']}: {d['message']}" for d in internal))
    return Run(label, completed.exit_code, completed.seconds, completed.cpu_seconds, completed.peak_mib, diagnostics)


def python_verdict(raw: bytes, path: str, *, compiled: bool = False) -> tuple[str, int] | None:
    """Why Python cannot parse these bytes as a module (with `compiled`: compile them,
    which also refuses `return` outside a function and the like): a reason and a line.
    None when it can."""
    try:
        # Decoded as `python file.py` decodes it: compile() of bytes lets invalid UTF-8
        # through in a comment, the interpreter does not.
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, path, "exec", flags=0 if compiled else ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return f"{type(error).__name__}: {error.msg}", error.lineno or 1
    except (ValueError, UnicodeDecodeError, LookupError, MemoryError, RecursionError) as error:
        return f"{type(error).__name__}: {error}", 1
    return None


def comments(raw: bytes) -> Counter:
    """The comments of a module, as tokenize sees them (indentation aside)."""
    tokens = tokenize.tokenize(io.BytesIO(raw).readline)
    return Counter(token.string.rstrip() for token in tokens if token.type == tokenize.COMMENT)


def lost_comments(old: bytes, new: bytes) -> list[str]:
    """The comments of `old` that `new` no longer has (none when tokenize refuses `old`:
    it is stricter than the parser about some files)."""
    try:
        before = comments(old)
    except (tokenize.TokenError, SyntaxError):
        return []
    return sorted(before - comments(new))


def torture(source: Path, workdir: Path, *, only_python: bool = False, again_everything: bool = True,
            timeout: float = 3600) -> Report:
    """Run the torture test on a copy of `source` made in `workdir`; raise TortureFailure
    naming every file that breaks a rule of the module docstring. The second `fix` runs on
    the whole tree, or (not `again_everything`, to save a run over a large tree) on the
    files the first one changed, as pre-commit would name them."""
    tree = workdir / source.name
    copy_tree(source, tree, only_python)
    report = Report(str(source))
    problems: list[str] = []
    before = snapshot(tree)

    settings = load_settings(None, RULES_BY_CODE, search_from=tree)
    checker = Checker(settings, unsafe_fixes=True)
    old_directory = os.getcwd()
    os.chdir(tree)  # paths as `mpcheck check .` shows them
    try:
        files = [found for found in discover(["."], settings) if isinstance(found, DiscoveredFile)]
        expected_errors = _expected_input_errors(checker, files, report)
    finally:
        os.chdir(old_directory)

    check = run_mpcheck(tree, "check", timeout=timeout)
    report.runs.append(check)
    for diagnostic in check.diagnostics:
        if diagnostic["code"] == "MP000":
            if diagnostic["file"] in report.input_errors:
                problems.append(f"{diagnostic['file']}: more than one MP000")
            report.input_errors[diagnostic["file"]] = f"{diagnostic['line']}:{diagnostic['column']}: {diagnostic['message']}"
        else:
            report.findings[diagnostic["code"]] += 1
    problems += _check_input_errors(report.input_errors, expected_errors, tree)
    if snapshot(tree) != before:
        problems.append("`mpcheck check` changed files")

    fix = run_mpcheck(tree, "fix", "--unsafe-fixes", timeout=timeout)
    report.runs.append(fix)
    after = snapshot(tree)
    problems += _check_fixed_tree(before, after, report)
    report.fixed_findings_left.update(d["code"] for d in fix.diagnostics if d["code"] != "MP000")

    changed = sorted(path for path in after if before.get(path) != after[path])
    if again_everything or changed:
        again = run_mpcheck(tree, "fix", "--unsafe-fixes", timeout=timeout, paths=None if again_everything else changed)
        again.command = "fix --unsafe-fixes again" + ("" if again_everything else " (changed files)")
        report.runs.append(again)
        changed_again = sorted(path for path, content in snapshot(tree).items() if after.get(path) != content)
        if changed_again:
            problems.append(f"a second fix changed {len(changed_again)} files: {changed_again[:10]}")
        left = [d for d in fix.diagnostics if again_everything or d["file"] in changed]
        if _located(again.diagnostics) != _located(left):
            problems.append("a second fix reports other findings than the first left: "
                            f"{sorted(set(_located(again.diagnostics)) ^ set(_located(left)))[:10]}")
    if problems:
        raise TortureFailure(f"{report.summary()}\n" + "\n".join(problems))
    return report


def _expected_input_errors(checker: Checker, files: list[DiscoveredFile], report: Report) -> dict[str, tuple[str, int] | None]:
    """The files that must get an MP000, by display path: the reason and line Python gives
    (None: undecodable or unreadable, mpcheck's decoder says where)."""
    expected: dict[str, tuple[str, int] | None] = {}
    report.files = len(files)
    for found in files:
        display = found.display.removeprefix("./")
        try:
            raw = found.path.read_bytes()
            text = decode_source(raw).text
        except (OSError, InputError):
            expected[display] = None
            continue
        if not checker.verdict(text, display).codes:
            continue
        report.parsed += 1
        verdict = python_verdict(raw, display)
        if verdict is None:
            continue
        if libcst_parses(text) and "too many nested" not in verdict[0]:
            report.newer_syntax[display] = verdict[0]
        else:
            expected[display] = verdict
    return expected


def libcst_parses(text: str) -> bool:
    """Whether libcst parses `text` (on mpcheck's deep thread: libcst's native parser would
    overflow the test process's stack on deep input)."""
    try:
        run_deep(lambda: cst.parse_module(text))
    except (cst.ParserSyntaxError, cst.CSTValidationError, InputError):
        return False
    return True


def _check_input_errors(reported: dict[str, str], expected: dict[str, tuple[str, int] | None], tree: Path) -> list[str]:
    problems = []
    for path, verdict in sorted(expected.items()):
        message = reported.get(path)
        if message is None:
            problems.append(f"{path}: Python cannot compile it ({verdict}) but mpcheck reported no MP000")
        elif verdict is not None and verdict[0].startswith(("SyntaxError", "IndentationError", "TabError")):
            line = int(message.split(":", 1)[0])
            if "too deeply nested" not in message and line != verdict[1]:
                problems.append(f"{path}: MP000 at line {line}, Python's syntax error is at line {verdict[1]}: {message}")
    for path, message in sorted(reported.items()):
        if path in expected or any(limit in message for limit in OWN_LIMITS):
            continue
        compiled = python_verdict((tree / path).read_bytes(), path, compiled=True)
        if compiled is None or not message.startswith(f"{compiled[1]}:"):
            problems.append(f"{path}: MP000 on a file Python accepts, with no known reason: {message} ({compiled})")
    return problems


def _check_fixed_tree(before: dict[str, bytes], after: dict[str, bytes], report: Report) -> list[str]:
    problems = []
    if sorted(before) != sorted(after):
        problems.append(f"fix created or removed files: {sorted(set(before) ^ set(after))[:10]}")
    for path in sorted(set(before) & set(after)):
        old, new = before[path], after[path]
        if old == new:
            continue
        report.changed += 1
        if not path.endswith(".py"):
            problems.append(f"{path}: fix changed a file that is not Python")
            continue
        if python_verdict(old, path) is None:
            compiled = python_verdict(old, path, compiled=True) is None
            verdict = python_verdict(new, path, compiled=compiled)
            if verdict is not None:
                problems.append(f"{path}: the fixed file does not {'compile' if compiled else 'parse'}: {verdict}")
                continue
        elif not libcst_parses(new.decode(decode_source(new).encoding)):
            problems.append(f"{path}: the fixed file of newer syntax does not parse")
            continue
        lost = lost_comments(old, new)
        if lost:
            problems.append(f"{path}: the fix removed comments: {lost[:3]}")
    return problems


def _located(diagnostics: list[dict]) -> list[tuple]:
    return sorted((d["file"], d["line"], d["column"], d["code"]) for d in diagnostics)


def main(arguments: list[str]) -> int:
    import tempfile

    failed = 0
    for given in arguments:
        with tempfile.TemporaryDirectory(prefix="mpcheck-torture-") as directory:
            try:
                print(torture(Path(given).resolve(), Path(directory)).summary(), flush=True)
            except TortureFailure as failure:
                failed += 1
                print(f"FAILED {failure}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
