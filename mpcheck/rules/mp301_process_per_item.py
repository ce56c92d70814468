"""MP301: one process created and started per item of data, instead of a bounded pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import libcst as cst

from ..findings import Applicability, EVERYWHERE, Fix, Violation
from ..model import Binding, Count, Kind, LoopRegion, SemanticModel, Site, UseKind
from ..model.names import argument
from ..model.processes import PROCESS_START
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_PROCESS_START = "multiprocessing.Process().start"


@dataclass(frozen=True)
class _Finding:
    site: Site  # the start (or the call of the function that starts)
    loop: LoopRegion  # the loop over data around it
    count: Count
    chain: tuple[str, ...]  # functions called on the way to Process.start()


class ProcessPerItem(Rule):
    code = "MP301"
    name = "process-per-item"
    summary = "One process started per item of a loop over data (unbounded), instead of a bounded pool"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags a process that is created and started once per pass of a loop or "
            "comprehension whose number of passes comes from data -- iterating a list, dict, "
            "directory listing, file, query result, `range(len(...))`, an argument of the "
            "function, or a literal range above 64 -- rather than from a small constant or a "
            "worker-count setting (`os.cpu_count()`, a name such as `workers`, `n_jobs`, "
            "`parallelism`, `devices`, a literal up to 64), also when the data is split into that "
            "many parts (`numpy.array_split(frames, n_workers)`, `torch.chunk`, `torch.tensor_split`, "
            "`more_itertools.divide`). The process may be a `Process` of "
            "any flavour (`multiprocessing`, a context's, torch's, a subclass), or be started by "
            "a function or class method of the project called per item (`Worker.create(video)`). "
            "A loop that waits (`join()`, a semaphore) before the next start is still reported: "
            "it bounds how many run at once, not how many are created. A function of the project "
            "that starts a process and joins it before it returns, whatever path it takes, is a "
            "blocking call, like `subprocess.run`: a loop that calls it is not reported (a "
            "download run in a child so that a hung one can be cancelled; a pool would take that "
            "isolation away)."
        ),
        why=(
            "Every process is a new interpreter: under spawn and forkserver it imports the main "
            "module and everything it imports again, and holds its own copy of the memory it "
            "uses. One process per input file makes memory, start-up time and scheduling grow "
            "with the input, not with the machine: Freemocap processed a folder of videos with "
            "one process per video (\"a million processes\") until it moved to a `Pool` sized to "
            "the machine, and its memory use dropped by about 60 %. Past a few hundred items "
            "such programs run out of memory, file descriptors or process slots."
        ),
        example=(
            "import multiprocessing as mp\n\n"
            "def process_video(path):\n    ...\n\n"
            "def process_folder(videos):\n"
            "    workers = []\n"
            "    for video in videos:\n"
            "        worker = mp.Process(target=process_video, args=(video,))\n"
            "        worker.start()\n"
            "        workers.append(worker)\n"
            "    for worker in workers:\n"
            "        worker.join()\n"
        ),
        use_instead=(
            "import multiprocessing as mp\n\n"
            "def process_video(path):\n    ...\n\n"
            "def process_folder(videos):\n"
            "    tasks = []\n"
            "    for video in videos:\n"
            "        tasks.append(video)\n"
            "    with mp.Pool() as pool:\n"
            "        pool.map(process_video, tasks)\n"
        ),
        fix_safety=(
            "With `--unsafe-fixes` the canonical shapes -- create and start in one loop and join "
            "in a later one; create into a list, start all, join all; create, start and join in "
            "one loop -- become a list of the same arguments, built by the same loop, and a "
            "`with <context>.Pool() as pool:` block running `pool.map` (one argument) or "
            "`pool.starmap` over it where the original waited, with the same target, the same "
            "context or start method, and the results in the order of the items. It is unsafe: "
            "a pool runs the items on a few reused workers, so an exception in the target now "
            "propagates from `pool.map` instead of being printed by a child with exit code 1, "
            "the target must be importable (a module-level function), and work that the "
            "original did while the children ran now happens before them. No fix is offered when "
            "the process objects are used for anything but `start()` and `join()` (`terminate`, "
            "`exitcode`, `is_alive`, `name`, `daemon`), when the target is not a module-level "
            "function or never returns, or when the loop throttles with a semaphore."
        ),
        references=(
            "Freemocap: \"a process per video\" (the seed article on its move to a Pool)",
            "https://docs.python.org/3/library/multiprocessing.html#using-a-pool-of-workers",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing

            def parse(path, queue):
                queue.put(path)

            def parse_all(paths, queue, n_workers=None):
                # As many workers as CPUs, fewer when there are fewer files: a bounded count.
                if n_workers is None:
                    n_workers = multiprocessing.cpu_count()
                n_parsers = n_workers - 1
                if len(paths) < n_parsers:
                    n_parsers = len(paths)
                parsers = [multiprocessing.Process(target=parse, args=(paths[i], queue))
                           for i in range(n_parsers)]
                for parser in parsers:
                    parser.start()
                for parser in parsers:
                    parser.join()

            class Index:
                def __init__(self, paths):
                    self.queue = multiprocessing.Queue()
                    parse_all(paths, self.queue)

            def index_datasets(datasets):
                # A bounded set of workers per dataset, one dataset after the other.
                return {name: Index(paths) for name, paths in datasets.items()}
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            def consume(queue):
                for item in iter(queue.get, None):
                    print(item)

            def start_workers(queue, n_workers):
                # A fixed number of long-lived workers.
                workers = [mp.Process(target=consume, args=(queue,)) for _ in range(n_workers)]
                for worker in workers:
                    worker.start()
                return workers
            """
        ),
        Valid(
            """
            import multiprocessing as mp

            if __name__ == "__main__":
                for side in range(4):
                    mp.Process(target=print, args=(side,)).start()
            """
        ),
        Valid(
            """
            import os
            from multiprocessing import Process

            def spread(job):
                for cpu in range(os.cpu_count()):
                    Process(target=job, args=(cpu,)).start()
            """
        ),
        Valid(
            """
            from multiprocessing import Pool

            def convert_all(paths):
                with Pool() as pool:
                    return pool.map(len, paths)
            """
        ),
        Valid(
            """
            import multiprocessing as mp
            import os

            import numpy as np

            def denoise(frames, results):
                results.put(frames.mean())

            def denoise_video(frames, n_workers=os.cpu_count()):
                # The frames split into one part per worker: as many processes as workers.
                results = mp.Queue()
                workers = []
                for part in np.array_split(frames, n_workers):
                    worker = mp.Process(target=denoise, args=(part, results))
                    worker.start()
                    workers.append(worker)
                means = [results.get() for _ in workers]
                for worker in workers:
                    worker.join()
                return means
            """
        ),
        Valid(
            """
            import multiprocessing
            import os


            def fetch(queue, name):
                queue.put(f"weights of {name}")


            def download(name):
                # in a child, so that a hung download can be cancelled; waited for here
                queue = multiprocessing.Queue()
                child = multiprocessing.Process(target=fetch, args=(queue, name))
                child.start()
                weights = queue.get()
                child.join()
                return weights


            def download_missing(folder):
                for name in os.listdir(folder):
                    if not name.endswith(".done"):
                        download(name)
            """,
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing as mp

            def process_video(path):
                print("processing", path)

            def process_folder(videos):
                workers = []
                for video in videos:
                    worker = mp.Process(target=process_video, args=(video,))
                    worker.start()
                    workers.append(worker)
                for worker in workers:
                    worker.join()
            """,
            line=10,
            column=9,
            message="one process per item of the argument `videos`",
            unsafe_fixed="""
            import multiprocessing as mp

            def process_video(path):
                print("processing", path)

            def process_folder(videos):
                tasks = []
                for video in videos:
                    tasks.append(video)
                with mp.Pool() as pool:
                    pool.map(process_video, tasks)
            """,
        ),
        Invalid(
            """
            import os
            from multiprocessing import Process

            def resize(path, width):
                print(path, width)

            if __name__ == "__main__":
                images = sorted(os.listdir("images"))
                processes = [Process(target=resize, args=(image, 640)) for image in images]
                for process in processes:
                    process.start()
                for process in processes:
                    process.join()
            """,
            message="os.listdir()",
            unsafe_fixed="""
            import os
            from multiprocessing import Process
            from multiprocessing import Pool

            def resize(path, width):
                print(path, width)

            if __name__ == "__main__":
                images = sorted(os.listdir("images"))
                tasks = [(image, 640) for image in images]
                with Pool() as pool:
                    pool.starmap(resize, tasks)
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            def transcode(path):
                print("transcoding", path)

            def transcode_all(paths):
                ctx = mp.get_context("spawn")
                for path in paths:
                    job = ctx.Process(target=transcode, args=(path,))
                    job.start()
                    job.join()
            """,
            message="waits before the next start",
            unsafe_fixed="""
            import multiprocessing as mp

            def transcode(path):
                print("transcoding", path)

            def transcode_all(paths):
                ctx = mp.get_context("spawn")
                tasks = []
                for path in paths:
                    tasks.append(path)
                with ctx.Pool() as pool:
                    pool.map(transcode, tasks)
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp

            class VideoNode:
                def __init__(self, process):
                    self.process = process

                @classmethod
                def create(cls, path):
                    process = mp.Process(target=print, args=(path,))
                    process.start()
                    return cls(process)

            def start_pipeline(videos):
                return {camera: VideoNode.create(path) for camera, path in videos.items()}
            """,
            message="through VideoNode.create()",
        ),
        Invalid(
            """
            import multiprocessing as mp

            def upload(path):
                print(path)

            def upload_all(paths):
                for path in paths:
                    process = mp.Process(target=upload, args=(path,))
                    process.start()
                    process.join(timeout=60)
                    if process.is_alive():
                        process.terminate()
            """,
            message="one process per item",
        ),
        Invalid(
            """
            import multiprocessing as mp

            import numpy as np

            def score(rows):
                return rows.sum()

            def score_table(rows):
                # One part per thousand rows: the parts, and the processes, grow with the table.
                chunks = len(rows) // 1000 + 1
                for part in np.array_split(rows, chunks):
                    mp.Process(target=score, args=(part,)).start()
            """,
            line=12,
            message="one process per item of np.array_split(rows, chunks) (the argument `rows`)",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        reported: set[int] = set()
        for site in model.calls:
            finding = _per_item_start(model, site)
            if finding is None or id(finding.loop.node) in reported:
                continue  # one finding per loop: its first start
            reported.add(id(finding.loop.node))
            loop_text = _loop_header(model, finding.loop.node)
            through = f" (through {' -> '.join(name + '()' for name in finding.chain)})" if finding.chain else ""
            throttle = _throttle(model, finding)
            bounded = (f" The loop waits before the next start ({throttle}): that bounds how many run at once, "
                       "not how many are created.") if throttle else ""
            yield Violation(
                site.node,
                f"starts one process per item of {finding.count.source}{through}, in `{loop_text}`: "
                "processes, memory and start-up time grow with the input (spawn re-imports the program in "
                f"each); use a bounded pool, `with Pool() as pool: pool.map(...)`.{bounded}",
                _pool_codemod(context, finding) if not finding.chain and throttle != "a semaphore" else (),
            )


def _loop_header(model: SemanticModel, loop: cst.CSTNode) -> str:
    """`for video in videos` for a loop or a comprehension."""
    if isinstance(loop, cst.For):
        return f"for {model.module.code_for_node(loop.target)} in {model.module.code_for_node(loop.iter)}"
    for_in = getattr(loop, "for_in", None)
    if isinstance(for_in, cst.CompFor):
        return f"for {model.module.code_for_node(for_in.target)} in {model.module.code_for_node(for_in.iter)}"
    return "while ..."


def _per_item_start(model: SemanticModel, site: Site) -> _Finding | None:
    """The start at `site` (a `Process.start()`, or a call of a function of the project that
    starts one) when a loop over data around it runs it once per item."""
    call = site.node
    assert isinstance(call, cst.Call)
    symbol = model.resolve(call.func)
    if symbol is None or not model.runs_at_runtime(site):
        return None
    chain: tuple[str, ...] = ()
    if symbol.qualname != _PROCESS_START:
        if not any(True for _ in site.loops()):
            return None
        start = model.processes.process_start(site)
        if start is None or not start.chain or start.starter != PROCESS_START or start.waited or \
                _starts_several(model, call):
            return None
        chain = start.chain
    for region in reversed(tuple(site.loops())):
        count = model.trip_count(region.node)
        if count.from_data:
            return _Finding(site, region, count, chain)
    return None


def _starts_several(model: SemanticModel, call: cst.Call, seen: frozenset = frozenset()) -> bool:
    """The function `call` runs (of this file) starts its processes in a loop, itself or
    through the functions it calls (`RecModel(...)` -> `__init__` -> `build_quadtree()`): a
    set of workers per call, not one process per item (its own loop is judged where it is)."""
    for function in model.processes.callees(call):
        inner = model.processes.function_process_start(function)
        if inner is None or inner.site is None or id(function) in seen:
            continue
        if any(True for _ in inner.site.loops()):
            return True
        if isinstance(inner.site.node, cst.Call) and _starts_several(model, inner.site.node, seen | {id(function)}):
            return True
    return False


def _throttle(model: SemanticModel, finding: _Finding) -> str | None:
    """How the loop waits before its next start, if it does: joining the process it started,
    or acquiring a semaphore."""
    loop = finding.loop.node
    for site in model.calls:
        if any(region.node is loop for region in site.loops()):
            waits = model.processes.waits(site)
            if waits is not None:
                return "it joins each process" if waits == "join" else "a semaphore"
    return None


# -- the codemod -----------------------------------------------------------------------------------


@dataclass
class _Shape:
    """What the codemod rewrites: the creation (`Process(target=..., args=...)`) and the
    statements around it. `tasks_statement`: the statement that becomes the list of arguments
    (`procs = []`, or the comprehension of processes); None: `tasks = []` is inserted before
    `loop`. `creation_statement`: becomes `tasks.append(args)` (None for a comprehension).
    `wait`: the statement replaced by the `with` block (the join loop); None: the block goes
    after `loop`. `removed`: the statements that start, keep and join the processes."""

    creation: cst.Call
    target: cst.BaseExpression
    arguments: cst.Tuple | cst.List
    loop: cst.CSTNode
    tasks_statement: cst.SimpleStatementLine | None
    creation_statement: cst.BaseStatement | None
    wait: cst.BaseStatement | None
    removed: list


def _pool_codemod(context: RuleContext, finding: _Finding) -> tuple[Fix, ...]:
    model = context.model
    shape = _canonical_shape(model, finding)
    if shape is None:
        return ()
    fix = context.fix_context.fix()
    anchor = shape.tasks_statement or shape.loop
    factory = _pool_factory(model, fix, shape.creation, anchor)
    if factory is None:
        return ()
    tasks = fix.fresh_name("tasks")
    pool = fix.fresh_name("pool")
    single = len(shape.arguments.elements) == 1
    task = (shape.arguments.elements[0].value if single else shape.arguments).deep_clone()
    if shape.creation_statement is None:  # a comprehension of processes -> of their arguments
        assert shape.tasks_statement is not None
        comprehension = shape.tasks_statement.body[0].value  # type: ignore[attr-defined]
        fix.replace(shape.tasks_statement, lambda updated: updated.with_changes(body=[
            cst.Assign([cst.AssignTarget(cst.Name(tasks))], comprehension.with_changes(elt=task))]))
    else:
        if shape.tasks_statement is not None:
            fix.replace(shape.tasks_statement, lambda updated: updated.with_changes(body=[
                cst.Assign([cst.AssignTarget(cst.Name(tasks))], cst.List([]))]))
        else:
            fix.insert_before(shape.loop, [fix.statement(f"{tasks} = []")])  # type: ignore[arg-type]
        fix.replace(shape.creation_statement, fix.statement(f"{tasks}.append({{task}})", task=task)
                    .with_changes(leading_lines=shape.creation_statement.leading_lines))
    block = fix.statement(f"with {factory}() as {pool}:\n    {pool}.{'map' if single else 'starmap'}"
                          f"({{target}}, {tasks})\n", target=shape.target.deep_clone())
    if shape.wait is not None:
        fix.replace(shape.wait, block.with_changes(leading_lines=shape.wait.leading_lines))
    else:
        fix.insert_after(shape.loop, [block])  # type: ignore[arg-type]
    for statement in shape.removed:
        fix.remove(statement)
    return (fix.build(Applicability.UNSAFE, "Run the items on a bounded pool"),)


def _canonical_shape(model: SemanticModel, finding: _Finding) -> _Shape | None:
    """The shape of the processes' life when it is one the codemod rewrites faithfully."""
    start = finding.site.node
    assert isinstance(start, cst.Call) and isinstance(start.func, cst.Attribute)
    process = start.func.value
    creations = model.objects.made_by(process)
    if len(creations) != 1:
        return None
    creation = creations[0]
    creation_site = next((s for s in model.calls if s.node is creation), None)
    process_call = model.processes.process_call(creation_site) if creation_site is not None else None
    if process_call is None or process_call.api.name != "multiprocessing.Process" or \
            process_call.symbol.definition is not None:
        return None  # a subclass: its run() is the work
    keywords = {arg.keyword.value for arg in creation.args if arg.keyword is not None}
    if keywords != {"target", "args"} or any(arg.keyword is None for arg in creation.args):
        return None
    target = argument(creation, None, "target")
    arguments = argument(creation, None, "args")
    if not isinstance(arguments, (cst.Tuple, cst.List)) or not arguments.elements or \
            any(isinstance(element, cst.StarredElement) for element in arguments.elements) or \
            not _module_level_function(model, target):
        return None
    assert target is not None
    if not isinstance(process, cst.Name):
        return None
    reference = model.reference(process)
    if reference is None or len(reference.bindings) != 1:
        return None
    binding = reference.bindings[0]
    if binding.kind is Kind.ASSIGN:
        return _loop_shape(model, finding, binding, creation, target, arguments)
    if binding.kind is Kind.LOOP:
        return _list_shape(model, binding, creation, target, arguments)
    return None


def _loop_shape(model: SemanticModel, finding: _Finding, binding: Binding, creation: cst.Call,
                target, arguments) -> _Shape | None:
    """`for item in items: p = Process(...); p.start(); (procs.append(p) | p.join())`, with
    `for p in procs: p.join()` after the loop when the processes are kept in a list."""
    loop = finding.loop.node
    statement = binding.statement
    if not isinstance(loop, cst.For) or statement is None or binding.site.block is None or \
            not any(region.node is loop for region in binding.site.loops()):
        return None
    removed = []
    kept: list[Binding] = []
    joined_here = False
    for use in model.objects.uses(binding):
        if use.site.block is not binding.site.block:
            return None
        line = use.site.statement
        if use.kind is UseKind.METHOD and use.method in ("start", "join") and not use.call.args and \
                _alone(line, use.call):
            joined_here |= use.method == "join"
            removed.append(line)
        elif use.kind is UseKind.ESCAPE and use.call is not None and isinstance(use.call.func, cst.Attribute) and \
                use.call.func.attr.value == "append" and _alone(line, use.call) and \
                isinstance(use.call.func.value, cst.Name):
            container = model.reference(use.call.func.value)
            if container is None or len(container.bindings) != 1:
                return None
            kept.append(container.bindings[0])
            removed.append(line)
        else:
            return None
    if joined_here and not kept:  # create, start, join in one loop: serial in disguise
        return _Shape(creation, target, arguments, loop, None, statement, None, removed) \
            if isinstance(_block_of(model, loop), (cst.IndentedBlock, cst.Module)) else None
    if len(kept) != 1 or joined_here:
        return None
    procs = kept[0]
    holder_block = _block_of(model, loop)
    if holder_block is None or procs.site.block is not holder_block or not _is_empty_list(procs.value) or \
            not isinstance(procs.statement, cst.SimpleStatementLine) or len(procs.statement.body) != 1:
        return None
    join_loops = _join_loops(model, procs, loop, holder_block)
    if join_loops is None:
        return None
    return _Shape(creation, target, arguments, loop, procs.statement, statement, join_loops[0],
                  removed + join_loops[1:])


def _list_shape(model: SemanticModel, binding: Binding, creation: cst.Call, target, arguments) -> _Shape | None:
    """`procs = [Process(...) for item in items]; for p in procs: p.start(); for p in procs:
    p.join()`."""
    if not isinstance(binding.value, cst.Name):
        return None
    listed = model.reference(binding.value)
    if listed is None or len(listed.bindings) != 1:
        return None
    procs = listed.bindings[0]
    if procs.kind is not Kind.ASSIGN or not isinstance(procs.value, cst.ListComp) or \
            procs.value.elt is not creation or procs.value.for_in.inner_for_in is not None or \
            not isinstance(procs.statement, cst.SimpleStatementLine) or len(procs.statement.body) != 1:
        return None
    block = procs.site.block
    loops = _join_loops(model, procs, procs.statement, block, starts=True)
    if loops is None:
        return None
    joins = [loop for loop in loops if _loop_method(model, loop) == "join"]
    if not joins:
        return None
    others = [loop for loop in loops if loop is not joins[0]]
    return _Shape(creation, target, arguments, procs.statement, procs.statement, None, joins[0], others)


def _join_loops(model: SemanticModel, procs: Binding, after: cst.CSTNode, block, starts: bool = False) -> list | None:
    """The loops over the list `procs` that only join (or, with `starts`, start) each
    process, all in `block` after `after`, the joining one first; None when the list is used
    any other way."""
    loops = []
    for use in model.objects.uses(procs):
        if use.kind is UseKind.METHOD and use.method == "append":
            continue
        if use.kind is not UseKind.ITERATED or not isinstance(use.node, cst.For):
            return None
        loop = use.node
        method = _loop_method(model, loop)
        if method not in (("start", "join") if starts else ("join",)) or _block_of(model, loop) is not block or \
                not model.objects.runs_before(_site_of(model, after), use.site):
            return None
        loops.append(loop)
    joins = [loop for loop in loops if _loop_method(model, loop) == "join"]
    if len(joins) != 1:
        return None
    return [joins[0], *[loop for loop in loops if loop is not joins[0]]]


def _loop_method(model: SemanticModel, loop: cst.For) -> str | None:
    """"start" or "join" when `for p in procs: p.<method>()` is all the loop does."""
    body = loop.body
    if not isinstance(body, cst.IndentedBlock) or len(body.body) != 1 or loop.orelse is not None or \
            not isinstance(loop.target, cst.Name):
        return None
    line = body.body[0]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or not isinstance(line.body[0], cst.Expr):
        return None
    call = line.body[0].value
    if not isinstance(call, cst.Call) or call.args or not isinstance(call.func, cst.Attribute) or \
            not isinstance(call.func.value, cst.Name) or call.func.value.value != loop.target.value:
        return None
    method = call.func.attr.value
    if method not in ("start", "join"):
        return None
    target = next((b for b in model.bindings if b.node is loop and b.kind is Kind.LOOP), None)
    if target is None or any(use.node is not call for use in model.objects.uses(target)):
        return None  # the loop variable is read after the loop
    return method


def _alone(line: cst.CSTNode | None, call: cst.Call | None) -> bool:
    """`line` is a statement line holding just the expression `call`."""
    return isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and \
        isinstance(line.body[0], cst.Expr) and line.body[0].value is call


def _is_empty_list(value: cst.BaseExpression | None) -> bool:
    return (isinstance(value, cst.List) and not value.elements) or \
        (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "list"
         and not value.args)


def _block_of(model: SemanticModel, statement: cst.CSTNode):
    site = _site_of(model, statement)
    return site.block if site is not None else None


def _site_of(model: SemanticModel, node: cst.CSTNode) -> Site | None:
    """The site of a loop or statement the model recorded (loops, calls' statements)."""
    for site in model.loops:
        if site.node is node:
            return site
    for site in model.calls:
        if site.statement is node:
            return Site(node, site.scope, site.regions, site.function_depth, node, site.block, site.top)
    return None


def _module_level_function(model: SemanticModel, target: cst.BaseExpression | None) -> bool:
    """A function a pool can pickle by name that returns: a module-level def of this file
    (with no endless loop) or an imported function."""
    symbol = model.resolve(target) if target is not None else None
    if symbol is None:
        return False
    definition = symbol.definition
    if definition is None:
        return isinstance(target, cst.Name) and "." in symbol.qualname and not symbol.is_instance
    if not isinstance(definition, cst.FunctionDef):
        return False
    scope = model.scope_of_definition(definition)
    if scope is None or scope.parent is not model.module_scope:
        return False
    return not any(isinstance(statement, cst.While) and _endless(statement) for statement in definition.body.body)


def _endless(loop: cst.While) -> bool:
    test = loop.test
    if not (isinstance(test, cst.Name) and test.value == "True"):
        return False
    return not _contains(loop.body, (cst.Break, cst.Return))


def _contains(node: cst.CSTNode, kinds) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kinds):
            return True
        if not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.For, cst.While)) or current is node:
            stack.extend(current.children)
    return False


def _pool_factory(model: SemanticModel, fix, creation: cst.Call, before: cst.CSTNode) -> str | None:
    """`ctx.Pool` / `mp.Pool` / `Pool` (imported as needed): the pool of the context or module
    the `Process` came from."""
    function = creation.func
    if isinstance(function, cst.Attribute) and function.attr.value == "Process":
        return f"{model.module.code_for_node(function.value)}.Pool"
    if isinstance(function, cst.Name):
        reference = model.reference(function)
        bindings = reference.bindings if reference is not None else ()
        if len(bindings) == 1 and bindings[0].kind is Kind.IMPORT and bindings[0].qualname and \
                bindings[0].qualname.endswith(".Process"):
            module = bindings[0].qualname[: -len(".Process")]
            if module in ("multiprocessing", "torch.multiprocessing", "multiprocess", "billiard"):
                return fix.need_name(module, "Pool", before=before)
    return None
