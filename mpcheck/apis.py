"""The one catalogue of the process APIs: every name mpcheck knows, what it does, its spellings.

Names are canonical dotted paths; `()` marks the object a call returns, so
`multiprocessing.Pool().map` is the `map` method of a pool. The semantic model resolves every
spelling to these names (`canonical` is applied at each attribute step), and rules look the
result up here; no rule keeps a list of API names of its own.

Sources: the CPython standard library 3.10-3.13 (`multiprocessing/context.py`, `pool.py`,
`managers.py`, `concurrent/futures/process.py`, `socketserver.py`, `os` docs), torch 2.13
(`torch/multiprocessing/__init__.py`, `spawn.py`), billiard 4, multiprocess 0.70, joblib 1.6, tqdm 4.67
(`tqdm/contrib/concurrent.py`);
the facts cited as "facts §N" are in docs/facts.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable

# Text that every file starting processes by itself contains (the prefilter's words for the
# rules about starting processes): names resolve only through imports, so the module providing
# the starter is named in the file. "multiprocess" covers multiprocessing and the dill-based
# multiprocess, and torch.multiprocessing; concurrent.futures starts processes only through a
# ProcessPoolExecutor, and torch only through torch.multiprocessing and a DataLoader, each
# named however its module is imported, and tqdm's pool through `process_map`. (Not "torch":
# nearly every module of a torch project names it, and would be parsed, with every module its
# calls lead to.)
PROCESS_WORDS = ("multiprocess", "ProcessPoolExecutor", "DataLoader", "billiard", "joblib", "pathos", "process_map")

# Standard-library modules that exist only on Unix ("Availability: Unix" in the Python Library
# Reference: fcntl, grp, pwd, posix, pty, resource, syslog, termios, tty, and the deprecated
# crypt, nis, spwd). A module that imports one unconditionally cannot be imported on Windows:
# what breaks only there cannot break in it (project.unix_only_line).
UNIX_ONLY_MODULES = frozenset({"fcntl", "grp", "pwd", "posix", "pty", "resource", "syslog", "termios", "tty",
                               "crypt", "nis", "spwd"})

# -- module families --------------------------------------------------------------------------

# Packages that are the multiprocessing API under another name: (prefix, flavour). Their
# names resolve to multiprocessing's; the flavour is kept, because it decides how callables
# are pickled (`multiprocess` uses dill) and what some names mean.
_FAMILIES = (
    ("torch.multiprocessing", "torch"),
    ("billiard", "billiard"),
    ("multiprocess", "multiprocess"),
    ("multiprocessing", "multiprocessing"),
)
# Names torch.multiprocessing adds that are not multiprocessing's (torch's `spawn` is a
# function that starts processes; multiprocessing.spawn is a module).
_TORCH_OWN = frozenset({
    "spawn", "start_processes", "SpawnContext", "ProcessContext", "ProcessExitedException",
    "ProcessRaisedException", "set_sharing_strategy", "get_sharing_strategy",
})
# Flavours whose pickler serialises lambdas, closures and local functions by value (dill,
# cloudpickle): the pickling rules do not apply to them.
PICKLE_BY_VALUE = frozenset({"multiprocess", "pathos", "joblib", "loky"})

START_METHODS = ("fork", "spawn", "forkserver")


def family(qualname: str) -> tuple[str, str]:
    """`(name, flavour)`: `qualname` with a multiprocessing look-alike package replaced by
    `multiprocessing`, and which package it was. `torch.multiprocessing.Pool` ->
    (`multiprocessing.Pool`, "torch"); torch's own `spawn` stays `torch.multiprocessing.spawn`.
    Names of other packages come back unchanged with the flavour "" (pathos and joblib have
    theirs: "pathos", "joblib")."""
    for prefix, flavour in _FAMILIES:
        if qualname == prefix or qualname.startswith(prefix + "."):
            rest = qualname[len(prefix):]
            if flavour == "torch" and rest[1:].split(".", 1)[0].split("(", 1)[0] in _TORCH_OWN:
                return qualname, flavour
            return "multiprocessing" + rest, flavour
    root = qualname.split(".", 1)[0]
    return qualname, root if root in ("pathos", "joblib", "loky") else ""


# -- spellings ----------------------------------------------------------------------------------

# Spellings of one API -> (canonical name, the start method the spelling implies). Applied to
# a whole name or to the prefix of a longer one (`multiprocessing.pool.Pool().map`).
ALIASES: dict[str, tuple[str, str | None]] = {
    "multiprocessing.pool.Pool": ("multiprocessing.Pool", None),
    "multiprocessing.context.Process": ("multiprocessing.Process", None),
    "multiprocessing.process.BaseProcess": ("multiprocessing.Process", None),
    "multiprocessing.context.SpawnProcess": ("multiprocessing.Process", "spawn"),
    "multiprocessing.context.ForkProcess": ("multiprocessing.Process", "fork"),
    "multiprocessing.context.ForkServerProcess": ("multiprocessing.Process", "forkserver"),
    "multiprocessing.pool.ThreadPool": ("multiprocessing.dummy.Pool", None),
    "multiprocessing.dummy.Process": ("threading.Thread", None),
    "multiprocessing.dummy.DummyProcess": ("threading.Thread", None),
    "multiprocessing.queues.Queue": ("multiprocessing.Queue", None),
    "multiprocessing.queues.JoinableQueue": ("multiprocessing.JoinableQueue", None),
    "multiprocessing.queues.SimpleQueue": ("multiprocessing.SimpleQueue", None),
    "multiprocessing.synchronize.Lock": ("multiprocessing.Lock", None),
    "multiprocessing.synchronize.RLock": ("multiprocessing.RLock", None),
    "multiprocessing.synchronize.Semaphore": ("multiprocessing.Semaphore", None),
    "multiprocessing.synchronize.BoundedSemaphore": ("multiprocessing.BoundedSemaphore", None),
    "multiprocessing.synchronize.Condition": ("multiprocessing.Condition", None),
    "multiprocessing.synchronize.Event": ("multiprocessing.Event", None),
    "multiprocessing.synchronize.Barrier": ("multiprocessing.Barrier", None),
    "multiprocessing.connection.Pipe": ("multiprocessing.Pipe", None),
    "multiprocessing.sharedctypes.Value": ("multiprocessing.Value", None),
    "multiprocessing.sharedctypes.Array": ("multiprocessing.Array", None),
    "multiprocessing.context.reduction": ("multiprocessing.reduction", None),
    "concurrent.futures.process.ProcessPoolExecutor": ("concurrent.futures.ProcessPoolExecutor", None),
    "concurrent.futures.thread.ThreadPoolExecutor": ("concurrent.futures.ThreadPoolExecutor", None),
    "loky.ProcessPoolExecutor": ("loky.ProcessPoolExecutor", None),
    "pathos.pools.ProcessPool": ("pathos.multiprocessing.ProcessPool", None),
    "pathos.pools.ProcessingPool": ("pathos.multiprocessing.ProcessPool", None),
    "pathos.multiprocessing.ProcessingPool": ("pathos.multiprocessing.ProcessPool", None),
    "pathos.pools.ThreadPool": ("pathos.threading.ThreadPool", None),
    "pathos.helpers.cpu_count": ("multiprocessing.cpu_count", None),
    "pathos.multiprocessing.cpu_count": ("multiprocessing.cpu_count", None),
    "torch.utils.data.dataloader.DataLoader": ("torch.utils.data.DataLoader", None),
    "tqdm.auto.tqdm": ("tqdm.tqdm", None),
    "tqdm.std.tqdm": ("tqdm.tqdm", None),
    "tqdm.notebook.tqdm": ("tqdm.tqdm", None),
    # The event loop, however it is obtained.
    "asyncio.get_event_loop()": ("asyncio.AbstractEventLoop()", None),
    "asyncio.get_running_loop()": ("asyncio.AbstractEventLoop()", None),
    "asyncio.new_event_loop()": ("asyncio.AbstractEventLoop()", None),
    "asyncio.events.get_event_loop()": ("asyncio.AbstractEventLoop()", None),
    "asyncio.events.get_running_loop()": ("asyncio.AbstractEventLoop()", None),
}

# Classes whose instance is a multiprocessing context with a fixed start method:
# `SpawnContext()` is what `get_context("spawn")` returns.
CONTEXT_CLASSES: dict[str, str] = {
    "multiprocessing.context.SpawnContext": "spawn",
    "multiprocessing.context.ForkContext": "fork",
    "multiprocessing.context.ForkServerContext": "forkserver",
}
# The module-level functions of multiprocessing are methods of its default context, so a
# context object and the module answer to the same member names.
CONTEXT = "multiprocessing"


def canonical(qualname: str) -> tuple[str, str | None]:
    """The canonical name of a spelling and the start method it implies:
    `multiprocessing.context.SpawnProcess` -> (`multiprocessing.Process`, "spawn"),
    `concurrent.futures.process.ProcessPoolExecutor().submit` ->
    (`concurrent.futures.ProcessPoolExecutor().submit`, None). `qualname` is already
    family-normalised (see `family`)."""
    for spelling in _prefixes(qualname):
        target = ALIASES.get(spelling)
        if target is not None:
            return target[0] + qualname[len(spelling):], target[1]
    return qualname, None


@dataclass(frozen=True)
class Imported:
    """A dotted name as imported (`multiprocessing.Pool`), and `other_flavours`: the flavours
    (`family`) of the other packages the same API is imported from on other paths of the
    program, one of which runs instead where it is installed (`try: from multiprocess import
    Pool` / `except ImportError: from multiprocessing import Pool`)."""

    name: str
    other_flavours: frozenset[str] = frozenset()


def one_api(alternatives: Iterable[Imported]) -> Imported | None:
    """What a name bound by several imports names (on different paths: `try`/`except
    ImportError`, `if`/`else`): the one name they all import; for the same API imported from
    different families, the standard library's (it is what runs where the other is missing:
    `from billiard import Process` on old macOS, `from multiprocessing import Process`
    elsewhere), with the other families' flavours added to `other_flavours` (whether a
    callable is pickled by value depends on which one runs). None for different APIs, or one
    API with no standard-library spelling or several."""
    found = set(alternatives)
    names = {imported.name for imported in found}
    others = frozenset().union(*(imported.other_flavours for imported in found))
    if len(names) == 1:
        return Imported(names.pop(), others)
    standard = [name for name in names if family(name)[1] == "multiprocessing"]
    if len({canonical(family(name)[0])[0] for name in names}) != 1 or len(standard) != 1:
        return None
    return Imported(standard[0], others | {family(name)[1] for name in names if name != standard[0]})


def _prefixes(qualname: str):
    """`a.b().c` -> `a.b().c`, `a.b`, `a` (the longest first), cut at dots and call marks."""
    yield qualname
    end = len(qualname)
    while True:
        cut = max(qualname.rfind(".", 0, end), qualname.rfind("(", 0, end))
        if cut <= 0:
            return
        end = cut
        yield qualname[:end]


# -- what each API does -----------------------------------------------------------------------


class Role(enum.Flag):
    """What calling (or naming) an API does, for the rules."""

    NONE = 0
    STARTS = enum.auto()  # calling it starts processes at that point
    PICKLES_CALLABLE = enum.auto()  # a callable argument travels to a child by pickle
    PICKLES_DATA = enum.auto()  # argument values travel to a child by pickle
    FORK_ONLY = enum.auto()  # absent where fork is missing (Windows)
    THREADS = enum.auto()  # a look-alike that runs threads: no process, no pickling
    SETS_START_METHOD = enum.auto()
    QUEUE = enum.auto()  # a multiprocessing queue (not a manager's proxy)
    SYNC = enum.auto()  # a lock-like primitive backed by a named semaphore
    POOL = enum.auto()  # makes a pool or executor (a lifecycle to close)
    PROCESS = enum.auto()  # makes a Process object (start() starts it)
    MANAGER = enum.auto()  # makes a manager (its server is a process)
    SHARED_MEMORY = enum.auto()
    RESOURCE_TRACKER = enum.auto()  # starts the resource tracker process under spawn/forkserver
    DATA_LOADER = enum.auto()  # torch DataLoader: processes when iterated with num_workers > 0
    # Reads a semaphore's value through sem_getvalue(), which macOS lacks: NotImplementedError
    # there (facts §7).
    SEM_GETVALUE = enum.auto()
    MISSING_ON_WINDOWS = enum.auto()  # a name absent on Windows that is not about fork (facts §11)
    REUSE_PORT = enum.auto()  # takes `reuse_port=`: ValueError on Windows when true (facts §11)
    SOCKET = enum.auto()  # makes a socket object (a listening one, for the server APIs)
    ASYNC_RESULT = enum.auto()  # returns results that arrive later (AsyncResult, futures, a result iterator)
    EXIT_TERMINATES = enum.auto()  # a pool whose `with` exit calls terminate(): pending tasks are lost


@dataclass(frozen=True)
class Argument:
    """Where an argument is passed: positional index (None: keyword only) and keyword.
    `items`: what is pickled is its items, not the object itself (an `args` tuple, a `kwargs`
    dict, the iterable of `Pool.map`: a generator given there is consumed in the parent).
    `spread`: how the callable receives those items, `"*"` as its positional arguments
    (`Process(args=...)`), `"**"` as its keyword arguments (`Process(kwargs=...)`); None: it
    does not (a map's iterable, one item per call)."""

    position: int | None
    keyword: str | None
    items: bool = False
    spread: str | None = None


@dataclass(frozen=True)
class Api:
    """One entry of the catalogue.

    `label` names the API in messages. `callable_argument`: the argument that is pickled by
    reference (a function); `data_arguments`: arguments whose values are pickled;
    `pickled_under`: the start methods under which they are pickled (`Pool.map` pickles under
    all three, `Process(target=...)` only under spawn and forkserver; facts §5).
    `rest_is_data`: every further positional argument is pickled data (`submit(fn, *args)`);
    `rest_items`: their items are (`ProcessPoolExecutor.map(fn, *iterables)`).
    `leading_arguments`: how many positional arguments the API passes its callable before
    those it was given (torch's `spawn` calls `fn(i, *args)`).
    `start_method`: the start method it uses whatever the default context is, unless
    `start_method_argument` names another (torch's `start_processes(start_method=...)`).
    `context_argument`: where a multiprocessing context may be given, whose start method the
    object made then uses (`Pool(context=...)`, `ProcessPoolExecutor(mp_context=...)`).
    `workers_argument`: where a pool is told its number of worker processes; on Windows a
    pool waits on its workers with `WaitForMultipleObjects`, which takes at most 63 handles
    (facts §8): `windows_workers_until` is the first Python version whose pool copes with
    more (None: none does, the executor rejects more than 61 with ValueError), and
    `default_workers_clamped` says whether its default size stays within 61 on Windows.
    `worker_setup`: the argument, of the API or of the pool it is a method of, whose function
    each worker runs before its first task (`Pool(initializer=...)`), if there is one.
    """

    name: str
    roles: Role
    label: str = ""
    callable_argument: Argument | None = None
    data_arguments: tuple[Argument, ...] = ()
    rest_is_data: bool = False
    rest_items: bool = False
    leading_arguments: int = 0
    pickled_under: frozenset[str] = frozenset()
    start_method: str | None = None
    start_method_argument: Argument | None = None
    context_argument: Argument | None = None
    workers_argument: Argument | None = None
    windows_workers_until: tuple[int, int] | None = None
    default_workers_clamped: bool = False
    worker_setup: str | None = None
    note: str = ""


_ALL = frozenset(START_METHODS)
_NOT_FORK = frozenset({"spawn", "forkserver"})


def _arg(position: int | None, keyword: str | None = None) -> Argument:
    return Argument(position, keyword)


def _items(position: int | None, keyword: str | None = None, spread: str | None = None) -> Argument:
    return Argument(position, keyword, items=True, spread=spread)


def _args(position: int, keyword: str) -> Argument:
    """A tuple whose items the callable receives as its positional arguments."""
    return _items(position, keyword, "*")


def _kwargs(position: int, keyword: str) -> Argument:
    """A mapping whose items the callable receives as its keyword arguments."""
    return _items(position, keyword, "**")


def _async(method: str) -> Role:
    """Pool methods whose results arrive later: `*_async` and the `imap` iterators."""
    return Role.ASYNC_RESULT if method.endswith("_async") or method.startswith("imap") else Role.NONE


_APIS = [
    # -- processes
    Api("multiprocessing.Process", Role.PROCESS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA, "Process()",
        callable_argument=_arg(1, "target"), data_arguments=(_args(3, "args"), _kwargs(4, "kwargs")),
        pickled_under=_NOT_FORK),
    Api("multiprocessing.Process().start", Role.STARTS, "Process.start()"),
    # -- pools and executors
    # Pool.__exit__ calls terminate() (facts §10).
    Api("multiprocessing.Pool", Role.STARTS | Role.POOL | Role.EXIT_TERMINATES | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
        "Pool()",
        callable_argument=_arg(1, "initializer"), data_arguments=(_args(2, "initargs"),),
        pickled_under=_NOT_FORK, context_argument=_arg(4, "context"), workers_argument=_arg(0, "processes"),
        windows_workers_until=(3, 13), worker_setup="initializer"),
    *(Api(f"multiprocessing.Pool().{method}", Role.PICKLES_CALLABLE | Role.PICKLES_DATA | _async(method),
          f"Pool.{method}()", callable_argument=_arg(0, "func"), data_arguments=(_items(1, "iterable"),),
          pickled_under=_ALL, worker_setup="initializer")
      for method in ("map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")),
    *(Api(f"multiprocessing.Pool().{method}", Role.PICKLES_CALLABLE | Role.PICKLES_DATA | _async(method),
          f"Pool.{method}()", callable_argument=_arg(0, "func"),
          data_arguments=(_args(1, "args"), _kwargs(2, "kwds")), pickled_under=_ALL, worker_setup="initializer")
      for method in ("apply", "apply_async")),
    Api("concurrent.futures.ProcessPoolExecutor", Role.POOL | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
        "ProcessPoolExecutor()", callable_argument=_arg(2, "initializer"), data_arguments=(_args(3, "initargs"),),
        pickled_under=_NOT_FORK, context_argument=_arg(1, "mp_context"), workers_argument=_arg(0, "max_workers"),
        default_workers_clamped=True, worker_setup="initializer",
        note="the executor starts its workers at the first submit()/map(), not when it is made"),
    Api("concurrent.futures.ProcessPoolExecutor().submit",
        Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA | Role.ASYNC_RESULT, "ProcessPoolExecutor.submit()",
        callable_argument=_arg(0, "fn"), rest_is_data=True, pickled_under=_ALL, worker_setup="initializer"),
    Api("concurrent.futures.ProcessPoolExecutor().map",
        Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA | Role.ASYNC_RESULT, "ProcessPoolExecutor.map()",
        callable_argument=_arg(0, "fn"), rest_is_data=True, rest_items=True, pickled_under=_ALL,
        worker_setup="initializer"),
    Api("multiprocessing.Manager", Role.STARTS | Role.MANAGER, "Manager()"),
    Api("multiprocessing.managers.SyncManager", Role.MANAGER, "SyncManager()"),
    Api("multiprocessing.managers.BaseManager", Role.MANAGER, "BaseManager()"),
    Api("multiprocessing.managers.SharedMemoryManager", Role.MANAGER | Role.SHARED_MEMORY, "SharedMemoryManager()"),
    *(Api(f"multiprocessing.managers.{manager}().start", Role.STARTS, f"{manager}.start()")
      for manager in ("SyncManager", "BaseManager", "SharedMemoryManager")),
    # torch/multiprocessing/spawn.py: both run `Process(target=_wrap, args=(fn, i, args, ...))` of
    # `get_context(start_method)`, so `fn` and `args` are pickled except under fork; `spawn()`
    # warns about any other start_method and passes "spawn" to `start_processes` regardless.
    Api("torch.multiprocessing.spawn", Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
        "torch.multiprocessing.spawn()", callable_argument=_arg(0, "fn"), data_arguments=(_args(1, "args"),),
        leading_arguments=1, pickled_under=_NOT_FORK, start_method="spawn",
        note="always uses the spawn start method (start_method= is deprecated and ignored)"),
    Api("torch.multiprocessing.start_processes", Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
        "torch.multiprocessing.start_processes()", callable_argument=_arg(0, "fn"),
        data_arguments=(_args(1, "args"),), leading_arguments=1, pickled_under=_NOT_FORK, start_method="spawn",
        start_method_argument=_arg(5, "start_method")),
    Api("torch.utils.data.DataLoader", Role.DATA_LOADER, "DataLoader()"),
    # -- dill/cloudpickle-based pools: they start processes, but pickle callables by value
    # pathos' ProcessPool(nodes) is a multiprocess.Pool (the stdlib pool under dill) of that size.
    Api("pathos.multiprocessing.ProcessPool", Role.POOL, "ProcessPool()", workers_argument=_arg(0, "nodes"),
        windows_workers_until=(3, 13)),
    # pathos starts its workers (multiprocess, dill) at the first map; under spawn they re-import
    # the main module like multiprocessing's do.
    *(Api(f"pathos.multiprocessing.ProcessPool().{method}", Role.STARTS, f"ProcessPool.{method}()")
      for method in ("map", "imap", "uimap", "amap", "pipe", "apipe")),
    # tqdm/contrib/concurrent.py: `process_map(fn, *iterables)` runs `ProcessPoolExecutor(max_workers=...,
    # initializer=tqdm's own set_lock).map(fn, *iterables)` in a `with` block: it starts the workers and
    # pickles `fn` and the items as the executor's map does; its default size, min(32, cpu_count() + 4),
    # stays within Windows' 61.
    Api("tqdm.contrib.concurrent.process_map", Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
        "process_map()", callable_argument=_arg(0, "fn"), rest_is_data=True, rest_items=True, pickled_under=_ALL,
        workers_argument=_arg(None, "max_workers"), default_workers_clamped=True),
    Api("loky.ProcessPoolExecutor", Role.POOL, "ProcessPoolExecutor()"),
    Api("loky.get_reusable_executor", Role.POOL, "get_reusable_executor()"),
    # -- threads that look like processes
    Api("multiprocessing.dummy.Pool", Role.THREADS, "ThreadPool()"),
    Api("concurrent.futures.ThreadPoolExecutor", Role.THREADS, "ThreadPoolExecutor()"),
    Api("threading.Thread", Role.THREADS, "Thread()"),
    Api("pathos.threading.ThreadPool", Role.THREADS, "ThreadPool()"),
    Api("tqdm.contrib.concurrent.thread_map", Role.THREADS, "thread_map()"),
    # -- start methods
    Api("multiprocessing.set_start_method", Role.SETS_START_METHOD, "set_start_method()"),
    Api("multiprocessing.get_context", Role.NONE, "get_context()"),
    Api("multiprocessing.get_start_method", Role.NONE, "get_start_method()"),
    # -- fork-only names (facts §2): absent on Windows
    *(Api(name, Role.FORK_ONLY, name.rsplit(".", 1)[1]) for name in (
        "multiprocessing.context.ForkProcess", "multiprocessing.context.ForkServerProcess",
        "multiprocessing.context.ForkContext", "multiprocessing.context.ForkServerContext",
        "os.fork", "os.forkpty", "os.register_at_fork",
        "socketserver.ForkingMixIn", "socketserver.ForkingTCPServer", "socketserver.ForkingUDPServer",
        "socketserver.ForkingUnixStreamServer", "socketserver.ForkingUnixDatagramServer",
    )),
    # -- queues, pipes, primitives
    *(Api(f"multiprocessing.{name}", Role.QUEUE | Role.RESOURCE_TRACKER, f"{name}()")
      for name in ("Queue", "JoinableQueue", "SimpleQueue")),
    *(Api(f"multiprocessing.{name}().{method}", Role.PICKLES_DATA, f"{name}.{method}()",
          data_arguments=(_arg(0, "obj"),), pickled_under=_ALL)
      for name in ("Queue", "JoinableQueue", "SimpleQueue") for method in ("put", "put_nowait")
      if not (name == "SimpleQueue" and method == "put_nowait")),
    *(Api(f"multiprocessing.{name}", Role.SYNC | Role.RESOURCE_TRACKER, f"{name}()")
      for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier")),
    Api("multiprocessing.Value", Role.SYNC | Role.RESOURCE_TRACKER, "Value()"),
    Api("multiprocessing.Array", Role.SYNC | Role.RESOURCE_TRACKER, "Array()"),
    Api("multiprocessing.Pipe", Role.NONE, "Pipe()"),
    Api("multiprocessing.shared_memory.SharedMemory", Role.SHARED_MEMORY | Role.RESOURCE_TRACKER, "SharedMemory()"),
    Api("multiprocessing.shared_memory.ShareableList", Role.SHARED_MEMORY | Role.RESOURCE_TRACKER, "ShareableList()"),
    # queues.py `qsize()` and synchronize.py `get_value()` call `_semlock._get_value()`, which
    # raises NotImplementedError where sem_getvalue() is broken (macOS; facts §7). A manager's
    # Queue() is a queue.Queue in the manager's process: its qsize() works.
    *(Api(f"multiprocessing.{name}().qsize", Role.SEM_GETVALUE, f"{name}.qsize()")
      for name in ("Queue", "JoinableQueue")),
    *(Api(f"multiprocessing.{name}().get_value", Role.SEM_GETVALUE, f"{name}.get_value()")
      for name in ("Semaphore", "BoundedSemaphore")),
    # -- sockets (MP702, facts §11): SO_REUSEPORT is not defined on Windows; `reuse_port=True`
    # raises ValueError there (socket.py, asyncio/base_events.py).
    Api("socket.SO_REUSEPORT", Role.MISSING_ON_WINDOWS, "socket.SO_REUSEPORT"),
    Api("socket.create_server", Role.REUSE_PORT | Role.SOCKET, "socket.create_server()"),
    *(Api(name, Role.REUSE_PORT, label) for name, label in (
        ("asyncio.start_server", "asyncio.start_server()"),
        ("asyncio.AbstractEventLoop().create_server", "loop.create_server()"),
        ("asyncio.AbstractEventLoop().create_datagram_endpoint", "loop.create_datagram_endpoint()"),
    )),
    *(Api(name, Role.SOCKET, label) for name, label in (
        ("socket.socket", "socket.socket()"), ("socket.fromfd", "socket.fromfd()"), ("socket.fromshare", "socket.fromshare()"),
        ("uvicorn.Config().bind_socket", "uvicorn.Config.bind_socket()"),
    )),
]

CATALOGUE: dict[str, Api] = {api.name: api for api in _APIS}

# Calls that configure the whole process: a spawned child must run them too to work as a
# forked one does (it inherited the parent's configuration), so a fix that guards the main
# script's work keeps them at module level.
PROCESS_CONFIGURATION = frozenset({
    "logging.basicConfig", "logging.config.dictConfig", "logging.config.fileConfig", "logging.disable",
    "logging.captureWarnings", "warnings.filterwarnings", "warnings.simplefilter", "sys.path.insert",
    "sys.path.append", "sys.path.extend", "sys.setrecursionlimit", "os.environ.setdefault", "os.environ.update",
    "os.putenv", "os.chdir", "os.umask", "socket.setdefaulttimeout", "locale.setlocale", "random.seed",
    "numpy.random.seed", "torch.manual_seed", "torch.set_num_threads", "torch.set_default_dtype",
    "torch.set_grad_enabled", "torch.use_deterministic_algorithms", "matplotlib.use", "faulthandler.enable",
    "signal.signal", "multiprocessing.set_executable", "multiprocessing.set_forkserver_preload",
    "multiprocessing.util.log_to_stderr", "multiprocessing.log_to_stderr",
})
# Calls whose result is a plain value and whose running again in a child changes nothing
# anyone sees: an assignment of one stays at module level like a constant.
HARMLESS_CALLS = frozenset({
    "logging.getLogger", "argparse.ArgumentParser", "re.compile", "pathlib.Path", "os.path.join",
    "os.path.dirname", "os.path.abspath", "os.path.basename", "os.path.expanduser", "os.path.realpath",
    "os.getenv", "os.environ.get", "os.cpu_count", "multiprocessing.cpu_count", "collections.namedtuple",
    "collections.defaultdict", "collections.OrderedDict", "collections.Counter", "collections.deque",
    "typing.TypeVar", "typing.NewType", "functools.partial", "dataclasses.field", "threading.local",
    "int", "float", "str", "bool", "bytes", "dict", "list", "set", "frozenset", "tuple", "range", "len",
    "min", "max", "sorted", "enumerate", "zip", "object", "type",
})

# Functions that return the number of CPUs of the machine, unclamped (facts §8).
CPU_COUNTS = frozenset({
    "os.cpu_count", "os.process_cpu_count", "multiprocessing.cpu_count", "psutil.cpu_count", "joblib.cpu_count",
})
# The most worker processes a pool can wait on under Windows (63 handles less two; facts §8).
WINDOWS_MAX_WORKERS = 61

# `asyncio`'s `loop.run_in_executor(executor, func, *args)`: pickles `func` and `args` when the
# executor is a process pool (recognised from the executor argument, not the loop's name).
RUN_IN_EXECUTOR = "run_in_executor"
RUN_IN_PROCESS_POOL = Api(
    "asyncio.AbstractEventLoop().run_in_executor", Role.STARTS | Role.PICKLES_CALLABLE | Role.PICKLES_DATA,
    "run_in_executor(ProcessPoolExecutor())", callable_argument=_arg(1, "func"), pickled_under=_ALL,
    worker_setup="initializer")


# A torch DataLoader with workers: each worker process gets the dataset, `collate_fn` and
# `worker_init_fn` by pickle under spawn and forkserver (torch/utils/data/dataloader.py passes
# them as the arguments of `multiprocessing_context.Process(target=_worker_loop, ...)`), and
# runs the dataset's `__getitem__`/`__iter__` there. Positions as in torch 2.x's signature.
DATA_LOADER_WORKERS = Api(
    "torch.utils.data.DataLoader", Role.PICKLES_CALLABLE | Role.PICKLES_DATA, "DataLoader(num_workers>0)",
    callable_argument=_arg(10, "worker_init_fn"), data_arguments=(_arg(0, "dataset"), _arg(6, "collate_fn")),
    pickled_under=_NOT_FORK, context_argument=_arg(11, "multiprocessing_context"), worker_setup="worker_init_fn")
DATA_LOADER_WORKER_METHODS = ("__getitem__", "__getitems__", "__iter__")

# Objects pickle refuses, by the canonical name of the call that makes them, with the error
# (facts §5; checked on CPython 3.10-3.13). Sockets are not here: multiprocessing registers
# reducers for them (fd passing, `socket.share` on Windows). The file objects' text changed in
# 3.12.1/3.13 ("cannot pickle 'TextIOWrapper' instances").
_THREAD_LOCK = "TypeError: cannot pickle '_thread.lock' object"
_THREAD_RLOCK = "TypeError: cannot pickle '_thread.RLock' object"
_FILE = "TypeError: cannot pickle '_io.TextIOWrapper' object"
_LOCK_ADVICE = "use a lock of the process's multiprocessing context (or a Manager's), made in the parent"
_QUEUE_ADVICE = "use a multiprocessing Queue (or a Manager's)"
_FILE_ADVICE = "pass the path and open the file in the child"
# (error, advice) by canonical name of the call that makes the object.
UNPICKLABLE: dict[str, tuple[str, str]] = {
    "threading.Lock()": (_THREAD_LOCK, _LOCK_ADVICE),
    "threading.RLock()": (_THREAD_RLOCK, _LOCK_ADVICE),
    "threading.Condition()": (_THREAD_RLOCK, _LOCK_ADVICE),
    "threading.Semaphore()": (_THREAD_LOCK, _LOCK_ADVICE),
    "threading.BoundedSemaphore()": (_THREAD_LOCK, _LOCK_ADVICE),
    "threading.Event()": (_THREAD_LOCK, _LOCK_ADVICE),
    "threading.Barrier()": (_THREAD_LOCK, _LOCK_ADVICE),
    "queue.Queue()": (_THREAD_LOCK, _QUEUE_ADVICE),
    "queue.LifoQueue()": (_THREAD_LOCK, _QUEUE_ADVICE),
    "queue.PriorityQueue()": (_THREAD_LOCK, _QUEUE_ADVICE),
    "open()": (_FILE, _FILE_ADVICE),
    "io.open()": (_FILE, _FILE_ADVICE),
    "sqlite3.connect()": ("TypeError: cannot pickle 'sqlite3.Connection' object",
                          "pass the database path and connect in the child"),
}


def file_error(mode: str | None) -> str:
    """The error pickling a file `open()`ed in `mode` raises (None: unknown, taken as text):
    the io class depends on the mode (checked on CPython 3.11: "rb" gives
    `'_io.BufferedReader'`, "wb"/"ab" `'_io.BufferedWriter'`, "r+b" `'_io.BufferedRandom'`)."""
    if mode is None or "b" not in mode:
        return _FILE
    kind = "BufferedRandom" if "+" in mode else "BufferedReader" if "r" in mode else "BufferedWriter"
    return _FILE.replace("TextIOWrapper", kind)


# How a message names what those calls make ("a threading.Lock()" otherwise).
UNPICKLABLE_NAMES = {"open()": "an open file", "io.open()": "an open file", "sqlite3.connect()": "a sqlite3 connection"}
GENERATOR_ERROR = ("TypeError: cannot pickle 'generator' object", "pass a list of its items")
# A multiprocessing lock or queue given to a pool's or executor's task (pickled through a
# queue, not passed at process creation): refused under every start method (facts §5).
INHERITANCE_ONLY_ERROR = ("RuntimeError: {kind} objects should only be shared between processes through inheritance",
                          "pass it through the pool's initializer= and initargs=, or use a Manager's")
CONTEXT_MISMATCH_ERROR = ("RuntimeError: A SemLock created in a {made} context is being shared with a process in a "
                          "{used} context. This is not supported.",
                          "make it from the same context as the process")


def lookup(name: str) -> Api | None:
    """The catalogue entry of a canonical name, or None."""
    return CATALOGUE.get(name)


def has_role(name: str, role: Role) -> bool:
    api = CATALOGUE.get(name)
    return api is not None and bool(api.roles & role)


# joblib: `Parallel(backend="multiprocessing")` starts multiprocessing workers (needs the guard,
# pickles by reference); every other backend is loky or threads.
JOBLIB_PARALLEL = "joblib.Parallel"
FREEZE_SUPPORT = "multiprocessing.freeze_support"
# Start-method arguments of `get_context`/`set_start_method`.
START_METHOD_ARGUMENT = Argument(0, "method")
# Objects that multiprocessing's module-level functions make through the default context: making
# one fixes the global start method, as if `set_start_method()` had been called with the
# platform's default (facts §2; context.py `BaseContext.get_context` sets `_actual_context`).
FIXES_GLOBAL_CONTEXT = Role.QUEUE | Role.SYNC | Role.POOL | Role.MANAGER


# -- third-party modules that need fork when imported (MP103) ------------------------------------


@dataclass(frozen=True)
class ForkOnlyModule:
    """A third-party module whose import fails where fork is missing (Windows).

    `needs`: what its import does that needs fork, as a verb phrase ("import ForkProcess");
    `affected`: the releases that do it; `detail`: how, and what later releases do;
    `source`: where that was read or observed; `error`: what the import raises on Windows.
    `no_op_decorators`: its names that a program
    uses as decorators only and that can be replaced by a decorator returning the function
    unchanged where the module cannot be imported (bare, `@name`, or called with options,
    `@name(duration=60)`): MP103's fix offers that fallback when a file uses nothing else.
    """

    name: str
    needs: str
    affected: str
    detail: str
    source: str
    error: str = "ImportError, AttributeError or ValueError from the fork-only API it uses"
    no_op_decorators: tuple[str, ...] = ()
    # The first release that no longer needs fork at import, if any: a project that requires
    # it or later (`spaces>=0.29.1`, `spaces==0.30.4`) is not affected.
    fixed_in: str | None = None


FORK_ONLY_MODULES: dict[str, ForkOnlyModule] = {
    module.name: module for module in (
        ForkOnlyModule(
            "spaces",
            needs="import `ForkProcess` from multiprocessing.context",
            affected="spaces 0.29.0 and earlier",
            detail="spaces/__init__.py imports spaces/zero/decorator.py, which imports spaces/zero/wrappers.py: "
                   "`from multiprocessing.context import ForkProcess` and `multiprocessing.get_context(\"fork\")` "
                   "at module level. From 0.29.1, `spaces.GPU` imports wrappers.py only when ZeroGPU is on "
                   "(on Hugging Face's servers, which run Linux)",
            source="the spaces wheels from PyPI, read for mpcheck: 0.28.3 and 0.29.0 import it at import time; "
                   "0.29.1, 0.29.2, 0.29.3, 0.30.0, 0.31.0, 0.34.0, 0.40.0, 0.45.0 and 0.51.3 do not. The "
                   "MuseTalk Windows report (ImportError: cannot import name 'ForkProcess' from "
                   "'multiprocessing.context')",
            error="ImportError: cannot import name 'ForkProcess' from 'multiprocessing.context'",
            no_op_decorators=("GPU",),
            fixed_in="0.29.1",
        ),
    )
}


def fork_only_module(qualname: str, extra: tuple[str, ...] = ()) -> ForkOnlyModule | None:
    """The entry for an imported dotted name (`spaces`, `spaces.GPU`, `spaces.zero`): the
    catalogue's, or a bare one for a module the user listed in `fork-only-modules` (`extra`)."""
    for name in _prefixes_by_dot(qualname):
        if name in FORK_ONLY_MODULES:
            return FORK_ONLY_MODULES[name]
        if name in extra:
            return ForkOnlyModule(name, needs="need fork", affected="its releases",
                                  detail="listed in the project's `fork-only-modules` option",
                                  source="the project's `fork-only-modules` option")
    return None


def _prefixes_by_dot(qualname: str):
    parts = qualname.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])
