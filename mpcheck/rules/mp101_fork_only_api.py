"""MP101: fork-only multiprocessing and os APIs used where Windows can reach them."""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from .. import rewrite
from .. import apis
from ..findings import WHERE_FORK_IS_MISSING, Applicability, Fix, Violation
from ..fixes import string_like
from ..model import Binding, Kind, SemanticModel, Site, argument
from ..model.names import binding_symbol
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# Fork-only classes of multiprocessing.context: (the context attribute that gives the same
# object on POSIX, the start method, the portable name a safe fix binds, its spawn twin).
_FORK_ONLY_CLASSES = {
    "ForkProcess": ("Process", "fork", "ForkOrSpawnProcess", "SpawnProcess"),
    "ForkServerProcess": ("Process", "forkserver", "ForkServerOrSpawnProcess", "SpawnProcess"),
    "ForkContext": (None, "fork", "ForkOrSpawnContext", "SpawnContext"),
    "ForkServerContext": (None, "forkserver", "ForkServerOrSpawnContext", "SpawnContext"),
}
_CONTEXT_MODULE = "multiprocessing.context"
_START_METHOD_FUNCTIONS = {"multiprocessing.get_context", "multiprocessing.set_start_method"}


def _last_import_of_block(module: cst.Module, statement: cst.CSTNode) -> cst.CSTNode | None:
    """The last statement of the run of import lines `statement` (a module-level import line)
    belongs to."""
    body = list(module.body)
    index = next((i for i, candidate in enumerate(body) if candidate is statement), None)
    if index is None:
        return None
    while index + 1 < len(body) and _is_import_line(body[index + 1]):
        index += 1
    return body[index]


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


def _fork_is_guarded(model: SemanticModel, site: Site, raises: tuple[str, ...]) -> bool:
    """`site` runs only where fork exists, or a `try` around it catches one of `raises`: its
    own guards tell it (SemanticModel.fork_is_guarded), or the project imports the whole
    module only where fork exists (asked last: it reads the importers)."""
    return model.fork_is_guarded(site, raises) or model.imported_only_where_fork_exists()


def _portable_method(method: str, module: str) -> str:
    """The seed article's conditional: the fork method where the platform has it."""
    return f'"{method}" if "{method}" in {module}.get_all_start_methods() else "spawn"'


class ForkOnlyApi(Rule):
    code = "MP101"
    name = "fork-only-api"
    breaks_on = WHERE_FORK_IS_MISSING
    summary = "Fork-only multiprocessing or os API used without a portability guard"
    explanation = Explanation(
        what=(
            "Flags the APIs that exist only where `fork` exists, used where Windows can reach "
            "them: `ForkProcess`, `ForkContext`, `ForkServerProcess` and `ForkServerContext` "
            "from `multiprocessing.context`; `get_context(\"fork\")`, "
            "`set_start_method(\"fork\")` (and `\"forkserver\"`); `os.fork()`, "
            "`os.forkpty()` and `os.register_at_fork()`. `torch.multiprocessing` and `billiard` "
            "are the same API. Code under `if sys.platform != \"win32\":`, "
            "`if os.name == \"posix\":`, `hasattr(os, \"fork\")` (or a flag set from such a "
            "test, in the file or in another module of the project: `from .compat import WINDOWS`), "
            "`\"fork\" in get_all_start_methods()`, after an early exit on Windows (`sys.exit()`, "
            "`pytest.skip()`), in a test that `@pytest.mark.skipif`, `@unittest.skipIf` or "
            "`@unittest.skipUnless` skips on Windows (on the function or its class; a module's "
            "`pytestmark` on its tests and fixtures), below a "
            "top-level import that raises on Windows (`import fcntl`, or a module of the project "
            "that imports one of Unix's own modules there), or in a `try` whose `except` catches "
            "the error is not flagged.\n\n"
            "Nor is a module that its project imports only where fork exists: a `_posix.py` that "
            "the package imports under `if sys.platform != \"win32\":`, as CPython's "
            "`multiprocessing/context.py` imports `popen_fork.py` inside classes defined under "
            "that test. Every import statement of the module, in every module of the project, "
            "must run only where fork exists: under a test that excludes Windows (around the "
            "statement, or around the `def` or `class` it is in), below an import that raises on "
            "Windows, or in a module that is itself imported only where fork exists. Otherwise "
            "the module is flagged as before, since nothing shows that Windows never imports it: "
            "one unguarded importer is enough; a test that lets Windows in "
            "(`sys.platform == \"linux\" or sys.platform == \"win32\"`) and "
            "`try: ... except ImportError:` (Windows runs the `try` too) do not guard; an "
            "`importlib.import_module(\"pkg._posix\")` of it, or no import of it in the project "
            "(an import for type checkers only does not count), cannot be told (a module name "
            "built at run time, `import_module(name)`, is not seen at all); two modules that "
            "each import the other unguarded are not taken as guarded by each other. A script (a "
            "main guard or a `#!` line), a `__main__.py`, a package's `__init__.py` (importing "
            "any module beneath it runs it) and an entry point's target run by other ways and "
            "are flagged too. A public module of a library is judged by the same imports: how "
            "the library imports it is the library's statement of where it runs (billiard and "
            "CPython implement the fork start method in `popen_fork.py`), and code that reaches "
            "into it from outside, on Windows, is the outside code's use of a fork-only module "
            "(MP103's `fork-only-modules` option names such modules). These cross-file cases "
            "are tested in tests/test_mp101_platform_modules.py."
        ),
        why=(
            "Windows has only the `spawn` start method: `multiprocessing.context` defines the "
            "fork classes only `if sys.platform != 'win32'`, and `os.fork` does not exist there. "
            "Code that imports a fork-only name fails on Windows at import time; the MuseTalk "
            "project's Gradio `app.py` did `import spaces`, and Hugging Face's `spaces` package "
            "imports `ForkProcess`, so the app stopped with\n\n"
            "    ImportError: cannot import name 'ForkProcess' from 'multiprocessing.context'\n\n"
            "`get_context(\"fork\")` and `set_start_method(\"fork\")` raise "
            "`ValueError: cannot find context for 'fork'`, and `os.fork()` raises "
            "`AttributeError: module 'os' has no attribute 'fork'`. Every Python version on "
            "Windows is affected; `forkserver` is missing there too. macOS and Linux have both "
            "methods (`mpcheck facts 2`)."
        ),
        example=(
            "from multiprocessing.context import ForkProcess\n\n"
            "def render(frame):\n    ...\n\n"
            "if __name__ == \"__main__\":\n"
            "    worker = ForkProcess(target=render, args=(0,))\n"
            "    worker.start()\n"
            "    worker.join()\n"
        ),
        use_instead=(
            "import multiprocessing\n"
            "ForkOrSpawnProcess = multiprocessing.get_context(\n"
            "    \"fork\" if \"fork\" in multiprocessing.get_all_start_methods() else \"spawn\"\n"
            ").Process\n\n"
            "def render(frame):\n    ...\n\n"
            "if __name__ == \"__main__\":\n"
            "    worker = ForkOrSpawnProcess(target=render, args=(0,))\n"
            "    worker.start()\n"
            "    worker.join()\n"
        ),
        fix_safety=(
            "The safe fix picks fork where the platform has it and spawn elsewhere: on Linux and "
            "macOS `get_context(\"fork\").Process` *is* `ForkProcess`, so behaviour there is "
            "unchanged, and Windows now runs. The renamed name is used everywhere the old one "
            "was; the name is kept when it is bound more than once, exported (`__all__`), or a "
            "module-level name of a module others may import (a package module, one another "
            "module of the project imports, an entry point): their `from ... import` goes on working. "
            "The unsafe fix (`--unsafe-fixes`) uses spawn everywhere (`SpawnProcess`, "
            "`get_context(\"spawn\")`): every platform then behaves as Windows does, but "
            "children no longer inherit the parent's memory, so code that relied on it changes "
            "behaviour. `os.fork()`, `os.forkpty()` and `os.register_at_fork()` have no "
            "automatic fix: replace raw forks with `multiprocessing.Process`, or guard them "
            "with `if hasattr(os, \"fork\"):`."
        ),
        references=(
            "`mpcheck facts 2` (docs/facts.md section 2): Fork-only APIs on Windows; set_start_method rules",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
        options=("`platforms`: reported only when `windows` is one of them (the default lists all three)",),
    )

    VALID = [
        Valid(
            """
            import multiprocessing as mp
            ctx = mp.get_context("spawn")
            """
        ),
        Valid(
            """
            import sys
            if sys.platform != "win32":
                from multiprocessing.context import ForkProcess
            """
        ),
        Valid(
            """
            import os
            if hasattr(os, "fork"):
                pid = os.fork()
            """
        ),
        Valid(
            """
            import multiprocessing
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            ctx = multiprocessing.get_context(method)
            """
        ),
        Valid(
            """
            try:
                from multiprocessing.context import ForkProcess as ProcessClass
            except ImportError:
                from multiprocessing.context import SpawnProcess as ProcessClass
            """
        ),
        Valid(
            """
            import multiprocessing
            import sys

            import pytest


            @pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX-only")
            def test_worker_inherits_the_parent_state():
                context = multiprocessing.get_context("fork")
                with context.Pool(1) as pool:
                    assert pool.apply(sum, ([1, 2],)) == 3
            """
        ),
        Valid(
            """
            import os, sys

            def daemonize():
                if sys.platform == "win32":
                    raise SystemExit("not supported on Windows")
                if os.fork():
                    os._exit(0)
            """
        ),
        Valid(
            """
            import os
            IS_WINDOWS = os.name == "nt"
            if not IS_WINDOWS:
                import multiprocessing
                multiprocessing.set_start_method("fork")
            """
        ),
        Valid(
            """
            import os

            class Handler:
                have_fork = hasattr(os, "fork")

                def run_script(self):
                    if self.have_fork:
                        return os.fork()
            """
        ),
        Valid(
            """
            # gunicorn's util.py: `import fcntl` raises on Windows, so nothing below runs there.
            import fcntl
            import os


            def daemonize():
                if os.fork():
                    os._exit(0)
                os.setsid()
            """
        ),
        Valid(
            """
            # A module of the project that happens to be called `fork` is not os.fork.
            from .tools import fork
            fork()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import os

            try:
                import fcntl  # Windows gets here too
            except ImportError:
                fcntl = None


            def daemonize():
                if os.fork():
                    os._exit(0)
            """,
            line=10,
            message="`os.fork()` does not exist on Windows",
        ),
        Invalid(
            """
            import os


            def _after_fork_in_child():
                print("child")


            os.register_at_fork(after_in_child=_after_fork_in_child)
            """,
            line=8,
            message="has no attribute 'register_at_fork'); guard it with `if hasattr(os, \"register_at_fork\"):`",
        ),
        Invalid(
            """
            from multiprocessing.context import ForkProcess

            def render(frame):
                print("frame", frame)

            if __name__ == "__main__":
                workers = [ForkProcess(target=render, args=(i,)) for i in range(2)]
            """,
            line=1,
            column=37,
            message="ForkProcess",
            fixed="""
            import multiprocessing
            ForkOrSpawnProcess = multiprocessing.get_context(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            ).Process

            def render(frame):
                print("frame", frame)

            if __name__ == "__main__":
                workers = [ForkOrSpawnProcess(target=render, args=(i,)) for i in range(2)]
            """,
            unsafe_fixed="""
            from multiprocessing.context import SpawnProcess

            def render(frame):
                print("frame", frame)

            if __name__ == "__main__":
                workers = [SpawnProcess(target=render, args=(i,)) for i in range(2)]
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp
            from multiprocessing.context import ForkContext, SpawnContext as Spawn

            CONTEXT_CLASS = ForkContext  # chosen at import
            """,
            line=2,
            message="ForkContext",
            fixed="""
            import multiprocessing as mp
            from multiprocessing.context import SpawnContext as Spawn
            ForkOrSpawnContext = type(
                mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            )

            CONTEXT_CLASS = ForkOrSpawnContext  # chosen at import
            """,
            unsafe_fixed="""
            import multiprocessing as mp
            from multiprocessing.context import SpawnContext, SpawnContext as Spawn

            CONTEXT_CLASS = SpawnContext  # chosen at import
            """,
        ),
        Invalid(
            """
            import torch.multiprocessing as tmp

            ctx = tmp.get_context('fork')
            """,
            line=3,
            column=7,
            message="get_context('fork')",
            fixed="""
            import torch.multiprocessing as tmp

            ctx = tmp.get_context('fork' if 'fork' in tmp.get_all_start_methods() else 'spawn')
            """,
            unsafe_fixed="""
            import torch.multiprocessing as tmp

            ctx = tmp.get_context('spawn')
            """,
        ),
        Invalid(
            """
            from multiprocessing import set_start_method

            def main():
                set_start_method(method="forkserver")
            """,
            line=4,
            column=5,
            fixed="""
            from multiprocessing import set_start_method
            import multiprocessing

            def main():
                if "forkserver" in multiprocessing.get_all_start_methods():
                    set_start_method(method="forkserver")
            """,
            unsafe_fixed="""
            from multiprocessing import set_start_method

            def main():
                set_start_method(method="spawn")
            """,
        ),
        Invalid(
            """
            import multiprocessing.context

            def start(target):
                process = multiprocessing.context.ForkServerProcess(target=target)
                process.start()
                return process
            """,
            line=4,
            column=15,
            fixed="""
            import multiprocessing.context

            def start(target):
                process = multiprocessing.get_context(
                    "forkserver"
                    if "forkserver" in multiprocessing.get_all_start_methods()
                    else "spawn"
                ).Process(target=target)
                process.start()
                return process
            """,
        ),
        Invalid(
            """
            import os

            def daemonize():
                if os.fork() > 0:
                    os._exit(0)
            """,
            line=4,
            column=8,
            message="os.fork()",
        ),
        Invalid(
            """
            import billiard
            from billiard.context import ForkProcess as FP  # celery's fork of multiprocessing

            FP(target=print).start()
            """,
            line=2,
            fixed="""
            import billiard
            FP = billiard.get_context(
                "fork" if "fork" in billiard.get_all_start_methods() else "spawn"
            ).Process  # celery's fork of multiprocessing

            FP(target=print).start()
            """,
            unsafe_fixed="""
            import billiard
            from billiard.context import SpawnProcess as FP  # celery's fork of multiprocessing

            FP(target=print).start()
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for binding in model.imports:
            yield from self._check_import(context, binding)
        called = {id(site.node.func): site for site in model.calls if isinstance(site.node, cst.Call)}
        for site in model.attributes:
            # `os.fork()` is reported at the call, `multiprocessing.context.ForkProcess` at the name
            yield from self._check_attribute(context, called.get(id(site.node), site))
        for site in model.calls:
            yield from self._check_call(context, site)

    # -- from multiprocessing.context import ForkProcess ------------------------------

    def _check_import(self, context: RuleContext, binding: Binding) -> Iterator[Violation]:
        model = context.model
        if binding.kind is not Kind.IMPORT or not isinstance(binding.node, cst.ImportAlias) or binding.qualname is None:
            return
        site = binding.site
        if not isinstance(site.statement, cst.SimpleStatementLine) or \
                not any(isinstance(small, cst.ImportFrom) for small in site.statement.body):
            return  # `import multiprocessing.context` is fine; a fork-only name is imported with `from`
        symbol = binding_symbol(model, binding)  # through the project's re-exports (workers.ForkProcess)
        if symbol is None:
            return
        spelled = symbol.spelled
        if not apis.has_role(spelled, apis.Role.FORK_ONLY) or not model.runs_at_runtime(site) \
                or _fork_is_guarded(model, site, ("ImportError",)):
            return
        module, _, name = spelled.rpartition(".")
        fixes: tuple[Fix, ...] = ()
        if name in _FORK_ONLY_CLASSES:
            package = symbol.written[: -len(".context." + name)]
            fixes = tuple(fix for fix in (self._import_fix(context, binding, name, package),
                                          self._import_spawn_fix(context, binding, name)) if fix)
        yield Violation(
            binding.node,
            f"`{name}` does not exist on Windows (ImportError: cannot import name '{name}' "
            f"from '{module}'); " + ("choose the start method by platform" if name in _FORK_ONLY_CLASSES
                                     else f"guard the import with `if hasattr({module}, \"{name}\"):`"),
            fixes=fixes,
        )

    def _import_fix(self, context: RuleContext, binding: Binding, name: str, package: str) -> Fix | None:
        """Drop the fork-only name from the import and bind a portable one after the file's
        imports (code among the imports would make every later import an E402); a use in an
        annotation names the common base class instead, which stays a type."""
        model = context.model
        site = binding.site
        if not rewrite.only_statement_on_line(site):
            return None
        statement = site.statement
        import_from = statement.body[0]
        attribute, method, portable_name, _ = _FORK_ONLY_CLASSES[name]
        fix = context.fix_context.fix()
        bound = binding.name
        renamed_in_code = binding.references
        if bound == name and rewrite.can_rename(model, binding, portable_name, not context.is_script()):
            bound = portable_name
            renamed_in_code = [reference for reference in binding.references if not reference.site.in_annotation]
            if len(renamed_in_code) != len(binding.references):
                base = fix.need_module(package, before=site.top)
                base_type = f"{base}.process.BaseProcess" if attribute else f"{base}.context.BaseContext"
                for reference in binding.references:
                    if reference.site.in_annotation:
                        fix.replace(reference.node, fix.expression(base_type))
            for reference in renamed_in_code:
                fix.replace(reference.node, reference.node.with_changes(value=bound))
        elif any(reference.site.in_annotation for reference in binding.references):
            return None  # an alias used as a type would become a variable in annotations
        module_name = fix.need_module(package, before=site.top)
        context_expr = f"{module_name}.get_context({_portable_method(method, module_name)})"
        value = f"{context_expr}.{attribute}" if attribute else f"type({context_expr})"
        assignment = fix.statement(f"{bound} = {value}")
        remaining = [alias for alias in import_from.names if alias is not binding.node]
        anchor = _last_import_of_block(model.module, statement) if site.top is statement else None
        if anchor is not None and anchor is not statement:
            if remaining:
                remaining[-1] = remaining[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                fix.replace(import_from, import_from.with_changes(names=remaining))
            else:
                fix.remove(statement)
            fix.insert_after(anchor, [assignment.with_changes(leading_lines=[cst.EmptyLine()])])
        else:
            replacement: list[cst.BaseStatement] = []
            if remaining:
                remaining[-1] = remaining[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                replacement.append(statement.with_changes(body=[import_from.with_changes(names=remaining)]))
            replacement.append(assignment)
            # Keep the comments and blank lines that belonged to the import line.
            replacement[0] = replacement[0].with_changes(leading_lines=statement.leading_lines)
            replacement[-1] = replacement[-1].with_changes(trailing_whitespace=statement.trailing_whitespace)
            fix.replace(statement, cst.FlattenSentinel(replacement))
        return fix.build(Applicability.SAFE,
                         f"Bind `{bound}` to the {method} context where the platform has it, spawn elsewhere")

    def _import_spawn_fix(self, context: RuleContext, binding: Binding, name: str) -> Fix | None:
        spawn_name = _FORK_ONLY_CLASSES[name][3]
        alias = binding.node
        assert isinstance(alias, cst.ImportAlias)
        fix = context.fix_context.fix()
        fix.replace(alias.name, cst.Name(spawn_name))
        if alias.asname is None:
            if not rewrite.can_rename(context.model, binding, spawn_name, not context.is_script()):
                return None
            for reference, renamed in rewrite.rename_references(binding, spawn_name).items():
                fix.replace(reference, renamed)
        return fix.build(Applicability.UNSAFE, f"Use `{spawn_name}` on every platform")

    # -- multiprocessing.context.ForkProcess -----------------------------------------

    def _check_attribute(self, context: RuleContext, site: Site) -> Iterator[Violation]:
        """`site`: the attribute, or the call it is the function of."""
        model = context.model
        node = site.node
        symbol = model.resolve(node.func if isinstance(node, cst.Call) else node)
        if symbol is None or not apis.has_role(symbol.spelled, apis.Role.FORK_ONLY):
            return
        if not model.runs_at_runtime(site) or _fork_is_guarded(model, site, ("AttributeError",)):
            return
        module, _, name = symbol.spelled.rpartition(".")
        if module == "os":
            # register_at_fork's callbacks have nothing to do where fork does not exist.
            instead = "" if name == "register_at_fork" else "start a multiprocessing.Process instead, or "
            yield Violation(
                node,
                f"`os.{name}()` does not exist on Windows (AttributeError: module 'os' has no attribute "
                f"'{name}'); {instead}guard it with `if hasattr(os, \"{name}\"):`",
            )
            return
        if isinstance(node, cst.Call):
            site = next(attribute for attribute in model.attributes if attribute.node is node.func)
            node = node.func
        fixes = (self._attribute_fix(context, site, name, symbol.written),) if name in _FORK_ONLY_CLASSES else ()
        yield Violation(
            node,
            f"`{name}` does not exist on Windows (AttributeError: module '{module}' "
            f"has no attribute '{name}'); " + ("choose the start method by platform" if name in _FORK_ONLY_CLASSES
                                              else f"guard it with `if hasattr({module}, \"{name}\"):`"),
            fixes=tuple(fix for fix in fixes if fix),
        )

    def _attribute_fix(self, context: RuleContext, site: Site, name: str, written: str) -> Fix | None:
        model = context.model
        node = site.node
        assert isinstance(node, cst.Attribute)
        package = written[: -len(".context." + name)]
        package_expr = node.value.value if isinstance(node.value, cst.Attribute) else None
        package_symbol = model.resolve(package_expr) if package_expr is not None else None
        fix = context.fix_context.fix()
        if package_symbol is not None and package_symbol.written == package:
            module_code = cst.Module([]).code_for_node(package_expr)
        else:
            module_code = fix.need_module(package, before=site.top)
        attribute, method, _, _ = _FORK_ONLY_CLASSES[name]
        context_expr = f"{module_code}.get_context({_portable_method(method, module_code)})"
        value = f"{context_expr}.{attribute}" if attribute else f"type({context_expr})"
        fix.replace(node, fix.expression(value))
        return fix.build(Applicability.SAFE, f"Use the {method} context where the platform has it, spawn elsewhere")

    # -- get_context("fork"), set_start_method("fork"), os.fork() --------------------

    def _check_call(self, context: RuleContext, site: Site) -> Iterator[Violation]:
        model = context.model
        node = site.node
        assert isinstance(node, cst.Call)
        function = model.resolve(node.func)
        if function is None:
            return
        api = apis.lookup(function.qualname)
        if function.qualname in _START_METHOD_FUNCTIONS:
            method_arg = argument(node, 0, "method")
        elif api is not None and api.start_method_argument is not None:  # torch's start_processes(start_method=)
            method_arg = argument(node, api.start_method_argument.position, api.start_method_argument.keyword)
        else:
            return
        method = model.value_of(method_arg)
        if method not in ("fork", "forkserver") or not model.runs_at_runtime(site) \
                or _fork_is_guarded(model, site, ("ValueError",)):
            return
        call_name = function.qualname.rsplit(".", 1)[1]
        given = next(arg for arg in node.args if arg.value is method_arg)
        code = cst.Module([]).code_for_node(given.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip()
        yield Violation(
            node,
            f"`{call_name}({code})` fails on Windows (ValueError: cannot find context for "
            f"{method!r}); choose the start method by platform",
            fixes=tuple(self._start_method_fixes(context, site, method_arg, method)),
        )

    def _start_method_fixes(self, context: RuleContext, site: Site, method_arg, method: str) -> Iterator[Fix]:
        model = context.model
        node = site.node
        assert isinstance(node, cst.Call)
        fix = context.fix_context.fix()
        if isinstance(node.func, cst.Attribute):
            module_code = cst.Module([]).code_for_node(node.func.value)
        else:
            module_code = fix.need_module("multiprocessing", before=site.top)
        function = model.resolve(node.func)
        statement = site.statement
        alone = isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Expr) and statement.body[0].value is node
        if function is not None and function.qualname == "multiprocessing.set_start_method" and alone:
            # Set it only where the method exists; elsewhere the platform's default (spawn)
            # stays. A conditional argument would pick "spawn" instead, and a spawned child
            # re-running a module-level call dies (RuntimeError: context has already been set).
            test = f"{cst.Module([]).code_for_node(method_arg)} in {module_code}.get_all_start_methods()"
            fix.replace(statement, lambda updated: cst.If(
                test=fix.expression(test),
                body=cst.IndentedBlock(body=[updated.with_changes(leading_lines=())]),
                leading_lines=updated.leading_lines,
            ))
            yield fix.build(Applicability.SAFE, f"Set {method} only where the platform has it")
        elif function is not None and function.qualname == "multiprocessing.set_start_method" \
                and model.runs_at_import(site):
            pass  # on a line with other statements, at import: no fix that spawned children survive
        elif isinstance(method_arg, (cst.SimpleString, cst.ConcatenatedString, cst.Name)):
            code = cst.Module([]).code_for_node(method_arg)
            if isinstance(method_arg, cst.Name):
                portable = f'{code} if {code} in {module_code}.get_all_start_methods() else "spawn"'
            else:
                portable = _portable_method(method, module_code)
            fix.replace(method_arg, fix.expression(portable))
            yield fix.build(Applicability.SAFE, f"Use {method} where the platform has it, spawn elsewhere")
        if isinstance(method_arg, cst.SimpleString):
            spawn = context.fix_context.fix()
            spawn.replace(method_arg, string_like(method_arg, "spawn"))
            yield spawn.build(Applicability.UNSAFE, "Use spawn on every platform")
