"""Every spelling of a process API resolves, through the real semantic model, to one
canonical catalogue name (issue 7 B7): aliases, `from` imports, attribute chains through
submodules, look-alike packages, contexts, subclasses, star and relative imports.

Each row: a snippet, the expression in it to resolve, and what the model must say:

- `qualname`: the canonical name of what is called (the callee of a call, else the
  expression itself); None when the model must not claim to know;
- `method`: the start method in force -- the process call's when the expression is one
  (`torch.multiprocessing.spawn` is always spawn), else that of the object the expression
  gives (`get_context("spawn")`, `SpawnProcess`);
- `flavour`: the look-alike package it came from ("torch", "billiard", "multiprocess", ...);
- `roles`: "starts" (calling it starts processes: `processes.starter`), "pickles" (a
  callable travels to a child by pickle under some start method: `processes.process_call`),
  "fork-only" (it exists only where fork does: `processes.fork_only_use` on any name or call
  in the expression), "threads" (a look-alike that runs threads: the catalogue).
"""

from __future__ import annotations

import libcst as cst
import pytest

from mpcheck import apis

from .support import find, model_of

WORK = "def work(item):\n    return item * 2\n\n"


def spelling(source, expression, qualname, method, flavour, roles):
    return (source, expression, qualname, method, flavour, frozenset(roles))


SPELLINGS = {
    # -- multiprocessing, as imported --------------------------------------------------------
    "process-class": spelling(
        "import multiprocessing\n\n" + WORK + "worker = multiprocessing.Process(target=work, args=(1,))\n",
        "multiprocessing.Process(target=work, args=(1,))", "multiprocessing.Process", None, "multiprocessing",
        {"pickles"}),
    "process-start": spelling(
        "import multiprocessing\n\n" + WORK + "worker = multiprocessing.Process(target=work, args=(1,))\n"
        "worker.start()\n",
        "worker.start()", "multiprocessing.Process().start", None, "multiprocessing", {"starts"}),
    "alias-mp": spelling(
        "import multiprocessing as mp\n\n" + WORK + "pool = mp.Pool(3)\nprint(pool.map(work, range(9)))\n",
        "mp.Pool(3)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "pool-map-through-variable": spelling(
        "import multiprocessing as mp\n\n" + WORK + "pool = mp.Pool(3)\nprint(pool.map(work, range(9)))\n",
        "pool.map(work, range(9))", "multiprocessing.Pool().map", None, "multiprocessing", {"pickles"}),
    "pool-submodule-attribute": spelling(
        "import multiprocessing.pool\n\n" + WORK + "pool = multiprocessing.pool.Pool(3)\n",
        "multiprocessing.pool.Pool(3)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "pool-submodule-as-p": spelling(
        "from multiprocessing import pool as p\n\nworkers = p.Pool(processes=4)\n",
        "p.Pool(processes=4)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "pool-from-submodule": spelling(
        "from multiprocessing.pool import Pool\n\n" + WORK + "with Pool(2) as pool:\n"
        "    results = pool.imap_unordered(work, range(5))\n",
        "pool.imap_unordered(work, range(5))", "multiprocessing.Pool().imap_unordered", None, "multiprocessing",
        {"pickles"}),
    "pool-renamed": spelling(
        "from multiprocessing import Pool as ProcessPool\n\nPROCESSES = ProcessPool(2)\n",
        "ProcessPool(2)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "pool-initializer": spelling(
        "import multiprocessing as mp\n\ndef setup():\n    pass\n\npool = mp.Pool(2, initializer=setup)\n",
        "mp.Pool(2, initializer=setup)", "multiprocessing.Pool", None, "multiprocessing", {"starts", "pickles"}),
    "pool-apply-async": spelling(
        "import multiprocessing\n\n" + WORK + "with multiprocessing.Pool() as pool:\n"
        "    future = pool.apply_async(work, (3,))\n",
        "pool.apply_async(work, (3,))", "multiprocessing.Pool().apply_async", None, "multiprocessing", {"pickles"}),
    "manager": spelling(
        "import multiprocessing as mp\n\nmanager = mp.Manager()\nshared = manager.dict()\n",
        "mp.Manager()", "multiprocessing.Manager", None, "multiprocessing", {"starts"}),
    "sync-manager-start": spelling(
        "from multiprocessing.managers import SyncManager\n\nmanager = SyncManager()\nmanager.start()\n",
        "manager.start()", "multiprocessing.managers.SyncManager().start", None, "multiprocessing", {"starts"}),
    "function-local-import": spelling(
        "def run(items):\n    import multiprocessing.pool as mpp\n    with mpp.Pool(2) as pool:\n"
        "        return pool.map(abs, items)\n",
        "mpp.Pool(2)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "spawn-module-is-not-torch-spawn": spelling(
        "from multiprocessing import spawn\n\ndata = spawn.get_preparation_data('app')\n",
        "spawn.get_preparation_data('app')", "multiprocessing.spawn.get_preparation_data", None,
        "multiprocessing", set()),
    # -- context classes and contexts ------------------------------------------------------
    "spawn-process-attribute": spelling(
        "import multiprocessing.context\n\n" + WORK
        + "worker = multiprocessing.context.SpawnProcess(target=work)\n",
        "multiprocessing.context.SpawnProcess(target=work)", "multiprocessing.Process", "spawn", "multiprocessing",
        {"pickles"}),
    "spawn-process-through-top-module": spelling(
        "import multiprocessing as mp\n\nProcessClass = mp.context.SpawnProcess\n",
        "mp.context.SpawnProcess", "multiprocessing.Process", "spawn", "multiprocessing", set()),
    "forkserver-process": spelling(
        "from multiprocessing.context import ForkServerProcess\n\n" + WORK
        + "worker = ForkServerProcess(target=work)\n",
        "ForkServerProcess(target=work)", "multiprocessing.Process", "forkserver", "multiprocessing",
        {"pickles", "fork-only"}),
    "fork-process-pickles-nothing": spelling(
        "from multiprocessing.context import ForkProcess\n\n" + WORK + "worker = ForkProcess(target=work)\n",
        "ForkProcess(target=work)", "multiprocessing.Process", "fork", "multiprocessing", {"fork-only"}),
    "fork-process-module-alias": spelling(
        "from multiprocessing import context as ctx\n\nRenderer = ctx.ForkProcess\n",
        "ctx.ForkProcess", "multiprocessing.Process", "fork", "multiprocessing", {"fork-only"}),
    "spawn-context-instance-process": spelling(
        "from multiprocessing.context import SpawnContext\n\n" + WORK
        + "worker = SpawnContext().Process(target=work)\n",
        "SpawnContext().Process(target=work)", "multiprocessing.Process", "spawn", "multiprocessing", {"pickles"}),
    "spawn-context-instance-pool": spelling(
        "import multiprocessing.context as context\n\npool = context.SpawnContext().Pool(2)\n",
        "context.SpawnContext().Pool(2)", "multiprocessing.Pool", "spawn", "multiprocessing", {"starts"}),
    "fork-context-instance": spelling(
        "from multiprocessing.context import ForkContext\n\npool = ForkContext().Pool(2)\n",
        "ForkContext().Pool(2)", "multiprocessing.Pool", "fork", "multiprocessing", {"fork-only"}),
    "get-context-spawn": spelling(
        "import multiprocessing as mp\n\n" + WORK + 'ctx = mp.get_context("spawn")\nworker = ctx.Process(target=work)\n',
        "ctx.Process(target=work)", "multiprocessing.Process", "spawn", "multiprocessing", {"pickles"}),
    "get-context-spawn-not-called": spelling(
        'import multiprocessing as mp\n\nctx = mp.get_context("spawn")\nProcessClass = ctx.Process\n',
        "ctx.Process", "multiprocessing.Process", "spawn", "multiprocessing", set()),
    "get-context-fork-call": spelling(
        'import multiprocessing as mp\n\nctx = mp.get_context("fork")\n',
        'mp.get_context("fork")', "multiprocessing.get_context", "fork", "multiprocessing", {"fork-only"}),
    "get-context-fork-pool-does-not-start": spelling(
        'import multiprocessing as mp\n\nctx = mp.get_context("fork")\npool = ctx.Pool(2)\n',
        "ctx.Pool(2)", "multiprocessing.Pool", "fork", "multiprocessing", set()),
    "get-context-constant": spelling(  # issue 7 B10
        'import multiprocessing as mp\n\nMETHOD = "fork"\nctx = mp.get_context(METHOD)\n',
        "mp.get_context(METHOD)", "multiprocessing.get_context", "fork", "multiprocessing", {"fork-only"}),
    "get-context-constant-process": spelling(
        'import multiprocessing as mp\n\nSTART_METHOD = "fork"\n' + WORK
        + "ctx = mp.get_context(START_METHOD)\nworker = ctx.Process(target=work)\n",
        "ctx.Process(target=work)", "multiprocessing.Process", "fork", "multiprocessing", set()),
    "get-context-default": spelling(
        "import multiprocessing\n\nctx = multiprocessing.get_context()\npool = ctx.Pool(2)\n",
        "ctx.Pool(2)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "get-context-from-environment": spelling(
        'import os\nimport multiprocessing as mp\n\nctx = mp.get_context(os.environ["MP_METHOD"])\n'
        "ProcessClass = ctx.Process\n",
        "ctx.Process", "multiprocessing.Process", "unknown", "multiprocessing", set()),
    "get-context-imported-forkserver-pool": spelling(
        'from multiprocessing import get_context\n\npool = get_context("forkserver").Pool(2)\n',
        'get_context("forkserver").Pool(2)', "multiprocessing.Pool", "forkserver", "multiprocessing",
        {"starts", "fork-only"}),
    "pool-with-context-argument": spelling(
        'import multiprocessing as mp\n\n' + WORK + 'pool = mp.Pool(2, work, (), 10, mp.get_context("spawn"))\n',
        'mp.Pool(2, work, (), 10, mp.get_context("spawn"))', "multiprocessing.Pool", "spawn", "multiprocessing",
        {"starts", "pickles"}),
    "set-start-method-fork": spelling(
        'import multiprocessing\n\nmultiprocessing.set_start_method("fork")\n',
        'multiprocessing.set_start_method("fork")', "multiprocessing.set_start_method", None, "multiprocessing",
        {"fork-only"}),
    "set-start-method-spawn": spelling(
        'import multiprocessing\n\nmultiprocessing.set_start_method("spawn", force=True)\n',
        'multiprocessing.set_start_method("spawn", force=True)', "multiprocessing.set_start_method", None,
        "multiprocessing", set()),
    # -- subclasses --------------------------------------------------------------------------
    "base-process-subclass": spelling(
        "from multiprocessing import process\n\nclass Worker(process.BaseProcess):\n    def run(self):\n"
        "        print('working')\n\nWorker().start()\n",
        "Worker().start()", "multiprocessing.Process().start", None, "multiprocessing", {"starts"}),
    "base-process-subclass-dotted": spelling(
        "import multiprocessing.process\n\nclass Worker(multiprocessing.process.BaseProcess):\n    pass\n\n"
        "worker = Worker()\n",
        "Worker()", "multiprocessing.Process", None, "multiprocessing", set()),
    "process-subclass-start-through-variable": spelling(
        "import multiprocessing as mp\n\nclass Crawler(mp.Process):\n    def run(self):\n        print(self.name)\n\n"
        "crawler = Crawler()\ncrawler.start()\n",
        "crawler.start()", "multiprocessing.Process().start", None, "multiprocessing", {"starts"}),
    "spawn-process-subclass": spelling(
        "import multiprocessing.context\n\nclass Renderer(multiprocessing.context.SpawnProcess):\n    pass\n\n"
        "Renderer().start()\n",
        "Renderer().start()", "multiprocessing.Process().start", "spawn", "multiprocessing", {"starts"}),
    "subclass-of-context-process": spelling(
        'import multiprocessing as mp\n\nctx = mp.get_context("spawn")\n\nclass HandlerProcess(ctx.Process):\n'
        "    daemon = True\n\nHandlerProcess().start()\n",
        "HandlerProcess().start()", "multiprocessing.Process().start", "spawn", "multiprocessing", {"starts"}),
    # -- concurrent.futures -------------------------------------------------------------------
    "executor": spelling(
        "from concurrent.futures import ProcessPoolExecutor\n\nexecutor = ProcessPoolExecutor()\n",
        "ProcessPoolExecutor()", "concurrent.futures.ProcessPoolExecutor", None, "", set()),
    "executor-process-submodule": spelling(
        "from concurrent.futures import process\n\nexecutor = process.ProcessPoolExecutor()\n",
        "process.ProcessPoolExecutor()", "concurrent.futures.ProcessPoolExecutor", None, "", set()),
    "executor-dotted-submit": spelling(
        "import concurrent.futures\n\n" + WORK
        + "future = concurrent.futures.ProcessPoolExecutor(max_workers=2).submit(work, 1)\n",
        "concurrent.futures.ProcessPoolExecutor(max_workers=2).submit(work, 1)",
        "concurrent.futures.ProcessPoolExecutor().submit", None, "", {"starts", "pickles"}),
    "executor-submodule-alias-map": spelling(
        "import concurrent.futures.process as cfp\n\n" + WORK + "with cfp.ProcessPoolExecutor() as executor:\n"
        "    doubled = list(executor.map(work, range(4)))\n",
        "executor.map(work, range(4))", "concurrent.futures.ProcessPoolExecutor().map", None, "",
        {"starts", "pickles"}),
    "executor-spawn-context": spelling(
        "import multiprocessing as mp\nfrom concurrent.futures import ProcessPoolExecutor\n\n"
        'executor = ProcessPoolExecutor(2, mp.get_context("spawn"))\n',
        'ProcessPoolExecutor(2, mp.get_context("spawn"))', "concurrent.futures.ProcessPoolExecutor", "spawn", "",
        set()),
    "executor-fork-context-submit": spelling(
        "import multiprocessing as mp\nfrom concurrent.futures import ProcessPoolExecutor\n\n" + WORK
        + 'executor = ProcessPoolExecutor(mp_context=mp.get_context("fork"))\nfuture = executor.submit(work, 2)\n',
        "executor.submit(work, 2)", "concurrent.futures.ProcessPoolExecutor().submit", "fork", "",
        {"pickles"}),
    "run-in-executor-process-pool": spelling(
        "import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\n\n" + WORK
        + "async def main():\n    loop = asyncio.get_running_loop()\n"
        "    return await loop.run_in_executor(ProcessPoolExecutor(), work, 1)\n",
        "loop.run_in_executor(ProcessPoolExecutor(), work, 1)", "asyncio.AbstractEventLoop().run_in_executor",
        None, "", {"starts", "pickles"}),
    "run-in-executor-default": spelling(
        "import asyncio\n\n" + WORK + "async def main():\n    loop = asyncio.get_running_loop()\n"
        "    return await loop.run_in_executor(None, work, 1)\n",
        "loop.run_in_executor(None, work, 1)", "asyncio.AbstractEventLoop().run_in_executor", None, "", set()),
    "event-loop-of-get-event-loop": spelling(
        "import asyncio\n\nloop = asyncio.get_event_loop()\nserver = loop.create_server(object, port=80)\n",
        "loop.create_server(object, port=80)", "asyncio.AbstractEventLoop().create_server", None, "", set()),
    "event-loop-of-new-event-loop": spelling(
        "from asyncio import new_event_loop\n\nserver = new_event_loop().create_datagram_endpoint(object)\n",
        "new_event_loop().create_datagram_endpoint(object)", "asyncio.AbstractEventLoop().create_datagram_endpoint",
        None, "", set()),
    # -- threads that look like processes ---------------------------------------------------
    "thread-pool-executor": spelling(
        "from concurrent import futures\n\nexecutor = futures.ThreadPoolExecutor(4)\n",
        "futures.ThreadPoolExecutor(4)", "concurrent.futures.ThreadPoolExecutor", None, "", {"threads"}),
    "thread-pool-executor-submit": spelling(
        "from concurrent.futures.thread import ThreadPoolExecutor\n\n" + WORK
        + "future = ThreadPoolExecutor().submit(work, 1)\n",
        "ThreadPoolExecutor().submit(work, 1)", "concurrent.futures.ThreadPoolExecutor().submit", None, "", set()),
    "thread-pool": spelling(
        "from multiprocessing.pool import ThreadPool\n\npool = ThreadPool(4)\n",
        "ThreadPool(4)", "multiprocessing.dummy.Pool", None, "multiprocessing", {"threads"}),
    "thread-pool-map": spelling(
        "import multiprocessing.pool as mpp\n\n" + WORK + "with mpp.ThreadPool(4) as pool:\n"
        "    pool.map(lambda item: work(item), range(3))\n",
        "pool.map(lambda item: work(item), range(3))", "multiprocessing.dummy.Pool().map", None, "multiprocessing",
        set()),
    "dummy-pool": spelling(
        "import multiprocessing.dummy as threads\n\nworkers = threads.Pool(2)\n",
        "threads.Pool(2)", "multiprocessing.dummy.Pool", None, "multiprocessing", {"threads"}),
    "dummy-process": spelling(
        "from multiprocessing.dummy import Process\n\n" + WORK + "Process(target=work, args=(1,)).start()\n",
        "Process(target=work, args=(1,))", "threading.Thread", None, "multiprocessing", {"threads"}),
    # -- torch.multiprocessing --------------------------------------------------------------
    "torch-pool": spelling(
        "import torch.multiprocessing as tmp\n\npool = tmp.Pool(2)\n",
        "tmp.Pool(2)", "multiprocessing.Pool", None, "torch", {"starts"}),
    "torch-dotted-pool": spelling(
        "import torch.multiprocessing\n\npool = torch.multiprocessing.Pool(2)\n",
        "torch.multiprocessing.Pool(2)", "multiprocessing.Pool", None, "torch", {"starts"}),
    "torch-process": spelling(
        "import torch.multiprocessing as mp\n\ndef train(rank):\n    print(rank)\n\n"
        "worker = mp.Process(target=train, args=(0,))\n",
        "mp.Process(target=train, args=(0,))", "multiprocessing.Process", None, "torch", {"pickles"}),
    "torch-spawn": spelling(
        "from torch import multiprocessing as tmp\n\ndef train(rank):\n    print(rank)\n\n"
        "tmp.spawn(train, nprocs=2)\n",
        "tmp.spawn(train, nprocs=2)", "torch.multiprocessing.spawn", "spawn", "torch", {"starts", "pickles"}),
    "torch-spawn-imported": spelling(
        "from torch.multiprocessing import spawn as launch\n\ndef train(rank):\n    print(rank)\n\n"
        "launch(train, args=(), nprocs=4)\n",
        "launch(train, args=(), nprocs=4)", "torch.multiprocessing.spawn", "spawn", "torch", {"starts", "pickles"}),
    "torch-spawn-ignores-start-method": spelling(  # spawn() warns and uses spawn anyway
        "import torch.multiprocessing as mp\n\ndef train(rank):\n    print(rank)\n\n"
        'mp.spawn(train, nprocs=2, start_method="fork")\n',
        'mp.spawn(train, nprocs=2, start_method="fork")', "torch.multiprocessing.spawn", "spawn", "torch",
        {"starts", "pickles"}),
    "torch-start-processes-forkserver": spelling(
        "import torch.multiprocessing as mp\n\ndef train(rank):\n    print(rank)\n\n"
        'mp.start_processes(train, nprocs=2, start_method="forkserver")\n',
        'mp.start_processes(train, nprocs=2, start_method="forkserver")', "torch.multiprocessing.start_processes",
        "forkserver", "torch", {"starts", "pickles"}),
    "torch-start-processes-fork": spelling(
        "import torch.multiprocessing as mp\n\ndef train(rank):\n    print(rank)\n\n"
        'mp.start_processes(train, nprocs=2, start_method="fork")\n',
        'mp.start_processes(train, nprocs=2, start_method="fork")', "torch.multiprocessing.start_processes",
        "fork", "torch", set()),
    "torch-set-start-method-fork": spelling(
        'import torch.multiprocessing as tmp\n\ntmp.set_start_method("fork")\n',
        'tmp.set_start_method("fork")', "multiprocessing.set_start_method", None, "torch", {"fork-only"}),
    "torch-get-context-spawn": spelling(
        'import torch.multiprocessing as mp\n\nctx = mp.get_context("spawn")\nqueue = ctx.SimpleQueue()\n'
        "worker = ctx.Process(target=print, args=(queue,))\n",
        "ctx.Process(target=print, args=(queue,))", "multiprocessing.Process", "spawn", "torch", {"pickles"}),
    # -- billiard and multiprocess ---------------------------------------------------------------
    "billiard-pool": spelling(
        "import billiard\n\npool = billiard.Pool(2)\n",
        "billiard.Pool(2)", "multiprocessing.Pool", None, "billiard", {"starts"}),
    "billiard-pool-module": spelling(
        "from billiard import pool\n\nworkers = pool.Pool(2)\n",
        "pool.Pool(2)", "multiprocessing.Pool", None, "billiard", {"starts"}),
    "billiard-pool-dotted-map": spelling(
        "import billiard.pool\n\n" + WORK + "with billiard.pool.Pool(2) as workers:\n"
        "    doubled = workers.map(work, range(4))\n",
        "workers.map(work, range(4))", "multiprocessing.Pool().map", None, "billiard", {"pickles"}),
    "billiard-fork-process": spelling(
        "import billiard.context\n\nWorkerClass = billiard.context.ForkProcess\n",
        "billiard.context.ForkProcess", "multiprocessing.Process", "fork", "billiard", {"fork-only"}),
    "multiprocess-pool-module": spelling(
        "import multiprocess.pool\n\npool = multiprocess.pool.Pool(2)\n",
        "multiprocess.pool.Pool(2)", "multiprocessing.Pool", None, "multiprocess", {"starts"}),
    "multiprocess-map-lambda-is-dill": spelling(
        "import multiprocess as mp\n\nwith mp.Pool(2) as pool:\n    squares = pool.map(lambda x: x * x, range(4))\n",
        "pool.map(lambda x: x * x, range(4))", "multiprocessing.Pool().map", None, "multiprocess", set()),
    "multiprocess-process-is-dill": spelling(
        "from multiprocess import Process\n\nProcess(target=lambda: print('hi')).start()\n",
        "Process(target=lambda: print('hi'))", "multiprocessing.Process", None, "multiprocess", set()),
    "pathos-pool": spelling(
        "from pathos.multiprocessing import ProcessingPool\n\nsquares = ProcessingPool(2).map(lambda x: x * x, [1, 2])\n",
        "ProcessingPool(2).map(lambda x: x * x, [1, 2])", "pathos.multiprocessing.ProcessPool().map", None,
        "pathos", {"starts"}),  # its workers re-import the main module under spawn; dill pickles the lambda
    # -- socketserver and os: fork-only ----------------------------------------------------------
    "forking-mixin-base": spelling(
        "import socketserver\n\nclass Server(socketserver.ForkingMixIn, socketserver.TCPServer):\n    pass\n",
        "socketserver.ForkingMixIn", "socketserver.ForkingMixIn", None, "", {"fork-only"}),
    "forking-tcp-server": spelling(
        "from socketserver import BaseRequestHandler, ForkingTCPServer\n\nclass Echo(BaseRequestHandler):\n"
        "    pass\n\nserver = ForkingTCPServer(('localhost', 0), Echo)\n",
        "ForkingTCPServer(('localhost', 0), Echo)", "socketserver.ForkingTCPServer", None, "", {"fork-only"}),
    "forking-udp-server-alias": spelling(
        "import socketserver as ss\n\nServerClass = ss.ForkingUDPServer\n",
        "ss.ForkingUDPServer", "socketserver.ForkingUDPServer", None, "", {"fork-only"}),
    "threading-tcp-server": spelling(
        "import socketserver\n\nServerClass = socketserver.ThreadingTCPServer\n",
        "socketserver.ThreadingTCPServer", "socketserver.ThreadingTCPServer", None, "", set()),
    "os-fork": spelling(
        "import os\n\npid = os.fork()\n",
        "os.fork()", "os.fork", None, "", {"fork-only"}),
    "os-fork-renamed": spelling(
        "from os import fork as detach\n\npid = detach()\n",
        "detach()", "os.fork", None, "", {"fork-only"}),
    "os-forkpty-alias": spelling(
        "import os as system\n\npid, fd = system.forkpty()\n",
        "system.forkpty()", "os.forkpty", None, "", {"fork-only"}),
    # -- joblib --------------------------------------------------------------------------------
    "joblib-multiprocessing-backend": spelling(
        'from joblib import Parallel, delayed\n\n' + WORK
        + 'results = Parallel(n_jobs=2, backend="multiprocessing")(delayed(work)(i) for i in range(4))\n',
        'Parallel(n_jobs=2, backend="multiprocessing")(delayed(work)(i) for i in range(4))', "joblib.Parallel()",
        None, "joblib", {"starts"}),
    "joblib-loky-default": spelling(
        'import joblib\n\n' + WORK + 'results = joblib.Parallel(n_jobs=2)(joblib.delayed(work)(i) for i in range(4))\n',
        "joblib.Parallel(n_jobs=2)(joblib.delayed(work)(i) for i in range(4))", "joblib.Parallel()", None, "joblib",
        set()),
    "joblib-threading-backend": spelling(
        'from joblib import Parallel, delayed\n\n' + WORK
        + 'results = Parallel(n_jobs=2, backend="threading")(delayed(work)(i) for i in range(4))\n',
        'Parallel(n_jobs=2, backend="threading")(delayed(work)(i) for i in range(4))', "joblib.Parallel()", None,
        "joblib", set()),
    # -- star imports ----------------------------------------------------------------------------
    "star-import": spelling(
        "from multiprocessing import *\n\n" + WORK + "with Pool(2) as pool:\n    pool.map(work, range(3))\n",
        "Pool(2)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "star-import-executor": spelling(
        "from concurrent.futures import *\n\n" + WORK + "future = ProcessPoolExecutor().submit(work, 1)\n",
        "ProcessPoolExecutor().submit(work, 1)", "concurrent.futures.ProcessPoolExecutor().submit", None, "",
        {"starts", "pickles"}),
    "star-import-shadowed-by-def": spelling(
        "from multiprocessing import *\n\ndef Pool(size):\n    return [None] * size\n\nslots = Pool(2)\n",
        "Pool(2)", "Pool", None, "", set()),
    "two-star-imports-are-ambiguous": spelling(
        "from multiprocessing import *\nfrom threading import *\n\nlock = Lock()\n",
        "Lock()", None, None, None, set()),
    # -- relative imports and shadowing: the project's own names --------------------------------
    "relative-module": spelling(
        "from . import workers\n\npool = workers.Pool(2)\n",
        "workers.Pool(2)", ".workers.Pool", None, "", set()),
    "relative-module-named-multiprocessing": spelling(
        "from .multiprocessing import Pool\n\npool = Pool(2)\n",
        "Pool(2)", ".multiprocessing.Pool", None, "", set()),
    "parent-relative": spelling(
        "from ..compat import get_context\n\nctx = get_context('fork')\n",
        "get_context('fork')", "..compat.get_context", None, "", set()),
    "parameter-shadows-module": spelling(
        "import multiprocessing as mp\n\ndef start(mp):\n    return mp.Pool(2)\n",
        "mp.Pool(2)", None, None, None, set()),
    "rebound-to-something-else": spelling(
        "import multiprocessing as mp\nfrom myproject import fake_multiprocessing\n\nmp = fake_multiprocessing\n"
        "pool = mp.Pool(2)\n",
        "mp.Pool(2)", "myproject.fake_multiprocessing.Pool", None, "", set()),
    "class-attribute-alias": spelling(
        "from concurrent.futures import ProcessPoolExecutor\n\nclass Runner:\n"
        "    executor_class = ProcessPoolExecutor\n\nexecutor = Runner.executor_class(max_workers=2)\n",
        "Runner.executor_class(max_workers=2)", "concurrent.futures.ProcessPoolExecutor", None, "", set()),
    "module-level-alias": spelling(
        "import multiprocessing\n\nWorkerPool = multiprocessing.Pool\npool = WorkerPool(2)\n",
        "WorkerPool(2)", "multiprocessing.Pool", None, "multiprocessing", {"starts"}),
    "conditional-alias-is-ambiguous": spelling(
        "import os\nfrom concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor\n\n"
        'if os.environ.get("THREADS"):\n    Executor = ThreadPoolExecutor\nelse:\n    Executor = ProcessPoolExecutor\n'
        "executor = Executor()\n",
        "Executor()", None, None, None, set()),
}


def _sites_in(model, expression):
    """The sites of every call, attribute and name inside `expression`."""
    nodes = set()
    stack = [expression]
    while stack:
        node = stack.pop()
        nodes.add(id(node))
        stack.extend(node.children)
    sites = [site for site in (*model.calls, *model.attributes) if id(site.node) in nodes]
    sites += [reference.site for scope in model.scopes() for reference in scope.references
              if id(reference.node) in nodes]
    return sites


def _roles(model, expression, symbol):
    roles = set()
    if isinstance(expression, cst.Call):
        site = next(site for site in model.calls if site.node is expression)
        if model.processes.starter(site) is not None:
            roles.add("starts")
        call = model.processes.process_call(site)
        if call is not None and call.callable is not None and call.pickled_under:
            roles.add("pickles")
    if any(model.processes.fork_only_use(site) is not None for site in _sites_in(model, expression)):
        roles.add("fork-only")
    if symbol is not None and apis.has_role(symbol.qualname, apis.Role.THREADS):
        roles.add("threads")
    return roles


@pytest.mark.parametrize(("source", "expression", "qualname", "method", "flavour", "roles"),
                         SPELLINGS.values(), ids=SPELLINGS.keys())
def test_spelling(source, expression, qualname, method, flavour, roles):
    model = model_of(source)
    node = find(model, expression)
    named = node.func if isinstance(node, cst.Call) else node
    symbol = model.resolve(named)
    assert (symbol.qualname if symbol else None) == qualname
    if symbol is not None:
        assert symbol.flavour == flavour
    process_call = None
    if isinstance(node, cst.Call):
        process_call = model.processes.process_call(next(site for site in model.calls if site.node is node))
    given = model.resolve(node)
    in_force = process_call.start_method if process_call is not None else (given.start_method if given else None)
    assert in_force == method
    assert _roles(model, node, symbol) == roles


def test_the_table_is_large_and_covers_every_role():
    assert len(SPELLINGS) >= 60
    covered = set().union(*(row[5] for row in SPELLINGS.values()))
    assert covered == {"starts", "pickles", "fork-only", "threads"}
    assert {row[4] for row in SPELLINGS.values()} >= {"multiprocessing", "torch", "billiard", "multiprocess", ""}

