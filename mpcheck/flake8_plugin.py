"""The flake8 plugin: `flake8 --select MP` reports what `mpcheck check` reports.

Registered under the `flake8.extension` entry point as `MP`. It adapts and decides
nothing: one `Checker` run per file gives every rule's findings at once. flake8 keeps
what is its own -- which files, which codes (`--select`, `--extend-select`), `# noqa`,
and syntax errors (its E999; flake8 does not call plugins on a file it cannot parse).
From `[tool.mpcheck]` it takes what changes the findings themselves: `platforms`,
`target-version`, `process-apis` and `per-file-ignores`. Each message ends with where it
breaks, as in `mpcheck check`'s concise output.

It costs what `mpcheck check` costs: each flake8 process keeps one checker, so one project
index per project, and a file is parsed only when it passes the prefilter (libcst is not
even imported before); results go to and come from the same result cache (`cache`,
`cache-dir`, MPCHECK_NO_CACHE), so with the same settings flake8 and `mpcheck check` reuse
each other's results, and what each learnt of the project's modules.
"""

from __future__ import annotations

import ast
import functools
import gc
import multiprocessing.util
import os
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Sequence

from . import __version__
from .config import Settings, load_settings
from .engine import Checker, collect_cycles_when_due, pause_cycle_collection
from .rules import RULE_CODES


@functools.lru_cache(maxsize=None)
def _checker_for(working_directory: Path) -> Checker:
    """One checker per directory flake8 runs in, as `mpcheck check` would load it there."""
    settings = load_settings(None, RULE_CODES, search_from=working_directory)
    # Every rule runs; flake8's own selection decides which codes are shown.
    every_rule = replace(settings, select=Settings.select, extend_select=(), ignore=())
    checker = Checker(every_rule, fix_edits=False, cache_directory=settings.cache_directory(os.environ))
    if checker.cache is not None:
        # flake8 tells a plugin nothing of the end of its run: what the checker learnt of the
        # modules (modules.json, imports.json) is kept when the process exits. A finalizer of
        # multiprocessing runs then in flake8's own process and in its pool's workers, which
        # leave by os._exit() and never run atexit's handlers.
        multiprocessing.util.Finalize(checker, checker.cache.close, exitpriority=0)
    return checker


@functools.lru_cache(maxsize=None)
def _in_a_flake8_worker() -> bool:
    """Whether this process is a worker of flake8's pool (a child process in which flake8
    set up its checks: `flake8.checker._mp`, flake8 5-7), which only runs checks and ends
    with flake8's run. False where that cannot be told."""
    from flake8 import checker

    return multiprocessing.parent_process() is not None and getattr(checker, "_mp", None) is not None


class MpcheckPlugin:
    name = "mpcheck"
    version = __version__

    # flake8 calls a plugin that takes `tree` once per file, and only on a file that parsed.
    # The tree itself is not used: libcst parses the text again, keeping what fixes need.
    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        # flake8 has already read and decoded the file (or stdin): use its lines, not the path.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        checker = _checker_for(Path.cwd())
        # The cycle collector does not run by itself while the file is checked, as in
        # mpcheck's own processes (engine.pause_cycle_collection). A worker of flake8's pool
        # keeps it so for its life (`flake8 --select MP` on the stdlib: 17.5 s -> 14.8 s);
        # any other process, which may be a program running flake8 before other work, gets its
        # setting back after each file. There, what is alive when the file is done is frozen
        # (gc.freeze) until the next file: the models the checker keeps between files, a
        # million objects, are not gone through by every collection flake8's own work on the
        # next files sets off (`flake8 -j1 --select MP` on the stdlib: 32.8-37.9 s -> 22.6-22.9
        # s). What is alive after the last file, the program's objects too, stays out of the
        # collector's reach: cycles among them that become garbage later are not collected
        # (checking a whole tree left 4,000-8,000 objects in cycles: engine.py).
        worker = _in_a_flake8_worker()
        resume_cycle_collection = pause_cycle_collection()
        if not worker:
            gc.unfreeze()  # this file's collection, when due, goes through them again
        try:
            diagnostics = checker.check_text("".join(self.lines), self.filename)
            collect_cycles_when_due()
        finally:
            if not worker:
                gc.freeze()
                resume_cycle_collection()
        for diagnostic in diagnostics:
            # flake8 columns are 0-based; it adds 1 when it prints them.
            yield diagnostic.line, diagnostic.column - 1, f"{diagnostic.code} {diagnostic.text}", type(self)
