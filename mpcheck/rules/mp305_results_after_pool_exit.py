"""MP305: results of a pool read after the `with Pool()` block that made them has exited."""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from .. import apis
from ..findings import Applicability, EVERYWHERE, Fix, Violation
from ..model import Binding, Kind, SemanticModel, Site, Use, UseKind
from ..model.objects import ends_the_flow
from .base import Explanation, Invalid, Rule, RuleContext, Valid



class ResultsAfterPoolExit(Rule):
    code = "MP305"
    name = "results-after-pool-exit"
    summary = "Results of `map_async`/`apply_async`/`imap` read after the `with Pool()` block that made them"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags a read -- `.get()`, `.wait()`, iteration, any use -- of a result that "
            "`map_async()`, `starmap_async()`, `apply_async()`, `imap()` or `imap_unordered()` "
            "handed back inside a `with Pool() as pool:` block, when the read comes after the "
            "block and nothing inside the block waited for it (`.get()`, `.wait()`, iteration) or "
            "for the pool (`pool.close()` then `pool.join()`). Results kept in a list "
            "(`results.append(pool.apply_async(...))`, a comprehension) count too. "
            "`ProcessPoolExecutor` is not flagged: its exit waits for pending work."
        ),
        why=(
            "`Pool.__exit__` calls `terminate()`, not `close()` and `join()`: the workers are "
            "killed with the work still queued, and a result that has not arrived never will. "
            "`.get()` then waits forever (with a timeout: `multiprocessing.context.TimeoutError`), "
            "and iterating an `imap()` result blocks the same way. It happens on every platform "
            "and start method; whether some results happen to arrive before the exit depends on "
            "timing, so the program may pass its tests and hang in production (`mpcheck facts 10`)."
        ),
        example=(
            "from multiprocessing import Pool\n\n"
            "with Pool(4) as pool:\n"
            "    pending = pool.map_async(resize, paths)\n"
            "print(pending.get())  # waits forever\n"
        ),
        use_instead=(
            "from multiprocessing import Pool\n\n"
            "with Pool(4) as pool:\n"
            "    pending = pool.map_async(resize, paths)\n"
            "    pool.close()\n"
            "    pool.join()\n"
            "print(pending.get())\n"
        ),
        fix_safety=(
            "The fix ends the block with `pool.close()` and `pool.join()` (only `join()` when the "
            "block already closes the pool): every task queued then finishes before `__exit__` "
            "terminates the workers, and the results read after the block are there. It is safe: "
            "reads inside the block are unchanged, and the reads after it return what they would "
            "have returned had the pool lived. No fix is offered when the block ends with "
            "`return`, `raise`, `break`, `continue` or `sys.exit()`, or is written on one line."
        ),
        references=(
            "`mpcheck facts 10` (docs/facts.md section 10): Pool lifecycle, `with` -> terminate",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
    )

    VALID = [
        Valid(
            """
            from multiprocessing import Pool

            with Pool(2) as pool:
                pending = pool.map_async(abs, [-1, -2])
                print(pending.get())
            """
        ),
        Valid(
            """
            from multiprocessing import Pool

            with Pool(2) as pool:
                pending = [pool.apply_async(abs, (n,)) for n in (-1, -2)]
                pool.close()
                pool.join()
            print([result.get() for result in pending])
            """
        ),
        Valid(
            """
            from concurrent.futures import ProcessPoolExecutor

            # The executor's exit waits for pending work.
            with ProcessPoolExecutor(2) as executor:
                future = executor.submit(abs, -1)
            print(future.result())
            """
        ),
        Valid(
            """
            from multiprocessing import Pool

            with Pool(2) as pool:
                squares = pool.imap(abs, [-1, -2])
                total = sum(squares)
            print(total, list(squares))
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            from multiprocessing import Pool

            def lengths(words):
                with Pool(2) as pool:
                    pending = pool.map_async(len, words)
                return pending.get()
            """,
            line=6,
            column=12,
            message="`Pool.__exit__` calls `terminate()`",
            fixed="""
            from multiprocessing import Pool

            def lengths(words):
                with Pool(2) as pool:
                    pending = pool.map_async(len, words)
                    pool.close()
                    pool.join()
                return pending.get()
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            if __name__ == "__main__":
                results = []
                with mp.get_context("spawn").Pool(2) as pool:
                    for n in range(3):
                        results.append(pool.apply_async(pow, (n, 2)))
                    pool.close()
                print([result.get(timeout=5) for result in results])
            """,
            message="`results` holds results of `Pool.apply_async()`",
            fixed="""
            import multiprocessing as mp

            if __name__ == "__main__":
                results = []
                with mp.get_context("spawn").Pool(2) as pool:
                    for n in range(3):
                        results.append(pool.apply_async(pow, (n, 2)))
                    pool.close()
                    pool.join()
                print([result.get(timeout=5) for result in results])
            """,
        ),
        Invalid(
            """
            from multiprocessing import Pool

            def first_lines(paths):
                with Pool() as pool: lines = pool.imap(open, paths)
                for line in lines:
                    yield line
            """,
            message="`lines` holds results of `Pool.imap()`",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for with_site in model.withs:
            statement = with_site.node
            assert isinstance(statement, cst.With)
            for item in statement.items:
                pool = _terminating_pool(model, item)
                if pool is None or _waits_for_the_pool(model, pool, statement):
                    continue
                for holder, pending, read in _late_reads(model, pool, statement):
                    yield Violation(
                        read.node,
                        f"`{holder.name}` holds results of `{_label(model, pending)}` made in the `with` block "
                        f"of line {model.position(statement).start.line}, and is read after the block: "
                        "`Pool.__exit__` calls `terminate()`, so results not yet in never arrive and reading "
                        f"them waits forever; call `{pool.name}.close()` and `{pool.name}.join()` at the end "
                        "of the block, or read them inside it",
                        _fixes(context, pool, statement),
                    )
                    break  # one finding per block: one fix covers every result


def _terminating_pool(model: SemanticModel, item: cst.WithItem) -> Binding | None:
    """The binding of `with Pool() as pool`, for a pool whose exit terminates it."""
    if item.asname is None or not isinstance(item.asname.name, cst.Name) or not isinstance(item.item, cst.Call):
        return None
    symbol = model.resolve(item.item.func)
    if symbol is None or not apis.has_role(symbol.qualname, apis.Role.EXIT_TERMINATES):
        return None
    return next((binding for binding in model.bindings if binding.node is item and binding.kind is Kind.WITH), None)


def _inside(site: Site, statement: cst.With) -> bool:
    return any(region.node is statement for region in site.withs())


def _waits_for_the_pool(model: SemanticModel, pool: Binding, statement: cst.With) -> bool:
    """`pool.join()` in the block (after `close()`, which join needs): every task is done."""
    methods = {use.method for use in model.objects.uses(pool) if use.kind is UseKind.METHOD and _inside(use.site, statement)}
    return {"close", "join"} <= methods


def _late_reads(model: SemanticModel, pool: Binding, statement: cst.With) -> Iterator[tuple[Binding, cst.Call, Use]]:
    """(holder, the pool call, the first read after the block) for each result nobody waited
    for inside the block."""
    with_site = next(site for site in model.withs if site.node is statement)
    for pending in model.objects.pending_results(pool):
        if pending.consumed or not _inside(pending.site, statement):
            continue
        for holder in pending.holders:
            uses = model.objects.uses(holder)
            if any(use.waits and _inside(use.site, statement) for use in uses):
                continue
            late = [use for use in uses if not _inside(use.site, statement) and use.kind is not UseKind.ESCAPE
                    and model.objects.runs_before(with_site, use.site) and not use.adds]
            if late:
                yield holder, pending.call, late[0]


def _label(model: SemanticModel, call: cst.Call) -> str:
    symbol = model.resolve(call.func)
    api = apis.lookup(symbol.qualname) if symbol is not None else None
    return api.label if api is not None else model.module.code_for_node(call.func) + "()"


def _fixes(context: RuleContext, pool: Binding, statement: cst.With) -> tuple[Fix, ...]:
    body = statement.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return ()
    last = body.body[-1]
    if ends_the_flow(context.model, last):
        return ()
    closed = any(use.kind is UseKind.METHOD and use.method == "close" and _inside(use.site, statement)
                 for use in context.model.objects.uses(pool))
    fix = context.fix_context.fix()
    lines = ([] if closed else [fix.statement(f"{pool.name}.close()")]) + [fix.statement(f"{pool.name}.join()")]
    fix.insert_after(last, lines)
    return (fix.build(Applicability.SAFE, "Close and join the pool at the end of the `with` block"),)
