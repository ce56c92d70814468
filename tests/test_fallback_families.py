"""A name bound by imports of one API from different families -- `try: from multiprocess
import Pool` / `except ImportError: from multiprocessing import Pool`, pathos's shape -- names
the standard library's API for every rule, and keeps the other families (apis.one_api), the
same whether the imports are in the file or in a module of the project it imports from
(ProjectIndex.reexported). Where a family that pickles by value (multiprocess: dill) may run
instead, MP401 and MP402 do not say that pickle will refuse a lambda or a threading lock; the
rules that do not depend on the pickler (MP402's multiprocessing queue given to a pool's task,
MP403, MP501) keep their findings.

The fixture tests/data/dill_pools is a small package whose helpers re-export multiprocess's
pool with multiprocessing's as the fallback, with example scripts that hand it lambdas and
closures, and `examples/standalone.py`, the same with the imports written in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mpcheck.apis import Imported, one_api
from mpcheck.engine import Checker

from .support import mpcheck_command, reported, run_command

DILL_POOLS = Path(__file__).parent / "data" / "dill_pools"
EXAMPLES = ("examples/squares.py", "examples/cubes.py", "examples/scaled.py", "examples/standalone.py")
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("alternatives", "expected"), [
    pytest.param(["multiprocess.Pool", "multiprocessing.Pool"],
                 Imported("multiprocessing.Pool", frozenset({"multiprocess"})), id="dill-and-stdlib"),
    pytest.param(["multiprocessing.Pool", "billiard.Pool"],
                 Imported("multiprocessing.Pool", frozenset({"billiard"})), id="billiard-and-stdlib"),
    pytest.param(["torch.multiprocessing.Process", "multiprocessing.Process"],
                 Imported("multiprocessing.Process", frozenset({"torch"})), id="torch-and-stdlib"),
    pytest.param(["multiprocess", "billiard", "multiprocessing"],
                 Imported("multiprocessing", frozenset({"multiprocess", "billiard"})), id="three-families"),
    pytest.param(["multiprocessing.Pool", "multiprocessing.Pool"], Imported("multiprocessing.Pool"), id="one-name"),
    pytest.param(["multiprocess.Pool", "billiard.Pool"], None, id="no-stdlib-spelling"),
    pytest.param(["multiprocessing.pool.Pool", "multiprocessing.Pool"], None, id="two-stdlib-spellings"),
    pytest.param(["multiprocessing.Pool", "concurrent.futures.ProcessPoolExecutor"], None, id="another-api"),
    pytest.param(["multiprocess.Pool", "pathos.multiprocessing.ProcessPool"], None, id="no-stdlib-another-api"),
])
def test_one_api_answers_the_standard_librarys_name_with_the_other_families(alternatives, expected) -> None:
    assert one_api(Imported(name) for name in alternatives) == expected
    assert one_api(Imported(name) for name in reversed(alternatives)) == expected


def test_one_api_keeps_the_families_an_alternative_already_had() -> None:
    """A name re-exported with a fallback, imported again next to the standard library's."""
    through = Imported("multiprocessing.Pool", frozenset({"multiprocess"}))
    assert one_api([through, Imported("multiprocessing.Pool")]) == through
    assert one_api([through, Imported("billiard.Pool")]) == \
        Imported("multiprocessing.Pool", frozenset({"multiprocess", "billiard"}))


# -- one file and two modules agree --------------------------------------------------------------

TRY_NAMES = """
    try:
        from {primary} import Pool, Process, Queue
    except ImportError:
        from multiprocessing import Pool, Process, Queue
"""
IF_NAMES = """
    import sys

    if sys.platform == "darwin":
        from {primary} import Pool, Process, Queue
    else:
        from multiprocessing import Pool, Process, Queue
"""
TRY_MODULE = """
    try:
        import {primary} as mp
    except ImportError:
        import multiprocessing as mp
"""
NAMES = "Pool, Process, Queue"
NAMES_BODY = """
    import threading


    def double(n):
        return n * 2


    def main(scale):
        lock = threading.Lock()
        with Pool(2) as pool:
            print(pool.map(lambda n: n * scale, range(3)))
            print(pool.apply(double, (lock,)))
            print(pool.apply(double, (Queue(),)))
        worker = Process(target=lambda: print(scale))
        worker.start()
        worker.join()
        worker = Process(target=double, args=(scale))
        worker.start()
        worker.join()
"""
MODULE_BODY = """
    def main(scale):
        def scaled(n):
            return n * scale

        with mp.get_context("spawn").Pool(2) as pool:
            print(pool.map(scaled, range(3)))
        process = mp.Process(target=scaled, args=(1))
        process.start()
        process.join()
"""
SUBCLASS_BODY = """
    NAME = None


    class Reporter(Process):
        def run(self):
            print("hello", NAME)


    if __name__ == "__main__":
        NAME = "spawn"
        reporter = Reporter()
        reporter.start()
        reporter.join()
"""
# What pickle refuses (MP401, MP402's threading lock) is reported only where every family
# that may run pickles with pickle; the rest does not depend on the pickler.
SHAPES = {
    "names": (TRY_NAMES, NAMES, NAMES_BODY, {
        "multiprocess": ["MP402", "MP403"],  # the multiprocessing Queue to a pool's task; args=(scale)
        "billiard": ["MP401", "MP401", "MP402", "MP402", "MP403"],
        "multiprocessing": ["MP401", "MP401", "MP402", "MP402", "MP403"],  # the fallback dropped
    }),
    "if-else": (IF_NAMES, NAMES, NAMES_BODY, {
        "multiprocess": ["MP402", "MP403"],
        "billiard": ["MP401", "MP401", "MP402", "MP402", "MP403"],
    }),
    "module": (TRY_MODULE, "mp", MODULE_BODY, {
        "multiprocess": ["MP403"],
        "billiard": ["MP401", "MP401", "MP403"],
    }),
    "subclass": (TRY_NAMES, NAMES, SUBCLASS_BODY, {
        "multiprocess": ["MP501"],
        "billiard": ["MP501"],
    }),
}
CASES = [pytest.param(shape, primary, id=f"{shape}-{primary}")
         for shape, (_, _, _, expected) in SHAPES.items() for primary in expected]


def _findings(path: Path) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.column, d.code, d.message) for d in Checker(fix_edits=False).check_file(path).diagnostics]


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"pyproject.toml": "[tool.mpcheck]\n", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _twins(tmp_path: Path, imports: str, names: str, body: str, chain: bool = False) -> tuple[list, list]:
    """The findings of `body` under `imports` written in its file, and under one import of
    `names` from a module of the project holding `imports` (through a second module with
    `chain`), padded to the same lines."""
    imports, body = textwrap.dedent(imports).lstrip("\n"), textwrap.dedent(body)
    single = _project(tmp_path / "single", {"shop/__init__.py": "", "shop/job.py": imports + body})
    source = "shop.helpers" if chain else "shop.compat"
    padding = "\n" * (imports.count("\n") - 1)
    cross = _project(tmp_path / "cross", {
        "shop/__init__.py": "",
        "shop/compat.py": imports,
        "shop/helpers.py": f"from .compat import {names}\n",
        "shop/job.py": f"from {source} import {names}\n{padding}{body}",
    })
    return _findings(single / "shop/job.py"), _findings(cross / "shop/job.py")


@pytest.mark.parametrize(("shape", "primary"), CASES)
def test_imports_in_the_file_and_in_a_module_of_the_project_give_the_same_findings(
        tmp_path: Path, shape: str, primary: str) -> None:
    imports, names, body, expected = SHAPES[shape]
    single, cross = _twins(tmp_path, imports.format(primary=primary), names, body)
    assert single == cross
    assert sorted(code for _, _, code, _ in single) == expected[primary], single


@pytest.mark.parametrize("primary", ["multiprocess", "billiard"])
def test_a_fallback_reexported_through_two_modules_is_the_same(tmp_path: Path, primary: str) -> None:
    imports, names, body, expected = SHAPES["names"]
    single, cross = _twins(tmp_path, imports.format(primary=primary), names, body, chain=True)
    assert single == cross
    assert sorted(code for _, _, code, _ in single) == expected[primary]


WRAPPER = """
    def parmap(fn, items):
        with Pool(2) as pool:
            return pool.map(fn, items)
"""


@pytest.mark.parametrize(("primary", "expected"), [("multiprocess", []), ("billiard", ["MP401"])])
def test_a_project_function_handing_its_parameter_to_a_fallback_pool(tmp_path: Path, primary: str,
                                                                     expected: list[str]) -> None:
    """`parmap(lambda ...)`, parmap in another module of the project and in the file."""
    imports = textwrap.dedent(TRY_NAMES.format(primary=primary)).lstrip("\n")
    wrapper = textwrap.dedent(WRAPPER)
    call = "\n\ndef main(scale):\n    return parmap(lambda n: n * scale, range(3))\n"
    project = _project(tmp_path, {
        "shop/__init__.py": "",
        "shop/maps.py": imports + wrapper,
        "shop/job.py": "from .maps import parmap\n" + call,
        "shop/alone.py": imports + wrapper + call,
    })
    assert [code for _, _, code, _ in _findings(project / "shop/job.py")] == expected
    assert [code for _, _, code, _ in _findings(project / "shop/alone.py")] == expected


def test_an_alternative_that_is_another_api_names_nothing_in_either_shape(tmp_path: Path) -> None:
    """What runs is not known to be a multiprocessing pool: no rule says anything of it."""
    imports = """
        try:
            from multiprocess import Pool
        except ImportError:
            from concurrent.futures import ProcessPoolExecutor as Pool
    """
    body = "\nwith Pool(2) as pool:\n    print(list(pool.map(lambda n: n * n, range(3))))\nPool(2)\n"
    assert _twins(tmp_path, imports, "Pool", body) == ([], [])


# -- the package -----------------------------------------------------------------------------------


def _copy(tmp_path: Path, primary: str = "multiprocess") -> Path:
    """The fixture, with `primary` as the package the fallback imports prefer."""
    tree = tmp_path / primary
    shutil.copytree(DILL_POOLS, tree)
    for path in tree.rglob("*.py"):
        path.write_text(path.read_text().replace("import multiprocess as", f"import {primary} as")
                        .replace("from multiprocess import", f"from {primary} import"))
    return tree


def _flagged_lines(tree: Path, name: str) -> list[tuple[str, str]]:
    """The code and the flagged line's text of each finding in the file `name`."""
    lines = (tree / name).read_text().splitlines()
    found = Checker(fix_edits=False).check_file(tree / name).diagnostics
    return sorted((d.code, lines[d.line - 1].strip()) for d in found)


@pytest.mark.parametrize(("primary", "flagged"), [("multiprocess", 0), ("billiard", 2)])
def test_the_examples_and_their_one_file_version_agree(tmp_path: Path, primary: str, flagged: int) -> None:
    """pathos's examples hand lambdas and closures to multiprocess's pool through the
    package's helpers; with billiard preferred instead, pickle would refuse them."""
    tree = _copy(tmp_path, primary)
    separate = sorted(_flagged_lines(tree, "examples/squares.py") + _flagged_lines(tree, "examples/scaled.py"))
    standalone = _flagged_lines(tree, "examples/standalone.py")
    assert standalone == separate
    assert [code for code, _ in standalone] == ["MP401"] * flagged


@pytest.mark.parametrize("primary", ["multiprocess", "billiard"])
def test_one_file_the_flake8_plugin_and_the_whole_tree_agree(tmp_path: Path, primary: str) -> None:
    tree = _copy(tmp_path, primary)
    whole = run_command([*mpcheck_command(), "check", "--no-cache", "--output-format", "text", "."], tree)
    for name in EXAMPLES:
        alone = run_command([*mpcheck_command(), "check", "--no-cache", "--output-format", "text", name], tree)
        flake8 = subprocess.run([str(BIN / "flake8"), "--select", "MP", name], cwd=tree, capture_output=True,
                                text=True, timeout=120)
        expected = reported(alone.stdout, name)
        assert bool(expected) == (primary == "billiard"), alone.stdout
        assert reported(whole.stdout, name) == expected
        assert reported(flake8.stdout, name) == expected, flake8.stderr


def _json_findings(tree: Path, *arguments: str) -> list[tuple[str, int, str]]:
    run = run_command([*mpcheck_command(), "check", "--output-format", "json", *arguments, "."], tree)
    document = json.loads(run.stdout) if run.stdout.strip() else {"diagnostics": []}
    return sorted((item["file"].replace(os.sep, "/").removeprefix("./"), item["line"], item["code"])
                  for item in document["diagnostics"])


# MP401 alone too: the other rules read the modules a file imports for reasons of their own.
@pytest.mark.parametrize("only", [(), ("--select", "MP401")], ids=["all-rules", "mp401"])
def test_an_edit_to_the_helpers_changes_the_warm_results_of_the_examples(tmp_path: Path, only: tuple) -> None:
    tree = _copy(tmp_path)
    helpers = tree / "sweep/helpers.py"
    original = helpers.read_text()
    assert _json_findings(tree, *only) == []
    assert _json_findings(tree, *only) == []  # warm
    # multiprocess dropped: the standard library's pool, which pickles by reference, is all
    # the examples get.
    helpers.write_text("import multiprocessing as mp\nfrom multiprocessing import Pool, cpu_count\n")
    warm = _json_findings(tree, *only)
    assert warm == _json_findings(tree, *only, "--no-cache")
    assert warm == [("examples/cubes.py", 7, "MP401"), ("examples/scaled.py", 11, "MP401"),
                    ("examples/squares.py", 7, "MP401")]
    helpers.write_text(original)
    assert _json_findings(tree, *only) == []
