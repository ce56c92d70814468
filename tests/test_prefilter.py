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
from mpcheck.reach import code_text
import mpcheck.project
import mpcheck.reach
import mpcheck.rules
from mpcheck.rules import ALL_RULES, RULES

from .support import FIXTURES, EveryRule, project_index

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


@pytest.mark.parametrize("tree", _trees(), ids=lambda tree: str(tree.relative_to(FIXTURES)))
def test_every_fixture_gives_the_same_findings_with_and_without_the_prefilter(tree: Path) -> None:
    files = sorted(tree.rglob("*.py"))
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = EveryRule(())
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


_JOBS = """
    import multiprocessing


    def work(item):
        return item * 2


    def run_all():
        process = multiprocessing.Process(target=work, args=(1,))
        process.start()
        process.join()
"""


@pytest.mark.parametrize(("main", "init"), [
    # `import shop` binds the package; the package imported shop.jobs, which is its attribute.
    ("import shop\n\nshop.jobs.run_all()\n", "from .jobs import run_all\n"),
    # `import shop.config` binds `shop` too; shop.jobs is an attribute once anything imported it.
    ("import shop.config\nimport shop.tools\n\nshop.jobs.run_all()\n", ""),
    ("import shop.sub as sub\n\nsub.deep.jobs.run_all()\n", ""),
], ids=["package", "dotted-import", "subpackage"])
def test_a_name_of_a_submodule_reached_as_an_attribute_of_its_package_keeps_the_file(
        tmp_path: Path, main: str, init: str) -> None:
    """MP201 through the package's attribute: the model finds it (a process started at
    import), and the name-based pass must too, or the prefilter hides it."""
    files = {"main.py": main, "shop/__init__.py": init, "shop/config.py": "X = 1\n",
             "shop/tools.py": "import shop.jobs\n", "shop/sub/__init__.py": "",
             "shop/sub/deep/__init__.py": "from . import jobs\n",
             "shop/jobs.py": textwrap.dedent(_JOBS), "shop/sub/deep/jobs.py": textwrap.dedent(_JOBS)}
    found = _same_with_and_without_the_prefilter(tmp_path, files, "main.py")
    assert [d.code for d in found] == ["MP201"]


def test_a_module_bound_to_a_name_of_another_module_reaches_through_that_name(tmp_path: Path) -> None:
    """`from . import jobs as kit` in shop/__init__.py: `from shop import kit` and
    `shop.kit.run_all` lead to shop/jobs.py's names (the result cache keeps this:
    test_cache.py)."""
    files = {"shop/__init__.py": "from . import jobs as kit\n", "shop/jobs.py": _JOBS,
             "alias.py": "from shop import kit\n\nkit.run_all()\n",
             "attribute.py": "import shop\n\nshop.kit.run_all()\n",
             "other.py": "from shop import kit\n\nkit.work(1)\n"}
    index = project_index(tmp_path, files)
    uses = {name: index.uses_names_reaching(tmp_path / name, (tmp_path / name).read_text(), _WORDS)
            for name in ("alias.py", "attribute.py", "other.py")}
    assert uses == {"alias.py": True, "attribute.py": True, "other.py": False}
    assert index.reaches(index.module_at(tmp_path / "shop/__init__.py"), "kit", _WORDS)


@pytest.mark.parametrize("main", [
    "from shop import jobs\n\nrunner = jobs\nrunner.run_all()\n",
    "from shop import jobs\n\nrunner = (jobs)\nrunner.run_all()\n",
    "from shop import jobs\n\nrunner: object = jobs\nrunner.run_all()\n",
    "from shop import jobs\n\nfirst = runner = jobs\nrunner.run_all()\n",
    "from shop import jobs\n\n(runner,) = (jobs,)\nrunner.run_all()\n",
    "from shop import jobs\n\nif (runner := jobs):\n    runner.run_all()\n",
    "from shop import jobs\n\n\ndef main():\n    runner = jobs\n    runner.run_all()\n\n\nmain()\n",
    "import shop.jobs\n\nrunner = shop.jobs\nrunner.run_all()\n",
    "import shop.jobs\n\nrunner = shop\nrunner.jobs.run_all()\n",
    # In another module: a function that calls through a module-level alias.
    "from shop.batch import go\n\ngo()\n",
    # An import statement in a docstring is none: read as one, it would run on to the next `)`.
    '"""Usage:\n\n    from shop import (\n"""\nfrom shop import jobs\n\nrunner = jobs\nrunner.run_all()\n',
], ids=["assignment", "brackets", "annotated", "chained", "tuple", "walrus", "in-a-function", "dotted",
        "package", "in-another-module", "after-a-docstring"])
def test_a_module_bound_to_another_name_by_an_assignment_still_reaches(tmp_path: Path, main: str) -> None:
    """The model follows a module that an assignment binds to another name (`runner =
    jobs`, in a function too) to the function it calls (MP201 through `runner.run_all()`):
    the name-based pass must count such a use of the module, or the prefilter hides it."""
    files = {"main.py": main, "shop/__init__.py": "", "shop/jobs.py": textwrap.dedent(_JOBS),
             "shop/batch.py": "from . import jobs\n\nrunner = jobs\n\n\ndef go():\n    runner.run_all()\n"}
    found = _same_with_and_without_the_prefilter(tmp_path, files, "main.py")
    assert [d.code for d in found] == ["MP201"]


def test_a_module_imported_by_name_at_run_time_is_an_edge_of_the_import_graph(tmp_path: Path) -> None:
    # `importlib.import_module("shop.jobs")` (and `__import__`, `runpy.run_module`) with a
    # literal name: the index follows it as it follows an import statement.
    index = project_index(tmp_path, {
        "shop/__init__.py": "",
        "shop/jobs.py": "from multiprocessing import Pool\n\ndef run_all():\n    Pool(2).map(abs, [1])\n",
        "shop/tools.py": "def helper():\n    return 1\n",
        "plugins.py": "import importlib\n\ndef load():\n    return importlib.import_module( 'shop.jobs' )\n",
        "legacy.py": "jobs = __import__(\"shop.jobs\")\n",
        "runner.py": "import runpy\n\nrunpy.run_module('shop.tools')\n",
        "plain.py": "import_module = __import__\nmodule = import_module  ('shop.jobs')\n",
    })
    assert "shop.jobs" in index.import_names(tmp_path / "plugins.py")
    assert "shop.jobs" in index.import_names(tmp_path / "legacy.py")
    assert "shop.tools" in index.import_names(tmp_path / "runner.py")
    assert "shop.jobs" not in index.import_names(tmp_path / "plain.py")  # not a call of that name


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


def test_a_word_in_a_comment_or_a_string_reaches_nothing_but_one_in_an_f_string_field_does(
        tmp_path: Path, monkeypatch) -> None:
    """The name-based pass parses a module only when a word is in its code: not for one in a
    docstring, a string or a comment."""
    index = project_index(tmp_path, {
        "tools/notes.py": '''
            """Helpers that are safe to call from multiprocessing workers."""
            import os


            def describe(path):  # used by the multiprocessing pool in main.py
                return "multiprocessing-safe " + os.path.basename(path)
        ''',
        "tools/report.py": """
            import multiprocessing


            def summary(done):
                return f"{done} of {multiprocessing.cpu_count()} workers"
        """,
        "tools/nested.py": """
            def summary(counts):
                return f"{counts["done"] + multiprocessing_jobs()}"
        """,
        **{f"use_{name}.py": f"from tools.{name} import *\n\nprint(describe, summary)\n"
           for name in ("notes", "report", "nested")},
    })
    parsed = []
    real = mpcheck.reach._chunks
    monkeypatch.setattr(mpcheck.reach, "_chunks", lambda text, words: parsed.append(text) or real(text, words))
    uses = {name: index.uses_names_reaching(tmp_path / f"use_{name}.py", (tmp_path / f"use_{name}.py").read_text(),
                                            _WORDS) for name in ("notes", "report", "nested")}
    # nested.py: a field holding a string in the same quotes (3.12) is not lexed; its text counts.
    assert uses == {"notes": False, "report": True, "nested": True}
    assert not any("def describe" in text for text in parsed) and any("def summary(done)" in text for text in parsed)
    assert code_text('x = 1  # multiprocessing\ny = rb"multi\\"processing"\nz = f"{multiprocessing.Pool}"\n') == \
        'x = 1   \ny =  \nz = f"{multiprocessing.Pool}"\n'


def test_whether_a_package_imports_a_module_at_import_time_is_read_with_ast_only_for_indented_imports(
        tmp_path: Path, monkeypatch) -> None:
    """MP601's project test: an import in the first column of its line counts as made at import
    time (a string that holds one only over-approximates) and its module is not read with
    CPython's ast; one in the body of a top-level function does not count, and the text tells
    it; another indented one is read with the ast."""
    index = project_index(tmp_path, {
        "photokit/__init__.py": '''
            """Photo tools; a shell runs the command line with

            import photokit.cli
            """
            from . import banner, catalog
            from .viewer import show
        ''',
        "photokit/banner.py": "print('photokit ready')\n",
        "photokit/catalog.py": """
            import logging

            log = logging.getLogger(__name__)
        """,
        "photokit/viewer.py": """
            def show(image):
                from . import export
                return export.render(image)
        """,
        "photokit/export.py": "def render(image):\n    print('exporting', image)\n",
        "photokit/cli.py": "print('usage: photokit FILE')\n",
    })
    parsed = []
    real = mpcheck.project._import_statements
    monkeypatch.setattr(mpcheck.project, "_import_statements",
                        lambda tree, text: parsed.append(text) or real(tree, text))
    assert index.may_be_imported_at_import_time_by_a_package(tmp_path / "photokit/banner.py")
    assert index.may_be_imported_at_import_time_by_a_package(tmp_path / "photokit/catalog.py")
    assert parsed == []
    # viewer.py imports export.py only in the body of a top-level function: the text tells it.
    assert not index.may_be_imported_at_import_time_by_a_package(tmp_path / "photokit/export.py")
    assert parsed == []
    assert index.may_be_imported_at_import_time_by_a_package(tmp_path / "photokit/cli.py")  # only in a docstring
    assert index.package_import_chain(tmp_path / "photokit/cli.py") is None


IMPORTERS = {
    # (the importer's text, whether the text reading or CPython's ast settles it)
    "first-lines": ("from . import target\n", True),
    "after-a-plain-if": ("import sys\nif sys.flags.debug:\n    print('debug')\nfrom . import target\n", True),
    "after-an-if-that-leaves": ("import sys\nif sys.platform == 'win32':\n    sys.exit(1)\nfrom . import target\n",
                                False),
    "after-an-if-whose-else-raises": ("import os\nif os.name == 'posix':\n    pass\nelse:\n    raise ImportError\n"
                                      "from . import target\n", False),
    "in-a-try": ("try:\n    from . import target\nexcept ImportError:\n    target = None\n", True),
    "in-a-handler": ("try:\n    import _speedups\nexcept ImportError:\n    from . import target\n", True),
    "in-a-with": ("import warnings\nwith warnings.catch_warnings():\n    from . import target\n", True),
    "in-a-class": ("class Plugin:\n    from . import target\n", True),
    "type-checking": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import target\n", False),
    "main-guard": ("if __name__ == '__main__':\n    from . import target\n", True),
    "main-guard-either-way-round": ('if "__main__" == __name__:\n    from . import target\n', True),
    "main-guard-nested": ("import sys\nif __name__ == '__main__':\n    if len(sys.argv) > 1:\n"
                          "        from . import target\n", True),
    "main-guard-in-a-try": ("try:\n    if __name__ == '__main__':\n        from . import target\n"
                            "except ImportError:\n    pass\n", True),
    "main-guard-and-more": ("import sys\nif __name__ == '__main__' and sys.argv:\n    from . import target\n", False),
    "main-guard-else": ("if __name__ == '__main__':\n    pass\nelse:\n    from . import target\n", False),
    "main-guard-and-a-function": ("def load():\n    from . import target\n\n\nif __name__ == '__main__':\n"
                                  "    from . import target\n", True),
    "main-guard-and-top-level": ("if __name__ == '__main__':\n    from . import target\nfrom . import target\n",
                                 True),
    "platform": ("import sys\nif sys.platform == 'win32':\n    from . import target\n", False),
    "in-a-function": ("def load():\n    from . import target\n    return target\n", True),
    "in-a-decorated-async-function": ("import functools\n\n\n@functools.cache\nasync def load():\n"
                                      "    from . import target\n", True),
    "in-a-method": ("class Loader:\n    def load(self):\n        from . import target\n", True),
    "in-a-function-and-a-class": ("def load():\n    from . import target\n\n\nclass Plugin:\n"
                                  "    from . import target\n", True),
    "in-a-function-and-an-if": ("import sys\n\n\ndef load():\n    from . import target\n\n\n"
                                "if sys.platform == 'win32':\n    from . import target\n", False),
    "early-return-in-a-function": ("def load(x):\n    if x:\n        return None\n    return 1\n\n"
                                   "from . import target\n", True),
}


@pytest.mark.parametrize("case", IMPORTERS, ids=str)
def test_what_the_text_or_cpythons_ast_settles_about_an_import_is_what_the_model_says(tmp_path: Path,
                                                                                     case: str) -> None:
    """`_imports_at_import_time` asks the text reading (imports in top-level functions), then
    CPython's ast, and the libcst model only where neither settles it: where they settle, they
    answer as the model does."""
    text, settled = IMPORTERS[case]
    index = project_index(tmp_path, {"app/__init__.py": text, "app/target.py": "print('loaded')\n"})
    importer = index.module_at(tmp_path / "app/__init__.py")
    target = index.module_at(tmp_path / "app/target.py")
    by_ast = index._imports_at_import_time_from_text(importer, target)
    assert (by_ast is not None) is settled
    if by_ast is not None:
        assert by_ast == index._imports_at_import_time_by_model(importer, target)


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
    unfiltered.prefilter = EveryRule(())
    expected = unfiltered.check_file(main).diagnostics
    assert {d.code for d in expected} >= {"MP301", "MP401", "MP501"}
    assert filtered.check_file(main).diagnostics == expected


def test_torch_code_is_kept_only_where_it_can_start_processes(tmp_path: Path) -> None:
    """torch starts processes only through torch.multiprocessing and a DataLoader: a module
    that only computes with tensors is not parsed (every module of a torch project names
    torch, and `ValueError` and `MaxPool1d` hold MP102's `Value` and `Pool`), and those that
    start processes, directly or through a helper of the project (train.py names no process
    API), give the same findings as with every rule run on every file."""
    project_index(tmp_path, {
        "vision/__init__.py": "",
        "vision/model.py": """
            import torch
            from torch import nn


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layer = nn.Linear(4, 2)
                    self.pool = nn.MaxPool1d(2)

                def forward(self, batch):
                    if batch.dim() != 2:
                        raise ValueError("a batch of rows")
                    return self.pool(torch.relu(self.layer(batch)).unsqueeze(0))
        """,
        "vision/loader.py": """
            import torch
            from torch.utils import data

            loader = data.DataLoader(torch.randn(64, 4), batch_size=8, num_workers=2)
            for batch in loader:
                print(batch.shape)
        """,
        "vision/launch.py": """
            import torch.multiprocessing as mp


            def worker(rank):
                print(rank)


            def launch(processes=2):
                mp.spawn(worker, nprocs=processes)
        """,
        "vision/train.py": """
            import torch

            from vision.launch import launch
            from vision.model import Net

            net = Net()
            print(net(torch.randn(8, 4)))
            launch()
        """,
    })
    (tmp_path / ".git").mkdir()
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = EveryRule(())
    model = tmp_path / "vision/model.py"
    assert filtered.verdict(model.read_text(), str(model)).codes == frozenset()
    for name in ("model", "loader", "launch", "train"):
        path = tmp_path / f"vision/{name}.py"
        expected = unfiltered.check_file(path).diagnostics
        assert filtered.check_file(path).diagnostics == expected
        assert ("MP201" in {d.code for d in expected}) == (name in ("loader", "train"))


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


@pytest.mark.parametrize(("text", "kept"), [
    ("import socket\n\nlistener = socket.create_server(('', 8000))\n", False),
    ("import socket\nimport multiprocessing\n\nlistener = socket.create_server(('', 8000))\n", True),
    ("import socket\n\nlistener = socket.create_server(('', 8000), reuse_port=True)\n", True),
    ("from socket import *\n\ns = socket()\ns.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)\n", True),
    ("from concurrent.futures import ProcessPoolExecutor\n\npool = ProcessPoolExecutor()\n", False),
])
def test_mp702_keeps_reuse_port_alone_and_a_socket_only_with_a_process_api(tmp_path: Path, text: str,
                                                                            kept: bool) -> None:
    """MP702's words and its pattern together: SO_REUSEPORT or reuse_port on its own, a
    socket with a process API named too; a process API without a socket is not enough."""
    (tmp_path / ".git").mkdir()
    server = tmp_path / "server.py"
    server.write_text(text)
    assert ("MP702" in Checker(fix_edits=False).verdict(text, str(server)).codes) == kept


@pytest.mark.parametrize(("line", "parsed"), [
    ('"""Print the report to stdout; see the logging docs."""', False),  # a docstring
    ("# print(status)  -- kept for debugging", False),
    ("VERSION_TEXT = 'print version'", False),
    ('STATUS = f"{print(1) or 2}"', True),  # an f-string's field is code
    ("write = print", True),
    ("import logging", True),
])
def test_mp601_reads_its_words_in_the_code_only(tmp_path: Path, line: str, parsed: bool) -> None:
    """MP601's words are names (print, sys.stdout, logging): in a comment or a string they
    name nothing the semantic model resolves, and the module is not parsed for it."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("from . import report\n")
    module = tmp_path / "shop" / "report.py"
    module.write_text(f"{line}\n\n\ndef total(items):\n    return sum(items)\n")
    verdict = Checker(fix_edits=False).verdict(module.read_text(), str(module))
    assert ("MP601" in verdict.codes) == parsed


def _same_with_and_without_the_prefilter(root: Path, files: dict[str, str], checked: str) -> list:
    """Write the project `files` (name -> text) under `root`, and check the file `checked`
    with the prefilter and with every rule run on every file: the findings must be the same.
    Returns them."""
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = EveryRule(())
    found = unfiltered.check_file(root / checked).diagnostics
    assert filtered.check_file(root / checked).diagnostics == found
    return found


_REPORT = '''import logging

logger = logging.getLogger(__name__)


class Report:
    def __init__(self, title):
        self.title = title

    def show(self):
        logger.info("report %s", self.title)
        print(self.title)


def say(word):
    print(word)
'''
_HELPERS = "from .report import say\n\n\ndef setup():\n    say('setup')\n"


@pytest.mark.parametrize(("init", "report", "flagged"), [
    ("", "", False),  # output only in functions and methods that no import runs
    ("", 'if __name__ == "__main__":\n    say("demo")\n', False),
    ("", "logging.basicConfig()\nlogger.warning('loaded')\n", True),
    ("", "from logging import *\n\nbasicConfig()\nwarning('loaded')\n", True),
    ("", "DEFAULT = Report('default')\nDEFAULT.show()\n", True),
    ("", "class Banner:\n    def __init__(self):\n        print('banner')\n\n\nBANNER = Banner()\n", True),
    ("", "class Shelf:\n    class Banner:\n        def __init__(self):\n            print('banner')\n\n\n"
         "BANNER = Shelf.Banner()\n", True),
    ("from .report import say\nsay('shop')\n", "", True),  # an importer calls it
    ("from . import helpers\nhelpers.setup()\n", "", True),  # two modules away
    ("", "from . import helpers\nhelpers.setup()\n", True),  # through another module, back into it
], ids=["only-in-methods", "main-guard", "module-level", "star-import", "method-called", "constructed",
        "nested-class", "importer-calls", "two-modules-away", "call-back"])
def test_mp601_finds_the_same_with_the_prefilter_in_package_shapes(tmp_path: Path, init: str, report: str,
                                                                  flagged: bool) -> None:
    """Package shapes where a module's output runs at import, or does not, through its own
    code or its importers': the prefilter hides none of MP601's findings. (A sharper MP601
    test that read modules with CPython's `ast` got the nested class, the star import and
    the call back wrong in early versions.)"""
    files = {"shop/__init__.py": "from .report import Report\n" + init, "shop/helpers.py": _HELPERS,
             "shop/report.py": _REPORT + report}
    assert bool(_same_with_and_without_the_prefilter(tmp_path, files, "shop/report.py")) == flagged


def test_mp601_finds_output_reached_through_a_package_s_re_export(tmp_path: Path) -> None:
    """`user.py` calls `tools.setup()` at import; tools/__init__.py re-exports it from
    helpers.py, whose `setup()` calls `report.say()`. user.py imports report.py but names
    nothing of it: the way to report.py goes through the re-export, as the semantic model
    follows it. The prefilter keeps report.py."""
    files = {
        "shop/__init__.py": "from . import report, user\n",
        "shop/report.py": "def say(word):\n    print(word)\n",
        "shop/helpers.py": "from .report import say\n\n\ndef setup():\n    say('setup')\n",
        "shop/tools/__init__.py": "from ..helpers import setup\n",
        "shop/user.py": "from . import report\nfrom . import tools\n\ntools.setup()\n",
    }
    found = _same_with_and_without_the_prefilter(tmp_path, files, "shop/report.py")
    assert [d.code for d in found] == ["MP601"]


_TOOLS = "def show_banner():\n    print('hi')\n"


@pytest.mark.parametrize("files", [
    {  # the module's own import calls back into it, through its package's attribute
        "shop/__init__.py": "from . import tools\n",
        "shop/tools.py": "from .helper import go\n\n\n" + _TOOLS + "\n\ngo()\n",
        "shop/helper.py": "import shop\n\n\ndef go():\n    shop.tools.show_banner()\n",
    },
    {  # the package's import does, through a module that names the module as the package's
        "shop/__init__.py": "from . import tools  # show_banner()\nfrom .helper import go\n\ngo()\n",
        "shop/tools.py": _TOOLS,
        "shop/helper.py": "import shop\n\n\ndef go():\n    shop.tools.show_banner()\n",
    },
    {  # under another name
        "shop/__init__.py": "from . import tools as kit  # show_banner()\nfrom .helper import go\n\ngo()\n",
        "shop/tools.py": _TOOLS,
        "shop/helper.py": "from shop import kit\n\n\ndef go():\n    kit.show_banner()\n",
    },
    {  # an import line the text reading must read as CPython does
        "shop/__init__.py": "from . import tools\n",
        "shop/tools.py": "from .helper import go\n\n\n" + _TOOLS + "\n\ngo()\n",
        "shop/helper.py": "from .tools import (  # see f(x)\n    show_banner,\n)\n\n\ndef go():\n    show_banner()\n",
    },
    {  # `import shop.config` binds `shop`, and `shop.tools.show_banner()` resolves
        "shop/__init__.py": "from .tools import show_banner\nfrom . import mid\n\nmid.run()\n",
        "shop/config.py": "X = 1\n",
        "shop/mid.py": "import shop.config\n\n\ndef run():\n    shop.tools.show_banner()\n",
        "shop/tools.py": _TOOLS,
    },
    {  # the module as an attribute of a module that imports it
        "shop/__init__.py": "# show_banner\nfrom . import tools\nfrom . import mid\n\nmid.run()\n",
        "shop/api.py": "from . import tools\n",
        "shop/mid.py": "import shop.api as api\n\n\ndef run():\n    api.tools.show_banner()\n",
        "shop/tools.py": _TOOLS,
    },
    {  # the call is made by a module the importer imports, which does not import the module
        "shop/__init__.py": "from . import helpers\n\nhelpers.setup()\n",
        "shop/tools.py": _TOOLS + "\n\ndef prepare():\n    pass\n",
        "shop/helpers.py": "from . import tools, util\n\n\ndef setup():\n    tools.prepare()\n    util.go()\n",
        "shop/util.py": "import shop\n\n\ndef go():\n    shop.tools.show_banner()\n",
    },
    {  # the same, and the importer's function that makes the call does not name the module
        "shop/__init__.py": "from . import helpers\n\nhelpers.setup()\n",
        "shop/tools.py": _TOOLS,
        "shop/helpers.py": "from . import tools, util\n\n\ndef setup():\n    util.go()\n",
        "shop/util.py": "import shop\n\n\ndef go():\n    shop.tools.show_banner()\n",
    },
    {  # the same, and the module that makes the call names it through the package it binds
        "shop/__init__.py": "from . import helpers\n\nhelpers.setup()\n",
        "shop/tools.py": _TOOLS + "\n\ndef prepare():\n    pass\n",
        "shop/config.py": "X = 1\n",
        "shop/helpers.py": "from . import tools, util\n\n\ndef setup():\n    tools.prepare()\n    util.go()\n",
        "shop/util.py": "import shop.config\n\n\ndef go():\n    shop.tools.show_banner()\n",
    },
    {  # the same, through a function of another package, which that module binds
        "shop/__init__.py": "from . import helpers\n\nhelpers.setup()\n",
        "shop/tools.py": _TOOLS + "\n\ndef prepare():\n    pass\n",
        "shop/helpers.py": "from . import tools, util\n\n\ndef setup():\n    tools.prepare()\n    util.go()\n",
        "shop/util.py": "import kit.config\n\n\ndef go():\n    kit.banner()\n",
        "kit/__init__.py": "from shop.tools import show_banner\n\n\ndef banner():\n    show_banner()\n",
        "kit/config.py": "X = 1\n",
    },
    {  # the function re-exported by a subpackage, and called from the package above it
        "shop/__init__.py": "from .sub import show_banner\n\nshow_banner()\n",
        "shop/sub/__init__.py": "from ..tools import show_banner\n",
        "shop/tools.py": _TOOLS,
    },
    {  # a name spelled two ways that CPython reads as one (NFKC)
        "shop/__init__.py": "from .tools import \uff53how_banner\n\n\uff53how_banner()\n",
        "shop/tools.py": _TOOLS.replace("show", "\uff53how"),
    },
], ids=["package-attribute-call-back", "package-attribute", "package-attribute-alias", "bracketed-import-comment",
        "import-binds-the-package", "module-attribute", "call-beyond-the-importer",
        "call-beyond-the-importer-s-function", "call-beyond-the-importer-through-a-bound-package",
        "call-beyond-the-importer-through-another-package", "reexport-through-a-subpackage", "nfkc"])
def test_mp601_finds_output_reached_other_than_by_importing_the_module(tmp_path: Path, files: dict[str, str]) -> None:
    """Shapes where the way from an import to the module's output is not a plain import of
    the module by name: each gives the finding with the prefilter as without it."""
    found = _same_with_and_without_the_prefilter(tmp_path, files, "shop/tools.py")
    assert [d.code for d in found] == ["MP601"]


@pytest.mark.parametrize("line", [
    "from .tools import (  # see f(x)\n    show_banner,\n)\n",
    "from .tools \\\n    import show_banner\n",
    "from \\\n    .tools import show_banner\n",
    "import \\\n    shop.tools\n",
    "from . tools import show_banner\n",
    "import shop . tools\n",
    "from .import tools\n",
    "from.tools import show_banner\n",
    "\x0cfrom .tools import show_banner\n",  # a form feed
    "from .tools \\\r\n    import show_banner\r\n",
    "x = 1\rfrom .tools import show_banner\r",  # lines ended by a carriage return alone
    "# kept in C:\\tools\\\nfrom .tools import show_banner\n",  # a comment ending in a backslash
    "from . import tools as kit, helper\n",
    "x = 1; import os\n",
    "if x: from . import y\n",
])
def test_import_lines_are_read_as_cpython_reads_them(line: str) -> None:
    import ast

    from mpcheck.reach import absolute_name, import_bindings

    expected = set()
    for node in ast.walk(ast.parse(line)):
        if isinstance(node, ast.Import):
            expected.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_name("." * node.level + (node.module or ""), "shop.helper", False)
            expected.update(f"{base}.{alias.name}" for alias in node.names)
    assert {binding.target for binding in import_bindings(line, "shop.helper", False)} == expected


@pytest.mark.parametrize(("compat", "call"), [
    ("from logging import warning\n", "warning('loaded')\n"),
    ("from pprint import pp\n", "pp({'version': 1})\n"),
])
def test_a_name_written_through_a_star_import_of_a_project_module_is_followed(tmp_path: Path, compat: str,
                                                                             call: str) -> None:
    """`from .compat import *` then `warning(...)`: the file names none of MP601's words, but
    compat.py imports `warning` from logging, and the semantic model resolves it."""
    files = {"shop/compat.py": compat, "shop/__init__.py": "from .compat import *\n\n" + call}
    found = _same_with_and_without_the_prefilter(tmp_path, files, "shop/__init__.py")
    assert [d.code for d in found] == ["MP601"]
