"""MP601: console output while a package is imported, repeated by every spawned worker."""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import libcst as cst

from ..findings import WHERE_FORK_IS_NOT_THE_DEFAULT, Applicability, Fix, Violation
from ..model import Output, Scope, ScopeKind, SemanticModel
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# True in the process the user started, and not while a spawned or forkserver child imports
# modules: multiprocessing names a child ("SpawnPoolWorker-1", "Process-1") before it
# re-imports anything (spawn.prepare), and marks its bootstrap imports with `_inheriting`, the
# flag its own "bootstrapping phase" check reads; the forkserver process, which is named
# "MainProcess", imports the main module with that flag set from Python 3.14 and 3.13.8
# (gh-126631). `parent_process()` would not do: it is still None during those imports.
MAIN_PROCESS_TEST = (
    '(\n    {mp}.current_process().name == "MainProcess"\n'
    '    and not getattr({mp}.current_process(), "_inheriting", False)\n)'
)


class OutputAtPackageImport(Rule):
    code = "MP601"
    name = "output-at-package-import"
    summary = "Console output while a package is imported: every spawned worker prints it again"
    breaks_on = WHERE_FORK_IS_NOT_THE_DEFAULT
    explanation = Explanation(
        what=(
            "Flags console output made while a package is imported: in its `__init__.py`, or in "
            "a module the `__init__.py` imports at import time (directly or through other "
            "modules of the project), at module level or in the functions that code calls, "
            "in the same file or another module of the project; the report names the functions "
            "called on the way (`in say() called at import (through show())`). Output is `print()` (to stdout "
            "or stderr), `sys.stdout.write()`/`sys.stderr.write()`, `pprint.pprint()`/`pp()`, "
            "and logging calls that reach a console handler configured at import time before "
            "them: `logging.basicConfig()` (not to a file; its `level=` is read), a "
            "`logging.StreamHandler`, `dictConfig`/`fileConfig` with a StreamHandler, a call of "
            "a function that does one of these (`configure_logging()`), or `logging.info()` and "
            "the other module-level functions, which configure a stderr handler themselves; "
            "and a warning (or error, critical, exception, `log(logging.WARNING, ...)`) on a "
            "logger of the package, or the root logger, when no handler is configured at that "
            "point on it or a logger above it: `logging.lastResort` writes it to stderr. Such a "
            "warning is not flagged when a handler (a `NullHandler` too) was added before it "
            "to its logger or one above it (the package's top logger in `__init__.py`), the "
            "root logger has one (`basicConfig`, to a file too), a level set on them or "
            "`logging.disable()` drops it, the module assigns `logging.lastResort`, a module "
            "imported around it (a package above it, or what it or they import) does one of these "
            "for that logger or one above it anywhere (in an order mpcheck does not follow), "
            "or the logger's name is not known statically or is another library's. "
            "Output under `if __name__ == \"__main__\":`, in functions nothing calls at import, "
            "under a condition the arguments of the calls that lead there decide against "
            "(`if verbose: print(...)` in `load(path, verbose=False)` called as `load(path)`, or "
            "with `verbose` an attribute every assignment sets to False, as in versioneer's "
            "`_version.py`), or followed in its block by `raise` or `sys.exit()` (an error "
            "message: the import fails in every process that makes it, the parent first) is not "
            "flagged."
        ),
        why=(
            "Under the `spawn` and `forkserver` start methods every child process starts a new "
            "interpreter and imports again the main module and the modules that hold what it "
            "runs, with their packages' `__init__.py` (`mpcheck facts 6`, 13.12). Under `fork` the "
            "child is a copy of the parent and imports nothing. So a banner printed or logged "
            "while a package is imported appears once under fork and once more for every "
            "worker under spawn and forkserver: on Windows, on macOS from Python 3.8, and on "
            "Linux from Python 3.14. The Freemocap project had this: its `__init__.py` set up "
            "a console log handler and logged \"Initializing freemocap package...\" at import, and "
            "each of its worker processes printed the line again; the fix moved the output "
            "to the entry point. A package that logs a warning at import (`numpy is missing: "
            "slow paths`) on its own logger and configures no handler has the same problem "
            "without any console handler: `Logger.callHandlers` finds no handler and hands the "
            "record to `logging.lastResort` in the parent and again in every worker, which "
            "imports the package before any `basicConfig()` under the main guard runs "
            "(`mpcheck facts 13`, 13.14)."
        ),
        example=(
            "# photokit/__init__.py\n"
            "import logging\n\n"
            "__version__ = \"1.2\"\n"
            "print(f\"photokit {__version__} loaded\")\n"
        ),
        use_instead=(
            "# photokit/__init__.py\n"
            "import logging\n"
            "import multiprocessing\n\n"
            "__version__ = \"1.2\"\n"
            "if (\n"
            "    multiprocessing.current_process().name == \"MainProcess\"\n"
            "    and not getattr(multiprocessing.current_process(), \"_inheriting\", False)\n"
            "):\n"
            "    print(f\"photokit {__version__} loaded\")\n"
        ),
        fix_safety=(
            "The safe fix puts the statement under a test that holds in the process the user "
            "started and not in the children multiprocessing starts: "
            "`current_process().name == \"MainProcess\"` (a child is named before it imports "
            "anything) and not `current_process()._inheriting` (set while the forkserver "
            "process imports the main module, Python 3.13.8+ and 3.14). Under fork nothing "
            "changes: the parent prints as before and the children never imported the package. "
            "`multiprocessing.parent_process() is None` would not do: it is still None while a "
            "spawned child imports. It is offered for a statement at module level that is only "
            "the output call; output inside a function called at import is reported without a "
            "fix (the function may be called later too), and so is a call that also configures "
            "logging (the children need the configuration, as a forked child inherited it). "
            "A warning that `logging.lastResort` writes gets the same fix: a logger's "
            "`warning()` configures nothing (only the module-level `logging.warning()` calls "
            "`basicConfig()`), and the model found no handler that takes the record where it "
            "is made, so in a child the guard removes only the line lastResort would write. "
            "Moving the output to the program's entry point, as Freemocap did, is the other way; "
            "adding `logging.getLogger(__name__).addHandler(logging.NullHandler())` to the "
            "package's `__init__.py`, as the logging HOWTO advises libraries, silences the "
            "warning everywhere, the parent too."
        ),
        references=(
            "`mpcheck facts 6` (docs/facts.md section 6): Global state is not shared with spawn/forkserver children",
            "`mpcheck facts 13` (docs/facts.md sections 13.12, 13.4 and 13.14): output at import repeated by "
            "every spawned worker, and the main-process test; logging configuration under spawn; "
            "`logging.lastResort`",
            "https://docs.python.org/3/howto/logging.html#what-happens-if-no-configuration-is-provided",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
            "https://github.com/python/cpython/issues/126631 (the forkserver imports the main module, 3.13.8+ and 3.14)",
        ),
    )

    VALID = [
        Valid(
            """
            import sys

            try:
                import PIL
            except ImportError:
                # Why the import fails: every process that imports the package fails the same way.
                print("photokit needs Pillow: pip install pillow", file=sys.stderr)
                raise

            if sys.platform == "darwin" and not sys.executable.endswith("pythonw"):
                sys.stderr.write("photokit's viewer needs a framework build of Python on macOS\\n")
                sys.exit(1)
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            import logging

            logger = logging.getLogger(__name__)
            logger.addHandler(logging.NullHandler())
            logger.info("photokit loaded")  # no console handler: nothing is printed
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            __version__ = "1.2"

            def banner():
                print(f"photokit {__version__}")

            if __name__ == "__main__":
                banner()
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            import sys

            print("resizing", sys.argv[1:])  # a script, not a package
            """,
            path="resize.py",
        ),
        Valid(
            """
            import logging

            logging.basicConfig(filename="photokit.log", level=logging.INFO)
            logging.getLogger(__name__).info("loaded")
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            import multiprocessing

            if multiprocessing.current_process().name == "MainProcess":
                print("photokit loaded")
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            import logging

            logger = logging.getLogger(__name__)
            logger.addHandler(logging.NullHandler())  # the logging HOWTO's advice to libraries

            try:
                import numpy
            except ImportError:
                logger.warning("numpy is missing: slow paths")  # the NullHandler takes it
            """,
            path="photokit/__init__.py",
        ),
        Valid(
            """
            import logging

            logger = logging.getLogger(__name__)
            logger.info("photokit loaded")  # below WARNING: logging.lastResort does not take it
            logger.setLevel(logging.ERROR)
            logger.warning("using the slow resize")  # below the logger's level: dropped
            logging.getLogger("PIL").warning("old Pillow")  # Pillow's logger: Pillow may configure it
            """,
            path="photokit/__init__.py",
        ),
    ]

    INVALID = [
        Invalid(
            """
            import logging

            __version__ = "1.2"
            print(f"photokit {__version__} loaded")
            """,
            path="photokit/__init__.py",
            line=4,
            column=1,
            message="every worker that spawn or forkserver starts",
            fixed="""
            import logging
            import multiprocessing

            __version__ = "1.2"
            if (
                multiprocessing.current_process().name == "MainProcess"
                and not getattr(multiprocessing.current_process(), "_inheriting", False)
            ):
                print(f"photokit {__version__} loaded")
            """,
        ),
        Invalid(
            """
            import logging
            import sys

            logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
            logger = logging.getLogger(__name__)
            logger.debug("not shown at INFO")
            logger.info("photokit ready")
            """,
            path="photokit/__init__.py",
            line=7,
            message="`logger.info()`",
            fixed="""
            import logging
            import sys
            import multiprocessing

            logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
            logger = logging.getLogger(__name__)
            logger.debug("not shown at INFO")
            if (
                multiprocessing.current_process().name == "MainProcess"
                and not getattr(multiprocessing.current_process(), "_inheriting", False)
            ):
                logger.info("photokit ready")
            """,
        ),
        Invalid(
            """
            import logging

            def configure_logging():
                print("setting up logging")
                logging.getLogger().addHandler(logging.StreamHandler())
                logging.getLogger().setLevel(logging.DEBUG)

            configure_logging()
            logging.getLogger(__name__).info("Initializing photokit")
            """,
            path="photokit/__init__.py",
            line=4,
            message="configure_logging()",
            count=2,
            fixed="""
            import logging
            import multiprocessing

            def configure_logging():
                print("setting up logging")
                logging.getLogger().addHandler(logging.StreamHandler())
                logging.getLogger().setLevel(logging.DEBUG)

            configure_logging()
            if (
                multiprocessing.current_process().name == "MainProcess"
                and not getattr(multiprocessing.current_process(), "_inheriting", False)
            ):
                logging.getLogger(__name__).info("Initializing photokit")
            """,
        ),
        Invalid(
            """
            import warnings, logging

            try:
                import numpy
            except ImportError:
                logging.warning("numpy is missing: slow paths")
            """,
            path="photokit/__init__.py",
            line=6,
            message="`logging.warning()`",
        ),
        Invalid(
            """
            import logging

            logger = logging.getLogger(__name__)

            try:
                import numpy
            except ImportError:
                logger.warning("numpy is missing: slow paths")
            """,
            path="photokit/__init__.py",
            line=8,
            message="no handler configured for its logger (`logging.lastResort` writes it to stderr)",
            fixed="""
            import logging
            import multiprocessing

            logger = logging.getLogger(__name__)

            try:
                import numpy
            except ImportError:
                if (
                    multiprocessing.current_process().name == "MainProcess"
                    and not getattr(multiprocessing.current_process(), "_inheriting", False)
                ):
                    logger.warning("numpy is missing: slow paths")
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        project = context.project
        if project is None:
            return
        chain = project.package_import_chain(context.path)
        if chain is None:
            return
        model = context.model
        outputs = [output for output in model.output.import_time_output(context.path) if output.model is model]
        outputs += list(_outputs_from_importers(context))
        package = _package_name(chain[0])
        through = "" if len(chain) == 1 else \
            f" (its `__init__.py` imports this module{' through ' + ', '.join(p.name for p in chain[1:-1]) if len(chain) > 2 else ''})"
        reported: set[int] = set()
        for output in outputs:
            node = output.site.node
            if id(node) in reported:
                continue
            reported.add(id(node))
            how = "" if not output.chain else f", in `{output.chain[-1]}()` called at import"
            if len(output.chain) > 1:
                how += f" (through {' -> '.join(f'`{name}()`' for name in output.chain[:-1])})"
            if output.last_resort:
                how += " with no handler configured for its logger (`logging.lastResort` writes it to stderr)"
            fix = _main_process_guard(context, output) if not output.chain else None
            yield Violation(
                node,
                f"`{output.label}` runs while package `{package}` is imported{through}{how}: every worker that "
                "spawn or forkserver starts re-imports the package and writes it again; run it only in the "
                "main process, or move it to the program's entry point",
                fixes=(fix,) if fix else (),
            )


def _package_name(init: os.PathLike) -> str:
    return os.path.basename(os.path.dirname(os.fspath(init)))


def _outputs_from_importers(context: RuleContext) -> Iterator[Output]:
    """This file's output made by its functions when another module of the package calls
    them at import time, mapped onto this file's model (the project parsed its own copy of
    the same text: sites are matched by their index among the calls). The caller may be an
    importer of an importer, up to `_MAX_IMPORTER_DEPTH` modules away (`__init__.py` calls
    `banner.show()`, which calls this module's `say()`; or calls `say()` as a subpackage
    re-exports it)."""
    model = context.model
    project = context.project
    assert project is not None
    writes = [index for index, site in enumerate(model.calls) if site.in_function and model.output.writes(site)]
    if not writes:
        return
    printing = {_top_level_name(model.calls[index].scope) for index in writes}
    # Re-exports are followed up for output written whatever logging's configuration (print(),
    # sys.stdout, pprint), not for logging calls alone: following them for those too parsed
    # 80% more of detectron2, whose every module logs, for no finding.
    printed = any(model.output.output_call(model.calls[index]) is not None for index in writes)
    unfound = set(writes)  # the search stops when an importer's walk has reached every one
    # An importer that uses none of the functions that print, nor a name of this module that
    # calls one, directly or through other modules (the name-based pass of reach.py), cannot
    # make them print: it is not parsed. Above it, the same with the importer's names that
    # lead to those.
    using = None if None in printing else _names_reaching(model, printing)
    here = os.path.abspath(context.path)
    seen = {here}
    pending: list[tuple[str, set[str] | None, int]] = [(context.path, using, 1)]
    while pending and unfound:
        path, names, depth = pending.pop(0)
        for importer in project.import_time_importers(path, names, excluding=seen):
            seen.add(importer.key)
            # Between importers no walk is under way: the models the last ones needed may go
            # (a module imported by a hundred others would otherwise hold a hundred parsed trees).
            project.forget_models()
            if project.package_import_chain(importer.path) is None:
                continue  # asked first: it rarely needs the importer parsed
            other = project.model_of(importer)
            if other is None:
                continue
            for output in other.output.import_time_output(here):
                if output.model.path != other.path and os.path.abspath(output.model.path) == here:
                    index = output.model.calls.index(output.site)
                    if index < len(model.calls):
                        site = model.calls[index]
                        unfound.discard(index)
                        yield Output(model, site, output.label, site, output.chain, output.last_resort)
            # Above the importer: only its functions whose call makes this file's output (a
            # name that merely leads to one of this file's functions may not call the one
            # that writes: `re.compile` leads to `re._parser`, not to its `dump()`).
            leading = project.names_bound_to(importer, other, path, names)
            if leading and depth < _MAX_IMPORTER_DEPTH:
                reaching = _names_reaching(other, leading)
                # Only a module not walked yet can call them from above (the names it may use
                # are among these): without one, what they write here (a walk through the
                # project, which found nothing 36 times in 37 on the stdlib) is not asked.
                if not project.may_have_import_time_importers(importer.key, reaching, excluding=seen):
                    continue
                writing = other.output.functions_writing_in(reaching, context.path)
                if printed:
                    # A name it re-exports (`from .impl import show_banner` in sub/__init__.py)
                    # is one a module above may call.
                    writing |= project.names_bound_to(importer, other, path, names, reexports=True)
                if writing:
                    pending.append((importer.key, _names_reaching(other, writing), depth + 1))


_MAX_IMPORTER_DEPTH = 4  # modules between this one and the one whose import-time call runs it


def _names_reaching(model: SemanticModel, names: set[str]) -> set[str]:
    """`names` and the module-level names whose statements (a def, a class, an assignment)
    read one of them, or a name that does in turn: what a caller may name to run them."""
    reads: dict[int, set[str]] = {}  # module-level statement -> the names read in it
    for scope in model.module_scope.walk():
        for reference in scope.references:
            reads.setdefault(id(reference.site.top), set()).add(reference.name)
    statements = {name: [id(binding.site.top) for binding in bindings]
                  for name, bindings in model.module_scope.bindings.items()}
    reaching = set(names)
    grown = True
    while grown:
        grown = False
        for name, tops in statements.items():
            if name not in reaching and any(reads.get(top, set()) & reaching for top in tops):
                reaching.add(name)
                grown = True
    return reaching


def _top_level_name(scope: Scope) -> str | None:
    """The module-level name of the function or class whose body holds `scope` (None for a
    lambda: the name it is called by is not its own)."""
    while scope.parent is not None and scope.parent.kind is not ScopeKind.MODULE:
        scope = scope.parent
    return None if scope.kind is ScopeKind.LAMBDA else scope.name


def _main_process_guard(context: RuleContext, output: Output) -> Fix | None:
    """Put the statement under the main-process test: only a statement at module level that
    is just the output call (not one that also configures logging)."""
    model = context.model
    site = output.site
    statement = site.statement
    if site.in_function or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1 or \
            not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not site.node or \
            model.output.console_configuration(site) is not None or _configures_through_calls(model, site):
        return None
    fix = context.fix_context.fix()
    mp = fix.need_module("multiprocessing", before=site.top)
    test = MAIN_PROCESS_TEST.format(mp=mp)

    def guarded(updated: cst.CSTNode) -> cst.BaseStatement:
        assert isinstance(updated, cst.SimpleStatementLine)
        node = fix.statement(f"if {test}:\n    {{output}}\n", output=updated.with_changes(leading_lines=()))
        return node.with_changes(leading_lines=updated.leading_lines)

    fix.replace(statement, guarded)
    return fix.build(Applicability.SAFE, "Write it only in the main process")


def _configures_through_calls(model: SemanticModel, site) -> bool:
    """`logging.info(...)` configures a stderr handler when there is none: guarding it would
    take that handler away from the children."""
    logged = model.output.log_level(site)
    return logged is not None and logged[2]
