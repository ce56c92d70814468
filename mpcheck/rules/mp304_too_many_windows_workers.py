"""MP304: a process pool sized above Windows' limit of 61 workers, or to the unclamped CPU count."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from .. import apis
from ..findings import Applicability, Breakage, Fix, Violation
from ..model import Bound, Site
from ..model.names import argument
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_LIMIT = apis.WINDOWS_MAX_WORKERS
# Pools of these families wait on their workers as the stdlib pool does (billiard has its own).
_FLAVOURS = frozenset({"", "multiprocessing", "torch", "multiprocess", "pathos"})


class TooManyWindowsWorkers(Rule):
    code = "MP304"
    name = "too-many-windows-workers"
    summary = "Process pool with more than 61 workers, or as many as the unclamped CPU count, on Windows"
    breaks_on = (Breakage("windows"),)
    explanation = Explanation(
        what=(
            "Flags a `multiprocessing.Pool` (also a context's, torch's, `multiprocess`'s and "
            "pathos' `ProcessPool`) or a `concurrent.futures.ProcessPoolExecutor` whose number of "
            "workers can exceed 61 on Windows: a literal above 61, or a CPU count taken as it is "
            "(`os.cpu_count()`, `multiprocessing.cpu_count()`, `psutil.cpu_count()`, directly or "
            "through names, arithmetic, `max()`, `or` and parameter defaults) that no `min(..., 61)` "
            "(or smaller) bounds. A `Pool` of the default size counts too: it starts "
            "`os.cpu_count()` workers, unclamped; a `ProcessPoolExecutor`'s default is clamped. "
            "Code that runs only on other platforms, or a clamp made only on Windows "
            "(`min(n, 61) if sys.platform == \"win32\" else n`), is not flagged."
        ),
        why=(
            "On Windows a pool waits on its worker processes with `WaitForMultipleObjects`, which "
            "takes at most 64 handles (63 usable). `ProcessPoolExecutor` checks for it, on every "
            "version:\n\n"
            "    ValueError: max_workers must be <= 61\n\n"
            "`multiprocessing.Pool` does not check: up to Python 3.12 its worker-handler thread "
            "dies with\n\n"
            "    ValueError: need at most 63 handles, got a sequence of length 66\n\n"
            "and the pool then hangs forever (python/cpython#94243; reported downstream as "
            "\"got a sequence of length 64\" and \"length 257\"). Python 3.13 waits in batches "
            "(gh-89240). Machines with 62 or more logical CPUs are ordinary workstations and "
            "servers, so a pool sized to the CPU count works on the developer's laptop and hangs "
            "on the big machine (`mpcheck facts 8`)."
        ),
        example=(
            "import os\n"
            "from concurrent.futures import ProcessPoolExecutor\n\n"
            "with ProcessPoolExecutor(max_workers=os.cpu_count()) as executor:\n"
            "    ...\n"
        ),
        use_instead=(
            "import os\n"
            "import sys\n"
            "from concurrent.futures import ProcessPoolExecutor\n\n"
            "with ProcessPoolExecutor(max_workers=min(61, os.cpu_count() or 1) if sys.platform == \"win32\" "
            "else os.cpu_count()) as executor:\n"
            "    ...\n"
        ),
        fix_safety=(
            "The fix clamps the number to 61 on Windows only: `N` becomes "
            "`min(61, N) if sys.platform == \"win32\" else N` (`N or 1` inside `min` when N is "
            "`os.cpu_count()`, which is None where the count is unknown). It is safe: elsewhere "
            "the expression is the original one, evaluated once, and on Windows the pool gets a "
            "size it can wait on."
        ),
        references=(
            "`mpcheck facts 8` (docs/facts.md section 8): Windows worker limit (61) and high CPU counts",
            "https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor",
            "https://github.com/python/cpython/issues/94243",
        ),
    )

    VALID = [
        Valid(
            """
            import os
            from multiprocessing import Pool

            with Pool(min(61, os.cpu_count() or 1)) as pool:
                pool.map(abs, [-1, -2])
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor

            # The executor clamps its default size to 61 on Windows itself.
            with ProcessPoolExecutor() as executor:
                print(list(executor.map(abs, [-1, -2])))
            """
        ),
        Valid(
            """
            import os
            import sys
            import multiprocessing as mp

            workers = os.cpu_count() or 1
            if sys.platform == "win32":
                workers = min(workers, 61)
            with mp.Pool(workers) as pool:
                pool.map(abs, [-1, -2])
            """
        ),
        Valid(
            """
            import os
            import sys
            from multiprocessing.pool import ThreadPool

            # Threads: no process handles to wait on.
            with ThreadPool(os.cpu_count() * 4) as pool:
                pool.map(abs, [-1, -2])
            if sys.platform != "win32":
                from multiprocessing import Pool
                with Pool(128) as pool:
                    pool.map(abs, [-1, -2])
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def run(items, processes):
                # The caller chooses: nothing tells how many.
                with mp.Pool(processes) as pool:
                    return pool.map(abs, items)

            def render(frames, **options):
                # The default size: the standard library's choice (clamped from Python 3.13).
                with mp.Pool() as pool:
                    pool.map(len, frames)
                with mp.Pool(processes=options.pop("processes", None)) as pool:
                    return pool.map(len, frames)
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import os
            from concurrent.futures import ProcessPoolExecutor

            def convert_all(paths):
                with ProcessPoolExecutor(max_workers=os.cpu_count()) as executor:
                    return list(executor.map(len, paths))
            """,
            line=5,
            column=42,
            message="ValueError: max_workers must be <= 61",
            fixed="""
            import os
            from concurrent.futures import ProcessPoolExecutor
            import sys

            def convert_all(paths):
                with ProcessPoolExecutor(
                    max_workers=(
                        min(61, os.cpu_count() or 1) if sys.platform == "win32" else os.cpu_count()
                    )
                ) as executor:
                    return list(executor.map(len, paths))
            """,
        ),
        Invalid(
            """
            import sys
            from multiprocessing import Pool

            WORKERS = 64

            if __name__ == "__main__":
                with Pool(WORKERS) as pool:
                    print(pool.map(abs, range(-3, 0)))
            """,
            message="64 workers: on Windows `Pool()` loses its worker-handler thread",
            fixed="""
            import sys
            from multiprocessing import Pool

            WORKERS = 64

            if __name__ == "__main__":
                with Pool(min(61, WORKERS) if sys.platform == "win32" else WORKERS) as pool:
                    print(pool.map(abs, range(-3, 0)))
            """,
        ),
        Invalid(
            """
            from pathos.helpers import cpu_count
            from pathos.multiprocessing import ProcessPool as Pool

            def parallel(function, items, num_cpus=None):
                if num_cpus is None:
                    num_cpus = cpu_count()
                with Pool(num_cpus) as pool:
                    return list(pool.imap(function, items))
            """,
            message="grows with `cpu_count()`, not clamped: on Windows, once it comes to more than 61 (enough "
                    "logical CPUs),",
            fixed="""
            from pathos.helpers import cpu_count
            from pathos.multiprocessing import ProcessPool as Pool
            import sys

            def parallel(function, items, num_cpus=None):
                if num_cpus is None:
                    num_cpus = cpu_count()
                with Pool(min(61, num_cpus) if sys.platform == "win32" else num_cpus) as pool:
                    return list(pool.imap(function, items))
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for site in model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            symbol = model.resolve(call.func)
            if symbol is None or symbol.flavour not in _FLAVOURS:
                continue
            api = apis.lookup(symbol.qualname)
            if api is None or api.workers_argument is None or not model.runs_at_runtime(site):
                continue
            facts = model.facts(site)
            until = api.windows_workers_until
            if "windows" not in facts.platforms or (until is not None and facts.versions[0] >= until):
                continue
            given = argument(call, api.workers_argument.position, api.workers_argument.keyword)
            bound = model.upper_bound(given, "windows") if given is not None else None
            if not isinstance(bound, Bound):
                continue  # the default size (see `what`), or nothing tells
            if bound.unbounded:
                hazard = f"a number of workers that grows with `{bound.source}`, not clamped"
            elif bound.limit > _LIMIT:
                hazard = f"{bound.limit:g} workers"
            else:
                continue
            yield self._violation(context, site, api, given, bound, hazard)

    def _violation(self, context: RuleContext, site: Site, api: apis.Api, given: cst.BaseExpression,
                   bound: Bound, hazard: str) -> Violation:
        call = site.node
        assert isinstance(call, cst.Call)
        if api.windows_workers_until is None:
            error = f"`{api.label}` raises `ValueError: max_workers must be <= {_LIMIT}`"
            breaks = (Breakage("windows"),)
        else:
            until = api.windows_workers_until
            error = (f"`{api.label}` loses its worker-handler thread (`ValueError: need at most 63 handles`) "
                     f"and hangs, up to Python {until[0]}.{until[1] - 1}")
            breaks = (Breakage("windows", until=until),)
        # A number that grows with the CPU count breaks on a machine where it comes to more
        # than the limit (`cpu_count() // 2` needs twice as many CPUs); a literal always does.
        where = f"on Windows, once it comes to more than {_LIMIT} (enough logical CPUs)," if bound.unbounded \
            else "on Windows"
        message = f"{hazard}: {where} {error}; clamp the number to {_LIMIT} on Windows"
        fix = _clamp(context, site, given, bound)
        return Violation(given, message, (fix,) if fix else (), breaks)


def _clamp(context: RuleContext, site: Site, given: cst.BaseExpression, bound: Bound) -> Fix | None:
    """`N` -> `min(61, N) if sys.platform == "win32" else N` (`N or 1` inside `min` when N
    may be None)."""
    if site.statement is None:
        return None
    fix = context.fix_context.fix()
    sys_module = fix.need_module("sys", before=site.statement)
    inner = "{given} or 1" if bound.may_be_none else "{given}"
    value = fix.expression(f'min({_LIMIT}, {inner}) if {sys_module}.platform == "win32" else {{again}}',
                           given=given, again=given.deep_clone())
    fix.replace(given, value)
    return fix.build(Applicability.SAFE, f"Clamp the number of workers to {_LIMIT} on Windows")
