"""MP102: the global start method chosen at import time, or chosen twice."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable, Iterator

import libcst as cst

from ..findings import Applicability, Breakage, Fix, Violation
from ..model import Site, StartMethodChoice
from ..model.names import nodes_within
from ..model.regions import catches
from ..model.toplevel import TopLevel, is_constant_assignment, is_definition
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# The program breaks wherever it runs: the script's own children (it chose a method that
# re-imports it), or the programs that import the library.
EVERYWHERE = (Breakage("windows"), Breakage("macos"), Breakage("linux"))
_CODE = cst.Module([]).code_for_node


class StartMethodAtImport(Rule):
    code = "MP102"
    name = "start-method-at-import"
    summary = "`set_start_method()` at import time or twice; a library fixing the start method for its users"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags the global start method chosen where it cannot stay the program's own choice:\n\n"
            "- `multiprocessing.set_start_method()` at import time of a script, outside "
            "`if __name__ == \"__main__\":` (unless it sets `\"fork\"`, or passes "
            "`force=True`);\n"
            "- at import time of a module that others import (a package module, a module "
            "another module of the project imports, an entry point): `set_start_method()`, and "
            "what fixes the global start method implicitly: `get_start_method()` without "
            "`allow_none=True`, `get_context()` with no method, and queues, locks and shared "
            "values made through the module-level API (`multiprocessing.Lock()`, not "
            "`ctx.Lock()`; a pool or manager made at import is MP201's finding);\n"
            "- `set_start_method()` without `force=True` after a call in the same block (or an "
            "enclosing one) that already fixed the start method, pools and managers included.\n\n"
            "`torch.multiprocessing` and `billiard` are the same API."
        ),
        why=(
            "multiprocessing's global start method can be set once (`mpcheck facts 2`): "
            "`set_start_method()` raises\n\n"
            "    RuntimeError: context has already been set\n\n"
            "when it was set before -- by an earlier `set_start_method()` (even to the same "
            "method), by `get_start_method()`, which \"sets the global start method to the "
            "default\", or by making a `Lock`, `Queue`, `Value`, pool or manager through the "
            "module-level API. A spawned or forkserver child is given its parent's start method "
            "before it re-imports the main module (`multiprocessing/spawn.py`, `prepare()`), so a "
            "script that calls `set_start_method(\"spawn\")` at module level raises that error in "
            "every child it starts: the program chose a method under which it cannot run, on "
            "every platform. A library that chooses (or fixes) the start method when it is "
            "imported takes the choice away from every program that imports it: their own "
            "`set_start_method()` under the main guard raises the same error (the `pebble` "
            "library's `@concurrent.process` calls `get_start_method()` when a function is "
            "decorated). The multiprocessing docs: `set_start_method` \"should be called at "
            "most once, and it should be protected inside the `if __name__ == '__main__'` clause "
            "of the main module\"; libraries \"should be designed to allow their users to "
            "provide their own multiprocessing context\"."
        ),
        example=(
            "import multiprocessing\n\n"
            "multiprocessing.set_start_method(\"spawn\")\n\n"
            "def square(n):\n    return n * n\n\n"
            "if __name__ == \"__main__\":\n"
            "    with multiprocessing.Pool(2) as pool:\n"
            "        print(pool.map(square, range(4)))\n"
        ),
        use_instead=(
            "import multiprocessing\n\n"
            "def square(n):\n    return n * n\n\n"
            "if __name__ == \"__main__\":\n"
            "    multiprocessing.set_start_method(\"spawn\")\n"
            "    with multiprocessing.Pool(2) as pool:\n"
            "        print(pool.map(square, range(4)))\n\n"
            "# or, without the global: a context object passed where processes are made\n"
            "# ctx = multiprocessing.get_context(\"spawn\"); with ctx.Pool(2) as pool: ...\n"
        ),
        fix_safety=(
            "In a script, the safe fix moves the `set_start_method()` statement (or the `if` "
            "that holds only it) to the start of the existing `if __name__ == \"__main__\":` "
            "block. It is offered when the call is alone on its line at module level, there is "
            "one plain main guard after it, and everything between them only defines names "
            "(imports, functions, classes, constants): the parent then chooses the method "
            "before anything reads it, as before, and the children, which are given the "
            "method by their parent, no longer choose it again. A module that others import, "
            "and the other findings, get no automatic fix: pass a "
            "`multiprocessing.get_context(...)` object to where processes are made, use "
            "`get_start_method(allow_none=True)`, or make locks and queues from a context or "
            "when they are first needed."
        ),
        references=(
            "`mpcheck facts 2` (docs/facts.md section 2): Fork-only APIs on Windows; set_start_method rules",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.set_start_method",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing

            def main():
                multiprocessing.set_start_method("spawn")

            if __name__ == "__main__":
                main()
            """
        ),
        Valid(
            """
            import torch.multiprocessing as mp

            if __name__ == "__main__":
                mp.set_start_method("spawn", force=True)
            """
        ),
        Valid(
            """
            import multiprocessing
            import platform

            # a pytest conftest or a script: force=True, and a spawned child sets the same again
            if platform.system() != "Windows":
                multiprocessing.set_start_method("spawn", force=True)
            """
        ),
        Valid(
            """
            import multiprocessing

            # fork children never re-import the script
            if "fork" in multiprocessing.get_all_start_methods():
                multiprocessing.set_start_method("fork")
            """
        ),
        Valid(
            """
            import multiprocessing

            if multiprocessing.get_start_method(allow_none=True) is None:
                multiprocessing.set_start_method("spawn")
            """
        ),
        Valid(
            """
            import multiprocessing

            _CONTEXT = multiprocessing.get_context("spawn")
            _LOCK = _CONTEXT.Lock()
            """,
            path="tools/__init__.py",
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing

            multiprocessing.set_start_method("spawn")


            def square(n):
                return n * n


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(square, range(4)))
            """,
            line=3,
            column=1,
            message="RuntimeError: context has already been set",
            fixed="""
            import multiprocessing


            def square(n):
                return n * n


            if __name__ == "__main__":
                multiprocessing.set_start_method("spawn")
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(square, range(4)))
            """,
        ),
        Invalid(
            """
            import torch.multiprocessing as mp
            import torch

            mp.set_start_method("forkserver")

            DEVICE = "cpu"


            def train(rank):
                ...


            if __name__ == "__main__":
                mp.spawn(train, nprocs=2)
            """,
            line=4,
            fixed="""
            import torch.multiprocessing as mp
            import torch

            DEVICE = "cpu"


            def train(rank):
                ...


            if __name__ == "__main__":
                mp.set_start_method("forkserver")
                mp.spawn(train, nprocs=2)
            """,
        ),
        Invalid(
            """
            import multiprocessing

            multiprocessing.set_start_method("spawn")
            QUEUE = multiprocessing.Queue()

            if __name__ == "__main__":
                print(QUEUE.empty())
            """,
            line=3,
            message="set_start_method",
        ),
        Invalid(
            """
            import multiprocessing

            multiprocessing.set_start_method("spawn")
            """,
            path="renderer/__init__.py",
            message="every program that imports it",
        ),
        Invalid(
            """
            import multiprocessing as mp

            _lock = mp.Lock()
            """,
            path="renderer/__init__.py",
            message="`Lock()` at import time fixes",
        ),
        Invalid(
            """
            import multiprocessing as mp

            START_METHOD = mp.get_start_method()
            """,
            path="renderer/__init__.py",
            message="get_start_method(allow_none=True)",
        ),
        Invalid(
            """
            import multiprocessing as mp

            def main():
                queue = mp.Queue()
                mp.set_start_method("spawn")
                return queue
            """,
            line=5,
            message="`Queue()` on line 4 already fixed",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        choices = [choice for site in model.calls if (choice := model.processes.start_method_choice(site)) is not None
                   and model.runs_at_runtime(site) and not _checked_first(context, site)]
        if not choices:
            return
        library = not context.is_script() and context.project is not None and \
            PurePath(context.path).name != "conftest.py"
        reported: set[int] = set()
        for choice in choices:
            if not model.runs_at_import(choice.site):
                continue
            if library:
                if not choice.explicit and model.processes.starter(choice.site) is not None:
                    continue  # a pool or manager made at import: MP201's finding
                reported.add(id(choice.site.node))
                yield Violation(choice.site.node, _library_message(choice))
            elif choice.explicit and choice.method != "fork" and not choice.force:
                reported.add(id(choice.site.node))
                fix = _move_into_main_guard(context, choice.site)
                yield Violation(
                    choice.site.node,
                    f"`{_CODE(choice.site.node)}` at import time runs again in every spawned or forkserver child, "
                    "which re-imports this script with its parent's start method already set: "
                    "RuntimeError: context has already been set; call it first thing under "
                    "`if __name__ == \"__main__\":`, or use a `multiprocessing.get_context(...)` object",
                    fixes=(fix,) if fix else (),
                )
        yield from _chosen_twice(context, choices, reported)


def _checked_first(context: RuleContext, site: Site) -> bool:
    """The program looks before it chooses: the call is under a test of
    `get_start_method(allow_none=True)` (None until something chose), or in a `try` whose
    `except` catches the RuntimeError."""
    model = context.model
    if catches(site, ("RuntimeError",)):
        return True
    for condition in site.conditions():
        for call in nodes_within(condition.test):
            symbol = model.resolve(call.func) if isinstance(call, cst.Call) else None
            if symbol is not None and symbol.qualname == "multiprocessing.get_start_method":
                return True
    return False


def _library_message(choice: StartMethodChoice) -> str:
    if choice.explicit:
        return (f"`{_CODE(choice.site.node)}` at import time of a module others import chooses the start "
                "method for every program that imports it (their own `set_start_method()` then raises "
                "RuntimeError: context has already been set); accept a `multiprocessing.get_context(...)` "
                "object from the caller instead")
    instead = {"get_start_method()": "use `get_start_method(allow_none=True)`",
               "get_context()": "pass the method, or accept a context from the caller"}.get(
        choice.label, "make it from a context (`multiprocessing.get_context(...)`) or when it is first needed")
    return (f"`{choice.label}` at import time fixes the global start method for every program that imports "
            "this module (their own `set_start_method()` then raises RuntimeError: context has already been "
            f"set); {instead}")


def _chosen_twice(context: RuleContext, choices: list[StartMethodChoice], reported: set[int]) -> Iterator[Violation]:
    """`set_start_method()` without force after a call that always ran before it: one in the
    same scope, earlier, under the same conditions (its regions a prefix of this one's)."""
    model = context.model
    for later in choices:
        if not later.explicit or later.force or id(later.site.node) in reported:
            continue
        for earlier in choices:
            if earlier is later or earlier.site.scope is not later.site.scope or \
                    not _runs_before(context, earlier.site, later.site):
                continue
            line = model.position(earlier.site.node).start.line
            yield Violation(
                later.site.node,
                f"`{_CODE(later.site.node)}` raises RuntimeError: context has already been set: "
                f"`{earlier.label}` on line {line} already fixed the start method; choose it once "
                "(or pass `force=True`), or use `multiprocessing.get_context(...)` objects",
            )
            break


def _runs_before(context: RuleContext, earlier: Site, later: Site) -> bool:
    model = context.model
    if len(earlier.regions) > len(later.regions) or \
            any(a is not b for a, b in zip(earlier.regions, later.regions)):
        return False
    first, second = model.position(earlier.node).start, model.position(later.node).start
    return (first.line, first.column) < (second.line, second.column)


def _move_into_main_guard(context: RuleContext, site: Site) -> Fix | None:
    """Move the statement (alone on its line, or the only statement of an `if` with no `else`
    at module level) to the start of the one plain main guard after it, when every statement
    between them only defines names."""
    model = context.model
    top = site.top
    statement = site.statement
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1 or \
            not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not site.node:
        return None
    if top is not statement and not (isinstance(top, cst.If) and top.orelse is None
                                     and isinstance(top.body, cst.IndentedBlock) and list(top.body.body) == [statement]):
        return None
    body = list(model.module.body)
    index = body.index(top)
    guards = [node for node in body[index + 1:] if model.is_main_guard(node)]
    if len(guards) != 1 or not model.is_plain_main_guard(guards[0]):
        return None
    guard = guards[0]
    toplevel = TopLevel(model)
    for node in body[index + 1: body.index(guard)]:
        statement_info = toplevel.of(node)
        if not (is_definition(node) or is_constant_assignment(node)
                or (statement_info is not None and toplevel.is_harmless(statement_info))):
            return None
    assert isinstance(guard, cst.If) and isinstance(guard.body, cst.IndentedBlock)
    fix = context.fix_context.fix()
    fix.move([top], before=guard.body.body[0])
    return fix.build(Applicability.SAFE, "Choose the start method first thing under `if __name__ == \"__main__\":`")
