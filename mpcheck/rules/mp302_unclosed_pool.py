"""MP302: a process pool or executor that is not closed on every path of its scope."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from .. import apis
from ..findings import Applicability, EVERYWHERE, Fix, Violation
from ..model import Binding, Kind, SemanticModel, Site, UseKind
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# What finishes a pool or an executor.
_CLOSING = ("close", "terminate", "shutdown")
# The pools whose workers a program must finish: the stdlib pool (and its families) and executor.
_POOLS = frozenset({"multiprocessing.Pool", "concurrent.futures.ProcessPoolExecutor"})
# Methods that return their results themselves: a pool used only through them needs no later reads.
_SYNCHRONOUS = frozenset({"map", "starmap", "apply"})


class UnclosedPool(Rule):
    code = "MP302"
    name = "unclosed-pool"
    summary = "`Pool`/`ProcessPoolExecutor` not closed on every path (no `with`, `close()`, `shutdown()`)"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags a `multiprocessing.Pool` (also a context's or torch's) or a "
            "`concurrent.futures.ProcessPoolExecutor` that is made outside a `with` statement and "
            "not finished -- `close()`, `terminate()`, `shutdown()`, a later `with pool:` or "
            "`with contextlib.closing(pool):` -- on every path from where it is made to the end "
            "of its scope (a `return`, the end of the function or script, the end of a loop pass "
            "when it is made in a loop; a `finally` clause counts for all paths). A pool that is "
            "returned, stored in an attribute or a container, passed to a call or used by a "
            "nested function is someone else's to close and is not flagged; paths that raise are "
            "not counted. A close under a flag that is true wherever the pool is made counts on "
            "every path: a pool made only when none is given and closed `if own:` (with `own = "
            "pool is None; if own: pool = Pool()`, or `cleanup = True` beside the pool and "
            "`cleanup = False` in the other branch, as dask does)."
        ),
        why=(
            "A pool's worker processes live until the pool is closed. The multiprocessing "
            "documentation: \"multiprocessing.pool objects have internal resources that need to "
            "be properly managed (like any other resource) by using the pool as a context manager "
            "or by calling close() and terminate() manually. Failure to do this can lead to the "
            "process hanging on finalization. Note that it is not correct to rely on the garbage "
            "collector to destroy the pool as CPython does not assure that the finalizer of the "
            "pool will be called.\" In CPython a pool made in a function is usually collected when "
            "the function returns, and its workers end then; but when anything keeps the frame "
            "alive -- an exception stored with its traceback, a reference cycle, a module global, "
            "an interpreter without reference counting -- the workers stay until the program ends, "
            "a pool's worth more per call, and the collected pools print `Exception ignored in: <function "
            "Pool.__del__ ...>` / `OSError: [Errno 9] Bad file descriptor` at exit. Python 3.8+ "
            "warns `ResourceWarning: unclosed running multiprocessing pool` (shown with `-W "
            "always`). An executor that is never shut down keeps its workers until it is collected "
            "or the interpreter exits. On every platform and start method (`mpcheck facts 10`)."
        ),
        example=(
            "from multiprocessing import Pool\n\n"
            "def thumbnails(paths):\n"
            "    pool = Pool(4)\n"
            "    return pool.map(make_thumbnail, paths)\n"
        ),
        use_instead=(
            "from multiprocessing import Pool\n\n"
            "def thumbnails(paths):\n"
            "    with Pool(4) as pool:\n"
            "        return pool.map(make_thumbnail, paths)\n"
        ),
        fix_safety=(
            "Where the pool is a local name assigned once and used only by the statements that "
            "follow it in the same block, the fix makes it a `with` block around those statements "
            "(up to the last one that uses the pool or a result it handed back). It is safe: the "
            "pool is finished right after its last use instead of never, and everything it "
            "computed was read by then. No fix is offered when a result of `apply_async`, "
            "`map_async`, `imap`, `submit` is returned, passed on or never read (the `with` exit "
            "would end work still running: `Pool.__exit__` calls `terminate()`), or the pool is "
            "used across blocks."
        ),
        references=(
            "`mpcheck facts 10` (docs/facts.md section 10): Pool lifecycle (close/join, ResourceWarning)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
    )

    VALID = [
        Valid(
            """
            from multiprocessing import Pool

            def squares(numbers):
                pool = Pool(2)
                try:
                    return pool.map(abs, numbers)
                finally:
                    pool.close()
                    pool.join()
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor

            class Service:
                def __init__(self):
                    self.executor = ProcessPoolExecutor(2)  # the service shuts it down

                def stop(self):
                    self.executor.shutdown()

            def make_pool():
                from multiprocessing import Pool
                return Pool(2)  # the caller's to close
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            if __name__ == "__main__":
                pool = mp.Pool(2)
                print(pool.map(abs, [-1, -2]))
                pool.close()
                pool.join()
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor


            def run(tasks, pool=None):
                if pool is None:  # made here only when the caller lends none
                    pool = ProcessPoolExecutor(2)
                    cleanup = True
                else:
                    cleanup = False
                try:
                    return list(pool.map(abs, tasks))
                finally:
                    if cleanup:
                        pool.shutdown()
            """
        ),
        Valid(
            """
            from multiprocessing.pool import ThreadPool

            pool = ThreadPool(2)  # threads, not processes
            print(pool.map(abs, [-1]))
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            from multiprocessing import Pool

            def thumbnails(paths):
                pool = Pool(2)
                # one thumbnail per path
                sizes = pool.map(len, paths)
                return sorted(sizes)
            """,
            line=4,
            column=12,
            message="`Pool()` held in `pool` is not closed",
            fixed="""
            from multiprocessing import Pool

            def thumbnails(paths):
                with Pool(2) as pool:
                    # one thumbnail per path
                    sizes = pool.map(len, paths)
                return sorted(sizes)
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            def measure(paths, verbose):
                pool = mp.Pool(2)
                if not paths:
                    return []
                sizes = pool.map(len, paths)
                pool.close()
                pool.join()
                return sizes
            """,
            message="not closed on every path",
            fixed="""
            import multiprocessing as mp

            def measure(paths, verbose):
                with mp.Pool(2) as pool:
                    if not paths:
                        return []
                    sizes = pool.map(len, paths)
                    pool.close()
                    pool.join()
                return sizes
            """,
        ),
        Invalid(
            """
            from concurrent.futures import ProcessPoolExecutor

            def start(jobs):
                executor = ProcessPoolExecutor(2)
                return [executor.submit(len, job) for job in jobs]
            """,
            message="`ProcessPoolExecutor()` held in `executor` is not shut down",
        ),
        Invalid(
            """
            from multiprocessing import Pool

            def lengths(words):
                return Pool(2).map(len, words)
            """,
            message="`Pool()` is never closed",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for site in model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            api = _pool_api(model, call)
            if api is None or not model.runs_at_runtime(site):
                continue
            executor = "Executor" in api.label
            verb = "shut down" if executor else "closed"
            outlive = ("its worker processes live until it is collected or the program exits" if executor else
                       "its worker processes outlive it (ResourceWarning: unclosed running multiprocessing pool) "
                       "and, the multiprocessing documentation warns, can hang the program at finalization")
            holder = _holder(model, site)
            if holder is None:
                if _used_in_place(model, site):
                    yield Violation(call, f"`{api.label}` is never {verb}: {outlive}; use it in a `with` block")
                continue
            if model.objects.escapes(holder) is not None or model.objects.closed_on_every_path(holder, _CLOSING):
                continue
            never = not any(use.kind is UseKind.METHOD and use.method in _CLOSING for use in model.objects.uses(holder))
            yield Violation(
                call,
                f"`{api.label}` held in `{holder.name}` is not {verb} " + ("anywhere" if never else "on every path")
                + f": {outlive}; use it in a `with` block",
                _with_block(context, holder, call),
            )


def _pool_api(model: SemanticModel, call: cst.Call) -> apis.Api | None:
    symbol = model.resolve(call.func)
    if symbol is None or symbol.qualname not in _POOLS or symbol.flavour not in ("", "multiprocessing", "torch"):
        return None
    return apis.lookup(symbol.qualname)


def _holder(model: SemanticModel, site: Site) -> Binding | None:
    """The name `name = Pool(...)` binds, if the call is the whole value of such a statement."""
    statement = site.statement
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.Assign) or small.value is not site.node or len(small.targets) != 1 or \
            not isinstance(small.targets[0].target, cst.Name):
        return None
    return next((binding for binding in model.bindings if binding.node is small and binding.kind is Kind.ASSIGN), None)


def _used_in_place(model: SemanticModel, site: Site) -> bool:
    """`Pool(2).map(...)`: a method other than a closing one called on the new pool, which
    nothing keeps."""
    called = model.objects.method_call(site.node)
    return called is not None and called[0] not in _CLOSING


def _with_block(context: RuleContext, holder: Binding, creation: cst.Call) -> tuple[Fix, ...]:
    """`pool = Pool(); <uses>` -> `with Pool() as pool: <uses>` (see fix_safety)."""
    model = context.model
    statement, block = holder.site.statement, holder.site.block
    if statement is None or block is None or not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return ()
    body = list(block.body)
    index = body.index(statement)
    uses = model.objects.uses(holder)
    if any(use.kind in (UseKind.ESCAPE, UseKind.WITH) for use in uses):
        return ()
    last = index
    for use in uses:
        position = _statement_index(model, block, use.site)
        if position is None or position <= index:
            return ()  # used in another block, or before (a loop's next pass)
        last = max(last, position)
    for pending in model.objects.pending_results(holder):
        if pending.escapes or not (pending.consumed or pending.holders):
            return ()  # passed on, or nobody reads it: the with exit would end it early
        for result in pending.holders:
            reads = model.objects.uses(result)
            if not any(use.waits for use in reads):
                return ()
            for use in reads:
                position = _statement_index(model, block, use.site)
                if position is None or use.kind is UseKind.ESCAPE:
                    return ()
                last = max(last, position)
    if last == index:
        return ()  # never used: nothing to put in the block
    fix = context.fix_context.fix()
    moved = [fix.take(statement) for statement in body[index + 1:last + 1]]
    holes = {f"statement{number}": node for number, node in enumerate(moved)}
    lines = "".join(f"    {{statement{number}}}\n" for number in range(len(moved)))
    block_statement = fix.statement(f"with {{pool}} as {holder.name}:\n{lines}", pool=creation, **holes)
    fix.replace(statement, block_statement.with_changes(leading_lines=statement.leading_lines))
    return (fix.build(Applicability.SAFE, "Use the pool in a `with` block"),)


def _statement_index(model: SemanticModel, block: cst.CSTNode, site: Site) -> int | None:
    """The index in `block` of the statement that holds `site`, if one does."""
    statement = model.objects.statement_in(block, site.node, site.top)
    return None if statement is None else list(block.body).index(statement)  # type: ignore[attr-defined]
