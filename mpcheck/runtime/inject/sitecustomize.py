"""Put on PYTHONPATH by mpcheck (`mpcheck run`, pytest's --mp-start-method): at interpreter
startup, make MPCHECK_START_METHOD multiprocessing's default start method (../startmethod.py),
then run the sitecustomize this one hides, if there is one further along sys.path.

This directory holds nothing else: every name in it can be imported by the program.
"""

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader


def _load_source(name, path):
    """The module in the source file `path` (importlib.util would cost more at every startup)."""
    loader = SourceFileLoader(name, path)
    module = type(sys)(name)
    module.__spec__, module.__loader__, module.__file__ = ModuleSpec(name, loader, origin=path), loader, path
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def _main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(here), "startmethod.py")
    _load_source("_mpcheck_startmethod", path).apply_from_environment()
    # The program sees the sys.path it would see without mpcheck (its children get the
    # directory again from PYTHONPATH).
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    hidden = PathFinder.find_spec("sitecustomize", sys.path)
    if hidden is not None:  # any kind of module: let importlib build it
        from importlib.util import module_from_spec

        module = sys.modules["sitecustomize"] = module_from_spec(hidden)
        hidden.loader.exec_module(module)  # errors propagate to site, which reports them


_main()
