"""MP701: `qsize()` of a multiprocessing queue (or a semaphore's `get_value()`), which raises
NotImplementedError on macOS."""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from .. import apis
from ..findings import Applicability, Breakage, Fix, Violation, narrow
from ..model import Site
from ..model.names import member
from ..model.regions import catches
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# Where sem_getvalue() is missing: macOS, every version (facts §7).
WHERE_SEM_GETVALUE_IS_MISSING = (Breakage("macos"),)
_METHODS = ("qsize", "get_value")


class QueueQsize(Rule):
    code = "MP701"
    name = "queue-qsize"
    summary = "`qsize()` of a multiprocessing queue (or `get_value()` of a semaphore), which macOS does not implement"
    breaks_on = WHERE_SEM_GETVALUE_IS_MISSING
    explanation = Explanation(
        what=(
            "Flags `qsize()` called on a `multiprocessing` queue (`Queue`, `JoinableQueue`, of "
            "any context: `get_context(\"spawn\").Queue()`, `torch.multiprocessing`, `billiard`) "
            "and `get_value()` called on a `Semaphore` or `BoundedSemaphore`. The queue is "
            "followed through names, attributes set in `__init__` (`self.tasks = Queue()`) and "
            "the arguments this file passes to a function (`Process(target=worker, "
            "args=(tasks,))` makes `worker`'s parameter that queue). A manager's queue "
            "(`Manager().Queue()`), `queue.Queue`, `asyncio.Queue` and other look-alikes are "
            "not flagged: their `qsize()` works everywhere. Calls inside "
            "`if sys.platform != \"darwin\":` or in a `try` that catches `NotImplementedError` "
            "are not flagged either."
        ),
        why=(
            "`Queue.qsize()` is `self._maxsize - self._sem._semlock._get_value()`, and the "
            "semaphore's value comes from `sem_getvalue()`, which macOS does not implement. "
            "There the call raises a bare\n\n"
            "    NotImplementedError\n\n"
            "(no message), on every Python version and under every start method; the "
            "multiprocessing documentation says so (\"this may raise NotImplementedError on "
            "Unix platforms like macOS where sem_getvalue() is not implemented\"), and CPython "
            "closed python/cpython#101094 without a fix. `Semaphore.get_value()` reads the "
            "same value and fails the same way. Linux and Windows implement both, but the "
            "number is only approximate there: another process may put or take an item at any "
            "moment (`mpcheck facts 7`)."
        ),
        example=(
            "import multiprocessing\n\n"
            "def worker(tasks):\n"
            "    while tasks.qsize() > 0:\n"
            "        handle(tasks.get())\n"
        ),
        use_instead=(
            "import multiprocessing\n"
            "import queue\n\n"
            "def worker(tasks):\n"
            "    while True:\n"
            "        try:\n"
            "            job = tasks.get(timeout=1)\n"
            "        except queue.Empty:\n"
            "            break\n"
            "        handle(job)\n"
        ),
        fix_safety=(
            "No fix for a count that is used as a number (a progress message, arithmetic): "
            "count the items yourself (a `multiprocessing.Value` incremented by producers and "
            "decremented by consumers), use sentinels, or poll with `get(timeout=...)` and "
            "`queue.Empty`. A count that is only compared with zero (`qsize() == 0`, "
            "`qsize() > 0`, `if q.qsize():`, `not q.qsize()`) becomes `empty()` with "
            "`--unsafe-fixes`. That fix is unsafe because the two answer slightly different "
            "questions: `qsize()` counts the items put, `empty()` whether one has reached the "
            "queue's pipe, so right after a `put()` in another process `empty()` may still say "
            "True. Both are unreliable for control flow between processes."
        ),
        references=(
            "`mpcheck facts 7` (docs/facts.md section 7): macOS `Queue.qsize()` NotImplementedError",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Queue.qsize",
            "https://github.com/python/cpython/issues/101094",
        ),
    )

    VALID = [
        Valid(
            """
            import queue
            import asyncio

            backlog = queue.Queue()
            print(backlog.qsize())

            async def pending(events: asyncio.Queue) -> int:
                return events.qsize()
            """
        ),
        Valid(
            """
            import multiprocessing

            if __name__ == "__main__":
                with multiprocessing.Manager() as manager:
                    shared = manager.Queue()
                    shared.put(1)
                    print(shared.qsize())  # a proxy of a queue.Queue: works on macOS
            """
        ),
        Valid(
            """
            import multiprocessing, sys

            def backlog(tasks: multiprocessing.Queue) -> int:
                if sys.platform == "darwin":
                    return -1
                return tasks.qsize()
            """
        ),
        Valid(
            """
            import multiprocessing

            def backlog(tasks):
                try:
                    return tasks.qsize()
                except NotImplementedError:  # macOS
                    return None

            backlog(multiprocessing.Queue())
            """
        ),
        Valid(
            """
            import multiprocessing
            import multiprocessing.queues


            class CountingQueue(multiprocessing.queues.Queue):
                # qsize() that works on macOS: a shared counter.

                def __init__(self):
                    super().__init__(ctx=multiprocessing.get_context())
                    self.size = multiprocessing.Value("i", 0)

                def qsize(self):
                    return self.size.value


            jobs = CountingQueue()
            print(jobs.qsize())
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing as mp


            def report(jobs):
                print(f"{jobs.qsize()} jobs waiting")


            if __name__ == "__main__":
                ctx = mp.get_context("spawn")
                jobs = ctx.Queue()
                report(jobs)
            """,
            line=5,
            column=14,
            message="`Queue.qsize()` raises NotImplementedError on macOS",
        ),
        Invalid(
            """
            import multiprocessing


            class Scheduler:
                def __init__(self):
                    self.pending = multiprocessing.JoinableQueue()

                def idle(self):
                    return self.pending.qsize() == 0
            """,
            line=9,
            column=16,
            unsafe_fixed="""
            import multiprocessing


            class Scheduler:
                def __init__(self):
                    self.pending = multiprocessing.JoinableQueue()

                def idle(self):
                    return self.pending.empty()
            """,
        ),
        Invalid(
            """
            from multiprocessing import Process, Queue


            def drain(inbox, outbox):
                while inbox.qsize():
                    outbox.put(inbox.get() * 2)


            if __name__ == "__main__":
                inbox, outbox = Queue(), Queue()
                Process(target=drain, args=(inbox, outbox)).start()
            """,
            line=5,
            column=11,
            unsafe_fixed="""
            from multiprocessing import Process, Queue


            def drain(inbox, outbox):
                while not inbox.empty():
                    outbox.put(inbox.get() * 2)


            if __name__ == "__main__":
                inbox, outbox = Queue(), Queue()
                Process(target=drain, args=(inbox, outbox)).start()
            """,
        ),
        Invalid(
            """
            import multiprocessing

            slots = multiprocessing.BoundedSemaphore(4)
            print("free slots:", slots.get_value())
            """,
            line=4,
            column=22,
            message="`BoundedSemaphore.get_value()` raises NotImplementedError on macOS",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for site in model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in _METHODS or call.args:
                continue
            method = call.func.attr.value
            # Through `member`: a subclass of this file that counts the items itself
            # (the usual macOS workaround) has a qsize() of its own.
            methods = [member(model, symbol, method) for symbol in model.symbols_reaching(call.func.value)]
            api = next((apis.lookup(found.qualname) for found in methods
                        if found is not None and apis.has_role(found.qualname, apis.Role.SEM_GETVALUE)), None)
            if api is None or not model.runs_at_runtime(site) or catches(site, ("NotImplementedError",)):
                continue
            facts = model.facts(site)
            yield Violation(
                call,
                f"`{api.label}` raises NotImplementedError on macOS, which lacks sem_getvalue(); "
                + ("count the items yourself, or use `empty()` or `get(timeout=...)`" if method == "qsize"
                   else "keep the count yourself, in a `multiprocessing.Value`"),
                fixes=tuple(_empty_fix(context, site)) if method == "qsize" else (),
                breaks_on=narrow(self.breaks_on, facts.platforms, facts.versions),
            )


# `qsize()` compared with zero: (operator, the side the call is on) -> whether the
# comparison holds when the queue is empty.
_EMPTY_WHEN = {
    (cst.Equal, "left"): True, (cst.Equal, "right"): True, (cst.LessThanEqual, "left"): True,
    (cst.NotEqual, "left"): False, (cst.NotEqual, "right"): False, (cst.GreaterThan, "left"): False,
    (cst.LessThan, "right"): False, (cst.GreaterThanEqual, "right"): True,
}


def _empty_fix(context: RuleContext, site: Site) -> Iterator[Fix]:
    """`q.qsize() == 0` -> `q.empty()`, `q.qsize() > 0` and `if q.qsize():` -> `not
    q.empty()` (unsafe: see the rule's fix safety)."""
    call = site.node
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    empty = cst.Call(func=call.func.with_changes(attr=cst.Name("empty")))
    for node in _enclosing(site):
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1 \
                and context.model.value_of(_other_side(node, call)) == 0:
            side = "left" if node.left is call else "right"
            holds = _EMPTY_WHEN.get((type(node.comparisons[0].operator), side))
            if holds is None:
                return
            replacement, target = (empty if holds else _negated(empty)), node
            break
        if isinstance(node, (cst.If, cst.While)) and node.test is call:
            replacement, target = _negated(empty), call
            break
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not) and node.expression is call:
            replacement, target = empty, node
            break
    else:
        return
    fix = context.fix_context.fix()
    fix.replace(target, replacement.with_changes(lpar=target.lpar, rpar=target.rpar)
                if isinstance(target, cst.BaseExpression) else replacement)
    yield fix.build(Applicability.UNSAFE, "Use `empty()` instead of comparing `qsize()` with zero")


def _enclosing(site: Site) -> list[cst.CSTNode]:
    """The nodes of `site`'s statement that directly hold its node, innermost first."""
    found: list[cst.CSTNode] = []

    def holds(node: cst.CSTNode) -> bool:
        for child in node.children:
            if child is site.node or holds(child):
                found.append(node)
                return True
        return False

    if site.statement is not None:
        holds(site.statement)
    return found


def _other_side(comparison: cst.Comparison, call: cst.Call) -> cst.BaseExpression | None:
    target = comparison.comparisons[0]
    if comparison.left is call:
        return target.comparator
    return comparison.left if target.comparator is call else None


def _negated(expression: cst.BaseExpression) -> cst.UnaryOperation:
    return cst.UnaryOperation(operator=cst.Not(), expression=expression)
