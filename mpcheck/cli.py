"""The command line: `mpcheck check`, `mpcheck fix`, `mpcheck rules`, `mpcheck explain`,
`mpcheck run`.

`mpcheck PATH...` means `mpcheck check PATH...`, and `mpcheck --fix PATH...` means
`mpcheck fix PATH...`, as with ruff. Exit status: 0 nothing found (also when no Python
file was found: a warning says so), 1 findings (or, for `fix`, findings left; for `--diff`,
changes that would be made), 2 a usage error, a path that does not exist, a file that could
not be read or parsed (unless MP000 is ignored), or a file mpcheck failed on (MP999, a bug
in mpcheck). `mpcheck run` exits with the status of the command it runs (its --help lists
the statuses of its own).
"""

from __future__ import annotations

import difflib
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import click

from typing import TYPE_CHECKING

from . import __version__
from .config import ConfigError, Settings, load_settings
from .discovery import DiscoveredFile, DiscoveryError, discover
from .findings import ERROR_CODES, Diagnostic
from . import runtime  # its constants; `runner` is imported by `mpcheck run` itself
from .runtime.startmethod import START_METHODS, check as check_start_method
from .source import InputError, source_lines

if TYPE_CHECKING:
    from .engine import Checker, FileResult

# The rules, the engine and the reporters import libcst (0.1-0.2 s): each command imports
# what it uses when it runs, so that `--version`, `--help` and `mpcheck run` do not pay for it.

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# A run over fewer files ends before a progress bar would tell anyone anything.
PROGRESS_BAR_MIN_FILES = 300
# "text" is the old name of "concise", kept so that scripts using it go on working.
OUTPUT_FORMATS = ("concise", "full", "json", "sarif", "github", "text")


class _DefaultToCheck(click.Group):
    """A group whose default command is `check`, so `mpcheck src/` and `mpcheck --fix src/` work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mpcheck")
def main() -> None:
    """Find and fix multiprocessing code that only works under fork.

    Code written on Linux, where `fork` made every child a copy of its parent, breaks where
    children start fresh: Windows, macOS, and Linux from Python 3.14 (forkserver).
    """


def _common_options(function: Callable) -> Callable:
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=str)),
        click.option("--diff", is_flag=True, help="Print the changes fixes would make as a unified diff; write nothing. Exit 1 if there are any."),
        click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that can change observable behaviour."),
        click.option("--select", metavar="CODES", help="Comma-separated rule codes or prefixes to enable (replaces the configured selection)."),
        click.option("--extend-select", metavar="CODES", help="Rule codes or prefixes to enable on top of the selection."),
        click.option("--ignore", metavar="CODES", help="Rule codes or prefixes to disable."),
        click.option("--exclude", metavar="PATTERNS", help="Comma-separated globs of files and directories to skip (replaces the defaults)."),
        click.option("--extend-exclude", metavar="PATTERNS", help="Globs to skip on top of the defaults."),
        click.option("--platforms", metavar="PLATFORMS", help="Comma-separated platforms the code runs on (windows, macos, linux; default all): findings that cannot break there are not reported."),
        click.option("--target-version", metavar="VERSION", help="The lowest Python version the code supports (3.10 or py310; default any): findings that break only on older Pythons are not reported."),
        click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="concise", show_default=True, help="How findings are printed: concise (path:line:col: CODE message), full (with the source line), json, sarif (2.1.0), github (Actions annotations)."),
        click.option("--statistics", is_flag=True, help="Print a count of findings per rule instead of the findings."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (not when a file could not be checked)."),
        click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A pyproject.toml or mpcheck.toml to read instead of the nearest pyproject.toml."),
        click.option("--stdin-filename", metavar="PATH", help="The file name to report (and match per-file-ignores against) when reading from `-`."),
        click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary line."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N", help="Worker processes that parse files (default: the number of CPUs; 1: none). Output is the same, in the same order, whatever N."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.mpcheck_cache in the project root; also `cache = false`, or MPCHECK_NO_CACHE=1)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@_common_options
@click.option("--fix", is_flag=True, help="Apply fixes, as `mpcheck fix` does.")
def check(fix: bool, **options) -> None:
    """Report multiprocessing portability hazards in PATHS (files, directories, or - for stdin)."""
    sys.exit(_until_interrupted(fix=fix, **options))


@main.command(name="fix")
@_common_options
def fix_command(**options) -> None:
    """Rewrite PATHS so that they behave the same under fork, spawn and forkserver."""
    sys.exit(_until_interrupted(fix=True, **options))


@main.command()
def rules() -> None:
    """List the rules: code, name, whether `fix` can fix it, and what it flags."""
    from .explain import fix_summary
    from .rules import ALL_RULES

    rows = [(rule.code, rule.name, fix_summary(rule), rule.summary) for rule in ALL_RULES]
    widths = [max(len(row[i]) for row in rows + [("CODE", "NAME", "FIX", "")]) for i in range(3)]
    header = ("CODE", "NAME", "FIX", "SUMMARY")
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip())


@main.command()
@click.argument("section", type=int, required=False)
def facts(section: int | None) -> None:
    """Print the fact base the rules cite (its SECTION only, when given): exact errors per
    platform, start method and Python version, with their sources."""
    from . import facts as fact_base

    if section is None:
        click.echo(fact_base.text(), nl=False)
        return
    found = fact_base.section(section)
    if found is None:
        raise click.UsageError(f"no section {section}; the sections are {', '.join(map(str, fact_base.numbers()))}")
    click.echo(found, nl=False)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain rule CODE: what it flags, where it breaks, the portable form, fix safety."""
    from .explain import render_rule
    from .rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule code {code!r}; `mpcheck rules` lists them")
    click.echo(render_rule(rule), nl=False)


class _WrapperCommand(click.Command):
    """A command that runs another: its own usage errors exit 125, as timeout(1)'s do, so
    that they cannot be taken for an exit status of the command it runs."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            error.exit_code = runtime.EXIT_RUN_ERROR
            raise


def _run_usage_error(message: str) -> click.UsageError:
    error = click.UsageError(message)
    error.exit_code = runtime.EXIT_RUN_ERROR
    return error


@main.command(name="run", cls=_WrapperCommand,
              context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--start-method", type=click.Choice(START_METHODS), default=None,
              help="The default start method to give every Python process: spawn (Windows, macOS; the default), forkserver (Linux from Python 3.14) or fork (Linux up to 3.13).")
@click.option("--no-fork", is_flag=True, help="Also remove fork, as on Windows: spawn is the only start method, get_context('fork') raises ValueError, ForkProcess and os.fork are absent.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", help="End the command's whole process group after SECONDS (exit status 124).")
@click.option("--kill-after", type=click.FloatRange(min=0), default=runtime.DEFAULT_KILL_AFTER, show_default=True, metavar="SECONDS", help="How long processes get after SIGTERM before SIGKILL.")
@click.option("--compare", is_flag=True, help="Run COMMAND under fork and under the start method (default: spawn and forkserver) and report whether exit status and stdout agree (exit 0 when they do, 1 when not).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(start_method: str | None, no_fork: bool, timeout: float | None, kill_after: float, compare: bool,
                command: tuple[str, ...]) -> None:
    """Run COMMAND with another default multiprocessing start method in every Python process
    it starts (children, `python -m pytest`, subprocesses), as on macOS and Windows (spawn) or
    Linux from Python 3.14 (forkserver). The program's own set_start_method() and
    get_context() calls behave as they would there. Put `--` before COMMAND.

    Exit status: the command's (128+N when signal N ended it); 124 when the timeout ended
    it; 125 for a usage error of `mpcheck run`; 126 when COMMAND cannot be executed, 127
    when it is not found. With --compare: 0 when every run agrees with fork, 1 when not.
    """
    from .runtime import runner

    if os.name != "posix":
        raise _run_usage_error("mpcheck run needs Linux or macOS; on Windows, spawn is already the only start method")
    method = start_method or "spawn"
    try:
        check_start_method(method, no_fork)
    except ValueError as error:
        raise _run_usage_error(f"--no-fork: {error}") from None
    options = {"timeout": timeout, "kill_after": kill_after}
    try:
        if not compare:
            sys.exit(runner.run(command, method, no_fork=no_fork, **options).exit_status)
        if start_method == "fork":
            raise _run_usage_error("--compare compares fork with another start method; choose spawn or forkserver")
        methods = [start_method] if start_method else ["spawn"] if no_fork else ["spawn", "forkserver"]
        reference, comparisons = runner.compare(command, methods, no_fork=no_fork, **options)
    except OSError as error:
        runner.notify_stderr(f"cannot run {command[0]}: {error.strerror or error}")
        sys.exit(runner.EXIT_NOT_FOUND if isinstance(error, FileNotFoundError) else runner.EXIT_CANNOT_EXECUTE)
    for line in runner.format_comparison(reference, comparisons):
        click.echo(line, nl=False)
    interrupted = [outcome.interrupted for outcome in (reference, *(c.outcome for c in comparisons)) if outcome.interrupted]
    if interrupted:
        sys.exit(128 + interrupted[0])
    sys.exit(EXIT_CLEAN if all(comparison.agrees for comparison in comparisons) else EXIT_FINDINGS)


class _Terminated(BaseException):
    """SIGTERM, raised where the main thread is, as Ctrl-C raises KeyboardInterrupt (a
    BaseException, so that no `except Exception` of a rule or the engine stops it)."""


def _until_interrupted(**options) -> int:
    """`_run`, or 128 + the signal's number when Ctrl-C (SIGINT) or SIGTERM stops it, with
    one line instead of a traceback. Files are only ever replaced whole (write_atomically),
    so each is fixed or as it was, whenever the signal comes."""

    def terminate(signum, frame) -> None:
        raise _Terminated

    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, terminate) if in_main_thread else None
    from .engine import pause_cycle_collection

    resume_cycle_collection = pause_cycle_collection()
    try:
        return _run(**options)
    except KeyboardInterrupt:
        number = signal.SIGINT
    except _Terminated:
        number = signal.SIGTERM
    finally:
        resume_cycle_collection()  # the command may run inside another program (tests)
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    done = "; every file is either fixed or as it was" if options["fix"] or options["diff"] else ""
    click.echo(f"mpcheck: interrupted by {signal.Signals(number).name}{done}", err=True)
    return 128 + number


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


def _run(
    *,
    fix: bool,
    paths: Sequence[str],
    diff: bool,
    unsafe_fixes: bool,
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    exclude: str | None,
    extend_exclude: str | None,
    platforms: str | None,
    target_version: str | None,
    output_format: str,
    statistics: bool,
    exit_zero: bool,
    config_path: Path | None,
    stdin_filename: str | None,
    quiet: bool,
    jobs: int | None,
    no_cache: bool,
) -> int:
    if not paths:
        raise click.UsageError("no paths given (use . for the current directory, - for stdin)")
    from .engine import Checker, FileResult, input_error
    from .rules import RULE_CODES

    try:
        settings = load_settings(
            config_path,
            RULE_CODES,
            {
                "select": _split(select),
                "extend-select": _split(extend_select),
                "ignore": _split(ignore),
                "exclude": _split(exclude),
                "extend-exclude": _split(extend_exclude),
                "platforms": _split(platforms),
                "target-version": target_version,
            },
            search_from=_config_search_start(paths, stdin_filename),
        )
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    targets = list(_targets(paths, settings))
    # Only the machine formats print a fix's edit; finding it costs a rendering per finding.
    checker = Checker(settings, unsafe_fixes=unsafe_fixes, fix_edits=output_format in ("json", "sarif"),
                      cache_directory=None if no_cache else settings.cache_directory(os.environ))
    fixing = fix or diff
    results: list[FileResult] = []
    missing = 0
    # `mpcheck fix -` writes the fixed source to stdout; the report then goes to stderr.
    report_to_stderr = fix and not diff and "-" in paths
    for target in targets:
        if isinstance(target, DiscoveryError):
            click.echo(f"error: {target.display}: {target.reason}", err=True)
            missing += 1
        elif target == "-":
            results.append(_stdin(checker, fixing, diff, stdin_filename or "-"))
    files = [target for target in targets if isinstance(target, DiscoveredFile)]
    if not files and not results and not missing:
        # ruff's warning and exit status (0): a tree without Python files is not an error,
        # but nothing was checked, so there is no summary to give (see _report).
        click.echo("warning: No Python files found under the given path(s)", err=True)
    outcomes = checker.run_files([(target.path, target.display) for target in files], fixing, jobs)
    # The results come first in zip so that their iterator, and the bar, runs to its end.
    for result, target in zip(_with_progress(outcomes, len(files), "Fixing" if fixing else "Checking"), files):
        if result.changed and not result.failed:
            assert result.source is not None and result.fixed_text is not None
            if diff:
                _print_diff(result.source.text, result.fixed_text, result.path)
            else:
                from .fixes import NotWritten, write_atomically  # fixing imported libcst already

                try:
                    write_atomically(target.path, result.source.encode(result.fixed_text), result.source.digest)
                except (OSError, NotWritten) as error:  # the file is as it was: report it, go on with the rest
                    reason = error.reason if isinstance(error, NotWritten) else (
                        f"cannot write the fixed file: {error.strerror or error}")
                    result = FileResult(result.path, [input_error(result.path, InputError(reason))])
        # Kept for the report: the text only where the full format shows a finding in it.
        keep_text = output_format == "full" and bool(result.diagnostics)
        results.append(replace(result, source=result.source if keep_text else None, reads=None))

    diagnostics = sorted(d for result in results for d in result.diagnostics)
    _report(diagnostics, output_format, statistics, quiet, fixing, diff, results, report_to_stderr, missing)
    if missing or any(d.code in ERROR_CODES for d in diagnostics):
        return EXIT_ERROR
    if diff:
        return EXIT_FINDINGS if any(result.changed for result in results) and not exit_zero else EXIT_CLEAN
    return EXIT_FINDINGS if diagnostics and not exit_zero else EXIT_CLEAN


def _config_search_start(paths: Sequence[str], stdin_filename: str | None) -> Path:
    """Where to look for pyproject.toml: the directory holding every checked path (ruff
    and flake8 users expect `mpcheck check other/project` to use that project's
    settings), the current directory when nothing names a place."""
    directories = []
    for path in (stdin_filename if path == "-" else path for path in paths):
        if path:
            directory = path if os.path.isdir(path) else os.path.dirname(path) or "."
            if os.path.isdir(directory):
                directories.append(os.path.abspath(directory))
    return Path(os.path.commonpath(directories)) if directories else Path.cwd()


def _targets(paths: Sequence[str], settings: Settings):
    files = [path for path in paths if path != "-"]
    for path in paths:
        if path == "-":
            yield "-"
    yield from discover(files, settings)


def _with_progress(results: Iterator, count: int, verb: str) -> Iterator:
    """The results, behind click's progress bar on stderr for a long run watched on a
    terminal; no bar when stderr is a file or a pipe (CI logs, pre-commit)."""
    if count < PROGRESS_BAR_MIN_FILES or not sys.stderr.isatty():
        yield from results
        return
    with click.progressbar(results, length=count, label=f"{verb} {count} files", file=sys.stderr) as bar:
        yield from bar


def _stdin(checker: Checker, fixing: bool, diff: bool, display: str) -> FileResult:
    raw = sys.stdin.buffer.read()
    result = checker.check_bytes(raw, display)
    if fixing and not result.failed and result.source is not None:
        source = result.source
        result = checker.fix_text(source.text, display)
        result.source = source
        if diff and result.changed:
            _print_diff(source.text, result.fixed_text, display)
    if fixing and not diff:
        # Like ruff: `mpcheck fix -` writes the source to stdout, findings to stderr; input
        # it could not fix comes back byte for byte, so `fix - < a > b` never loses a file.
        changed = result.source is not None and result.fixed_text is not None
        sys.stdout.buffer.write(result.source.encode(result.fixed_text) if changed else raw)  # type: ignore[union-attr, arg-type]
        sys.stdout.flush()
    return result


def _print_diff(original: str, fixed: str, display: str) -> None:
    # git's a/ b/ prefixes; an absolute path is taken from its root (`patch -p1` in /).
    path = Path(display)
    shown = path.relative_to(path.anchor).as_posix() if path.is_absolute() else path.as_posix()
    lines = difflib.unified_diff(
        source_lines(original), source_lines(fixed),
        fromfile=f"a/{shown}", tofile=f"b/{shown}",
    )
    for line in lines:
        click.echo(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n", nl=False)


def _report(diagnostics: list[Diagnostic], output_format: str, statistics: bool, quiet: bool,
            fixing: bool, diff: bool, results: list[FileResult], to_stderr: bool, missing: int) -> None:
    from .reporting import MACHINE_FORMATS, fix_summary_line, format_full, format_statistics, format_text, summary_line

    if output_format in MACHINE_FORMATS:
        document = MACHINE_FORMATS[output_format](diagnostics)
        if document:
            click.echo(document, err=to_stderr)
        return
    if statistics:
        lines = format_statistics(diagnostics)
    elif output_format == "full":
        texts = {result.path: result.checked_text for result in results if result.checked_text is not None}
        lines = format_full(diagnostics, texts, color=True)
    else:
        lines = format_text(diagnostics, color=True)
    for line in lines:
        click.echo(line, err=to_stderr)
    if quiet or not (results or missing):  # nothing was checked: nothing passed either
        return
    unchecked = sum(1 for result in results if result.unchecked)
    if fixing:
        fixed = sum(len(result.fixed) for result in results)
        line = fix_summary_line(fixed, diagnostics, diff=diff, unchecked=unchecked, missing=missing)
        click.echo(line, err=to_stderr or diff)
        return
    hint = "Run `mpcheck fix` to fix them." if any(d.fixable for d in diagnostics) else None
    click.echo(summary_line(diagnostics, hint, unchecked=unchecked, missing=missing), err=to_stderr)
