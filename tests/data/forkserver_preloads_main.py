"""`python forkserver_preloads_main.py app.py`: run app.py as Python 3.14 and 3.13.8+ do under
forkserver on 3.10-3.13.7, where the forkserver process never imported the main module: from
gh-126631 it does, first, named "MainProcess" and with current_process()._inheriting set.
Older versions already pass `main_path` on to forkserver.main(); only the key was wrong."""
import runpy
import sys
from multiprocessing import spawn

_preparation_data = spawn.get_preparation_data


def _with_main_path(name):
    data = _preparation_data(name)
    if "init_main_from_path" in data:
        data["main_path"] = data["init_main_from_path"]
    return data


spawn.get_preparation_data = _with_main_path
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
