"""MP101 in a module that only a platform-guarded import reaches: the project's imports decide.

CPython's multiprocessing/context.py imports popen_fork.py only inside classes defined under
`if sys.platform != 'win32':`, and user packages import a `_posix.py` helper the same way:
Windows never imports the module, so its `os.fork()` cannot break there. Every import of the
module in the project must run only where fork exists (ProjectIndex.imported_only_where_fork_exists);
each negative twin below differs from a silent package in one import, and would be silenced
by a check that asked for one guarded importer instead of every one, or for any condition
instead of one that excludes Windows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mpcheck.engine import Checker
from mpcheck.project import ProjectIndex

from .oracle import SIMULATED_WINDOWS, Program, run_program

# The helper module: three fork-only uses, each reported where Windows can reach them.
POSIX = textwrap.dedent("""
    import multiprocessing
    import os
    from multiprocessing.context import ForkProcess

    FORK = multiprocessing.get_context("fork")


    def detach():
        if os.fork():
            os._exit(0)
        os.setsid()
""").lstrip("\n")
POSIX_LINES = [3, 5, 9]
WINDOWS = """
    def detach():
        raise NotImplementedError("no daemons on Windows")
"""
GUARDED_INIT = """
    import sys

    if sys.platform != "win32":
        from ._posix import detach
    else:
        from ._windows import detach
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _package(**files: str) -> dict[str, str]:
    """The `shop` package with its `_posix.py` and `_windows.py`; `files` add or replace
    modules (`init` is shop/__init__.py, other names are modules of shop)."""
    found = {"shop/__init__.py": GUARDED_INIT, "shop/_posix.py": POSIX, "shop/_windows.py": WINDOWS}
    for name, text in files.items():
        found["shop/__init__.py" if name == "init" else f"shop/{name}.py"] = text
    return found


def mp101_lines(root: Path, files: dict[str, str], module: str = "shop/_posix.py") -> list[int]:
    _write(root, files)
    (root / "pyproject.toml").write_text("[tool.mpcheck]\n")
    checked = Checker().check_file(root / module)
    return [d.line for d in checked.diagnostics if d.code == "MP101"]


SILENT = {
    "guarded-in-init": _package(),
    "os-name-posix": _package(init='import os\n\nif os.name == "posix":\n    from . import _posix\n'),
    "hasattr-fork": _package(init='import os\n\nif hasattr(os, "fork"):\n    from ._posix import detach\n'),
    # CPython's context.py: the import is in a method of a class defined under the guard.
    "in-a-class-under-the-guard": _package(init="""
        import sys

        if sys.platform != "win32":
            class Daemon:
                @staticmethod
                def detach():
                    from ._posix import detach
                    return detach()
    """),
    "after-an-early-exit-on-windows": _package(init="""
        import sys

        if sys.platform == "win32":
            raise ImportError("shop needs a POSIX system")
        from ._posix import detach
    """),
    "below-an-import-windows-lacks": _package(init="import fcntl\n\nfrom ._posix import detach\n"),
    # popen_spawn_posix.py imports popen_fork.py unguarded; context.py imports it only under the guard.
    "through-a-module-imported-only-under-the-guard": _package(
        init='import sys\n\nif sys.platform != "win32":\n    from ._backend import detach\n',
        _backend="from ._posix import detach\n"),
    "two-guarded-importers": _package(
        cli='import sys\n\nif sys.platform.startswith("linux"):\n    from shop._posix import detach\n'),
    "an-import-for-type-checkers-only-besides": _package(
        hints="from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ._posix import detach\n"),
}

FLAGGED = {
    "one-unguarded-importer": _package(cli="from shop._posix import detach\n\ndetach()\n"),
    "guard-that-lets-windows-in": _package(
        init='import sys\n\nif sys.platform == "linux" or sys.platform == "win32":\n    from ._posix import detach\n'),
    "guard-the-wrong-way": _package(init='import sys\n\nif sys.platform == "win32":\n    from ._posix import detach\n'),
    "try-except-import-error": _package(init="""
        try:
            from ._posix import detach
        except ImportError:
            from ._windows import detach
    """),
    "dynamic-import-besides": _package(
        plugins='import importlib\n\nposix = importlib.import_module("shop._posix")\n'),
    "no-importer": _package(init=""),
    "only-for-type-checkers": _package(
        init="from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ._posix import detach\n"),
    "through-a-module-with-an-unguarded-importer": _package(
        init='import sys\n\nif sys.platform != "win32":\n    from ._backend import detach\n',
        _backend="from ._posix import detach\n", cli="from shop._backend import detach\n"),
    # Conservative: each of the two needs the other to be imported only where fork exists.
    "an-import-cycle": _package(
        init='import sys\n\nif sys.platform != "win32":\n    from ._backend import detach\n',
        _backend="from . import _posix\n\ndetach = _posix.detach\n",
        _posix=POSIX + "\n\nfrom . import _backend\n"),
    "a-script-with-a-main-guard": _package(_posix=POSIX + '\n\nif __name__ == "__main__":\n    detach()\n'),
    "a-script-with-a-shebang": _package(_posix="#!/usr/bin/env python\n" + POSIX),
}


@pytest.mark.parametrize("files", SILENT.values(), ids=SILENT.keys())
def test_a_module_imported_only_where_fork_exists_is_not_flagged(tmp_path, files):
    assert mp101_lines(tmp_path, files) == []


@pytest.mark.parametrize("files", FLAGGED.values(), ids=FLAGGED.keys())
def test_a_module_windows_may_import_is_flagged_as_before(tmp_path, files):
    shebang = files["shop/_posix.py"].startswith("#!")
    assert mp101_lines(tmp_path, files) == [line + shebang for line in POSIX_LINES]


def test_the_importer_itself_is_still_checked_on_its_own_guards(tmp_path):
    files = _package(init='import os, sys\n\nif sys.platform != "win32":\n    from ._posix import detach\nos.fork()\n')
    assert mp101_lines(tmp_path, files, "shop/__init__.py") == [5]
    assert mp101_lines(tmp_path, files) == []


def test_an_entry_point_is_imported_by_the_installed_command_everywhere(tmp_path):
    files = {**_package(), "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    detach = shop._posix:detach\n"}
    assert mp101_lines(tmp_path, files) == POSIX_LINES


def test_a_package_init_is_run_by_any_import_beneath_it(tmp_path):
    files = {"shop/__init__.py": 'import sys\n\nif sys.platform != "win32":\n    from . import posix\n',
             "shop/posix/__init__.py": POSIX, "shop/posix/tools.py": "X = 1\n"}
    assert mp101_lines(tmp_path, files, "shop/posix/__init__.py") == POSIX_LINES


def test_the_fixes_of_a_flagged_module_are_unchanged(tmp_path):
    _write(tmp_path, FLAGGED["one-unguarded-importer"])
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    alone = tmp_path / "alone"
    _write(alone, {"_posix.py": POSIX})
    (alone / "pyproject.toml").write_text("[tool.mpcheck]\n")
    in_package = Checker().check_file(tmp_path / "shop/_posix.py").diagnostics
    by_itself = Checker().check_file(alone / "_posix.py").diagnostics
    assert [(d.line, d.message, d.fix is not None) for d in in_package] == \
        [(d.line, d.message, d.fix is not None) for d in by_itself]


def test_the_answer_is_worked_out_once_per_run_for_each_module(tmp_path, monkeypatch):
    _write(tmp_path, _package(cli='import sys\n\nif sys.platform != "win32":\n    from shop import _posix\n'))
    index = ProjectIndex(tmp_path)
    asked = []
    work_out = ProjectIndex._only_where_fork_exists
    monkeypatch.setattr(ProjectIndex, "_only_where_fork_exists",
                        lambda self, module, seen: asked.append(module.name) or work_out(self, module, seen))
    path = tmp_path / "shop/_posix.py"
    assert index.imported_only_where_fork_exists(path) and index.imported_only_where_fork_exists(path)
    assert asked == ["shop._posix"]
    index.set_text(tmp_path / "shop/cli.py", "from shop import _posix\n")  # an edit forgets it
    assert not index.imported_only_where_fork_exists(path)


def test_silent_where_a_run_without_fork_imports_the_package_and_flagged_where_it_fails(tmp_path):
    """The oracle takes fork away as Windows lacks it (os.fork, ForkProcess): the package whose
    `_posix.py` is silent imports there, its twin with one unguarded importer does not."""
    guarded = _package(init='import os\n\nif hasattr(os, "fork"):\n    from ._posix import detach\n',
                       cli='import shop\n\nprint("imported")\n')
    unguarded = {**guarded, "shop/cli.py": 'from shop._posix import detach\n\nprint("imported")\n'}
    for name, files, lines in (("guarded", guarded, []), ("unguarded", unguarded, POSIX_LINES)):
        root = tmp_path / name
        assert mp101_lines(root, files) == lines
        run = run_program(Program(root, ("-m", "shop.cli")), SIMULATED_WINDOWS)
        assert (run.returncode, run.stdout) == ((0, "imported\n") if not lines else (1, "")), run.stderr
        if lines:
            assert "ForkProcess" in run.stderr


# -- a platform flag set in another module of the project ----------------------------------------

COMPAT = """
    import os
    import sys

    WINDOWS = sys.platform.startswith("win")
    POSIX = os.name == "posix"
    try:
        import multiprocessing

        multiprocessing.get_context("fork")
        HAVE_FORK = True
    except ValueError:
        HAVE_FORK = False
    DEBUG = False
    WORKERS = int(os.environ.get("WORKERS", "2"))
"""


@pytest.mark.parametrize("test, imports", [
    ("not WINDOWS", "from .compat import WINDOWS"),
    ("POSIX", "from .compat import POSIX"),
    ("HAVE_FORK", "from .compat import HAVE_FORK"),
    ("compat.POSIX", "from . import compat"),
    ("not shop.compat.WINDOWS", "import shop.compat"),
    ("not IS_WINDOWS", "from .platforms import IS_WINDOWS"),  # re-exported as another name
], ids=["negated", "posix", "fork-probe", "module-attribute", "dotted", "re-exported"])
def test_a_flag_another_module_sets_from_a_platform_test_guards(tmp_path, test, imports):
    """`WINDOWS = sys.platform.startswith("win")` in compat.py tells what the test would,
    wherever the project imports the flag from."""
    files = _package(compat=COMPAT, platforms="from .compat import WINDOWS as IS_WINDOWS\n",
                     daemon=f"import os\n\n{imports}\n\n\ndef detach():\n    if {test}:\n        os.fork()\n")
    assert mp101_lines(tmp_path, files, "shop/daemon.py") == []


@pytest.mark.parametrize("test, imports", [
    ("WINDOWS", "from .compat import WINDOWS"),  # the wrong way round
    ("not DEBUG", "from .compat import DEBUG"),  # a flag a user edits
    ("WORKERS", "from .compat import WORKERS"),
    ("not MISSING", "from .compat import MISSING"),
    ("not WINDOWS", "from .elsewhere import WINDOWS"),  # no such module in the project
    ("not WINDOWS", "from .cycle import WINDOWS"),  # two modules importing it from each other
], ids=["the-wrong-way", "user-flag", "count", "missing", "outside-the-project", "cycle"])
def test_a_flag_that_tells_nothing_of_the_platform_guards_nothing(tmp_path, test, imports):
    files = _package(compat=COMPAT, cycle="from .loop import WINDOWS\n", loop="from .cycle import WINDOWS\n",
                     daemon=f"import os\n\n{imports}\n\n\ndef detach():\n    if {test}:\n        os.fork()\n")
    assert mp101_lines(tmp_path, files, "shop/daemon.py") == [8]


def test_a_module_with_no_platform_words_is_not_parsed_for_a_flag(tmp_path, monkeypatch):
    _write(tmp_path, {"shop/__init__.py": "", "shop/settings.py": "WINDOWS = False\n",
                      "shop/daemon.py": "import os\n\nfrom .settings import WINDOWS\n\nif not WINDOWS:\n    os.fork()\n"})
    parsed = []
    monkeypatch.setattr(ProjectIndex, "model_of", lambda self, module: parsed.append(module.name))
    index = ProjectIndex(tmp_path)
    assert index.flag_facts(".settings.WINDOWS", str(tmp_path / "shop/daemon.py"), False) is None
    assert parsed == []
