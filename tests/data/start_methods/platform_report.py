"""Print, as JSON, what multiprocessing offers this program: the kind of report a support
script attaches to a bug ("works on my Linux box, hangs on the Mac").

`python platform_report.py` reports on this process, a child started with the default start
method, a child started with fork where there is fork, and a Python started by `subprocess`
from that first child. `python platform_report.py --brief` is the short report a subprocess
gives.
"""

import json
import multiprocessing
import os
import subprocess
import sys

# The main process changes it after import: a forked child sees the change, a spawned one
# (which imports this module afresh) does not.
ORIGIN = "set at import"


def brief() -> dict:
    return {"start_method": multiprocessing.get_context().get_start_method(), "os_fork": hasattr(os, "fork")}


def subprocess_report() -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--brief"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def child_report(queue) -> None:
    queue.put({**brief(), "origin": ORIGIN, "subprocess": subprocess_report()})


def run_child(context) -> dict:
    queue = context.Queue()
    child = context.Process(target=child_report, args=(queue,))
    child.start()
    report = queue.get(timeout=60)
    child.join()
    return report


def failure(action) -> str | None:
    try:
        action()
    except (ImportError, RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {str(error).split(' (')[0]}"
    return None


def import_fork_process() -> None:
    from multiprocessing.context import ForkProcess  # noqa: F401


def main() -> None:
    global ORIGIN
    report = {
        "explicitly_set": multiprocessing.get_start_method(allow_none=True),
        "all_start_methods": multiprocessing.get_all_start_methods(),
        "os": [name for name in ("fork", "forkpty", "register_at_fork") if hasattr(os, name)],
        "import_fork_process": failure(import_fork_process),
        "get_context_fork": failure(lambda: multiprocessing.get_context("fork")),
        "get_context_forkserver": failure(lambda: multiprocessing.get_context("forkserver")),
    }
    # Choose the preferred method explicitly, as careful programs do; only the first call may.
    preferred = multiprocessing.get_all_start_methods()[0]
    report["set_start_method"] = failure(lambda: multiprocessing.set_start_method(preferred))
    report["set_start_method_again"] = failure(lambda: multiprocessing.set_start_method(preferred))
    ORIGIN = "changed by main"
    report["child"] = run_child(multiprocessing.get_context())
    if "fork" in multiprocessing.get_all_start_methods():
        report["fork_child"] = run_child(multiprocessing.get_context("fork"))
    print(json.dumps(report, indent=1, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[1:] == ["--brief"]:
        print(json.dumps(brief()))
    else:
        main()
