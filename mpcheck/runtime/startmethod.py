"""Make another start method multiprocessing's default, from outside the program, as a platform does.

On Windows and macOS the default start method is spawn, on Linux from Python 3.14 forkserver,
on Linux up to 3.13 fork (docs/facts.md §1). `apply("spawn")` makes a process behave as if
its platform's default were spawn: it changes the *default* context only, so the program's
own `set_start_method()` still works once and `get_context("fork")` still forks.
`apply("spawn", no_fork=True)` also takes fork away as Windows lacks it (§2):
`get_context("fork")`/`("forkserver")` raise `ValueError: cannot find context for 'fork'`,
`multiprocessing.context` has no `ForkProcess`, `ForkServerProcess`, `ForkContext` or
`ForkServerContext` (so importing one raises ImportError), `os` has no `fork`, `forkpty` or
`register_at_fork`, and `get_all_start_methods()` is `['spawn']`. Spawning still works:
multiprocessing starts spawn children, its resource tracker and its forkserver with
`_posixsubprocess.fork_exec` (`multiprocessing.util.spawnv_passfds`) and `subprocess` uses
it or `posix_spawn`; neither calls `os.fork`.

`multiprocessing` is not imported here: the default is replaced when the program first
imports `multiprocessing.context` (an import hook), so a process that never uses
multiprocessing pays nothing and sees the modules it would see anyway.

Every Python process that `mpcheck run` starts loads this file through the `sitecustomize`
in `inject/`, which `environment()` puts first on PYTHONPATH. Those interpreters need not
have mpcheck installed (any CPython 3.10-3.14), so this module uses the standard library
only and is loaded by its file path; mpcheck's own code imports it as
`mpcheck.runtime.startmethod`. Processes started with `-I`, `-E` or `-S`, or with an
environment without these variables, cannot be reached: `launch_problem()` says why, and
processes that can reach them warn when they start such a Python.
"""

from __future__ import annotations

import os
import sys

START_METHODS = ("fork", "spawn", "forkserver")
# What the processes read: the start method, "1" to remove fork, a file each appends its pid to.
METHOD_VARIABLE = "MPCHECK_START_METHOD"
NO_FORK_VARIABLE = "MPCHECK_NO_FORK"
LOG_VARIABLE = "MPCHECK_RUN_LOG"
INJECT_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inject")
# Defined only `if sys.platform != 'win32'` in multiprocessing/context.py (3.10-3.14).
FORK_ONLY_CONTEXT_NAMES = ("ForkProcess", "ForkServerProcess", "ForkContext", "ForkServerContext")
FORK_ONLY_OS_NAMES = ("fork", "forkpty", "register_at_fork")
# Interpreter options that keep sitecustomize from running: -I and -E ignore PYTHONPATH,
# -S does not import site (which imports sitecustomize).
_BLOCKING_OPTIONS = {"I": "-I (isolated mode ignores PYTHONPATH)", "E": "-E (PYTHONPATH is ignored)",
                     "S": "-S (site, which imports sitecustomize, is not imported)"}

_settings: dict = {}  # what apply() was last asked for: "method", "no_fork"
_warned: set = set()


def check(method: str, no_fork: bool = False) -> None:
    """Raise ValueError unless `method` is a start method and `no_fork` leaves it available
    (without fork there is only spawn, as on Windows)."""
    if method not in START_METHODS:
        raise ValueError(f"unknown start method {method!r} (choose from {', '.join(START_METHODS)})")
    if sys.platform == "win32" and method != "spawn":
        raise ValueError(f"Windows has no {method!r}: spawn is its only start method")
    if no_fork and method != "spawn":
        raise ValueError(f"without fork, spawn is the only start method (as on Windows), not {method!r}")


def environment(method: str, no_fork: bool = False, base=None, log: str | None = None) -> dict:
    """A copy of `base` (default: os.environ) under which every Python process starts with
    `method` as its default start method: the inject directory first on PYTHONPATH (the
    user's entries kept after it) and the variables apply_from_environment() reads.
    `log`: a file each such process appends its pid to. Raises ValueError as check() does."""
    check(method, no_fork)
    env = dict(os.environ if base is None else base)
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path and path != INJECT_DIRECTORY]
    env["PYTHONPATH"] = os.pathsep.join([INJECT_DIRECTORY, *paths])
    env[METHOD_VARIABLE] = method
    env.pop(NO_FORK_VARIABLE, None)
    if no_fork:
        env[NO_FORK_VARIABLE] = "1"
    env.pop(LOG_VARIABLE, None)
    if log is not None:
        env[LOG_VARIABLE] = log
    return env


def apply(method: str, no_fork: bool = False) -> None:
    """Make `method` the default start method of this process, as a platform default: now if
    multiprocessing.context is imported, else when it is. `no_fork` removes fork (see the
    module docstring) and cannot be undone. Calling it again changes the default again.
    Also starts warning (on stderr) when this process starts a Python that will not get the
    start method. Raises ValueError as check() does."""
    check(method, no_fork)
    first = not _settings
    _settings.update(method=method, no_fork=no_fork or _settings.get("no_fork", False))
    if _settings["no_fork"]:
        for module in (os, sys.modules.get("posix")):  # posix: what os re-exports (absent on Windows)
            for name in FORK_ONLY_OS_NAMES:
                if module is not None and hasattr(module, name):
                    delattr(module, name)
    context = sys.modules.get("multiprocessing.context")
    if context is not None:
        _patch_context(context)
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
    if first:
        sys.addaudithook(_warn_on_unreachable_launch)


def apply_from_environment() -> None:
    """apply() what the variables environment() sets ask for; nothing when they are absent.
    Called by the injected sitecustomize at interpreter startup."""
    method = os.environ.get(METHOD_VARIABLE)
    if not method:
        return
    try:
        apply(method, os.environ.get(NO_FORK_VARIABLE) == "1")
    except ValueError as error:
        sys.stderr.write(f"mpcheck: {METHOD_VARIABLE}={method}: {error}; the start method is left alone\n")
        return
    log = os.environ.get(LOG_VARIABLE)
    if log:
        try:
            descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, b"%d\n" % os.getpid())
            finally:
                os.close(descriptor)
        except OSError:
            pass


def launch_problem(argv, env) -> str | None:
    """Why a Python started with `argv` (its first item the program) and environment `env`
    would not run with the start method environment() sets, or None when it would (or when
    `argv` does not start a Python)."""
    if not argv or not _is_python(os.fsdecode(argv[0])):
        return None
    blocking = [_BLOCKING_OPTIONS[option] for option in sorted(_interpreter_options(argv) & set(_BLOCKING_OPTIONS))]
    if blocking:
        return "with " + ", ".join(blocking)
    paths = _get(env, "PYTHONPATH").split(os.pathsep)
    if not _get(env, METHOD_VARIABLE) or INJECT_DIRECTORY not in paths:
        return "with an environment that lacks mpcheck's PYTHONPATH entry or " + METHOD_VARIABLE
    return None


def _get(env, name: str) -> str:
    value = env.get(name)
    if value is None:
        value = env.get(name.encode())  # os.environb-like mappings
    return os.fsdecode(value) if value is not None else ""


def _is_python(program: str) -> bool:
    name = os.path.basename(program)
    return name.startswith("python") and all(character in "0123456789.dmt" for character in name[6:])


def _interpreter_options(argv) -> set:
    """The one-letter options before the script, `-c` or `-m` of a python command line."""
    options: set = set()
    arguments = [os.fsdecode(argument) for argument in argv[1:]]
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument in ("-", "--") or not argument.startswith("-"):
            break
        if argument.startswith("--"):
            index += 2 if argument == "--check-hash-based-pycs" else 1
            continue
        for position, letter in enumerate(argument[1:], start=1):
            if letter in "cm":
                return options
            if letter in "WX":  # their value is the rest of the word, or the next word
                index += position == len(argument) - 1
                break
            options.add(letter)
        index += 1
    return options


def _warn_on_unreachable_launch(event: str, arguments: tuple) -> None:
    """Audit hook: warn once per program and reason when this process starts a Python that
    will not get the start method. Never raises (an audit hook that raises stops the launch)."""
    if event not in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
        return
    try:
        if event == "subprocess.Popen":
            executable, argv, _cwd, env = arguments
        elif event == "os.spawn":
            _mode, executable, argv, env = arguments
        else:
            executable, argv, env = arguments
        if isinstance(argv, (str, bytes)):
            return  # a shell command line: its programs cannot be told apart
        argv = list(argv)
        if executable is not None and argv:
            argv[0] = executable
        problem = launch_problem(argv, os.environ if env is None else env)
        if problem and (argv[0], problem) not in _warned:
            _warned.add((argv[0], problem))
            removed = " and without fork" if _settings.get("no_fork") else ""
            sys.stderr.write(f"mpcheck: warning: {os.fsdecode(argv[0])} is started {problem}: "
                             f"it keeps its own default start method instead of {_settings.get('method')}{removed}\n")
    except Exception:
        pass


def _all_start_methods(self) -> list:
    """DefaultContext.get_all_start_methods as Python 3.14 has it: the default first, then
    every other available method (3.10-3.13 list fork first on Linux whatever the default)."""
    from multiprocessing import context

    default = self._default_context.get_start_method()
    return [default, *(name for name in context._concrete_contexts if name != default)]


def _patch_context(context) -> None:
    """Change the default of multiprocessing.context as the platform would have chosen it."""
    concrete = context._concrete_contexts
    if _settings["no_fork"]:
        for method in ("fork", "forkserver"):
            concrete.pop(method, None)
        for name in FORK_ONLY_CONTEXT_NAMES:
            if hasattr(context, name):
                delattr(context, name)
    # multiprocessing's functions are bound to this DefaultContext object: change what it
    # defaults to, not which object it is. An explicit set_start_method() keeps winning.
    context._default_context._default_context = concrete[_settings["method"]]
    context.DefaultContext.get_all_start_methods = _all_start_methods
    package = sys.modules.get("multiprocessing")
    if package is not None and hasattr(package, "get_all_start_methods"):  # bound before the patch
        package.get_all_start_methods = context._default_context.get_all_start_methods


class _PatchedLoader:
    """The loader of multiprocessing.context, patching the module once it has run."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _patch_context(module)

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


class _PatchOnImport:
    """A meta path finder that hands out multiprocessing.context with _PatchedLoader."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "multiprocessing.context":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchedLoader(spec.loader)
                return spec
        return None
