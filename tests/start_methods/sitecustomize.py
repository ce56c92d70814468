"""Make every Python started with this directory on PYTHONPATH behave, for
multiprocessing, as it would elsewhere (DESIGN.md "Testing notes"):

- MPCHECK_SIMULATE=spawn or forkserver: that is the default start method (spawn as on
  macOS, forkserver as on Linux from 3.14), while the program's own `set_start_method`
  and `get_context` calls still work;
- MPCHECK_SIMULATE=windows: spawn is the only start method, as on Windows: the fork
  classes are missing from multiprocessing.context and `get_context("fork")` raises.

The default is changed on the DefaultContext object itself rather than with
`set_start_method(force=True)`, so that a later `set_start_method` in the program is not
refused as "context has already been set".
"""

import os

_MODE = os.environ.get("MPCHECK_SIMULATE")

if _MODE in ("spawn", "forkserver", "windows"):
    import multiprocessing
    import multiprocessing.context as _context

    _spawn = _context._concrete_contexts["spawn"]
    _context._default_context._default_context = _context._concrete_contexts.get(_MODE, _spawn)
    if _MODE == "windows":
        _context._concrete_contexts = {"spawn": _spawn}
        for _name in ("ForkProcess", "ForkServerProcess", "ForkContext", "ForkServerContext"):
            if hasattr(_context, _name):
                delattr(_context, _name)
        _context.DefaultContext.get_all_start_methods = lambda self: ["spawn"]
        # multiprocessing's functions are bound methods of the default context, taken when
        # the package was imported: rebind the one just replaced.
        multiprocessing.get_all_start_methods = _context._default_context.get_all_start_methods
