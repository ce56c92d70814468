"""MP202: the entry script of a frozen application starts processes without freeze_support()."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from ..findings import Applicability, Violation
from ..frozen import frozen_evidence
from ..model import Search, SemanticModel, argument, literal_string
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# What a script reads when it knows it may run frozen (PyInstaller sets both).
_FROZEN_ATTRIBUTES = ("sys.frozen", "sys._MEIPASS")


class MissingFreezeSupport(Rule):
    code = "MP202"
    name = "missing-freeze-support"
    summary = "Entry script of a frozen application starts processes without `multiprocessing.freeze_support()`"
    explanation = Explanation(
        what=(
            "Flags the `if __name__ == \"__main__\":` block of a script that starts processes "
            "(directly or through the functions it calls) and belongs to an application frozen "
            "into an executable, when the block never calls `multiprocessing.freeze_support()`. "
            "The script counts as frozen when it reads `sys.frozen` or `sys._MEIPASS` itself, "
            "or when its directory or a parent up to the project root (the nearest directory "
            "with .git, pyproject.toml, setup.py or setup.cfg) has a PyInstaller `.spec` file, "
            "a dependency on PyInstaller, cx_Freeze, Nuitka or py2exe (requirements files, "
            "`requirements/*.txt` and `*.in`, pyproject.toml dependencies, optional "
            "dependencies and dependency groups, Poetry, PDM, uv and Hatch tables, setup.cfg, "
            "setup.py, Pipfile, environment.yml), or a build script that imports one of them "
            "(`import PyInstaller.__main__`, `from cx_Freeze import setup`) or carries Nuitka's "
            "`# nuitka-project:` options. The message names that evidence."
        ),
        why=(
            "A frozen executable has no separate interpreter to run the child: spawn starts the "
            "executable itself with `--multiprocessing-fork` arguments, and only "
            "`freeze_support()` turns that run into a worker. Without it the child runs the "
            "program again from the top; the guard does not stop it, because the child is "
            "`__main__` too, and multiprocessing refuses the nested start with the "
            "\"bootstrapping phase\" RuntimeError:\n\n"
            "    RuntimeError:\n"
            "            An attempt has been made to start a new process before the\n"
            "            current process has finished its bootstrapping phase.\n"
            "            ...\n"
            "                if __name__ == '__main__':\n"
            "                    freeze_support()\n"
            "                    ...\n\n"
            "Where: frozen applications on Windows (spawn, every version). On Python 3.13.4+ and "
            "3.14, `freeze_support()` acts on any platform whose start method is spawn (macOS, "
            "and Linux where spawn is chosen); before that, frozen macOS and Linux apps depend on "
            "the freezer's own runtime hook (`mpcheck facts 4`)."
        ),
        example=(
            "import multiprocessing\n\n"
            "def convert(path):\n    ...\n\n"
            "if __name__ == \"__main__\":\n"
            "    with multiprocessing.Pool() as pool:\n"
            "        pool.map(convert, [\"a.wav\", \"b.wav\"])\n"
        ),
        use_instead=(
            "import multiprocessing\n\n"
            "def convert(path):\n    ...\n\n"
            "if __name__ == \"__main__\":\n"
            "    multiprocessing.freeze_support()\n"
            "    with multiprocessing.Pool() as pool:\n"
            "        pool.map(convert, [\"a.wav\", \"b.wav\"])\n"
        ),
        fix_safety=(
            "The fix inserts `multiprocessing.freeze_support()` as the first statement of the "
            "guard (adding `import multiprocessing` when the module has no such import). It is "
            "safe: `freeze_support()` does nothing unless the program runs frozen as a spawned "
            "child."
        ),
        options=(
            "`process-apis`: the project's own functions that start processes count as starters here too",
        ),
        references=(
            "`mpcheck facts 4` (docs/facts.md section 4): `freeze_support()` and frozen executables",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.freeze_support",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing
            import sys

            BUNDLE = getattr(sys, "frozen", False)

            if __name__ == "__main__":
                multiprocessing.freeze_support()
                multiprocessing.Process(target=print).start()
            """
        ),
        Valid(
            """
            # Not a frozen application: nothing tells us so.
            import multiprocessing

            if __name__ == "__main__":
                multiprocessing.Process(target=print).start()
            """
        ),
        Valid(
            """
            import sys

            if getattr(sys, "frozen", False):
                print("frozen")
            if __name__ == "__main__":
                print("no processes here")
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing as mp
            import sys

            ASSETS = sys._MEIPASS if hasattr(sys, "_MEIPASS") else "assets"

            def render(name):
                print("rendering", name)

            def main():
                workers = [mp.Process(target=render, args=(name,)) for name in ("a", "b")]
                for worker in workers:
                    worker.start()

            if __name__ == "__main__":
                # Entry point of the desktop app.
                main()
            """,
            line=14,
            column=4,
            message="Process.start() (through main())",
            fixed="""
            import multiprocessing as mp
            import sys

            ASSETS = sys._MEIPASS if hasattr(sys, "_MEIPASS") else "assets"

            def render(name):
                print("rendering", name)

            def main():
                workers = [mp.Process(target=render, args=(name,)) for name in ("a", "b")]
                for worker in workers:
                    worker.start()

            if __name__ == "__main__":
                mp.freeze_support()
                # Entry point of the desktop app.
                main()
            """,
        ),
        Invalid(
            """
            import sys
            from concurrent.futures import ProcessPoolExecutor

            if __name__ == "__main__":
                print("frozen:", getattr(sys, "frozen", False))
                with ProcessPoolExecutor() as executor:
                    print(list(executor.map(abs, [-1, -2])))
            """,
            message="ProcessPoolExecutor.map()",
            fixed="""
            import sys
            from concurrent.futures import ProcessPoolExecutor
            import multiprocessing

            if __name__ == "__main__":
                multiprocessing.freeze_support()
                print("frozen:", getattr(sys, "frozen", False))
                with ProcessPoolExecutor() as executor:
                    print(list(executor.map(abs, [-1, -2])))
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        evidence: str | None = None
        for guard in model.module.body:
            if not (model.is_main_guard(guard) and isinstance(guard, cst.If) and isinstance(guard.body, cst.IndentedBlock)):
                continue
            sites = [site for site in model.processes.calls_of(None) if site.top is guard]
            start = next((found for site in sites
                          if (found := model.processes.process_start(site, looking_for=Search.ANY_PROCESS))), None)
            if start is None or any(model.processes.process_start(site, looking_for=Search.FREEZE_SUPPORT)
                                    for site in sites):
                continue  # no process, or freeze_support() is called (also inside main())
            if evidence is None:  # looked for once, and only for a script that starts processes
                evidence = _frozen_evidence(model, context.path)
                if not evidence:
                    return
            fix = context.fix_context.fix()
            module = fix.need_module("multiprocessing", before=guard)
            fix.insert_before(guard.body.body[0], [fix.statement(f"{module}.freeze_support()")])
            fix = fix.build(Applicability.SAFE, "Call `multiprocessing.freeze_support()` first in the main guard")
            # Windows has no resource tracker: there a process started later is the one that breaks.
            process = next((found for site in sites if (found := model.processes.process_start(site))), None)
            starts = start.describe() if process in (start, None) else \
                f"{start.describe()} (on Windows, {process.describe()})"
            yield Violation(
                guard.test,
                f"{starts} in the entry script of a frozen application ({evidence}) without "
                "`multiprocessing.freeze_support()`: each frozen child runs the program again "
                "(RuntimeError: bootstrapping phase); call it first in the guard",
                (fix,),
                breaks_on=self.breaks_on if process is not None else
                tuple(breakage for breakage in self.breaks_on if breakage.platform != "windows"),
            )


def _frozen_evidence(model: SemanticModel, path: str) -> str:
    """Why the script counts as part of a frozen app ("" when nothing says so): what it
    reads itself, else what its project says (frozen.py) -- unless that names the scripts
    it freezes (a PyInstaller spec) and this is not one of them."""
    attribute = _frozen_state_read(model)
    if attribute is not None:
        return f"the script reads `{attribute}`"
    found = frozen_evidence(path)
    return "" if found is None or not found.freezes(path) else found.describe()


def _frozen_state_read(model: SemanticModel) -> str | None:
    """`sys.frozen` or `sys._MEIPASS` when the script reads it (also through getattr/hasattr)."""
    for site in model.attributes:
        symbol = model.resolve(site.node)
        if symbol is not None and symbol.qualname in _FROZEN_ATTRIBUTES:
            return symbol.qualname
    for site in model.calls:
        function = model.resolve(site.node.func)
        if function is not None and function.qualname in ("getattr", "hasattr"):
            owner = model.resolve(argument(site.node, 0))
            name = literal_string(argument(site.node, 1))
            if owner is not None and f"{owner.qualname}.{name}" in _FROZEN_ATTRIBUTES:
                return f"{owner.qualname}.{name}"
    return None
