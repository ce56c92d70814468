"""MP303: a process is joined before the parent drains the queue (or pipe) it writes to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import libcst as cst

from .. import apis
from ..findings import Applicability, EVERYWHERE, Fix, Violation
from ..model import Binding, Handed, SemanticModel, Site, Use, UseKind
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_WRITES = {"queue": frozenset({"put", "put_nowait"}), "pipe": frozenset({"send", "send_bytes"})}
_READS = {"queue": frozenset({"get", "get_nowait"}), "pipe": frozenset({"recv", "recv_bytes", "poll"})}
# Reads that block until an item arrives: moving them before the join reads the same items.
_BLOCKING_READS = {"queue": "get", "pipe": "recv"}


@dataclass(frozen=True)
class _Channel:
    """A queue or pipe end the parent made and handed to a process."""

    kind: str  # "queue" or "pipe"
    bindings: tuple[Binding, ...]  # the parent's names for what it handed over
    readers: tuple[Binding, ...]  # the names the parent reads through (a pipe's other end)
    handed: Handed


class JoinBeforeDrain(Rule):
    code = "MP303"
    name = "join-before-drain"
    summary = "Process joined before the parent reads the queue or pipe it writes to (deadlock)"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags `p.join()` (no timeout) on a process that was handed a "
            "`multiprocessing.Queue`/`JoinableQueue`/`SimpleQueue` or a `Pipe()` end the parent "
            "made, writes to it in its target (`put()`, `send()`; a target that is not a function "
            "of this file counts as a writer when the parent only reads), and whose data the "
            "parent reads (`get()`, `recv()`) only after that join, in the same function. The "
            "process may be a name, or an item of a list of processes (`for p in procs: "
            "p.join()`)."
        ),
        why=(
            "The multiprocessing programming guidelines, \"Joining processes that use queues\": "
            "\"a process that has put items in a queue will wait before terminating until all "
            "the buffered items are fed by the 'feeder' thread to the underlying pipe ... This "
            "means that whenever you use a queue you need to make sure that all items which have "
            "been put on the queue will eventually be removed before the process is joined. "
            "Otherwise you cannot be sure that processes which have put items on the queue will "
            "terminate.\" The pipe holds about 64 KiB on Linux: with small results the program "
            "works, and once the data grows the child blocks in its feeder thread (or in "
            "`send()`), the parent blocks in `join()`, and nothing moves again. Every platform "
            "and start method (`mpcheck facts 10`)."
        ),
        example=(
            "queue = multiprocessing.Queue()\n"
            "workers = [multiprocessing.Process(target=render, args=(queue, scene)) for scene in scenes]\n"
            "for worker in workers:\n    worker.start()\n"
            "for worker in workers:\n    worker.join()  # waits forever once the frames exceed the pipe\n"
            "frames = [queue.get() for _ in workers]\n"
        ),
        use_instead=(
            "queue = multiprocessing.Queue()\n"
            "workers = [multiprocessing.Process(target=render, args=(queue, scene)) for scene in scenes]\n"
            "for worker in workers:\n    worker.start()\n"
            "frames = [queue.get() for _ in workers]\n"
            "for worker in workers:\n    worker.join()\n"
        ),
        fix_safety=(
            "Where the statement right after the join (a `p.join()` line, or a loop that only "
            "joins) -- after any `results = []` that it fills -- is the drain and reads the queue "
            "with plain blocking `get()` (or `recv()`) calls, looking at the processes at most "
            "to count them, the fix moves it before the join. It is safe: a blocking `get()` waits for each item, so the drain reads the same "
            "items in the same order as before, only while the children can still hand them over; "
            "the join then finds them finished. No fix is offered for drains that depend on the "
            "children having ended (`empty()`, `qsize()`, `get_nowait()`, timeouts, "
            "`exitcode`), or that are not the next statement."
        ),
        references=(
            "`mpcheck facts 10` (docs/facts.md section 10): Queue/join deadlock",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing-programming",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing as mp

            def square(queue, n):
                queue.put(n * n)

            if __name__ == "__main__":
                queue = mp.Queue()
                workers = [mp.Process(target=square, args=(queue, n)) for n in range(3)]
                for worker in workers:
                    worker.start()
                results = sorted(queue.get() for _ in workers)
                for worker in workers:
                    worker.join()
                print(results)
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def consume(queue):
                while (item := queue.get()) is not None:
                    print(item)

            if __name__ == "__main__":
                # The child reads; the parent writes: joining after the sentinel is right.
                queue = mp.Queue()
                worker = mp.Process(target=consume, args=(queue,))
                worker.start()
                queue.put("job")
                queue.put(None)
                worker.join()
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def report(queue):
                queue.put("done")

            if __name__ == "__main__":
                queue = mp.Queue()
                worker = mp.Process(target=report, args=(queue,))
                worker.start()
                worker.join(timeout=5)  # gives up instead of waiting forever
                print(queue.get())
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing as mp

            def render(queue, scene):
                queue.put(scene * 100_000)

            def render_all(scenes):
                queue = mp.Queue()
                workers = [mp.Process(target=render, args=(queue, scene)) for scene in scenes]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
                frames = [queue.get() for _ in workers]
                return sorted(frames)
            """,
            line=12,
            column=9,
            message="joins a process that writes to `queue`",
            fixed="""
            import multiprocessing as mp

            def render(queue, scene):
                queue.put(scene * 100_000)

            def render_all(scenes):
                queue = mp.Queue()
                workers = [mp.Process(target=render, args=(queue, scene)) for scene in scenes]
                for worker in workers:
                    worker.start()
                frames = [queue.get() for _ in workers]
                for worker in workers:
                    worker.join()
                return sorted(frames)
            """,
        ),
        Invalid(
            """
            import multiprocessing

            def load(connection, path):
                connection.send(open(path, "rb").read())

            if __name__ == "__main__":
                parent_end, child_end = multiprocessing.Pipe()
                loader = multiprocessing.Process(target=load, args=(child_end, "data.bin"))
                loader.start()
                loader.join()
                if parent_end.poll():
                    print(len(parent_end.recv()))
            """,
            message="pipe end `child_end`",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for site in model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if not _is_plain_join(model, call):
                continue
            process = call.func.value  # type: ignore[attr-defined]
            for channel in _channels(model, process):
                before, after = _parent_reads(model, channel, site)
                if before or not after:
                    continue
                what = f"`{channel.bindings[0].name}`" if channel.kind == "queue" else \
                    f"pipe end `{model.module.code_for_node(channel.handed.value)}`"
                yield Violation(
                    call,
                    f"`{model.module.code_for_node(call)}` joins a process that writes to {what}, which this "
                    f"function reads only after the join (line {model.position(after[0].node).start.line}): a "
                    "child cannot exit until what it wrote is taken from the pipe (about 64 KiB on Linux), so "
                    "once the data grows the join waits forever; read first, then join",
                    _drain_first(context, site, channel),
                )
                break


def _is_plain_join(model: SemanticModel, call: cst.Call) -> bool:
    """`p.join()` with no timeout, on an object made by `Process(...)` (or a subclass)."""
    if not isinstance(call.func, cst.Attribute) or call.func.attr.value != "join" or call.args:
        return False
    symbol = model.resolve(call.func)
    return symbol is not None and symbol.qualname == "multiprocessing.Process().join"


def _channels(model: SemanticModel, process: cst.BaseExpression) -> Iterator[_Channel]:
    """The queues and pipe ends the parent made and the processes `process` holds were handed."""
    seen: set[int] = set()
    for creation in model.objects.made_by(process):
        site = next((s for s in model.calls if s.node is creation), None)
        process_call = model.processes.process_call(site) if site is not None else None
        if process_call is None:
            continue
        for handed in model.processes.handed(process_call):
            if not isinstance(handed.value, cst.Name):
                continue
            reference = model.reference(handed.value)
            if reference is None or not reference.bindings or id(handed.value) in seen:
                continue
            kind = _channel_kind(model, reference.bindings)
            if kind is not None and _child_writes(model, kind, handed, reference.bindings):
                seen.add(id(handed.value))
                yield _Channel(kind, reference.bindings, _readers(model, kind, reference.bindings), handed)


def _channel_kind(model: SemanticModel, bindings: tuple[Binding, ...]) -> str | None:
    kinds = set()
    for binding in bindings:
        pair = model.objects.unpacked_from(binding)
        made = [pair] if pair is not None else model.objects.made_by_binding(binding)
        for call in made:
            symbol = model.resolve(call.func)
            if symbol is None:
                return None
            if pair is not None and symbol.qualname == "multiprocessing.Pipe":
                kinds.add("pipe")
            elif pair is None and apis.has_role(symbol.qualname, apis.Role.QUEUE):
                kinds.add("queue")
            else:
                return None
    return kinds.pop() if len(kinds) == 1 else None


def _readers(model: SemanticModel, kind: str, bindings: tuple[Binding, ...]) -> tuple[Binding, ...]:
    """The parent's names to read what the child writes: the queue itself, or both ends of
    the pipe (a duplex pipe is read at the end the child was not given)."""
    if kind == "queue":
        return bindings
    pairs = {id(model.objects.unpacked_from(binding)) for binding in bindings}
    return tuple(binding for binding in model.bindings if id(model.objects.unpacked_from(binding)) in pairs)


def _child_writes(model: SemanticModel, kind: str, handed: Handed, parent: tuple[Binding, ...]) -> bool:
    """The target writes to it: calls `put`/`send` on its parameter (or passes it on); a
    target of another module counts as a writer when the parent itself never writes."""
    if handed.parameter is not None:
        return any((use.kind is UseKind.METHOD and use.method in _WRITES[kind]) or use.kind is UseKind.ESCAPE
                   for use in model.objects.uses(handed.parameter))
    return not any(use.kind is UseKind.METHOD and use.method in _WRITES[kind]
                   for binding in parent for use in model.objects.uses(binding))


def _parent_reads(model: SemanticModel, channel: _Channel, join: Site) -> tuple[list[Use], list[Use]]:
    """The parent's reads of the channel in the join's function, before and after the join."""
    function = join.scope.enclosing_function()
    reads = [use for binding in channel.readers for use in model.objects.uses(binding)
             if use.kind is UseKind.METHOD and use.method in _READS[channel.kind]
             and use.site.scope.enclosing_function() is function]
    before = [use for use in reads if model.objects.runs_before(use.site, join)]
    after = [use for use in reads if model.objects.runs_before(join, use.site)]
    return before, after


def _drain_first(context: RuleContext, join: Site, channel: _Channel) -> tuple[Fix, ...]:
    """Move the statement after the join (the drain) before it, in the plain shape only."""
    model = context.model
    statement = _join_statement(model, join)
    block = statement and _block_of(model, statement, join)
    if statement is None or block is None:
        return ()
    body = list(block.body)
    index = body.index(statement)
    drain = []
    for following in body[index + 1:]:
        drain.append(following)
        if _is_plain_drain(model, following, channel, join):
            break
        if not _is_fresh_value(following):
            return ()
    else:
        return ()
    fix = context.fix_context.fix()
    fix.move(drain, before=statement)
    return (fix.build(Applicability.SAFE, "Read the queue before joining the processes"),)


def _is_fresh_value(statement: cst.BaseStatement) -> bool:
    """`results = []`, `total = 0`: a name given a new empty or literal value, which the
    drain may fill."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    return isinstance(small, cst.Assign) and all(isinstance(target.target, cst.Name) for target in small.targets) and \
        isinstance(small.value, (cst.List, cst.Dict, cst.Set, cst.Tuple, cst.Integer, cst.SimpleString)) and \
        not getattr(small.value, "elements", ())


def _join_statement(model: SemanticModel, join: Site) -> cst.BaseStatement | None:
    """`p.join()` on its own line, or the `for p in procs:` loop whose body is only that."""
    line = join.statement
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or \
            not isinstance(line.body[0], cst.Expr) or line.body[0].value is not join.node:
        return None
    holder = model.objects.parent(join.block, join.top) if join.block is not None else None
    if isinstance(holder, cst.For) and len(holder.body.body) == 1 and holder.orelse is None:
        return holder
    return line


def _block_of(model: SemanticModel, statement: cst.CSTNode, join: Site) -> cst.CSTNode | None:
    parent = model.objects.parent(statement, join.top)
    if parent is None and statement is join.top:
        return model.module
    return parent if isinstance(parent, (cst.IndentedBlock, cst.Module)) else None


def _is_plain_drain(model: SemanticModel, statement: cst.BaseStatement, channel: _Channel, join: Site) -> bool:
    """`statement` reads the channel only with blocking `get()`/`recv()` and looks at the
    processes at most to count them (iterating their list, `len()`)."""
    reads = [use for binding in channel.readers for use in model.objects.uses(binding)
             if model.objects.holds(statement, use.site)]
    blocking = _BLOCKING_READS[channel.kind]
    if not reads or any(use.kind is not UseKind.METHOD or use.method != blocking or use.call is None
                        or use.call.args for use in reads):
        return False
    for inner in _references_within(model, statement, join):
        if any(_made_a_process(model, call) for call in model.objects.made_by(inner.node)):
            return False  # looks at a process itself (`exitcode`, `is_alive()`, ...)
        if any(_made_a_process(model, call) for call in model.objects.items_made_by(inner.node)):
            use = model.objects.use(inner)
            if use.kind is not UseKind.ITERATED and not (use.kind is UseKind.OTHER and isinstance(use.node, cst.Call)):
                return False  # the list of processes: only iterated or counted
    return True


def _made_a_process(model: SemanticModel, call: cst.Call) -> bool:
    symbol = model.resolve(call.func)
    return symbol is not None and symbol.qualname == "multiprocessing.Process"


def _references_within(model: SemanticModel, statement: cst.CSTNode, join: Site):
    scope = join.scope
    for candidate in scope.walk():
        for reference in candidate.references:
            if model.objects.holds(statement, reference.site):
                yield reference


