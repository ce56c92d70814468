"""MP501 on a lock, shared value or queue that another module of the project makes at import
and a worker uses (`from shared import converted`, `import shared; shared.reports`): a spawned
or forkserver worker imports that module again and makes its own (facts §6c).

The fixtures fixtures/mp501/imported_counter (flagged) and imported_counter_handed (its
portable twin: the parent's counter and queue handed over by the pool's initializer) run under
every start method here; the smaller projects below show what is flagged and what is not."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mpcheck import apis
from mpcheck.engine import Checker
from mpcheck.findings import INTERNAL_ERROR_CODE
from mpcheck.model.state import ImportedPrimitive
from mpcheck.project import ProjectIndex

from .oracle import Program, misbehaves, run_all_methods

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mp501"


def _mp501(root: Path, path: str = "work.py") -> list[str]:
    """MP501's messages for the file `path` of the project at `root`, checked alone (as
    flake8 and pre-commit check it), and those of any internal error."""
    file = root / path
    return [diagnostic.message for diagnostic in Checker(fix_edits=False).check_text(file.read_text(), str(file))
            if diagnostic.code in ("MP501", INTERNAL_ERROR_CODE)]


def _project(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def test_the_fixture_s_worker_is_flagged_for_each_imported_primitive_and_its_twin_is_not():
    found = _mp501(FIXTURES / "imported_counter" / "before")
    assert len(found) == 2, found
    assert found[0].startswith("convert() runs in a worker (Pool.map() on line 19) and uses converted, the `Value()` "
                               "module shared makes at import (its line 5): a forked worker shares the parent's, but a "
                               "spawned or forkserver worker re-imports shared and makes its own, so its changes never "
                               "reach the parent"), found[0]
    assert "uses shared.reports, the `Queue()` module shared makes at import (its line 6)" in found[1]
    assert "what it puts there never reaches the parent" in found[1]
    assert _mp501(FIXTURES / "imported_counter_handed" / "before") == []
    for program in ("imported_counter", "imported_counter_handed"):
        assert _mp501(FIXTURES / program / "before", "main.py") == []
        assert _mp501(FIXTURES / program / "before", "shared.py") == []


@pytest.mark.oracle
def test_the_flagged_fixture_gives_another_answer_under_spawn_and_forkserver_and_its_twin_does_not():
    runs = run_all_methods(Program(cwd=FIXTURES / "imported_counter" / "before", args=("main.py",)),
                           python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0 and "converted 3" in runs["fork"].stdout, runs["fork"].describe()
    for method in ("spawn", "forkserver"):
        assert misbehaves(runs[method], runs["fork"]), runs[method].describe()
        assert "converted 0" in runs[method].stdout, runs[method].describe()
    runs = run_all_methods(Program(cwd=FIXTURES / "imported_counter_handed" / "before", args=("main.py",)),
                           python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0 and "converted 3" in runs["fork"].stdout, runs["fork"].describe()
    for method in ("spawn", "forkserver"):
        assert not misbehaves(runs[method], runs["fork"]), runs[method].describe()


@pytest.mark.oracle
def test_a_worker_that_calls_a_function_of_the_module_making_the_counter_is_flagged_and_counts_nothing_under_spawn(
        tmp_path):
    root = _project(tmp_path, {
        "shared.py": """
            import multiprocessing

            converted = multiprocessing.Value("i", 0)


            def count():
                with converted.get_lock():
                    converted.value += 1
        """,
        "work.py": """
            import multiprocessing

            import shared


            def convert(path):
                shared.count()
                return path.upper()


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(convert, ["a", "b", "c"]))
                    pool.close()
                    pool.join()  # not terminated while it makes its semaphores: none is left behind
                print("converted", shared.converted.value)
        """,
    })
    found = _mp501(root)
    assert len(found) == 1 and "and calls shared.count(), which uses converted, the `Value()` module shared makes " \
                               "at import (its line 3)" in found[0], found
    runs = run_all_methods(Program(cwd=root, args=("work.py",)), python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0 and "converted 3" in runs["fork"].stdout, runs["fork"].describe()
    for method in ("spawn", "forkserver"):
        assert "converted 0" in runs[method].stdout, runs[method].describe()


_SHARED = """
import multiprocessing

lock = multiprocessing.Lock()
"""

_WORK = """
import multiprocessing

{imports}

{setup}
def work(n):
{body}
    return n * 2


if __name__ == "__main__":
{main}
    with {pool} as pool:
        print(pool.map(work, range(3)))
"""


def _work(imports: str = "from shared import lock", setup: str = "", body: str = "with lock:\n    pass",
          main: str = "pass", pool: str = "multiprocessing.Pool(2)") -> str:
    return _WORK.format(imports=imports, setup=setup, body=textwrap.indent(body, "    "),
                        main=textwrap.indent(main, "    "), pool=pool)


@pytest.mark.parametrize(("files", "written"), [
    ({"work.py": _work()}, "lock"),
    ({"work.py": _work("import shared", body="with shared.lock:\n    pass")}, "shared.lock"),
    # A name of this module bound to it at import: a spawned child binds it to its own.
    ({"work.py": _work("import shared\n\nlock = shared.lock")}, "lock"),
    # The worker imports it when it runs: in a spawned child, the module is imported afresh.
    ({"work.py": _work("", body="from shared import lock\nwith lock:\n    pass")}, "lock"),
    # Through packages and a package's re-export.
    ({"pkg/__init__.py": "", "pkg/shared.py": _SHARED,
      "work.py": _work("import pkg.shared", body="with pkg.shared.lock:\n    pass")}, "pkg.shared.lock"),
    ({"pkg/__init__.py": "from .shared import lock\n", "pkg/shared.py": _SHARED,
      "work.py": _work("from pkg import lock")}, "lock"),
], ids=["from-import", "module-attribute", "assigned-at-import", "import-in-the-worker", "package-module", "reexport"])
def test_a_primitive_another_module_makes_at_import_is_flagged(tmp_path, files, written):
    root = _project(tmp_path, {"shared.py": _SHARED, **files})
    found = _mp501(root)
    assert len(found) == 1, found
    module = "pkg.shared" if "pkg/shared.py" in files else "shared"
    assert found[0].startswith("work() runs in a worker (Pool.map() on line "), found[0]
    assert f"and uses {written}, the `Lock()` module {module} makes at import (its line 3)" in found[0], found[0]
    assert f"re-imports {module} and makes its own, so it excludes or signals nothing across processes" in found[0]


_SHARE = "def share(given):\n    global lock\n    lock = given\n\n\n"


@pytest.mark.parametrize(("shared", "work"), [
    # The initializer rebinds this module's name to the parent's lock, handed over.
    (_SHARED, _work(setup=_SHARE, pool="multiprocessing.Pool(2, initializer=share, initargs=(lock,))")),
    # ... or the other module's.
    (_SHARED, _work("import shared", "def share(given):\n    shared.lock = given\n\n\n", "with shared.lock:\n    pass",
                    pool="multiprocessing.Pool(2, initializer=share, initargs=(shared.lock,))")),
    # The other module rebinds it in a function (an initializer of its own).
    (_SHARED + "\n\n" + _SHARE, _work(pool="multiprocessing.Pool(2, initializer=shared.share, initargs=(lock,))",
                                      imports="import shared\nfrom shared import lock")),
    # Workers started by fork on purpose share it (MP101 says where fork is missing).
    (_SHARED, _work(pool="multiprocessing.get_context('fork').Pool(2)")),
    # A threading lock is each process's own under every start method.
    ("import threading\n\nlock = threading.Lock()\n", _work()),
    # Made in the other module's main block: not at import.
    ("import multiprocessing\n\nlock = None\n\nif __name__ == '__main__':\n    lock = multiprocessing.Lock()\n",
     _work()),
    # A parameter of the worker of the same name.
    (_SHARED, _work(body="print(lock)").replace("def work(n):", "def work(n, lock=None):")),
], ids=["initializer-rebinds-the-name", "initializer-sets-the-attribute", "other-module-s-initializer",
        "fork-context", "threading-lock", "made-in-the-main-block", "parameter"])
def test_a_primitive_the_workers_share_portably_or_never_is_not_flagged(tmp_path, shared, work):
    root = _project(tmp_path, {"shared.py": shared, "work.py": work})
    assert _mp501(root) == []


@pytest.mark.parametrize("work", [
    # Imported in the main block only: a spawned child has no such name, which MP501 says as such.
    _work("", main="from shared import lock"),
    # Set by the parent in the main block: the stale-read finding says so.
    _work("import shared", body="with shared.lock:\n    pass", main="shared.lock = multiprocessing.Lock()"),
    # Bound by a function the parent calls.
    _work("import shared", "def setup():\n    global lock\n    lock = shared.lock\n\n\n", main="setup()"),
], ids=["imported-in-the-main-block", "set-in-the-main-block", "bound-by-the-parent-s-function"])
def test_a_name_the_parent_binds_after_import_is_reported_once_as_the_parent_s_state(tmp_path, work):
    root = _project(tmp_path, {"shared.py": _SHARED, "work.py": work})
    found = _mp501(root)
    assert len(found) == 1 and "which the parent" in found[0] and "makes at import" not in found[0], found


@pytest.mark.parametrize("package", [
    "from .shared import lock\n\nlock = None\n",
    "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .shared import lock\n",
], ids=["rebound-after-the-import", "for-type-checkers-only"])
def test_a_package_that_does_not_bind_the_name_to_the_primitive_at_import_is_not_followed(tmp_path, package):
    root = _project(tmp_path, {"pkg/__init__.py": package, "pkg/shared.py": _SHARED,
                               "work.py": _work("import pkg", body="with pkg.lock:\n    pass")})
    assert _mp501(root) == []


_LOG = """
import multiprocessing

lock = multiprocessing.Lock()


def log(line):
    with lock:
        print(line)
"""


@pytest.mark.parametrize(("files", "called", "module", "line"), [
    ({"shared.py": _LOG, "work.py": _work("import shared", body="shared.log(n)")}, "shared.log", "shared", 3),
    ({"shared.py": _LOG, "work.py": _work("from shared import log", body="log(n)")}, "log", "shared", 3),
    # The function uses a primitive it imports from a third module.
    ({"locks.py": _SHARED, "shared.py": _LOG.replace("import multiprocessing\n\nlock = multiprocessing.Lock()",
                                                     "from locks import lock"),
      "work.py": _work("import shared", body="shared.log(n)")}, "shared.log", "locks", 3),
], ids=["module-function", "imported-function", "imported-by-the-function"])
def test_a_call_of_another_module_s_function_that_uses_its_primitive_is_flagged(tmp_path, files, called, module,
                                                                                 line):
    found = _mp501(_project(tmp_path, files))
    assert len(found) == 1, found
    assert f"and calls {called}(), which uses lock, the `Lock()` module {module} makes at import (its line {line}): " \
           f"a forked worker shares the parent's, but a spawned or forkserver worker re-imports {module}" in found[0]


@pytest.mark.parametrize("files", [
    # A threading lock: each process's own under every start method.
    {"shared.py": _LOG.replace("multiprocessing", "threading"), "work.py": _work("import shared", body="shared.log(n)")},
    # Never run.
    {"shared.py": _LOG, "work.py": _work("import shared", body="if False:\n    shared.log(n)")},
    # Functions of two modules that call each other and use no primitive: the index looks no
    # further than the body of the function called, so the walk ends.
    {"shared.py": "import threading\n\nimport other\n\n\ndef log(line):\n    other.note(threading.Lock())\n",
     "other.py": "import shared\n\n\ndef note(lock):\n    shared.log(lock)\n",
     "work.py": _work("import shared", body="shared.log(n)")},
], ids=["threading-lock", "dead-code", "calls-each-other"])
def test_a_call_of_another_module_s_function_that_uses_no_primitive_made_at_import_is_not_flagged(tmp_path, files):
    assert _mp501(_project(tmp_path, files)) == []


def test_the_index_parses_only_modules_where_a_primitive_s_word_reaches_the_name(tmp_path):
    root = _project(tmp_path, {"shared.py": _SHARED, "helpers.py": "SCALE = 2\n", "work.py": _work()})
    index = ProjectIndex(root)
    work = str(root / "work.py")
    assert index.inherited_primitive("helpers.SCALE", work) is None
    assert index.primitive_used_by("helpers.SCALE", work) is None
    assert not index.module_at(root / "helpers.py").parsed
    assert index.inherited_primitive("shared.lock", work) == ImportedPrimitive("shared", "lock", "Lock()",
                                                                              apis.Role.SYNC, 3)


def test_a_cycle_of_reexports_ends(tmp_path):
    root = _project(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from .b import Lock\n",
                               "pkg/b.py": "from .a import Lock\n", "work.py": _work("from pkg.a import Lock")})
    assert ProjectIndex(root).inherited_primitive("pkg.a.Lock", str(root / "work.py")) is None
