"""Names a module of the project re-exports: `from lib import multiproc; multiproc.Process`,
with lib/multiproc.py importing `Process` from multiprocessing (MAVProxy's shape), names
`multiprocessing.Process` for every rule (ProjectIndex.reexported, model/names.py), passes
the prefilter, and makes the re-exporting module a dependency of the cached result.

The fixture tests/data/groundstation is a small package whose modules use a compat shim
(groundstation/lib/multiproc.py, billiard on old macOS, multiprocessing elsewhere) and a
module re-exporting `ForkProcess`; each is checked against its twin that imports the same
names from multiprocessing directly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mpcheck.apis import Imported
from mpcheck.engine import Checker

from .support import mpcheck_command, project_index, reported, run_command

GROUNDSTATION = Path(__file__).parent / "data" / "groundstation"
BIN = Path(sys.executable).parent

# Each module's import of the re-exported names, and the direct import of the same names
# (binding the same local names, on the same line).
TWINS = {
    "groundstation/console.py": ("from groundstation.lib import multiproc", "import multiprocessing as multiproc"),
    "groundstation/tiles.py": ("from .lib import multiproc", "import multiprocessing as multiproc"),
    "groundstation/stats.py": ("from .lib.multiproc import Pool, Queue", "from multiprocessing import Pool, Queue"),
    "groundstation/replay.py": ("import groundstation.lib.multiproc as mp", "import multiprocessing as mp"),
    "groundstation/recorder.py": ("from groundstation.workers import ForkProcess",
                                  "from multiprocessing.context import ForkProcess"),
}


def _copy(tmp_path: Path, direct: bool) -> Path:
    tree = tmp_path / ("direct" if direct else "reexported")
    shutil.copytree(GROUNDSTATION, tree)
    if direct:
        for name, (reexport, import_line) in TWINS.items():
            path = tree / name
            text = path.read_text()
            assert reexport in text
            path.write_text(text.replace(reexport, import_line))
    return tree


def _findings(tree: Path, names) -> dict[str, list[tuple]]:
    """Each file's findings; the column of one on the twins' import line is left out (the
    lines differ in length there)."""
    checker = Checker(fix_edits=False)
    found = {}
    for name in names:
        lines = (tree / name).read_text().splitlines()
        found[name] = [(d.line, None if lines[d.line - 1] in TWINS[name] else d.column, d.code, d.message)
                       for d in checker.check_file(tree / name).diagnostics]
    return found


def test_reexported_names_give_the_findings_of_the_direct_imports(tmp_path: Path) -> None:
    reexported = _findings(_copy(tmp_path, direct=False), TWINS)
    direct = _findings(_copy(tmp_path, direct=True), TWINS)
    assert reexported == direct
    codes = {name: sorted(code for _, _, code, _ in found) for name, found in reexported.items()}
    assert codes == {
        "groundstation/console.py": ["MP402"],  # self.ui_task: the instance holds a threading.Lock
        "groundstation/tiles.py": ["MP301", "MP401"],  # a process per tile, a lambda target
        "groundstation/stats.py": ["MP302", "MP701"],  # a Pool never closed, Queue.qsize()
        "groundstation/replay.py": ["MP402"],  # a threading.Lock() argument
        "groundstation/recorder.py": ["MP101"],  # ForkProcess, imported from workers.py
    }


def test_a_module_defining_the_name_itself_is_not_taken_for_a_reexport(tmp_path: Path) -> None:
    """units.Queue is the project's own class (next to `from collections import deque`):
    its qsize() is no multiprocessing queue's, and the file is not even parsed for MP701."""
    tree = _copy(tmp_path, direct=False)
    telemetry = tree / "groundstation/telemetry.py"
    assert Checker(fix_edits=False).check_file(telemetry).diagnostics == []
    assert "MP701" not in Checker(fix_edits=False).verdict(telemetry.read_text(), str(telemetry)).codes


def test_one_file_the_flake8_plugin_and_the_whole_tree_agree(tmp_path: Path) -> None:
    tree = _copy(tmp_path, direct=False)
    env = {"MPCHECK_CACHE_DIR": ""}
    for name in TWINS:
        alone = run_command([*mpcheck_command(), "check", "--no-cache", "--output-format", "text", name], tree, env=env)
        whole = run_command([*mpcheck_command(), "check", "--no-cache", "--output-format", "text", "."], tree, env=env)
        flake8 = subprocess.run([str(BIN / "flake8"), "--select", "MP", name], cwd=tree, capture_output=True,
                                text=True, timeout=120)
        expected = reported(alone.stdout, name)
        assert expected, alone.stdout
        assert reported(whole.stdout, name) == expected
        assert reported(flake8.stdout, name) == expected, flake8.stderr


def _json_findings(tree: Path, *arguments: str) -> list[tuple[str, int, str]]:
    run = run_command([*mpcheck_command(), "check", "--output-format", "json", *arguments, "."], tree,
                      env={"MPCHECK_CACHE_DIR": ""})
    document = json.loads(run.stdout) if run.stdout.strip() else {"diagnostics": []}
    return sorted((item["file"].replace(os.sep, "/").removeprefix("./"), item["line"], item["code"])
                  for item in document["diagnostics"])


def test_an_edit_to_the_reexporting_module_invalidates_the_cached_results_of_its_users(tmp_path: Path) -> None:
    tree = _copy(tmp_path, direct=False)
    shim = tree / "groundstation/lib/multiproc.py"
    original = shim.read_text()
    assert ("groundstation/stats.py", 16, "MP701") in _json_findings(tree)
    # Rules that look into the project for no other reason (the rules following calls into
    # it note every module a file imports anyway).
    only = ("--select", "MP302,MP701")
    assert ("groundstation/stats.py", 16, "MP701") in _json_findings(tree, *only)
    # The shim now hands out threads: nothing of stats.py (nor the other users) is a process API.
    shim.write_text(original.replace("from multiprocessing import Pipe, Pool, Process, Queue, freeze_support",
                                     "from multiprocessing.dummy import Pipe, Pool, Process, Queue\n"
                                     "    from multiprocessing import freeze_support"))
    assert [found for found in _json_findings(tree, *only) if found[0] == "groundstation/stats.py"] == []
    after = _json_findings(tree)
    users = {name for name, (reexport, _) in TWINS.items() if "multiproc" in reexport}
    assert [found for found in after if found[0] in users] == [], after
    assert ("groundstation/recorder.py", 3, "MP101") in after  # workers.py, unchanged
    shim.write_text(original)
    assert ("groundstation/stats.py", 16, "MP701") in _json_findings(tree)


def test_the_prefilter_keeps_a_file_that_names_no_process_api_but_a_reexport(tmp_path: Path) -> None:
    tree = _copy(tmp_path, direct=False)
    stats = tree / "groundstation/stats.py"
    text = stats.read_text()
    assert "multiprocess" not in text
    assert {"MP302", "MP701"} <= Checker(fix_edits=False).verdict(text, str(stats)).codes


def test_reexports_are_followed_through_modules_aliases_and_relative_imports(tmp_path: Path) -> None:
    index = project_index(tmp_path, {
        "app/__init__.py": "from .compat import mp, Pool as ProcessPool\n",
        "app/compat.py": """
            import multiprocessing as mp
            from multiprocessing.pool import Pool
            from .legacy import ForkProcess
        """,
        "app/legacy.py": "from multiprocessing.context import ForkProcess\n",
        "app/loop.py": "from app.loop2 import Queue\n",
        "app/loop2.py": "from app.loop import Queue\n",
        "app/own.py": """
            from multiprocessing import Queue


            class Pool:
                pass
            from multiprocessing import Pool
        """,
        "app/main.py": "",
        "app/jobs.py": "from .runner import run_batch\n",
        "app/runner.py": "def run_batch(items):\n    return items\n",
    })
    main = str(tmp_path / "app/main.py")
    assert index.reexported("app.compat.mp.Pool", main) == Imported("multiprocessing.Pool")
    assert index.reexported("app.ProcessPool", main) == Imported("multiprocessing.pool.Pool")
    assert index.reexported(".compat.ForkProcess", main) == Imported("multiprocessing.context.ForkProcess")
    assert index.reexported("app.mp.get_context", main) == Imported("multiprocessing.get_context")
    assert index.reexported("app.own.Queue", main) == Imported("multiprocessing.Queue")
    assert index.reexported("app.own.Pool", main) is None  # also a class of its own
    assert index.reexported("app.loop.Queue", main) is None  # a cycle names nothing
    assert index.reexported("app.compat", main) is None  # a module of the project itself
    assert index.reexported("os.path.join", main) is None
    assert index.reexported("app.jobs.run_batch", main) is None  # the project's own: called by its name


def test_the_same_api_from_two_families_is_the_standard_librarys(tmp_path: Path) -> None:
    """MAVProxy's multiproc.py imports billiard's Process on old macOS, multiprocessing's
    elsewhere: the answer is the standard library's, with billiard's flavour as the other
    one; an alternative that is another API is no answer."""
    index = project_index(tmp_path, {
        "lib/__init__.py": "",
        "lib/multiproc.py": (GROUNDSTATION / "groundstation/lib/multiproc.py").read_text(),
        "lib/either.py": """
            try:
                from multiprocessing import Pool
            except ImportError:
                from concurrent.futures import ProcessPoolExecutor as Pool
        """,
    })
    here = str(tmp_path / "lib/__init__.py")
    billiard = frozenset({"billiard"})  # what runs instead on old macOS
    assert index.reexported("lib.multiproc.Process", here) == Imported("multiprocessing.Process", billiard)
    assert index.reexported("lib.multiproc.Queue", here) == Imported("multiprocessing.Queue", billiard)
    assert index.reexported("lib.either.Pool", here) is None


@pytest.mark.parametrize("name", ["console.py", "tiles.py"])
def test_fix_keeps_the_reexported_names_and_the_result_compiles(tmp_path: Path, name: str) -> None:
    tree = _copy(tmp_path, direct=False)
    run_command([*mpcheck_command(), "fix", "--no-cache", "."], tree, env={"MPCHECK_CACHE_DIR": ""})
    fixed = (tree / "groundstation" / name).read_text()
    compile(fixed, name, "exec")
    assert TWINS[f"groundstation/{name}"][0] in fixed
