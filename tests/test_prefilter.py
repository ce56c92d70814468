"""The prefilter never hides a finding: every rule's INVALID examples pass its test, and every
fixture tree gives the same findings with the prefilter as with every rule run on every file.
Rules and fixtures are read from the registry and the fixtures directory, so those added later
are covered without touching this file. Also: the name-based pass over the project (reach.py)
on its own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mpcheck.dependencies import recording
from mpcheck.engine import Checker
from mpcheck.prefilter import Prefilter, Verdict
import mpcheck.rules
from mpcheck.rules import ALL_RULES, RULES

from .support import FIXTURES, project_index

RULES_DIRECTORY = Path(mpcheck.rules.__file__).parent
_EXAMPLES = [(rule, example) for rule in ALL_RULES for example in rule.INVALID]


@pytest.mark.parametrize(("rule", "example"), _EXAMPLES,
                         ids=[f"{rule.code}-{i}" for i, (rule, _) in enumerate(_EXAMPLES)])
def test_every_invalid_example_passes_its_rules_test(rule, example) -> None:
    # As the library API checks it: the example's project is found from its path.
    assert rule.code in Checker(fix_edits=False).verdict(example.source, example.path).codes


def _trees() -> list[Path]:
    """Every directory of fixtures/ that is checked as one tree: a fixture's before/ and
    after/, and the top-level example applications."""
    trees = [path.parent for path in FIXTURES.glob("*/*/fixture.toml") for path in
             (path.parent / "before" / "x", path.parent / "after" / "x") if path.parent.is_dir()]
    trees += [path for path in FIXTURES.iterdir() if path.is_dir() and not list(path.glob("*/fixture.toml"))]
    return sorted(tree for tree in trees if any(tree.rglob("*.py")))


class _Everything(Prefilter):
    def verdict(self, text, path, codes, project) -> Verdict:
        return Verdict(frozenset(codes))


@pytest.mark.parametrize("tree", _trees(), ids=lambda tree: str(tree.relative_to(FIXTURES)))
def test_every_fixture_gives_the_same_findings_with_and_without_the_prefilter(tree: Path) -> None:
    files = sorted(tree.rglob("*.py"))
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = _Everything(())
    found = [d for path in files for d in filtered.check_file(path).diagnostics]
    expected = [d for path in files for d in unfiltered.check_file(path).diagnostics]
    assert found == expected


_WORDS = ("multiprocess",)


def test_a_name_reaches_through_aliases_reexports_and_the_names_it_uses(tmp_path: Path) -> None:
    index = project_index(tmp_path, {
        "shop/__init__.py": "from .jobs import run_all as everything\n",
        "shop/jobs.py": """
            import multiprocessing as mp

            LIMIT = 4

            def _pool():
                return mp.Pool(LIMIT)

            def run_all(items):
                with _pool() as pool:
                    return pool.map(abs, items)

            def describe():
                return f"at most {LIMIT}"
        """,
        "plain.py": "import shop.jobs\n\nshop.jobs.describe()\n",
        "dotted.py": "import shop.jobs\n\nshop.jobs.run_all([1])\n",
        "package.py": "from shop import everything\n\neverything([1])\n",
        "aliased.py": "from shop import jobs as j\n\nj . run_all([1])\n",
    })
    jobs = index.module_at(tmp_path / "shop/jobs.py")
    assert [name for name in ("mp", "LIMIT", "_pool", "run_all", "describe") if index.reaches(jobs, name, _WORDS)] \
        == ["mp", "_pool", "run_all"]
    uses = {}
    for name in ("plain.py", "dotted.py", "package.py", "aliased.py"):
        with recording() as reads:
            uses[name] = index.uses_names_reaching(tmp_path / name, (tmp_path / name).read_text(), _WORDS), set(reads.files)
    assert {name: found for name, (found, _) in uses.items()} == \
        {"plain.py": False, "dotted.py": True, "package.py": True, "aliased.py": True}
    # What each answer depends on (noted for the result cache): the file, the modules it
    # imports, and theirs -- also when the answer was worked out for another file first.
    expected = {str(tmp_path / name) for name in ("package.py", "shop/__init__.py", "shop/jobs.py")}
    assert uses["package.py"][1] == expected


def test_import_cycles_and_unparsable_modules_still_over_approximate(tmp_path: Path) -> None:
    index = project_index(tmp_path, {
        "a.py": "import b\n\ndef start():\n    return b.helper()\n",
        "b.py": "import a\nimport c\n\ndef helper():\n    return c.anything\n",
        # CPython cannot parse this: the whole module counts as one statement binding every name.
        "c.py": "from multiprocessing import Pool\ndef broken(:\n    pass\nanything = 1\n",
        "main.py": "from a import start\nstart()\n",
    })
    with recording() as reads:
        assert index.uses_names_reaching(tmp_path / "main.py", "from a import start\nstart()\n", _WORDS)
    assert set(reads.files) == {str(tmp_path / name) for name in ("a.py", "b.py", "c.py", "main.py")}


def test_rules_that_follow_calls_into_the_project_see_files_that_name_no_process_api(tmp_path: Path) -> None:
    """A script that runs its work through the project's own helpers names no process API:
    the rules that follow such calls (model.processes, model.workers) must still be run on it."""
    project_index(tmp_path, {
        "clips/__init__.py": "",
        "clips/tools.py": """
            import multiprocessing


            def render(video):
                process = multiprocessing.Process(target=print, args=(video,))
                process.start()
                return process


            def parmap(function, items):
                with multiprocessing.Pool() as pool:
                    return pool.map(function, items)
        """,
        "clips/main.py": """
            import os
            import sys

            from clips.tools import parmap, render

            VERBOSE = False


            def describe(item):
                if VERBOSE:
                    return f"clip {item}"
                return item


            def main(folder):
                global VERBOSE
                VERBOSE = True
                for video in os.listdir(folder):
                    render(video)
                print(parmap(describe, [1, 2]))
                print(parmap(lambda item: item, [1, 2]))


            if __name__ == "__main__":
                main(sys.argv[1])
        """,
    })
    (tmp_path / ".git").mkdir()
    main = tmp_path / "clips/main.py"
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = _Everything(())
    expected = unfiltered.check_file(main).diagnostics
    assert {d.code for d in expected} >= {"MP301", "MP401", "MP501"}
    assert filtered.check_file(main).diagnostics == expected


def test_the_registry_names_every_rule_module_once() -> None:
    modules = sorted(path.stem for path in Path(RULES_DIRECTORY).glob("mp[0-9]*.py"))
    assert sorted(spec.location.partition(":")[0] for spec in RULES) == modules
    assert [rule.code for rule in ALL_RULES] == [spec.code for spec in RULES]


def test_words_common_in_threaded_code_keep_no_file_without_a_process_api(tmp_path: Path) -> None:
    """Lock, Queue, Pool, qsize and socket are everyday words of threaded code: alone they
    must not have a file parsed (the rules about them need a process API named too)."""
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent("""
        import queue
        import socket
        import threading
        from concurrent.futures import ThreadPoolExecutor

        jobs = queue.Queue()
        lock = threading.Lock()


        def serve(port):
            listener = socket.create_server(("", port))
            with ThreadPoolExecutor(4) as pool:
                while jobs.qsize():
                    with lock:
                        pool.submit(jobs.get())
            return listener
    """))
    (tmp_path / ".git").mkdir()
    assert Checker(fix_edits=False).verdict(script.read_text(), str(script)).codes == frozenset()
