"""What a module prints while it is imported (MP601).

Output is what reaches the console: `print()` (to stdout or stderr), `sys.stdout.write()` and
`sys.stderr.write()`, `pprint.pprint()`/`pprint.pp()`, and logging calls once a console
handler is configured at a level that lets them through. A console handler is configured by
`logging.basicConfig()` (unless it writes to a file), by making a `logging.StreamHandler`, by
`logging.config.dictConfig()`/`fileConfig()` given a StreamHandler, and implicitly by the
module-level functions `logging.info()` and friends, which call `basicConfig()` when the root
logger has no handler (Lib/logging/__init__.py; then WARNING and above reach stderr). A record
of WARNING or above also reaches stderr when no handler at all is configured on its logger and
the loggers above it: `Logger.callHandlers` then hands it to `logging.lastResort` (docs/facts.md
13.14). The walk therefore also carries what configuration so far keeps records from
lastResort (`quiet_made`): a handler (a NullHandler too) on a logger or on one above it, a level
set on them, `logging.disable()`.

`OutputFacts.import_time_output()` walks what runs while the module is imported in order: its
module-level calls, and the bodies of the functions they call, in this file and, through the
project index, in other modules of the project. The state carried along is the lowest level a
console handler configured so far lets through; a configuration made under a condition counts
only for calls under the same conditions (an `else:` branch does not see it), and a function
that configures anywhere counts as configuring once it is called. A call into another module
is taken by its summary (what it configures, and which files working that out read), kept
by the project index between runs; the walk goes into it only when the summary read the file
whose output is wanted, the only way the call can write there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Protocol

import libcst as cst

from .builder import BUILTIN_EXITS, EXIT_FUNCTIONS
from .names import UNKNOWN, argument
from .scopes import Kind, Site

if TYPE_CHECKING:
    from ..project import CallSummary
    from . import SemanticModel

# Lib/logging/__init__.py levels.
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}
_METHOD_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40,
                  "critical": 50, "fatal": 50}
# A console handler whose level mpcheck cannot read is taken to let INFO and above through.
UNKNOWN_LEVEL = 20
_LOGGERS = ("logging.getLogger()", "logging.root", "logging.Logger()", "logging.LoggerAdapter()")
_CONSOLE_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})
_WRITES = frozenset(f"{stream}.{method}" for stream in _CONSOLE_STREAMS for method in ("write", "writelines"))
_PPRINTS = frozenset({"pprint.pprint", "pprint.pp"})
_CONFIG_FUNCTIONS = frozenset({"logging.config.dictConfig", "logging.config.fileConfig"})
ROOT_LOGGER = ""  # the root logger's name, as `logging.getLogger()` and `logging.getLogger("")` give it
ANY_LOGGER = "*"  # a configuration of a logger whose name is not known: it may be any
# Above every level a record has: a handler keeps all of its logger's records from lastResort.
EVERY_LEVEL = 1 << 30
# Attributes whose assignment changes what reaches lastResort (`logging.lastResort = None`,
# `logger.handlers = [...]`, `logger.disabled = True`): taken as quieting every logger.
_QUIETING_ATTRIBUTES = frozenset({"lastResort", "handlers", "disabled"})
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Output:
    """One call that writes to the console while the module is imported. `model`: the file
    it is in (this module, or another module whose function the import runs); `chain`: the
    functions called on the way, from this module's import-time call (empty: at module level).
    `entry`: this module's import-time site that leads there."""

    model: SemanticModel
    site: Site
    label: str  # "print()", "sys.stderr.write()", "logger.info()"
    entry: Site
    chain: tuple[str, ...] = ()
    last_resort: bool = False  # a logging call no handler takes: `logging.lastResort` writes it


class ProjectDefinitions(Protocol):
    """What the walk asks the project about names of other modules (project.py)."""

    def definition_of(self, qualname: str, from_path: str) -> tuple[SemanticModel, cst.FunctionDef] | None:
        """The function a name as imported in `from_path` calls, and its module's model."""

    def leads_to(self, qualname: str, from_path: str, path: str) -> bool:
        """Whether calling a name as imported in `from_path` can run code of the file `path`."""

    def call_summary(self, qualname: str, from_path: str, depth: int,
                     summarize: Callable[[SemanticModel, cst.FunctionDef, int], int | None]) -> CallSummary | None:
        """`summarize` of the function a name as imported in `from_path` calls, with the
        files working it out read; None when it is not a function of the project."""

    def module_at(self, path: str) -> _Named | None:
        """The project's module at `path` (its dotted `name`), or None."""

    def logging_quieted_around(self, path: str) -> list[tuple[str, int]] | None:
        """What the modules that run when the module at `path` is imported (the packages
        above it, what it and they import) may do to keep records from `logging.lastResort`:
        their `OutputFacts.quiets_anywhere`; None when that is not known."""


class _Named(Protocol):
    name: str


@dataclass
class _Walk:
    outputs: list[Output]
    # The functions walked into, each with the values its parameters were known to have.
    seen: set[tuple[int, tuple[tuple[str, str], ...]]]
    # The file (absolute path) whose output is wanted; None for the walk of a function that
    # summarizes it (`_configuration_made`), which goes into no other module.
    target: str | None
    entry: Site | None = None
    # What keeps records from lastResort, configured so far in the order the walk runs
    # (whatever its conditions: any path that made it may have run): `(logger, level)` pairs
    # of `quiet_made`. What a function of another module configures is not among them: that
    # module is one `logging_quieted_around` reads.
    quieted: list[tuple[str, int]] = field(default_factory=list)


class OutputFacts:
    """The console output of one module at import time (see the module docstring)."""

    def __init__(self, model: SemanticModel, project: ProjectDefinitions | None = None) -> None:
        self.model = model
        self.project = project
        self._import_time: dict[str, list[Output]] = {}  # by the file whose output was wanted

    # -- single calls ---------------------------------------------------------------------------

    def output_call(self, site: Site) -> str | None:
        """The label of a call that writes to the console by itself ("print()"), or None.
        Logging calls are not: whether they print depends on the handlers (`log_level`)."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.qualname == "print":
            stream = argument(call, None, "file")
            return "print()" if stream is None or self._is_console(stream) else None
        if symbol.qualname in _WRITES:
            return f"{symbol.qualname}()"
        if symbol.qualname in _PPRINTS:
            stream = argument(call, 1, "stream")
            return f"{symbol.qualname.rsplit('.', 1)[1]}()" if stream is None or self._is_console(stream) else None
        return None

    def writes(self, site: Site) -> bool:
        """Whether the call may write to the console: an output call, or a logging call
        (which does once a console handler lets its level through)."""
        return self.output_call(site) is not None or self.log_level(site) is not None

    def _is_console(self, stream: cst.BaseExpression) -> bool:
        symbol = self.model.resolve(stream)
        return symbol is not None and symbol.qualname in _CONSOLE_STREAMS

    def log_level(self, site: Site) -> tuple[int, str, bool] | None:
        """`(level, label, implicit)` of a logging call (`logger.info(...)`, `logging.warning(...)`,
        `logger.log(logging.INFO, ...)`); `implicit`: a module-level function of `logging`,
        which configures a stderr handler first when the root logger has none."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        owner, _, method = symbol.qualname.rpartition(".")
        if owner != "logging" and owner not in _LOGGERS:
            return None
        if method == "log":
            level = self._level(argument(call, 0, "level"))
        else:
            level = _METHOD_LEVELS.get(method)
        if level is None:
            return None
        written = cst.Module([]).code_for_node(call.func)
        return level, f"{written}()", owner == "logging"

    def console_configuration(self, site: Site) -> int | None:
        """The lowest level the console handler a call configures lets through, or None when
        it configures none (`logging.basicConfig(filename=...)`, any other call)."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.qualname == "logging.basicConfig":
            if argument(call, None, "filename") is not None:
                return None
            level = argument(call, None, "level")
            return LEVELS["WARNING"] if level is None else self._level(level) or UNKNOWN_LEVEL
        if symbol.qualname == "logging.StreamHandler":
            stream = argument(call, 0, "stream")
            return UNKNOWN_LEVEL if stream is None or self._is_console(stream) else None
        if symbol.qualname in _CONFIG_FUNCTIONS:
            given = argument(call, 0)
            values = self.model.values_of(given) if isinstance(given, cst.Name) else [given]
            text = "".join(cst.Module([]).code_for_node(value) for value in values if value is not None)
            return UNKNOWN_LEVEL if "StreamHandler" in text else None
        return None

    # -- loggers and logging.lastResort -------------------------------------------------------

    def logger_name(self, expr: cst.BaseExpression) -> str | None:
        """The name of the logger `expr` holds where it stands: ROOT_LOGGER for
        `logging.getLogger()` and `logging.root`, the name given to `logging.getLogger()` (a
        string, or `__name__`: this module's dotted name in its project), also through a name
        every reaching assignment binds to the same one. None when that is not known
        statically: a parameter, a name imported from another module, a computed name,
        different loggers on different paths, a module outside a project."""
        if isinstance(expr, cst.Name):
            values = self.model.values_of(expr)
            names = {self._logger_made(value) for value in values}
            return names.pop() if len(names) == 1 else None
        return self._logger_made(expr)

    def _logger_made(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Call):
            symbol = self.model.resolve(expr.func)
            if symbol is None or symbol.qualname != "logging.getLogger":
                return None
            given = argument(expr, 0, "name")
            if given is None:
                return ROOT_LOGGER
            if isinstance(given, cst.Name) and given.value == "__name__":
                reference = self.model.reference(given)
                if reference is None or reference.bindings:
                    return None
                module = self.project.module_at(self.model.path) if self.project is not None else None
                return module.name if module is not None else None
            value = self.model.value_of(given)
            return ROOT_LOGGER if value is None else value if isinstance(value, str) else None
        symbol = self.model.resolve(expr)
        return ROOT_LOGGER if symbol is not None and symbol.qualname == "logging.root" else None

    def quiet_made(self, site: Site) -> tuple[str, int] | None:
        """What a call does to keep records from `logging.lastResort`: `(logger, level)`,
        after which the records of `logger` (ANY_LOGGER: maybe any) and of the loggers below
        it under `level` no longer reach it (EVERY_LEVEL: none does). A handler added to a
        logger (`addHandler`, a NullHandler too), `logging.basicConfig()` (a handler on the
        root logger, to a file too), `dictConfig`/`fileConfig` (any logger) keep every record;
        `setLevel(level)` those below `level` (the nearest level set above a logger decides,
        so one set higher up counts only while none is set in between: counting it always
        errs toward silence); `logging.disable(level)` those up to `level`. None for any
        other call."""
        call = site.node
        assert isinstance(call, cst.Call)
        symbol = self.model.resolve(call.func)
        if symbol is None:
            return None
        if symbol.qualname == "logging.basicConfig":
            return ROOT_LOGGER, EVERY_LEVEL
        if symbol.qualname in _CONFIG_FUNCTIONS:
            return ANY_LOGGER, EVERY_LEVEL
        if symbol.qualname == "logging.disable":
            given = argument(call, 0, "level")
            level = LEVELS["CRITICAL"] if given is None else self._level(given)
            return ANY_LOGGER, EVERY_LEVEL if level is None else level + 1
        owner, _, method = symbol.qualname.rpartition(".")
        if owner not in _LOGGERS or method not in ("addHandler", "setLevel"):
            return None
        name = self.logger_name(call.func.value) if isinstance(call.func, cst.Attribute) else None
        logger = ANY_LOGGER if name is None else name
        if method == "addHandler":
            return logger, EVERY_LEVEL
        level = self._level(argument(call, 0, "level"))
        return logger, EVERY_LEVEL if level is None else level

    def reaches_last_resort(self, site: Site, level: int, quieted: list[tuple[str, int]]) -> bool:
        """Whether a record of `level` that the logging call at `site` makes on a logger
        (not a module-level function of `logging`, which configures a handler first) goes
        to `logging.lastResort`, which writes it to stderr: WARNING or above (lastResort's
        level), on a logger whose name is known and is the project's own (one of a library
        may get handlers when the library is imported) or the root logger, with none of the
        configurations `quieted` (`quiet_made`'s, made before) on it or a logger above it,
        nor any made anywhere in the modules imported around this one, in whatever order
        (ProjectDefinitions.logging_quieted_around), and nothing that assigns
        `logging.lastResort`, a logger's `handlers` or `disabled` in this module.
        `propagate = False` changes nothing: a logger without handlers of its own still
        reaches lastResort."""
        if level < LEVELS["WARNING"] or self.project is None:
            return False
        call = site.node
        assert isinstance(call, cst.Call)
        if not isinstance(call.func, cst.Attribute):
            return False
        logger = self.logger_name(call.func.value)
        if logger is None:
            return False
        module = self.project.module_at(self.model.path)
        if module is None or logger.split(".")[0] not in ("", module.name.split(".")[0]):
            return False
        if self._assigns_quieting_attribute:
            return False
        around = self.project.logging_quieted_around(self.model.path)
        if around is None:
            return False
        for quiet, below in (*quieted, *around):
            if level < below and (quiet in (ANY_LOGGER, ROOT_LOGGER, logger) or logger.startswith(quiet + ".")):
                return False
        return True

    @cached_property
    def quiets_anywhere(self) -> list[tuple[str, int]]:
        """What this module may do, wherever in it, to keep records from lastResort: the
        `quiet_made` of each of its calls, run at import or not (a function of it another
        module calls before logging), and `(ANY_LOGGER, EVERY_LEVEL)` when it assigns
        `logging.lastResort`, a logger's `handlers` or `disabled`."""
        quieted = [quiet for quiet in map(self.quiet_made, self.model.calls) if quiet is not None]
        return [(ANY_LOGGER, EVERY_LEVEL)] if self._assigns_quieting_attribute else quieted

    @cached_property
    def _assigns_quieting_attribute(self) -> bool:
        return any(isinstance(store.target, cst.Attribute) and store.target.attr.value in _QUIETING_ATTRIBUTES
                   for store in self.model.stores)

    def _level(self, expr: cst.BaseExpression | None) -> int | None:
        if expr is None:
            return None
        value = self.model.value_of(expr)
        if isinstance(value, int) and value is not UNKNOWN:
            return value
        if isinstance(value, str):
            return LEVELS.get(value.upper())
        symbol = self.model.resolve(expr)
        if symbol is not None and symbol.qualname.startswith("logging."):
            return LEVELS.get(symbol.qualname[len("logging."):])
        return None

    def main_process_only(self, site: Site) -> bool:
        """Whether `site` runs only in the process the user started: under a test (or an `and`
        of tests) that `multiprocessing.current_process().name == "MainProcess"` holds. A
        child is named before it imports anything (spawn.prepare); `parent_process() is None`
        is no such test (still None while a spawned child imports)."""
        for condition in site.conditions():
            if condition.holds and any(self._is_main_process_test(test) for test in _conjuncts(condition.test)):
                return True
        return False

    def before_failure(self, site: Site) -> bool:
        """Whether the statement holding `site` is followed, in its block, by a statement that
        always ends the import: `raise`, `sys.exit()`, `exit()`, `quit()`, `os._exit()` (an
        error message before `raise`, as in `except ImportError: print(...); raise`). That
        output says why the import failed: a child that imports the module fails the same way,
        and the parent fails first."""
        body = getattr(site.block, "body", ())
        at = next((index for index, statement in enumerate(body) if statement is site.statement), None)
        if at is None:
            return False
        for statement in body[at:]:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Raise):
                    return True
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    symbol = self.model.resolve(small.value.func)
                    if symbol is not None and (symbol.qualname in EXIT_FUNCTIONS or symbol.qualname in BUILTIN_EXITS):
                        return True
        return False

    def _is_main_process_test(self, test: cst.BaseExpression) -> bool:
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or \
                not isinstance(test.comparisons[0].operator, cst.Equal):
            return False
        sides = (test.left, test.comparisons[0].comparator)
        for subject, value in (sides, sides[::-1]):
            symbol = self.model.resolve(subject)
            if symbol is not None and symbol.qualname == "multiprocessing.current_process().name" and \
                    self.model.value_of(value) == "MainProcess":
                return True
        return False

    # -- what an import runs --------------------------------------------------------------------

    def import_time_output(self, target: str) -> list[Output]:
        """The console writes that importing this module makes in the file at `target`, in
        order (see the module docstring), with the import-time site of this module that leads
        to each; maybe some made in other files too. A call into another module is followed
        only when working out what it configures (`_configuration_made`) read `target`: a
        function that cannot run the target's code counts for the console configuration it
        makes, and its modules are not parsed again once that is known. (Worked out again
        when the model of another module it went through was released since.)"""
        target = os.path.abspath(target)
        found = self._import_time.get(target)
        if found is None or any(output.model.released for output in found):
            walk = _Walk([], set(), target)
            sites = [site for site in self.model.processes.calls_of(None) if self.model.runs_at_import(site)]
            self._walk(sites, walk, (), [], 0)
            found = self._import_time[target] = walk.outputs
        return found

    def functions_writing_in(self, names: set[str], path: str) -> set[str]:
        """Those of `names` that are top-level functions of this module whose call makes
        output in the file at `path` (through the calls the import-time walk follows, into
        the project's other modules, up to the same depth), whatever console handler is
        configured: what a module importing this one must call to run that file's output."""
        target = os.path.abspath(path)
        known: dict[int, bool] = {}  # function -> whether its call writes in `target`
        found = set()
        for name in names:
            for binding in self.model.module_scope.bindings.get(name, ()):
                if binding.kind is Kind.DEF and _writes_in(self.model, binding.node, target, known, set(), 1)[0]:
                    found.add(name)
        return found

    def _walk(self, sites: list[Site], walk: _Walk, chain: tuple[str, ...],
              configured: list[tuple[Site | None, int]], depth: int,
              known: dict[str, object] | None = None) -> int | None:
        """Walk `sites` (calls in the order they run) with the console configurations made
        before them (`(site, level)`; site None: made before this body was entered, valid
        everywhere in it). `known`: the values the parameters of the function whose body
        `sites` are in are known to have (ProcessFacts.known_parameters). Returns the lowest
        level this body configures, if any."""
        own: int | None = None
        for site in sites:
            if self.main_process_only(site) or self.before_failure(site):
                continue
            if walk.entry is None or not chain:
                walk.entry = site
            label = self.output_call(site)
            if label is not None:
                walk.outputs.append(Output(self.model, site, label, walk.entry, chain))
            logged = self.log_level(site)
            if logged is not None:
                level, label, implicit = logged
                if implicit:
                    configured.append((site, LEVELS["WARNING"]))
                    own = _lowest(own, LEVELS["WARNING"])
                    walk.quieted.append((ROOT_LOGGER, EVERY_LEVEL))
                threshold = _lowest(*(lvl for where, lvl in configured if where is None or _before(where, site)))
                if threshold is not None and level >= threshold:
                    walk.outputs.append(Output(self.model, site, label, walk.entry, chain))
                elif not implicit and walk.target == os.path.abspath(self.model.path) and \
                        self.reaches_last_resort(site, level, walk.quieted):
                    # Asked only in the file whose output is wanted: it reads the modules
                    # around that file, which a summary, or another file's walk, must not depend on.
                    walk.outputs.append(Output(self.model, site, label, walk.entry, chain, last_resort=True))
            quiet = self.quiet_made(site)
            if quiet is not None:
                walk.quieted.append(quiet)
            level = self.console_configuration(site)
            if level is not None:
                configured.append((site, level))
                own = _lowest(own, level)
            if depth < _MAX_DEPTH:
                inner = self._into_callees(site, walk, chain, configured, depth, known or {})
                if inner is not None:
                    configured.append((site, inner))
                    own = _lowest(own, inner)
        return own

    def _into_callees(self, site: Site, walk: _Walk, chain: tuple[str, ...],
                      configured: list[tuple[Site | None, int]], depth: int, known: dict[str, object]) -> int | None:
        """Walk the functions the call at `site` runs, with what its arguments say of their
        parameters (`known`: those of the function around it): a call under a condition
        they decide against is not walked (`if verbose: print(...)` where the call leaves
        `verbose=False`)."""
        call = site.node
        assert isinstance(call, cst.Call)
        if not self.model.processes.callees(call):
            summary = self._call_summary(call, depth + 1)
            if summary is None:
                return None
            if walk.target not in summary.read:
                return summary.answer
        found: int | None = None
        inherited = [(None, level) for where, level in configured if where is None or _before(where, site)]
        shape = self.model.processes.call_shape(call, known)
        for model, function in self._functions_called(call):
            processes = model.processes
            given = processes.known_parameters(function, shape)
            key = (id(function), tuple(sorted((name, repr(value)) for name, value in given.items())))
            if key in walk.seen:
                continue
            walk.seen.add(key)
            facts = model.output
            body = [inside for inside in processes.calls_of(function)
                    if not (given and processes.ruled_out(inside, function, given))]
            entry = walk.entry
            inner = facts._walk(body, walk, (*chain, function.name.value), list(inherited), depth + 1, given)
            walk.entry = entry
            found = _lowest(found, inner)
        return found

    def _call_summary(self, call: cst.Call, depth: int) -> CallSummary | None:
        """The project's summary (`_configuration_made`) of the function of another module
        that `call` runs, at `depth`; None when it runs none."""
        symbol = self.model.resolve(call.func)
        if symbol is None or symbol.definition is not None or self.project is None or symbol.is_instance:
            return None
        return self.project.call_summary(symbol.written, self.model.path, depth, _configuration_made)

    def _functions_called(self, call: cst.Call,
                          toward: str | None = None) -> list[tuple[SemanticModel, cst.FunctionDef]]:
        """The functions `call` runs, in this module or another of the project; given
        `toward` (a file's path), only those of modules that are it or import it."""
        local = self.model.processes.callees(call)
        if local:
            return [(self.model, function) for function in local]
        symbol = self.model.resolve(call.func)
        if symbol is None or symbol.definition is not None or self.project is None or symbol.is_instance:
            return []
        if toward is not None and not self.project.leads_to(symbol.written, self.model.path, toward):
            return []
        found = self.project.definition_of(symbol.written, self.model.path)
        return [found] if found is not None else []


def _configuration_made(model: SemanticModel, function: cst.FunctionDef, depth: int) -> int | None:
    """The lowest level of a console handler that calling `function` (of `model`), entered
    at `depth`, configures, if any: its walk, with the calls into other modules taken by
    their own summaries. What it finds depends on the function and `depth` alone, not on
    the walk it was asked for (ProjectIndex.call_summary keeps it between runs)."""
    walk = _Walk([], {(id(function), ())}, None)
    return model.output._walk(model.processes.calls_of(function), walk, (function.name.value,), [], depth)


def _writes_in(model: SemanticModel, function: cst.CSTNode, target: str, known: dict[int, bool],
               active: set[int], depth: int) -> tuple[bool, bool]:
    """Whether calling `function` (of `model`) reaches an output or logging call in the file
    `target`, and whether that answer is final (False found while a caller of it is still
    being asked, through a cycle, is not kept in `known`)."""
    key = id(function)
    if key in known:
        return known[key], True
    if key in active:
        return False, False
    active.add(key)
    facts = model.output
    in_target = os.path.abspath(model.path) == target
    final = True
    writes = False
    for site in model.processes.calls_of(function):
        if in_target and facts.writes(site):
            writes = True
            break
        if depth >= _MAX_DEPTH:
            continue
        for other, callee in facts._functions_called(site.node, target):
            inner, settled = _writes_in(other, callee, target, known, active, depth + 1)
            final = final and settled
            writes = writes or inner
        if writes:
            break
    active.discard(key)
    if writes or final:
        known[key] = writes
    return writes, writes or final


def _conjuncts(test: cst.BaseExpression):
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        yield from _conjuncts(test.left)
        yield from _conjuncts(test.right)
    else:
        yield test


def _lowest(*levels: int | None) -> int | None:
    present = [level for level in levels if level is not None]
    return min(present) if present else None


def _before(where: Site, site: Site) -> bool:
    """A configuration at `where` holds at `site`: same scope, and `where`'s conditions are
    `site`'s outermost ones (it ran on every path that reaches `site`)."""
    if where.scope is not site.scope or len(where.regions) > len(site.regions):
        return False
    return all(a is b for a, b in zip(where.regions, site.regions))
