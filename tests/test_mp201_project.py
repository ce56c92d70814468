"""MP201 and MP202 across the files of a checked tree: calls into other modules, the fix's
safety when a module is imported, the `process-apis` option, frozen-app detection, and the
same answers from the CLI and the library API."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import mpcheck
from mpcheck.cli import main
from mpcheck.engine import Checker

from .oracle import Program, run_all_methods, run_program


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


JOBS = """
    from multiprocessing import Pool

    def helper(items):
        with Pool(2) as pool:
            return pool.map(abs, items)

    def run_all(items):
        return helper(items)
"""


def _mp201(diagnostics):
    return [d for d in diagnostics if d.code == "MP201"]


def test_call_into_another_checked_module_is_reported_with_its_chain(tmp_path):
    _write(tmp_path, {
        "shop/__init__.py": "",
        "shop/jobs.py": JOBS,
        "shop/cli.py": "from .jobs import run_all\n\nprint(run_all([-1, 2]))\n",
    })
    files = sorted(tmp_path.rglob("*.py"))
    checker = Checker(project_files=files)
    findings = _mp201(checker.check_file(tmp_path / "shop/cli.py").diagnostics)
    assert len(findings) == 1
    assert findings[0].line == 3
    assert "Pool() (through shop.jobs.run_all() -> helper())" in findings[0].message
    # A module of a package may be imported: guarding its work is never a safe fix.
    assert findings[0].fix is None and findings[0].hidden_unsafe_fix
    # Alone, the file gives no hint that run_all starts processes.
    assert _mp201(mpcheck.check_source((tmp_path / "shop/cli.py").read_text(), "cli.py")) == []


def test_a_display_name_is_only_shown_the_path_finds_the_project(tmp_path, monkeypatch):
    # A library user names the files as they like, from any working directory: the project
    # (and the cross-file finding) must come from the path, not from the name shown.
    _write(tmp_path, {
        "shop/__init__.py": "",
        "shop/jobs.py": JOBS,
        "shop/cli.py": "from .jobs import run_all\n\nprint(run_all([-1, 2]))\n",
    })
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cli = tmp_path / "shop/cli.py"
    expected = [(d.line, d.code, d.message) for d in Checker().check_file(cli).diagnostics]
    assert [code for _, code, _ in expected] == ["MP201"]
    checked = Checker().check_file(cli, "cli.py")
    assert checked.path == "cli.py" and {d.path for d in checked.diagnostics} == {"cli.py"}
    assert [(d.line, d.code, d.message) for d in checked.diagnostics] == expected
    (ran,) = Checker().run_files([(cli, "cli.py")], jobs=1)
    assert [(d.path, d.line, d.code, d.message) for d in ran.diagnostics] == [("cli.py", *found) for found in expected]
    fixed = Checker(unsafe_fixes=True).fix_file(cli, "cli.py")
    assert fixed.changed and {d.path for d in fixed.fixed} == {"cli.py"}


def test_the_checked_file_is_parsed_once_when_another_module_leads_back_to_it(tmp_path, monkeypatch):
    # huggingface/datasets: arrow_dataset.py (7,400 lines) calls dataset_dict.py, which calls
    # back into arrow_dataset.py; its own model answers, it is not parsed a second time.
    _write(tmp_path, {
        "shop/__init__.py": "",
        "shop/jobs.py": JOBS + "\n    def prepare(items):\n        from .orders import total\n        return total(items)\n",
        "shop/orders.py": """
            from .jobs import prepare, run_all

            def total(items):
                return sum(run_all(items))

            def report(items):
                return prepare(items)

            print(report([-1, 2]))
        """,
    })
    import mpcheck.parsing

    parsed = []
    parse_module = mpcheck.parsing.parse_module
    monkeypatch.setattr(mpcheck.parsing, "parse_module",
                        lambda text, *given: parsed.append(text) or parse_module(text, *given))
    checker = Checker(project_files=sorted(tmp_path.rglob("*.py")))
    (finding,) = _mp201(checker.check_file(tmp_path / "shop/orders.py").diagnostics)
    assert "through report() -> shop.jobs.prepare() -> shop.orders.total()" in finding.message
    assert parsed.count((tmp_path / "shop/orders.py").read_text()) == 1
    assert parsed.count((tmp_path / "shop/jobs.py").read_text()) == 1


@pytest.mark.parametrize("budget", [10_000_000, 1])
def test_models_of_other_modules_are_kept_between_files_up_to_a_budget(tmp_path, monkeypatch, budget):
    # Three reports each call the same two modules: within the budget those are parsed once
    # for the run; with no budget, once per report (and no model of another module is kept).
    import mpcheck.parsing
    import mpcheck.project

    reports = {f"shop/report_{n}.py": f"from .orders import report\n\nprint(report([{n}]))\n" for n in range(3)}
    _write(tmp_path, {"shop/__init__.py": "", "shop/jobs.py": JOBS,
                      "shop/orders.py": "from .jobs import run_all\n\ndef report(items):\n    return run_all(items)\n",
                      **reports})
    monkeypatch.setattr(mpcheck.project, "MAX_MODEL_SOURCE", budget)
    parsed = []
    parse_module = mpcheck.parsing.parse_module
    monkeypatch.setattr(mpcheck.parsing, "parse_module",
                        lambda text, *given: parsed.append(text) or parse_module(text, *given))
    checker = Checker(project_files=sorted(tmp_path.rglob("*.py")))
    for name in reports:
        assert len(_mp201(checker.check_file(tmp_path / name).diagnostics)) == 1
    assert parsed.count((tmp_path / "shop/jobs.py").read_text()) == (1 if budget > 1 else 3)
    index = checker.projects.for_path(str(tmp_path / "shop/jobs.py"))
    index.forget_models()
    assert index._modeled_size <= budget or len(index._modeled) == 0


def test_cli_follows_calls_across_files_even_without_process_names_in_the_caller(tmp_path):
    _write(tmp_path, {"jobs.py": JOBS, "nightly.py": "import jobs\n\njobs.run_all([1])\n"})
    result = CliRunner().invoke(main, ["check", "-q", str(tmp_path)])
    assert result.exit_code == 1
    assert "nightly.py:3:1: MP201 Pool() (through jobs.run_all() -> helper())" in result.output


def test_a_form_feed_line_in_the_other_module_does_not_hide_its_process_start(tmp_path, monkeypatch):
    # The names each statement uses are read from its lines, numbered as Python numbers
    # them: str.splitlines would count the form feed line (old GNU style) as two.
    _write(tmp_path, {
        "jobs.py": "import multiprocessing\n\f\n\ndef launch(target):\n    return multiprocessing.Process(target=target).start()\n",
        "app.py": "import jobs\n\nSTARTED = jobs.launch(print)\n",
    })
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "app.py"])
    assert result.stdout.startswith("app.py:3:11: MP201 Process.start() (through jobs.launch())"), result.stdout


def test_fix_is_unsafe_when_another_checked_module_imports_the_module(tmp_path):
    _write(tmp_path, {
        "warmup.py": """
            from multiprocessing import Pool

            def square(n):
                return n * n

            with Pool(2) as pool:
                CACHE = pool.map(square, range(3))
        """,
        "app.py": "import warmup\n\nprint(warmup.CACHE)\n",
    })
    runner = CliRunner()
    assert runner.invoke(main, ["fix", "-q", str(tmp_path)]).exit_code == 1
    assert "if __name__" not in (tmp_path / "warmup.py").read_text()
    assert runner.invoke(main, ["fix", "-q", "--unsafe-fixes", str(tmp_path)]).exit_code == 0
    assert 'if __name__ == "__main__":\n    with Pool(2) as pool:' in (tmp_path / "warmup.py").read_text()


def test_process_apis_names_a_projects_own_wrapper(tmp_path):
    source = "from toolkit.parallel import fan_out\n\nfan_out(print, [1, 2])\n"
    assert _mp201(mpcheck.check_source(source)) == []
    settings = mpcheck.Settings(process_apis=("toolkit.parallel.fan_out",))
    findings = _mp201(mpcheck.check_source(source, settings=settings))
    assert [d.message.split(":")[0] for d in findings] == ["toolkit.parallel.fan_out() at import time"]


def test_process_apis_from_pyproject(tmp_path):
    _write(tmp_path, {
        "pyproject.toml": '[tool.mpcheck]\nprocess-apis = ["toolkit.parallel.fan_out"]\n',
        "run.py": "from toolkit.parallel import fan_out\nfan_out(print, [1])\n",
    })
    result = CliRunner().invoke(main, ["check", "-q", "--config", str(tmp_path / "pyproject.toml"), str(tmp_path / "run.py")])
    assert "MP201 toolkit.parallel.fan_out() at import time" in result.output


def test_fix_keeps_what_workers_read_and_leaves_no_finding(tmp_path):
    source = textwrap.dedent("""
        import multiprocessing
        import os

        LIMIT = int(os.environ.get("LIMIT", "3"))
        print("limit", LIMIT)

        def work(n):
            return min(n, LIMIT)

        with multiprocessing.Pool(2) as pool:
            print(pool.map(work, range(5)))
    """).lstrip()
    fixed = mpcheck.fix_source(source, str(tmp_path / "limits.py"))
    assert fixed.remaining == []
    assert 'LIMIT = int(os.environ.get("LIMIT", "3"))\n\ndef work' in fixed.text
    assert 'if __name__ == "__main__":\n    print("limit", LIMIT)\n' in fixed.text


def test_no_fix_when_moving_would_reorder_a_read_and_a_rebinding():
    source = textwrap.dedent("""
        from multiprocessing import Pool
        MODE = "draft"
        print(MODE)
        MODE = "final"

        def work(n):
            return MODE, n

        with Pool(2) as pool:
            print(pool.map(work, [1]))
    """).lstrip()
    findings = _mp201(mpcheck.check_source(source))
    assert len(findings) == 1 and findings[0].fix is None


def test_frozen_app_detected_from_a_spec_file_or_dependencies(tmp_path):
    script = "import multiprocessing\n\nif __name__ == '__main__':\n    multiprocessing.Pool(2).close()\n"
    _write(tmp_path, {"desktop/pyproject.toml": "[project]\nname = 'desktop'\n", "desktop/main.py": script,
                      "tool/requirements.txt": "PyInstaller==6.3\n", "tool/run.py": script,
                      "plain/setup.cfg": "[metadata]\nname = plain\n", "plain/run.py": script})
    (tmp_path / "desktop/main.spec").write_text("a = Analysis(['main.py'])\npyz = PYZ(a.pure)\nexe = EXE(pyz, a.scripts)\n")
    files = sorted(tmp_path.rglob("*.py"))
    checker = Checker(project_files=files)
    codes = {path.parent.name: [d.code for d in checker.check_file(path).diagnostics] for path in files}
    assert codes == {"desktop": ["MP202"], "tool": ["MP202"], "plain": []}
    fixed = checker.fix_file(tmp_path / "desktop/main.py").fixed_text
    assert "if __name__ == '__main__':\n    multiprocessing.freeze_support()\n    multiprocessing.Pool(2)" in fixed


def test_explain_names_the_error_and_where_it_breaks():
    result = CliRunner().invoke(main, ["explain", "MP201"])
    assert result.exit_code == 0
    for text in ("bootstrapping phase", "BrokenProcessPool", "Windows", "macOS", "Python 3.14", "forkserver"):
        assert text in result.output
    assert "freeze_support" in CliRunner().invoke(main, ["explain", "MP202"]).output


def test_library_api_takes_the_project_files_too(tmp_path):
    _write(tmp_path, {"jobs.py": JOBS, "nightly.py": "import jobs\n\njobs.run_all([1])\n"})
    text = (tmp_path / "nightly.py").read_text()
    files = sorted(tmp_path.glob("*.py"))
    findings = _mp201(mpcheck.check_source(text, str(tmp_path / "nightly.py"), project_files=files))
    assert [d.line for d in findings] == [3]
    fixed = mpcheck.fix_source(text, str(tmp_path / "nightly.py"), project_files=files)
    assert fixed.text == 'import jobs\n\nif __name__ == "__main__":\n    jobs.run_all([1])\n'


def test_a_conditional_guard_and_a_guard_with_else_are_left_as_written(tmp_path):
    work = "from multiprocessing import Pool\nwith Pool(2) as pool:\n    pool.map(abs, [1])\n"
    debug_guard = work + 'if __name__ == "__main__" and DEBUG:\n    print("debug")\n'
    fixed = mpcheck.fix_source(debug_guard, str(tmp_path / "debug.py")).text
    assert fixed.endswith('if __name__ == "__main__":\n    with Pool(2) as pool:\n        pool.map(abs, [1])\n'
                          'if __name__ == "__main__" and DEBUG:\n    print("debug")\n')
    with_else = work + 'if __name__ == "__main__":\n    print("main")\nelse:\n    print("imported")\n'
    # A guard with an else branch stays as written: its else runs on import, as before.
    fixed = mpcheck.fix_source(with_else, str(tmp_path / "debug.py")).text
    assert fixed == ('from multiprocessing import Pool\n\nif __name__ == "__main__":\n    with Pool(2) as pool:\n'
                     '        pool.map(abs, [1])\nif __name__ == "__main__":\n    print("main")\nelse:\n'
                     '    print("imported")\n')


STARTERS = [
    ("import multiprocessing as mp\nmp.Process(target=print).start()\n", "Process.start()"),
    ("from multiprocessing import get_context\nctx = get_context('spawn')\nctx.Process(target=print).start()\n",
     "Process.start()"),
    ("from multiprocessing import Pool as P\nP(2).close()\n", "Pool()"),
    ("from multiprocessing.pool import Pool\npool = Pool(2)\n", "Pool()"),
    ("from multiprocessing.managers import SyncManager\nmanager = SyncManager()\nmanager.start()\n",
     "SyncManager.start()"),
    ("import multiprocessing\nwith multiprocessing.Manager() as manager:\n    pass\n", "Manager()"),
    ("from concurrent import futures\nfutures.ProcessPoolExecutor().submit(abs, 1)\n", "ProcessPoolExecutor.submit()"),
    ("import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\npool = ProcessPoolExecutor()\n"
     "asyncio.get_event_loop().run_in_executor(pool, abs, 1)\n", "run_in_executor(ProcessPoolExecutor())"),
    ("import torch.multiprocessing as tmp\ntmp.start_processes(print, nprocs=2)\n", "torch.multiprocessing.start_processes()"),
    ("import billiard\nbilliard.Pool(2)\n", "Pool()"),
    ("from multiprocessing.pool import ThreadPool\nThreadPool(2).map(abs, [1])\n", None),
    ("from multiprocessing.dummy import Pool\nPool(2).map(abs, [1])\n", None),
    ("from concurrent.futures import ThreadPoolExecutor\nThreadPoolExecutor().submit(abs, 1)\n", None),
    ("import multiprocessing\nmultiprocessing.Process(target=print)\n", None),  # made, never started
]


@pytest.mark.parametrize(("source", "starter"), STARTERS)
def test_process_starters_are_resolved_and_thread_pools_are_not(source, starter):
    messages = [d.message for d in _mp201(mpcheck.check_source(source))]
    if starter is None:
        assert messages == []
    else:
        assert messages and messages[0].startswith(f"{starter} at import time"), messages


def test_a_class_only_the_main_script_uses_moves_its_globals_with_the_work(tmp_path):
    # The training-script shape (pytorch/examples dcgan): model classes read settings parsed
    # by the script, and only the main script makes them. Nothing a child runs reads them.
    source = textwrap.dedent("""
        import argparse
        from multiprocessing import Pool

        parser = argparse.ArgumentParser()
        parser.add_argument("--width", type=int, default=4)
        opt = parser.parse_args()
        width = opt.width


        class Model:
            def __init__(self):
                self.width = width

            def score(self, item):
                return item * self.width


        def load(item):
            return item + 1


        with Pool(2) as pool:
            items = pool.map(load, range(3))
        print([Model().score(item) for item in items])
    """).lstrip()
    fixed = mpcheck.fix_source(source, str(tmp_path / "train.py")).text
    assert fixed.count('if __name__ == "__main__":') == 1
    # The parser is made where it is set up and used: under the guard, with its arguments.
    assert '\nif __name__ == "__main__":\n    parser = argparse.ArgumentParser()\n' \
           '    parser.add_argument("--width", type=int, default=4)' in fixed
    (tmp_path / "original.py").write_text(source)
    (tmp_path / "train.py").write_text(fixed)
    reference = run_program(Program(tmp_path, ("original.py", "--width", "3")), "fork")
    assert reference.returncode == 0 and reference.stdout == "[3, 6, 9]\n", reference.describe()
    for run in run_all_methods(Program(tmp_path, ("train.py", "--width", "3"))).values():
        assert (run.returncode, run.stdout) == (0, reference.stdout), run.describe()
    # Handed to the workers, the class's globals must exist there: they stay at module level.
    handed = source.replace("items = pool.map(load, range(3))", "items = pool.map(Model().score, range(3))")
    fixed = mpcheck.fix_source(handed, str(tmp_path / "train.py")).text
    assert 'parser.add_argument("--width", type=int, default=4)\nopt = parser.parse_args()\nwidth = opt.width\n' in fixed
