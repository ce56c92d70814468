"""The pipeline for one file: prefilter -> parse -> semantic model -> rules ->
suppressions -> diagnostics, and the fix loop on top of it.

Every adapter (CLI, flake8 plugin, library API) goes through `Checker`; none of them has
logic of its own about what is a finding.

The parser, the model, the rules and the fixes import libcst (0.1-0.2 s): they are imported
when the first file passes the prefilter, so a run whose files all fail it never pays for them.
The prefilter and the project index are imported when the first file is not in the result
cache, so a run served from it imports neither (about 0.03 s of a 0.15 s run).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import threading
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from . import __version__
from .cache import Learnt, ResultCache, configuration_key, hash_lines
from .config import Settings
from .dependencies import Reads, content_digest, recording
from .explain import REPOSITORY_URL
from .findings import (
    ERROR_CODES, INPUT_ERROR_CODE, INTERNAL_ERROR_CODE, INTERNAL_ERROR_NAME, Applicability, Diagnostic, Fix,
    FixInfo, Violation, names_input_errors, narrow,
)
from .roots import find_root
from .rules import RULES, RuleSpec
from .source import InputError, SourceText, decode_source, read_source
from .suppressions import Suppressions, find_file_exemption

if TYPE_CHECKING:
    from concurrent.futures import Future

    import libcst as cst

    from .dispatch import GroupedPool
    from .prefilter import Prefilter, Verdict
    from .project import ProjectIndex, Projects
    from .rules import Rule, RuleContext

# A fix that needs more rounds than this is not converging; stop and report what is left.
_MAX_FIX_ROUNDS = 10
# The cycle collector, in mpcheck's own processes (the command line's, its workers) and while
# the flake8 plugin checks a file: libcst makes millions of objects that live as long as their
# tree, and models free themselves by reference counting when let go (SemanticModel.release),
# so the collector finds next to nothing (18,000 objects in cycles over huggingface/accelerate's
# 197 files, most of them recursive closures), while each of its automatic full collections goes
# through every live object again (0.6 s with the models the budget keeps on the stdlib). Its
# automatic runs are off; a full collection runs between files once more objects were made
# (net) since the last one than it left alive, and at least this many: each collection goes
# through as many objects as were made to pay for it. mypy tunes the collector for the same
# reason (mypy/build.py, `build`). The least is twice what the models the budget keeps hold
# (project.MAX_MODEL_SOURCE: about a million objects): at 1,000,000, checking the stdlib, or
# huggingface/datasets, or detectron2, made one collection in each process, 0.6-1.0 s, which
# found 4,000-8,000 objects in cycles.
_MIN_OBJECTS_BETWEEN_COLLECTIONS = 2_000_000
_alive_after_collection = 0


@dataclass
class FileResult:
    """What checking (or fixing) one file gave."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceText | None = None
    fixed_text: str | None = None  # set when fixing changed the text
    fixed: list[Diagnostic] = field(default_factory=list)  # what the fixes resolved
    # The file could not be checked, and the settings hide that (MP000 is ignored for it).
    unchecked: bool = False
    rounds: int = 0  # fix rounds that changed the text
    # What the result was computed from besides the file (for the result cache); None when
    # it was not recorded.
    reads: Reads | None = field(default=None, repr=False, compare=False)
    # What a worker process learnt of the project's modules while checking it (cache.py).
    learnt: Learnt | None = field(default=None, repr=False, compare=False)

    @property
    def has_input_error(self) -> bool:
        return any(d.code == INPUT_ERROR_CODE for d in self.diagnostics)

    @property
    def failed(self) -> bool:
        """The file could not be read or parsed (MP000), or mpcheck failed on it (MP999):
        its report is incomplete and nothing may be written to it."""
        return any(d.code in ERROR_CODES for d in self.diagnostics)

    @property
    def changed(self) -> bool:
        return self.fixed_text is not None

    @property
    def checked_text(self) -> str | None:
        """The text the diagnostics' positions are in: after fixing, the fixed text."""
        if self.fixed_text is not None:
            return self.fixed_text
        return None if self.source is None else self.source.text


@dataclass
class _Analysis:
    path: str
    module: cst.Module | None  # None when no rule needed the file parsed
    found: list[tuple[type[Rule], Violation, Diagnostic]]
    errors: list[Diagnostic] = field(default_factory=list)  # MP999: rules that raised

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return sorted([entry[2] for entry in self.found] + self.errors)


class Checker:
    def __init__(self, settings: Settings | None = None, unsafe_fixes: bool = False,
                 project_files: Iterable[Path] = (), fix_edits: bool = True,
                 cache_directory: Path | None = None) -> None:
        """`project_files`: the modules of the project, when the caller knows them (the
        library API); otherwise each file's project is found from the file (see project.py).
        `fix_edits`: give each fixable diagnostic its fix as a text edit (`FixInfo.edit`),
        which costs a rendering of the whole module per finding. `cache_directory`: keep and
        reuse the results of files read from disk there (cache.py); None: no cache."""
        self.settings = settings or Settings()
        self.unsafe_fixes = unsafe_fixes
        self.fix_edits = fix_edits
        self._project_files = tuple(project_files)
        self.rules: list[RuleSpec] = [rule for rule in RULES if self.settings.is_enabled(rule.code)]
        self._loaded: dict[str, type[Rule]] = {}
        # The prefilter's codes for one text, worked out already (run_files): (the text's
        # digest, the codes). Recomputing them cost each worker process 1.3-1.8 s on the stdlib.
        self._known_verdict: tuple[str, frozenset[str]] | None = None
        self.cache: ResultCache | None = None
        if cache_directory is not None:
            configuration = configuration_key(replace(self.settings, cache=True, cache_dir=None),
                                              [rule.code for rule in self.rules], unsafe_fixes, fix_edits)
            self.cache = ResultCache(cache_directory, configuration, self._project_hash)

    @functools.cached_property
    def prefilter(self) -> Prefilter:
        from .prefilter import Prefilter

        process_api_names = [name.rsplit(".", 1)[-1] for name in self.settings.process_apis]
        # The modules the `fork-only-modules` option lists (MP103) are words of their own.
        fork_only_modules = [name.split(".", 1)[0] for name in self.settings.fork_only_modules]
        return Prefilter(self.rules, process_api_names, fork_only_modules)

    @functools.cached_property
    def projects(self) -> Projects:
        from .project import Projects

        return Projects(self.settings.process_apis, self._project_files, self.cache)

    def _project_hash(self, root: str, graph: bool) -> tuple[str, list[str], list[str] | None]:
        """For the cache: a hash of the module list of the project at `root`, or (`graph`)
        of its import graph: each module with the names it imports (known by the hash of its
        content from an earlier run, or read now); the paths whose state it was computed
        from (the module list: the walk's directories; the graph: those and the modules);
        and for the module list, the modules, when the walk found them all."""
        assert self.cache is not None
        index = self.projects.at_root(Path(root))
        modules = sorted(str(path) for path in index.modules)
        if not graph:
            return hash_lines(modules), index.walked, modules if index.complete else None
        lines = []
        for module in modules:
            content = self.cache.hashes.of_file(module)
            names = self.cache.imports(content)
            if names is None:
                names = sorted(index.import_names(module))
                self.cache.remember_imports(content, names)
            lines.append(f"{module} {' '.join(names)}")
        return hash_lines(lines), [*index.walked, *modules], None

    def _rule(self, spec: RuleSpec) -> type[Rule]:
        """The class of the rule `spec` describes (its module is imported on first use)."""
        rule = self._loaded.get(spec.code)
        if rule is None:
            rule = self._loaded[spec.code] = spec.load()
        return rule

    # -- checking -------------------------------------------------------------------

    def check_text(self, text: str, path: str = "<stdin>") -> list[Diagnostic]:
        """The findings in `text`, the content of the file at `path` (or of no file: stdin).
        With a result cache, the result of a file on disk is kept and reused (the flake8
        plugin checks files this way)."""
        if self.cache is None or not os.path.isfile(path):
            return self._check(text, path).diagnostics
        key = self._cache_key(Path(path), text, content_digest(text.encode("utf-8", "surrogatepass")))
        cached = self._cached(key, path, None, fixing=False)
        if cached is not None:
            return cached.diagnostics
        with recording() as reads:
            result = self._check(text, path)
        result.reads = reads
        self._store(key, result)
        return result.diagnostics

    def _check(self, text: str, path: str) -> FileResult:
        try:
            return FileResult(path, self._analyze(text, path).diagnostics)
        except InputError as error:
            return self._unchecked(path, error, text)
        except Exception as error:  # noqa: BLE001 - a bug outside the rules loses this file only
            return FileResult(path, [internal_error(path, "mpcheck", error)])
        finally:
            self.projects.release_forgotten()  # the file's check is over: nothing holds them

    def check_file(self, path: Path, display_path: str | None = None) -> FileResult:
        """The findings in the file at `path`, reported under `display_path` (default: the
        path). Its project, the settings for it and the questions asked across files go by
        `path`: a display name need not be a path from the working directory."""
        return _shown(self._process(lambda: read_source(path), str(path), fixing=False), display_path)

    def check_bytes(self, raw: bytes, path: str) -> FileResult:
        return self._process(lambda: decode_source(raw), path, fixing=False)

    def fix_file(self, path: Path, display_path: str | None = None) -> FileResult:
        """`check_file`, fixing: the fixed text is in the result (nothing is written)."""
        return _shown(self._process(lambda: read_source(path), str(path), fixing=True), display_path)

    def _process(self, load: Callable[[], SourceText], shown: str, fixing: bool) -> FileResult:
        try:
            source = load()
        except InputError as error:
            return self._unchecked(shown, error)
        result = self.fix_text(source.text, shown) if fixing else self._check(source.text, shown)
        result.source = source
        return result

    def _analyze(self, text: str, path: str, stage: str = "", edits: bool = True) -> _Analysis:
        """The findings in `text`, and an MP999 for each rule that raised (`stage` says
        what text it was given, when not the file's own). A file is parsed only when a rule
        that applies to it (not ignored for its path, nor by its `# mpcheck: noqa`) may
        find something. `edits`: give fixes their text edit, when the checker was made with
        `fix_edits`. Raises InputError when it cannot be parsed."""
        suppressions = Suppressions(text)
        known = self._known_verdict
        if known is not None and known[0] == content_digest(text.encode("utf-8", "surrogatepass")):
            codes = known[1]
        else:
            codes = self.verdict(text, path, suppressions).codes
        rules = [self._rule(spec) for spec in self.rules if spec.code in codes]
        if not rules:
            return _Analysis(path, None, [])
        from .parsing import run_deep

        return run_deep(lambda: self._analyze_parsed(text, path, rules, suppressions, stage, edits and self.fix_edits))

    def verdict(self, text: str, path: str, suppressions: Suppressions | None = None) -> Verdict:
        """Which rules may find something in `text` (the prefilter's answer), among those
        that apply to the file: not ignored for its path, nor by its `# mpcheck: noqa`."""
        suppressions = suppressions or Suppressions(text)
        codes = [
            rule.code for rule in self.rules
            if not suppressions.file.exempts(rule.code) and not self.settings.ignored_for_file(rule.code, path)
        ]
        found: list[ProjectIndex | None] = []

        def project() -> ProjectIndex | None:  # looked up when a rule's test needs it
            if not found:
                found.append(self.projects.for_path(path))
                if found[0] is not None:
                    found[0].set_text(Path(path), text)
            return found[0]

        return self.prefilter.verdict(text, path, codes, project)

    def _analyze_parsed(self, text: str, path: str, rules: list[type[Rule]], suppressions: Suppressions,
                        stage: str, edits: bool) -> _Analysis:
        from .model import SemanticModel
        from .parsing import parse_module
        from .rules import RuleContext

        project = self.projects.for_path(path)
        if project is not None:
            project.forget_models()
            project.set_text(Path(path), text)
        model = project.kept_model(Path(path), text) if project is not None else None
        if model is None:
            accepted = project is not None and project.accepts(Path(path), text)
            model = SemanticModel(parse_module(text, accepted), path, self.settings.process_apis, project)
            if project is not None:
                project.adopt(Path(path), model, text)
        found: list[tuple[type[Rule], Violation, Diagnostic]] = []
        errors = []
        for rule in rules:
            context = RuleContext(model, self.settings, path, project=project)
            try:
                found.extend((rule, violation, diagnostic) for violation, diagnostic
                             in self._rule_findings(rule, context, text, suppressions, edits))
            except Exception as error:  # noqa: BLE001 - a bug in one rule must not lose the others' findings
                errors.append(internal_error(path, f"rule {rule.code}{stage}", error))
        found.sort(key=lambda entry: (entry[2].line, entry[2].column, entry[2].code))
        return _Analysis(path, model.module, found, errors)

    def _rule_findings(self, rule: type[Rule], context: RuleContext, text: str,
                       suppressions: Suppressions, edits: bool) -> list[tuple[Violation, Diagnostic]]:
        """The rule's unsuppressed violations, located, with the fix `fix` would apply
        (`edits`: with its text edit). Everything here runs the rule's own code (its check,
        its fixes), so what it raises is the rule's bug."""
        model = context.model
        found = []
        for violation in rule().check(context):
            # A finding that cannot break on the configured platforms and versions is silent.
            breaks_on = self.settings.reachable(rule.breaks_on if violation.breaks_on is None else violation.breaks_on)
            if not breaks_on:
                continue
            position = model.position(violation.node)
            if suppressions.suppresses(rule.code, position.start.line):
                continue
            if any(breakage.platform == "windows" for breakage in breaks_on) and \
                    model.unix_only_from is not None and position.start.line > model.unix_only_from:
                # Below an import that raises on Windows (`import fcntl`): it cannot break there.
                breaks_on = narrow(breaks_on, ("macos", "linux"))
                if not breaks_on:
                    continue
            fix = self.chosen_fix(violation)
            diagnostic = Diagnostic(
                path=context.path,
                line=position.start.line,
                column=position.start.column + 1,
                code=rule.code,
                message=violation.message,
                end_line=position.end.line,
                end_column=position.end.column + 1,
                fix=_fix_info(model.module, text, fix, edits) if fix else None,
                name=rule.name,
                hidden_unsafe_fix=fix is None and any(
                    option.applicability is Applicability.UNSAFE for option in violation.fixes),
                breaks_on=breaks_on,
            )
            found.append((violation, diagnostic))
        return found

    def chosen_fix(self, violation: Violation) -> Fix | None:
        """The most thorough fix the user allowed: an unsafe one only with --unsafe-fixes."""
        allowed = [
            fix for fix in violation.fixes
            if fix.applicability is Applicability.SAFE or self.unsafe_fixes
        ]
        return allowed[-1] if allowed else None

    def _unchecked(self, path: str, error: InputError, text: str | None = None) -> FileResult:
        """The result for a file that could not be read or parsed: one MP000, or none when
        the settings or the file's own `# mpcheck: noqa` name MP000 (`text`: the file's text,
        when it could be decoded)."""
        exemption = find_file_exemption(text) if text is not None else None
        if self.settings.input_errors_hidden(path) or (
            exemption is not None and any(names_input_errors(code) for code in exemption.prefixes)
        ):
            return FileResult(path, unchecked=True)
        return FileResult(path, [input_error(path, error)])

    # -- many files -----------------------------------------------------------------

    def run_files(self, files: Sequence[tuple[Path, str]], fixing: bool = False,
                  jobs: int | None = None) -> Iterator[FileResult]:
        """`check_file` (or `fix_file`) of each (path, display) pair, in the order given.

        Each file is read and prefiltered here; the files a rule must parse are spread over
        `jobs` worker processes (default: one per core; 1: none), which start parsing while
        the rest is still prefiltered; the files of one directory go to one worker while
        that keeps every worker busy (dispatch.py). The workers are started with forkserver where it
        exists and spawn elsewhere (Windows): never by forking this process, which may hold
        threads (the parser's). As both do, each worker imports the caller's main module
        again (as `__mp_main__`): with more than one job, call this from a main module that
        guards its entry point (mpcheck's own `__main__` does), or from one with no file
        (`python -c`); from an unguarded script, or from `python -` (its main module's file,
        `<stdin>`, cannot be read again), the workers fail (BrokenProcessPool). They only
        compute; the caller writes files.
        """
        jobs = max(1, jobs or os.cpu_count() or 1)
        results: list[FileResult | None] = [None] * len(files)
        work: list[int] = []
        keys: dict[int, _CacheKey] = {}
        # Each file to check: the prefilter's codes for its text (None: the prefilter failed
        # on it), which the check uses instead of working them out again, and what they were
        # worked out from (the check's result depends on it too).
        verdicts: dict[int, tuple[tuple[str, frozenset[str]] | None, Reads]] = {}
        with contextlib.ExitStack() as stack:
            pool: GroupedPool | None = None  # started when _PARALLEL_MIN_FILES must be parsed
            submitted: dict[int, Future[FileResult]] = {}

            def submit(number: int) -> None:
                assert pool is not None
                path = files[number][0]
                submitted[number] = pool.submit(os.path.dirname(os.path.abspath(path)),
                                                (*files[number], fixing, verdicts[number][0]))

            for number, (path, display) in enumerate(files):
                try:
                    source = read_source(path)
                except InputError as error:
                    results[number] = self._unchecked(display, error)
                    continue
                key = None
                if self.cache is not None:
                    content = source.digest
                    self.cache.hashes.know(os.path.abspath(path), content)  # for entries that depend on it
                    key = self._cache_key(path, source.text, content)
                cached = self._cached(key, display, source, fixing) if key is not None else None
                if cached is not None:
                    results[number] = cached
                    continue
                with recording() as reads:
                    codes = self._codes(source.text, str(path))
                if codes is not None and not codes:
                    # No finding, nothing to fix: the text is not kept (a run over a big tree
                    # would hold every file's).
                    results[number] = FileResult(display, reads=reads)
                    if key is not None and not fixing:
                        self._store(key, results[number])
                    continue
                work.append(number)
                verdicts[number] = (None if codes is None else (content_digest(source.text.encode("utf-8", "surrogatepass")),
                                                              codes), reads)
                if key is not None:
                    keys[number] = key
                if pool is not None:
                    submit(number)
                elif jobs > 1 and len(work) == _PARALLEL_MIN_FILES:
                    pool = stack.enter_context(self._pool(jobs))
                    for waiting in work:
                        submit(waiting)
            done = 0
            for number in work:  # what was done with is let go: nothing is held to the end
                future = submitted.pop(number, None)
                known, reads = verdicts.pop(number)
                results[number] = future.result() if future is not None else self._job(*files[number], fixing, known)
                del future
                if results[number].reads is not None:  # type: ignore[union-attr]
                    results[number].reads.add(reads)  # type: ignore[union-attr]
                learnt = results[number].learnt  # type: ignore[union-attr]
                if learnt is not None:  # a worker's
                    results[number].learnt = None  # type: ignore[union-attr]
                    if self.cache is not None:
                        self.cache.add_learnt(learnt)
                key = keys.pop(number, None)
                if key is not None and not fixing:
                    self._store(key, results[number])  # type: ignore[arg-type]
                while done < len(results) and results[done] is not None:
                    yield results[done]  # type: ignore[misc]
                    results[done] = None  # the caller has it: not held to the end of the run
                    done += 1
        yield from results[done:]  # type: ignore[misc]
        if "projects" in self.__dict__:  # (made when a file needed the project: cached_property)
            self.projects.release_models()
        if self.cache is not None:
            self.cache.close(keep_modules=not fixing)

    def _codes(self, text: str, path: str) -> frozenset[str] | None:
        """The codes of the rules that may find something in the file (`verdict`); None
        when the prefilter fails on it: it is then checked, where the same failure becomes
        its MP999."""
        try:
            return self.verdict(text, path).codes
        except Exception:  # noqa: BLE001
            return None

    def _job(self, path: Path, display: str, fixing: bool,
             known: tuple[str, frozenset[str]] | None = None) -> FileResult:
        """Check (or fix) the file; `known`: the prefilter's codes for the text with that
        digest, used if the file still holds it."""
        self._known_verdict = known
        try:
            with recording() as reads:
                result = self.fix_file(path, display) if fixing else self.check_file(path, display)
        finally:
            self._known_verdict = None
        result.reads = reads
        collect_cycles_when_due()
        return result

    # -- the result cache -------------------------------------------------------------

    def _cache_key(self, path: Path, text: str, content: str) -> _CacheKey:
        absolute = Path(os.path.abspath(path))
        return _CacheKey(absolute, content, str(find_root(absolute)), text)

    def _cached(self, key: _CacheKey, display: str, source: SourceText | None, fixing: bool) -> FileResult | None:
        """The cached result of the file, if there is one that still holds. Fixing uses only
        a result with nothing to fix (a file with fixes is fixed from its text)."""
        assert self.cache is not None
        found = self.cache.lookup(key.path, key.content, key.root)
        if found is None or (fixing and any(diagnostic.fix is not None for diagnostic in found.diagnostics)):
            return None
        return FileResult(display, [replace(diagnostic, path=display) for diagnostic in found.diagnostics],
                          source=source, unchecked=found.unchecked)

    def _store(self, key: _CacheKey, result: FileResult) -> None:
        """Keep a check's result, unless the file was read again and had changed (a worker
        reads it itself)."""
        assert self.cache is not None
        if result.reads is None or (result.source is not None and result.source.text != key.text):
            return
        self.cache.store(key.path, key.content, key.root, result.reads, result.diagnostics, result.unchecked)

    @contextlib.contextmanager
    def _pool(self, workers: int) -> Iterator[GroupedPool[tuple[Path, str, bool, tuple[str, frozenset[str]] | None],
                                                          FileResult]]:
        """`workers` processes that check files (`_run_job`), each file given with the
        directory that holds it: the files of a directory go to one worker while that keeps
        all of them busy (dispatch.py)."""
        import multiprocessing  # here: a run that parses nothing starts no pool
        from concurrent.futures import ProcessPoolExecutor

        from .dispatch import GroupedPool

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        cache = (self.cache.directory, self.cache.started) if self.cache is not None else None
        arguments = (self.settings, self.unsafe_fixes, self._project_files, self.fix_edits, cache)
        executors = [ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker, initargs=arguments)
                     for _ in range(workers)]
        started = [executor._processes for executor in executors]  # an executor forgets its workers when it shuts down
        pool = GroupedPool(executors, _run_job)
        completed = False
        try:
            yield pool
            completed = True
        finally:
            if completed:
                pool.close()
            else:
                # Interrupted (Ctrl-C, SIGTERM, or the caller stopped reading): what is left
                # is not wanted, and waiting for it could take as long as the whole run.
                # Workers only compute, so ending them loses nothing.
                for processes in started:
                    for process in list(processes.values()):
                        process.terminate()
            for executor in executors:
                executor.shutdown(cancel_futures=not completed)
            if not completed:
                pool.close()  # its jobs have all failed or been cancelled

    # -- fixing ---------------------------------------------------------------------

    def fix_text(self, text: str, path: str = "<stdin>") -> FileResult:
        """Apply fixes until none is left (or the rounds run out), re-parsing and
        re-checking after every round. The result is only ever text that parsed and was
        checked without an internal error. Otherwise `fixed_text` is unset: an input error
        gives the file's MP000; a rule, a fix or the engine failing on the file or on what
        the fixes made of it gives the findings in the file as it was and an MP999."""
        from .parsing import run_deep

        try:
            # On the deep thread: printing and fixing a tree recurse once per level too.
            return run_deep(lambda: self._fix(text, path))
        except InputError as error:  # deeper than even that thread allows
            return self._unchecked(path, error, text)
        finally:
            self.projects.release_forgotten()  # the file's fixing is over: nothing holds them

    def _fix(self, text: str, path: str) -> FileResult:
        try:
            original = self._analyze(text, path, edits=False)
        except InputError as error:
            return self._unchecked(path, error, text)
        except Exception as error:  # noqa: BLE001 - a bug outside the rules loses this file only
            return FileResult(path, [internal_error(path, "mpcheck", error)])
        if original.errors:
            return FileResult(path, original.diagnostics)
        analysis, current = original, text
        fixed: list[Diagnostic] = []
        rounds = 0
        while not analysis.errors and rounds < _MAX_FIX_ROUNDS:
            fixes = [(rule, diag, self.chosen_fix(violation)) for rule, violation, diag in analysis.found]
            fixes = [(rule, diag, fix) for rule, diag, fix in fixes if fix is not None]
            if not fixes:
                break
            assert analysis.module is not None  # a file with fixes was parsed
            if analysis.module.code != current:
                # libcst drops a lone \r at the end of a file: a rewrite would lose it.
                return self._unchecked(path, InputError("the parser cannot reproduce this file exactly, so it is not fixed"), text)
            authors = "the fixes of " + ", ".join(sorted({rule.code for rule, _, _ in fixes}))
            try:
                from .fixes import apply_fixes

                new_module, applied = apply_fixes(analysis.module, [fix for _, _, fix in fixes], current)
                new_text = new_module.code
            except Exception as error:  # noqa: BLE001
                return _not_fixed(original, internal_error(path, authors, error))
            if new_text == current:
                break
            try:
                analysis = self._analyze(new_text, path, stage=f" (checking the code {authors} produced)", edits=False)
            except InputError as error:
                broken = f"they produced code that does not check ({error.reason} at line {error.line})"
                return _not_fixed(original, internal_error(path, authors, broken))
            except Exception as error:  # noqa: BLE001
                return _not_fixed(original, internal_error(path, "mpcheck", error))
            fixed.extend(diag for _, diag, fix in fixes if fix in applied)
            current = new_text
            rounds += 1
        if analysis.errors:  # a rule failed on what the fixes made of the file
            return _not_fixed(original, *analysis.errors)
        if self.fix_edits and any(diagnostic.fix is not None for diagnostic in analysis.diagnostics):
            # The fixes left (json, sarif) are reported with their text edits.
            try:
                analysis = self._analyze(current, path)
            except Exception as error:  # noqa: BLE001
                return _not_fixed(original, internal_error(path, "mpcheck", error))
            if analysis.errors:
                return _not_fixed(original, *analysis.errors)
        result = FileResult(path, analysis.diagnostics, fixed=fixed, rounds=rounds)
        if current != text:
            result.fixed_text = current
        return result


def _not_fixed(original: _Analysis, *errors: Diagnostic) -> FileResult:
    """The result of a fix that failed: the findings in the file as it was, and why."""
    return FileResult(original.path, sorted([*original.diagnostics, *errors]))


@dataclass(frozen=True)
class _CacheKey:
    path: Path  # absolute
    content: str  # the hash of the file's content
    root: str  # the project it belongs to
    text: str  # as read when the key was made


# Below this many files to parse, starting worker processes costs more than it saves (a
# worker imports libcst and the rules: about 0.3 s).
_PARALLEL_MIN_FILES = 4
_worker_checker: Checker | None = None  # the checker of this worker process


def pause_cycle_collection() -> Callable[[], None]:
    """Stop the cycle collector's automatic runs for mpcheck's work (see
    _MIN_OBJECTS_BETWEEN_COLLECTIONS); returns the function that turns them back on, if they
    were. `collect_cycles_when_due` collects between files."""
    enabled = gc.isenabled()
    gc.disable()
    return gc.enable if enabled else _nothing


def _nothing() -> None:
    pass


def collect_cycles_when_due() -> None:
    """A full collection, when more objects were made since the last one (net of those freed:
    the collector's own count) than the last one left alive, and at least
    _MIN_OBJECTS_BETWEEN_COLLECTIONS. Call it between files."""
    global _alive_after_collection
    if gc.get_count()[0] > max(_MIN_OBJECTS_BETWEEN_COLLECTIONS, _alive_after_collection):
        gc.collect()
        _alive_after_collection = len(gc.get_objects())


def _start_worker(settings: Settings, unsafe_fixes: bool, project_files: tuple[Path, ...], fix_edits: bool,
                  cache: tuple[Path, int] | None) -> None:
    """In a worker: Ctrl-C reaches the whole process group, and the parent stops the run
    (it ends its workers with SIGTERM, whatever handler it set for itself). A parent that
    was killed cannot: the worker then ends itself, instead of waiting for work forever.
    `cache`: the parent's cache directory and the time its run started; the worker reads
    what earlier runs learnt of the modules there, and hands what it learns to the parent
    with each result (it keeps no result itself)."""
    import multiprocessing

    global _worker_checker
    pause_cycle_collection()  # for the worker's whole life
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with_parent, args=(parent.sentinel,), name="mpcheck-parent-watch",
                         daemon=True).start()
    _worker_checker = Checker(settings, unsafe_fixes, project_files, fix_edits, cache[0] if cache else None)
    if _worker_checker.cache is not None and cache is not None:
        _worker_checker.cache.started = cache[1]


def _end_with_parent(sentinel: int) -> None:
    """Wait until the process that started this worker has ended (its sentinel, a pipe,
    becomes readable), then end this one."""
    import multiprocessing.connection

    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _run_job(job: tuple[Path, str, bool, tuple[str, frozenset[str]] | None]) -> FileResult:
    assert _worker_checker is not None
    result = _worker_checker._job(*job)
    if _worker_checker.cache is not None:
        result.learnt = _worker_checker.cache.take_learnt()
    return result


def _fix_info(module: cst.Module, text: str, fix: Fix, edit: bool) -> FixInfo:
    """What a diagnostic says of its fix; with `edit`, the fix as one text edit (a
    rendering of the whole module)."""
    if not edit:
        return FixInfo(fix.applicability, fix.description)
    from .fixes import apply_fixes, text_edit

    fixed_module, _ = apply_fixes(module, [fix], text)
    return FixInfo(fix.applicability, fix.description, text_edit(text, fixed_module.code))


# How much of an exception's text an MP999 quotes (some quote the whole source).
_MAX_DETAIL = 200
_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def internal_error(path: str, where: str, error: Exception | str) -> Diagnostic:
    """MP999 for a bug in mpcheck met on the file `path`: what failed (`where`: "rule
    MP201", "the fixes of MP101"), what it raised and the line of mpcheck that raised it
    (or `error` as text), and how to report it. One line, whatever the exception says."""
    detail = " ".join(str(error).split())
    if len(detail) > _MAX_DETAIL:
        detail = detail[:_MAX_DETAIL - 3] + "..."
    if isinstance(error, Exception):
        detail = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if _in_mpcheck(frame.filename)]
        if frames:
            detail += f" (at {_shown_source(frames[-1].filename)}:{frames[-1].lineno})"
    message = (
        f"internal error in {where}: {detail}. The file was not fully checked and `mpcheck fix` "
        f"leaves it unchanged. This is a bug in mpcheck {__version__}, not in your code: please "
        f"report it at {REPOSITORY_URL}/issues with this file"
    )
    return Diagnostic(path, 1, 1, INTERNAL_ERROR_CODE, message, end_line=1, end_column=1, name=INTERNAL_ERROR_NAME)


def _in_mpcheck(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIRECTORY + os.sep)


def _shown_source(filename: str) -> str:
    """`mpcheck/rules/mp201_unguarded_process_start.py`, wherever mpcheck is installed."""
    relative = os.path.relpath(os.path.abspath(filename), os.path.dirname(_PACKAGE_DIRECTORY))
    return relative.replace(os.sep, "/")


def input_error(path: str, error: InputError) -> Diagnostic:
    # An empty range at the position the error names: reporters need an end for every finding.
    return Diagnostic(path, error.line, error.column, INPUT_ERROR_CODE, error.reason,
                      end_line=error.line, end_column=error.column)


def _shown(result: FileResult, display: str | None) -> FileResult:
    """`result` with its findings reported under the name `display` (None: as they are)."""
    if display is not None and display != result.path:
        result.path = display
        result.diagnostics = [replace(diagnostic, path=display) for diagnostic in result.diagnostics]
        result.fixed = [replace(diagnostic, path=display) for diagnostic in result.fixed]
    return result
