"""MP101 through the semantic model: names are resolved, not matched as text, and a
portability guard in any of its usual spellings keeps a use from being flagged."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

import mpcheck

from .oracle import SIMULATED_WINDOWS, Program, run_program


def mp101_lines(source: str) -> list[int]:
    return [d.line for d in mpcheck.check_source(textwrap.dedent(source), "app.py") if d.code == "MP101"]


FLAGGED = {
    "alias": ('import multiprocessing as mp\nctx = mp.get_context("fork")\n', [2]),
    "context-module-alias": ("from multiprocessing import context as ctx\nworker = ctx.ForkProcess(target=print)\n", [2]),
    "torch": ('import torch.multiprocessing as tmp\ntmp.set_start_method("fork")\n', [2]),
    "torch-from": ('from torch import multiprocessing\nmultiprocessing.set_start_method("fork", force=True)\n', [2]),
    "billiard": ('import billiard\nbilliard.get_context("forkserver")\n', [2]),
    "method-keyword": ('import multiprocessing\nmultiprocessing.set_start_method(method="fork")\n', [2]),
    "os-fork-from-import": ("from os import fork\nfork()\n", [1]),  # the import itself fails
    "os-forkpty-alias": ("import os as system\nsystem.forkpty()\n", [2]),
    "function-local-import": ('def start():\n    import multiprocessing as mp\n    return mp.get_context("fork")\n', [3]),
    "guard-for-something-else": ('import sys, os\nif sys.platform == "win32":\n    print("windows")\nos.fork()\n', [4]),
    "guard-the-wrong-way": ('import sys, os\nif sys.platform == "win32":\n    os.fork()\n', [3]),
    "or-does-not-guard": ('import sys, os\nif sys.platform != "win32" or True:\n    os.fork()\n', [3]),
    "except-the-wrong-error": ("try:\n    from multiprocessing.context import ForkProcess\nexcept KeyError:\n    ForkProcess = None\n", [2]),
    "linux-check-negated": ('import sys, os\nif not sys.platform.startswith("linux"):\n    os.fork()\n', [3]),
}

NOT_FLAGGED = {
    "spawn": 'import multiprocessing as mp\nctx = mp.get_context("spawn")\n',
    "sys-platform": 'import sys, os\nif sys.platform != "win32":\n    os.fork()\n',
    "sys-platform-else": 'import sys, os\nif sys.platform == "win32":\n    pass\nelse:\n    os.fork()\n',
    "sys-platform-startswith": 'import sys, os\nif sys.platform.startswith("linux"):\n    os.fork()\n',
    "not-startswith-win": 'import sys, os\nif not sys.platform.startswith("win"):\n    os.fork()\n',
    "os-name": 'import os\nif os.name == "posix":\n    os.fork()\n',
    "platform-system": 'import platform, os\nif platform.system() != "Windows":\n    os.fork()\n',
    "platform-system-in": 'import platform, os\nif platform.system() in ("Linux", "Darwin"):\n    os.fork()\n',
    "hasattr": 'import os\nif hasattr(os, "fork"):\n    os.fork()\n',
    "get-all-start-methods": 'import multiprocessing as mp\nif "fork" in mp.get_all_start_methods():\n    mp.set_start_method("fork")\n',
    "and-with-guard": 'import sys, os\nif sys.platform != "win32" and os.getenv("DAEMON"):\n    os.fork()\n',
    "conditional-expression": 'import sys, multiprocessing as mp\nctx = mp.get_context("fork") if sys.platform != "win32" else mp.get_context("spawn")\n',
    "try-import-error": "try:\n    from multiprocessing.context import ForkProcess\nexcept ImportError:\n    ForkProcess = None\n",
    "try-catch-all": "try:\n    from multiprocessing.context import ForkProcess\nexcept Exception:\n    ForkProcess = None\n",
    "early-exit-at-module-level": 'import sys, os\nif sys.platform == "win32":\n    sys.exit("POSIX only")\nos.fork()\n',
    "early-return-in-function": 'import os\ndef detach():\n    if os.name == "nt":\n        return\n    os.fork()\n',
    "is-windows-constant": 'import os, multiprocessing\nIS_WINDOWS = os.name == "nt"\nif not IS_WINDOWS:\n    multiprocessing.set_start_method("fork")\n',
    "is-windows-startswith-constant": 'import sys, multiprocessing\nIS_WINDOWS = sys.platform.startswith("win")\nif not IS_WINDOWS:\n    multiprocessing.set_start_method("fork")\n',
    "parameter-shadows-module": 'import multiprocessing as mp\ndef start(mp):\n    return mp.get_context("fork")\n',
    "local-shadows-module": 'import multiprocessing as mp\ndef start():\n    mp = make_pool_factory()\n    return mp.get_context("fork")\n',
    "never-imported": 'mp.get_context("fork")\n',
    "project-module-named-fork": "from .tools import fork\nfork()\n",
    "fork-in-a-string": 'HELP = "uses os.fork() and get_context(\'fork\') on Linux"\n',
}


@pytest.mark.parametrize(("source", "lines"), FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged(source, lines):
    assert mp101_lines(source) == lines


@pytest.mark.parametrize("source", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(source):
    assert mp101_lines(source) == []


def test_every_use_of_the_renamed_name_is_rewritten_across_scopes():
    source = textwrap.dedent(
        """\
        from multiprocessing.context import ForkProcess


        class Renderer:
            process_class = ForkProcess

            def start(self, job):
                worker = ForkProcess(target=job)
                worker.start()
                return isinstance(worker, ForkProcess)
        """
    )
    fixed = mpcheck.fix_source(source, "render.py").text
    assert "ForkProcess" not in fixed.replace("ForkOrSpawnProcess", "")
    assert fixed.count("ForkOrSpawnProcess") == 4
    assert mp101_lines(fixed) == []


_DAEMONIZE = "\n\ndef daemonize():\n    if os.fork():\n        os._exit(0)\n"


@pytest.mark.parametrize(("files", "flagged"), [
    # gunicorn: util.py imports fcntl; the arbiter imports util, directly or through a package.
    ({"server/util.py": "import fcntl\nimport os\n", "server/arbiter.py": "import os\nfrom server import util\n"},
     False),
    ({"server/util.py": "import fcntl\n", "server/arbiter.py": "import os\nfrom .util import close_on_exec\n"},
     False),
    ({"server/__init__.py": "from .util import *\n", "server/util.py": "import pwd\n",
      "server/arbiter.py": "import os\nimport server.config\n", "server/config.py": ""}, False),
    # Imported under a try, or in a function: Windows gets past it.
    ({"server/util.py": "try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n",
      "server/arbiter.py": "import os\nfrom server import util\n"}, True),
    ({"server/util.py": "def lock():\n    import fcntl\n", "server/arbiter.py": "import os\nfrom server import util\n"},
     True),
    # The project's own `resource` module, not the standard library's.
    ({"resource.py": "LIMIT = 1\n", "server/arbiter.py": "import os\nimport resource\n"}, True),
    # The function is defined above the import: code above it may run on Windows.
    ({"server/arbiter.py": "import os\n" + _DAEMONIZE + "\n\nimport fcntl\n"}, True),
], ids=["import", "relative", "package", "try", "function", "own-module", "above"])
def test_code_below_an_import_that_raises_on_windows_cannot_break_there(tmp_path, files, flagged):
    """`os.fork()` breaks only on Windows; a module that cannot be imported there (it imports
    fcntl, or a module of its project that does, unconditionally at the top) is not
    flagged below that import."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'server'\n")
    for name, text in {"server/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + (_DAEMONIZE if name == "server/arbiter.py" and "daemonize" not in text else ""))
    arbiter = tmp_path / "server/arbiter.py"
    found = [d.code for d in mpcheck.check_source(arbiter.read_text(), str(arbiter))]
    assert found == (["MP101"] if flagged else [])


def test_a_name_exported_in_all_keeps_its_name():
    source = '__all__ = ["ForkProcess"]\nfrom multiprocessing.context import ForkProcess\n'
    fixed = mpcheck.fix_source(source, "compat.py").text
    assert 'ForkProcess = multiprocessing.get_context(\n    "fork" if' in fixed
    assert mp101_lines(fixed) == []


def test_a_module_others_import_keeps_the_name_they_import(tmp_path):
    # A module of a package, imported by its sibling: renaming its ForkProcess would make
    # `from studio.workers import ForkProcess` fail (ImportError) after a "safe" fix.
    package = tmp_path / "studio"
    package.mkdir()
    (package / "__init__.py").write_text("")
    workers = package / "workers.py"
    workers.write_text(textwrap.dedent("""\
        from multiprocessing.context import ForkProcess


        def start(job):
            worker = ForkProcess(target=job)
            worker.start()
            return worker
    """))
    (package / "render.py").write_text("from studio.workers import ForkProcess\n\nRENDERER = ForkProcess\n")
    (tmp_path / "tool.py").write_text(workers.read_text())  # a script nobody imports
    fixed = mpcheck.fix_source(workers.read_text(), str(workers)).text
    assert "ForkOrSpawnProcess" not in fixed
    assert 'ForkProcess = multiprocessing.get_context(\n    "fork" if' in fixed
    assert mp101_lines(fixed) == []
    workers.write_text(fixed)
    imported = subprocess.run([sys.executable, "-c", "import studio.render"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    script = tmp_path / "tool.py"
    assert "ForkOrSpawnProcess(target=job)" in mpcheck.fix_source(script.read_text(), str(script)).text


# Each must run as it is on Linux, and after its safe fix also where spawn is the only start
# method (the oracle's Windows simulation).
RUNNABLE = {
    "from-import": "from multiprocessing.context import ForkProcess\nP = ForkProcess\n",
    "from-import-alias": "from multiprocessing.context import ForkProcess as FP\nP = FP\n",
    "two-names-one-statement": (
        "from multiprocessing.context import (\n    ForkProcess,  # the fork one\n    ForkContext,\n)\n"
        "P = ForkProcess\nC = ForkContext\n"
    ),
    "kept-sibling": "from multiprocessing.context import ForkProcess, SpawnProcess\nP = (ForkProcess, SpawnProcess)\n",
    "context-module-alias": "from multiprocessing import context as ctx\nP = ctx.ForkServerProcess\n",
    "module-imported-later": "from multiprocessing import context as ctx\nP = ctx.ForkProcess\nimport multiprocessing\n",
    "function-imported-later": "from multiprocessing import get_context\nCTX = get_context('fork')\nimport multiprocessing\n",
    "subclass": "import multiprocessing.context\nclass Worker(multiprocessing.context.ForkProcess):\n    pass\n",
    "local-import": "def make():\n    from multiprocessing.context import ForkProcess\n    return ForkProcess\nP = make()\n",
    "set-start-method": "import multiprocessing as mp\nif __name__ == '__main__':\n    mp.set_start_method('fork'); print(mp.get_start_method())\n",
    "get-context-keyword": "import multiprocessing\nCTX = multiprocessing.get_context(method='forkserver')\n",
}


def test_fixed_code_runs_on_linux_and_where_only_spawn_exists(tmp_path):
    def run(name_and_source):
        name, source = name_and_source
        fixed = mpcheck.fix_source(source, "app.py").text
        assert fixed != source and mp101_lines(fixed) == [], name
        (tmp_path / f"{name}.py").write_text(fixed)
        program = Program(tmp_path, (f"{name}.py",))
        return name, [run_program(program, method) for method in ("fork", SIMULATED_WINDOWS)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, runs in pool.map(run, RUNNABLE.items()):
            for run in runs:
                assert run.returncode == 0, f"{name}: {run.describe()}"
