"""MP306: processes handed a lock, semaphore, event or queue are never joined, and the parent
can drop the primitive before they open it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import libcst as cst

from .. import apis
from ..findings import Applicability, Fix, Violation
from ..model import Handed, Kind, ProcessCall, SemanticModel, Site, UseKind
from ..model.names import argument
from ..model.objects import ends_the_flow
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_PRIMITIVES = apis.Role.SYNC | apis.Role.QUEUE
# What the parent does that waits for its children (or for a message from them).
_WAITING = frozenset({"join", "get", "wait", "recv", "acquire"})


@dataclass(frozen=True)
class _Start:
    """A `start()` of processes made by `creation`, handed `primitive`, which `made` made."""

    site: Site  # the start() call
    creation: cst.Call
    process_call: ProcessCall
    primitive: Handed
    made: cst.Call


class UnjoinedProcessWithPrimitive(Rule):
    code = "MP306"
    name = "unjoined-process-with-primitive"
    summary = "Processes handed a Lock/Semaphore/Event/Queue are never joined before the parent lets it go"
    explanation = Explanation(
        what=(
            "Flags `start()` of a `Process` that was handed (in `args=`/`kwargs=`) a "
            "`multiprocessing` `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`, "
            "`Event`, `Barrier`, `Value`, `Array` or queue made by the parent, when no process "
            "made there is ever joined, none is a daemon, they are not handed on (returned, "
            "stored) and the parent does not wait for them afterwards (`get()`, `wait()`, "
            "`recv()`, `acquire()` on what it handed over), and the parent can let go of the "
            "primitive soon after: the script or main block ends, or the function that made the "
            "primitive returns."
        ),
        why=(
            "Under spawn and forkserver a child receives the primitive by pickle and opens its "
            "named semaphore by name while it starts up. The parent unlinks that name when the "
            "primitive is collected (its function returns) or when the program ends (the "
            "multiprocessing finalizers run before the exit handler waits for the children). A "
            "child that is still starting then dies with\n\n"
            "    FileNotFoundError: [Errno 2] No such file or directory\n\n"
            "The multiprocessing documentation's own Lock example (ten `Process(target=f, "
            "args=(lock, num)).start()` and no join) prints 10 lines under fork, 0 under spawn "
            "and about 6 under forkserver. Under fork the child inherits the semaphore and never "
            "looks it up, so the bug shows only where fork is not the default: Windows, macOS "
            "(3.8+), Linux from Python 3.14 (`mpcheck facts 10`)."
        ),
        example=(
            "from multiprocessing import Lock, Process\n\n"
            "if __name__ == \"__main__\":\n"
            "    lock = Lock()\n"
            "    for num in range(10):\n"
            "        Process(target=f, args=(lock, num)).start()\n"
        ),
        use_instead=(
            "from multiprocessing import Lock, Process\n\n"
            "if __name__ == \"__main__\":\n"
            "    lock = Lock()\n"
            "    workers = []\n"
            "    for num in range(10):\n"
            "        worker = Process(target=f, args=(lock, num))\n"
            "        worker.start()\n"
            "        workers.append(worker)\n"
            "    for worker in workers:\n"
            "        worker.join()\n"
        ),
        fix_safety=(
            "The fix keeps the process objects (in a list when they are started in a loop) and "
            "joins them at the end of the block that holds the starts. It is safe in the main "
            "block of a script that ends there: under fork the program waited for its children "
            "at exit anyway, and now they are joined before the primitive goes. In a function, "
            "or where more module code follows, the function (or that code) now waits for the "
            "children, so the fix needs `--unsafe-fixes`. No fix is offered when the block ends "
            "with `return`, `raise` or `sys.exit()`."
        ),
        references=(
            "`mpcheck facts 10` (docs/facts.md section 10): children outlived by the primitives they were given",
            "https://docs.python.org/3/library/multiprocessing.html#synchronization-between-processes",
        ),
    )

    VALID = [
        Valid(
            """
            from multiprocessing import Lock, Process

            def f(lock, i):
                with lock:
                    print("hello world", i)

            if __name__ == "__main__":
                lock = Lock()
                workers = [Process(target=f, args=(lock, num)) for num in range(10)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def report(queue, n):
                queue.put(n * n)

            if __name__ == "__main__":
                queue = mp.Queue()
                for n in range(3):
                    mp.Process(target=report, args=(queue, n)).start()
                print(sorted(queue.get() for _ in range(3)))  # waits for every child
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def watch(stop):
                stop.wait()

            if __name__ == "__main__":
                stop = mp.Event()
                mp.Process(target=watch, args=(stop,), daemon=True).start()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            from multiprocessing import Process, Lock

            def f(l, i):
                l.acquire()
                try:
                    print('hello world', i)
                finally:
                    l.release()

            if __name__ == '__main__':
                lock = Lock()

                for num in range(10):
                    Process(target=f, args=(lock, num)).start()
            """,
            line=14,
            column=9,
            message="`lock` (a `Lock()` made here)",
            fixed="""
            from multiprocessing import Process, Lock

            def f(l, i):
                l.acquire()
                try:
                    print('hello world', i)
                finally:
                    l.release()

            if __name__ == '__main__':
                lock = Lock()

                processes = []
                for num in range(10):
                    process = Process(target=f, args=(lock, num))
                    process.start()
                    processes.append(process)
                for process in processes:
                    process.join()
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            def count(counter):
                with counter.get_lock():
                    counter.value += 1

            def launch(workers):
                counter = mp.Value("i", 0)
                for _ in range(workers):
                    worker = mp.Process(target=count, args=(counter,))
                    worker.start()
                print("launched")
            """,
            message="if `launch()` returns",
            unsafe_fixed="""
            import multiprocessing as mp

            def count(counter):
                with counter.get_lock():
                    counter.value += 1

            def launch(workers):
                counter = mp.Value("i", 0)
                processes = []
                for _ in range(workers):
                    worker = mp.Process(target=count, args=(counter,))
                    worker.start()
                    processes.append(worker)
                print("launched")
                for worker in processes:
                    worker.join()
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        finished = _finished_processes(model)
        for site in model.calls:
            start = _start_with_primitive(model, site, finished)
            if start is None:
                continue
            function = site.scope.enclosing_function()
            when = "the program ends" if function is None else f"`{function.name}()` returns"
            primitive = model.module.code_for_node(start.primitive.value)
            made = model.module.code_for_node(start.made.func).rsplit(".", 1)[-1]
            yield Violation(
                site.node,
                f"starts a process handed `{primitive}` (a `{made}()` made here) and never joins it: if "
                f"{when} before the child has opened `{primitive}`, its named semaphore is gone and the child "
                "dies with `FileNotFoundError: [Errno 2] No such file or directory` (spawn, forkserver); "
                "keep the processes and join them",
                _keep_and_join(context, start),
            )


def _finished_processes(model: SemanticModel) -> set[int]:
    """The `Process(...)` calls whose processes something joins, terminates or kills, or
    makes daemons (`daemon=True`, `p.daemon = True`)."""
    finished: set[int] = set()
    for site in model.calls:
        call = site.node
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("join", "terminate", "kill"):
            finished.update(id(made) for made in model.objects.made_by(call.func.value))
        daemon = argument(call, None, "daemon")
        if daemon is not None and model.value_of(daemon) is True:
            finished.add(id(call))
    for store in model.stores:
        target = store.target
        if isinstance(target, cst.Attribute) and target.attr.value == "daemon" and model.value_of(store.value) is True:
            finished.update(id(made) for made in model.objects.made_by(target.value))
    return finished


def _start_with_primitive(model: SemanticModel, site: Site, finished: set[int]) -> _Start | None:
    """The start at `site` when it starts processes nothing finishes, handed a primitive the
    parent made where it can let go of it (see the rule's `what`)."""
    call = site.node
    assert isinstance(call, cst.Call)
    symbol = model.resolve(call.func)
    if symbol is None or symbol.qualname != "multiprocessing.Process().start" or not model.runs_at_runtime(site):
        return None
    process = call.func.value  # type: ignore[attr-defined]
    creations = model.objects.made_by(process)
    if not creations or any(id(creation) in finished for creation in creations) or _kept_elsewhere(model, process):
        return None
    for creation in creations:
        creation_site = next((s for s in model.calls if s.node is creation), None)
        process_call = model.processes.process_call(creation_site) if creation_site is not None else None
        if process_call is None or process_call.api.name != "multiprocessing.Process" or \
                process_call.start_method == "fork":
            continue
        for handed in model.processes.handed(process_call):
            made = _parent_primitive(model, handed, site)
            if made is not None:
                return _Start(site, creation, process_call, handed, made)
    return None


def _parent_primitive(model: SemanticModel, handed: Handed, start: Site) -> cst.Call | None:
    """The call that made the primitive `handed` is, when the parent made it in the start's
    scope and does not wait on it after the start or keep it elsewhere."""
    if not isinstance(handed.value, cst.Name):
        return None
    reference = model.reference(handed.value)
    if reference is None or not reference.bindings:
        return None
    function = start.scope.enclosing_function()
    made = None
    for binding in reference.bindings:
        if binding.scope.enclosing_function() is not function or binding.kind is not Kind.ASSIGN:
            return None
        calls = model.objects.made_by_binding(binding)
        if len(calls) != 1:
            return None
        symbol = model.resolve(calls[0].func)
        if symbol is None or not apis.has_role(symbol.qualname, _PRIMITIVES):
            return None
        for use in model.objects.uses(binding):
            if use.kind is UseKind.METHOD and use.method in _WAITING and model.objects.runs_before(start, use.site):
                return None  # the parent waits for a child through it
            if function is not None and use.kind is UseKind.ESCAPE and not _handed_to_a_process(model, use.node):
                return None  # kept elsewhere: the function's return does not drop it
        made = calls[0]
    return made


def _handed_to_a_process(model: SemanticModel, node: cst.CSTNode) -> bool:
    """`node` is an element of the `args` (or `kwargs`) of a `Process(...)` call."""
    for site in model.calls:
        process_call = model.processes.process_call(site) if _may_be_process(site) else None
        if process_call is not None and process_call.api.name == "multiprocessing.Process":
            if any(handed.value is getattr(node, "value", None) or handed.value is node
                   for handed in model.processes.handed(process_call)):
                return True
    return False


def _may_be_process(site: Site) -> bool:
    call = site.node
    return isinstance(call, cst.Call) and any(arg.keyword is not None and arg.keyword.value in ("args", "kwargs")
                                              for arg in call.args)


def _kept_elsewhere(model: SemanticModel, process: cst.BaseExpression) -> bool:
    """The processes reach code that may join them later: returned, stored, passed on
    (a local list they are added to counts through that list)."""
    if not isinstance(process, cst.Name):
        return False
    reference = model.reference(process)
    if reference is None:
        return True
    pending = list(reference.bindings)
    seen: set[int] = set()
    while pending:
        binding = pending.pop()
        if id(binding) in seen:
            continue
        seen.add(id(binding))
        if binding.kind is Kind.LOOP and isinstance(binding.value, cst.Name):
            inner = model.reference(binding.value)
            pending.extend(inner.bindings if inner is not None else ())
        for use in model.objects.uses(binding):
            if use.kind is not UseKind.ESCAPE:
                continue
            call = use.call
            if call is not None and isinstance(call.func, cst.Attribute) and call.func.attr.value in ("append", "add") \
                    and isinstance(call.func.value, cst.Name):
                container = model.reference(call.func.value)
                pending.extend(container.bindings if container is not None else ())
                continue
            return True
    return False


# -- the fix ---------------------------------------------------------------------------------------


def _keep_and_join(context: RuleContext, start: _Start) -> tuple[Fix, ...]:
    model = context.model
    site = start.site
    block = _owning_block(model, site)
    if block is None or not block.body:
        return ()
    anchor = model.objects.statement_in(block, site.node, site.top)
    last = block.body[-1]
    if anchor is None or ends_the_flow(model, last):
        return ()
    applicability = Applicability.SAFE if _ends_the_program(model, block) else Applicability.UNSAFE
    fix = context.fix_context.fix()
    process = site.node.func.value  # type: ignore[attr-defined]
    statement = site.statement
    direct = statement is anchor
    if isinstance(process, cst.Call):  # Process(...).start(): keep the object
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1 or \
                not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not site.node:
            return ()
        item = fix.fresh_name("process")
        kept = [fix.statement(f"{item} = {{made}}", made=process), fix.statement(f"{item}.start()")]
        if direct:
            fix.replace(statement, cst.FlattenSentinel([kept[0].with_changes(leading_lines=statement.leading_lines),
                                                        kept[1]]))
            fix.insert_after(last, [fix.statement(f"{item}.join()")])
        else:
            group = fix.fresh_name("processes")
            fix.insert_before(anchor, [fix.statement(f"{group} = []")])
            fix.replace(statement, cst.FlattenSentinel([kept[0].with_changes(leading_lines=statement.leading_lines),
                                                        kept[1], fix.statement(f"{group}.append({item})")]))
            fix.insert_after(last, [fix.statement(f"for {item} in {group}:\n    {item}.join()\n")])
    elif isinstance(process, cst.Name):
        reference = model.reference(process)
        bindings = reference.bindings if reference is not None else ()
        if len(bindings) != 1:
            return ()
        binding = bindings[0]
        if binding.kind is Kind.LOOP and isinstance(binding.value, cst.Name) and \
                model.objects.statement_in(block, binding.value, binding.site.top) is not None:
            fix.insert_after(last, [fix.statement(f"for {process.value} in {{group}}:\n    {process.value}.join()\n",
                                                  group=binding.value.deep_clone())])
        elif binding.kind is Kind.ASSIGN and direct and binding.site.block is block:
            fix.insert_after(last, [fix.statement(f"{process.value}.join()")])
        elif binding.kind is Kind.ASSIGN and isinstance(statement, cst.SimpleStatementLine):
            group = fix.fresh_name("processes")
            fix.insert_before(anchor, [fix.statement(f"{group} = []")])
            fix.insert_after(statement, [fix.statement(f"{group}.append({process.value})")])
            fix.insert_after(last, [fix.statement(f"for {process.value} in {group}:\n    {process.value}.join()\n")])
        else:
            return ()
    else:
        return ()
    return (fix.build(applicability, "Keep the processes and join them at the end of the block"),)


def _owning_block(model: SemanticModel, site: Site) -> cst.BaseSuite | cst.Module | None:
    """The body the joins go at the end of: the function's, the main guard's, or the module's."""
    function = site.scope.enclosing_function()
    if function is not None:
        node = function.node
        return node.body if isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock) else None
    top = site.top
    if isinstance(top, cst.If) and model.is_main_guard(top) and isinstance(top.body, cst.IndentedBlock) and \
            model.objects.statement_in(top.body, site.node, top) is not None:
        return top.body
    return model.module


def _ends_the_program(model: SemanticModel, block: cst.CSTNode) -> bool:
    """Nothing but definitions and imports runs after `block` (the module, or the main guard's
    body): the program ends where it ends."""
    if block is model.module:
        return True
    body = list(model.module.body)
    guard = next((statement for statement in body if getattr(statement, "body", None) is block), None)
    if guard is None or not model.is_main_guard(guard):
        return False
    after = body[body.index(guard) + 1:]
    return all(isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or _is_import(statement) for statement in after)


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and \
        all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
