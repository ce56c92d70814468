"""The result cache (mpcheck/cache.py): a warm run gives what a cold run gives, without
parsing; an entry is used only while the file, the settings, mpcheck and everything the
result was computed from are unchanged; a corrupt entry is a miss; two runs at once are
safe. Runs go through the command line, as users meet the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mpcheck import cache as cache_module
from mpcheck.engine import Checker
from mpcheck.project import ProjectIndex
from mpcheck.reach import Reach

from .support import FIXTURES, mpcheck_command, run_command

# A small application: the script runs its clips through the project's own helper, which
# starts a process per call; a package logs while it is imported.
APP = {
    "clips/__init__.py": "from . import report\n",
    "clips/report.py": """
        import logging

        logging.basicConfig(level=logging.INFO)
        logging.info("report module loaded")


        def summary(results):
            return ", ".join(results)
    """,
    "clips/tools.py": """
        import multiprocessing


        def render(video):
            process = multiprocessing.Process(target=print, args=(video,))
            process.start()
            return process
    """,
    "render_all.py": """
        import os
        import sys

        from clips.tools import render

        for video in os.listdir(sys.argv[1]):
            render(video)
    """,
}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    for name, text in APP.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    return tmp_path


def check(app: Path, *arguments: str, env: dict | None = None):
    return run_command([*mpcheck_command(), "check", "--output-format", "json", *arguments, "."], app,
                       env={"MPCHECK_CACHE_DIR": "", **(env or {})})


def findings(run) -> list[tuple[str, int, str]]:
    document = json.loads(run.stdout) if run.stdout.strip() else {"diagnostics": []}
    return sorted((item["file"].replace(os.sep, "/").removeprefix("./"), item["line"], item["code"])
                  for item in document["diagnostics"])


def entries(app: Path) -> list[Path]:
    """The result entries (not the memos of what modules import, of the projects' hashes,
    of what was learnt of each module and of the calls into other modules: `imports.json`,
    `projects.json`, `modules.json`, `answers.json`)."""
    return sorted(path for path in (app / ".mpcheck_cache").glob("*/*.json")
                  if path.name not in ("imports.json", "projects.json", "modules.json", "answers.json"))


def test_a_warm_run_reports_what_the_cold_run_did_from_the_cache_in_the_project_root(app: Path) -> None:
    cold = check(app)
    assert ("render_all.py", 7, "MP201") in findings(cold) and ("clips/report.py", 4, "MP601") in findings(cold)
    assert (app / ".mpcheck_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (app / ".mpcheck_cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len(entries(app)) == 4  # one per file, the files that cannot hold a finding too
    warm = check(app)
    assert (warm.exit_code, warm.stdout) == (cold.exit_code, cold.stdout)


def test_a_warm_run_imports_no_libcst_and_parses_nothing(app: Path) -> None:
    """Nor the prefilter, the project index or the name-based pass: a warm pre-commit run
    is mostly Python's start-up and mpcheck's imports (once the project's hashes are kept:
    files not written in the last seconds)."""
    run_command([*mpcheck_command(), "check", "--quiet", "."], app, env={"MPCHECK_CACHE_DIR": ""})
    age(app)
    run_command([*mpcheck_command(), "check", "--quiet", "."], app, env={"MPCHECK_CACHE_DIR": ""})
    script = textwrap.dedent("""
        import sys
        from mpcheck.cli import main
        try:
            main(["check", "--quiet", "."])
        except SystemExit as exit:
            loaded = [name for name in ("libcst", "mpcheck.prefilter", "mpcheck.project", "mpcheck.reach")
                      if name in sys.modules]
            print(exit.code, ",".join(loaded) or "-", file=sys.stderr)
    """)
    completed = subprocess.run([sys.executable, "-c", script], cwd=app, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "MPCHECK_CACHE_DIR": ""})
    assert completed.stderr.split()[-2:] == ["1", "-"], completed.stderr
    assert "render_all.py:7" in completed.stdout


def test_a_changed_file_is_checked_again(app: Path) -> None:
    check(app)
    script = app / "render_all.py"
    script.write_text(script.read_text().replace("for video in", "if __name__ == '__main__':\n    for video in")
                      .replace("\n    render(video)", "\n        render(video)"))
    assert ("render_all.py", 8, "MP301") in findings(check(app))
    assert not any(code == "MP201" for _, _, code in findings(check(app)))


def test_a_change_to_an_imported_module_invalidates_its_importers(app: Path) -> None:
    assert ("render_all.py", 7, "MP201") in findings(check(app))
    tools = app / "clips/tools.py"
    tools.write_text("import threading\n\n\ndef render(video):\n    threading.Thread(target=print, args=(video,)).start()\n")
    assert findings(check(app)) == [("clips/report.py", 4, "MP601")]
    tools.write_text(textwrap.dedent(APP["clips/tools.py"]).lstrip("\n"))
    assert ("render_all.py", 7, "MP201") in findings(check(app))


def test_a_change_to_who_imports_a_module_invalidates_it(app: Path) -> None:
    """MP601 asks which package imports the module: an edit elsewhere that stops the
    package importing it changes the module's findings."""
    assert ("clips/report.py", 4, "MP601") in findings(check(app))
    (app / "clips/__init__.py").write_text("")
    assert ("clips/report.py", 4, "MP601") not in findings(check(app))


def test_an_importer_that_drops_its_platform_guard_brings_the_fork_finding_back(tmp_path: Path) -> None:
    """MP101 is silent in a module the project imports only where fork exists: its result
    depends on how the importers import it, so editing one invalidates it."""
    guarded = 'import sys\n\nif sys.platform != "win32":\n    from ._posix import detach\n'
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/__init__.py").write_text(guarded)
    (tmp_path / "shop/_posix.py").write_text("import os\n\n\ndef detach():\n    if os.fork():\n        os._exit(0)\n")
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    assert findings(check(tmp_path)) == []
    assert len(entries(tmp_path)) == 2
    assert findings(check(tmp_path)) == []  # warm
    (tmp_path / "shop/__init__.py").write_text("from ._posix import detach\n")
    assert findings(check(tmp_path)) == [("shop/_posix.py", 5, "MP101")]
    (tmp_path / "shop/__init__.py").write_text(guarded)
    assert findings(check(tmp_path)) == []


def test_a_platform_flag_edited_in_another_module_invalidates_the_guarded_file(tmp_path: Path) -> None:
    """`if not WINDOWS: os.fork()` is guarded by how compat.py sets WINDOWS: the result
    depends on compat.py, and a warm run after editing it is a cold run's."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/__init__.py").write_text("")
    (tmp_path / "shop/compat.py").write_text('import sys\n\nWINDOWS = sys.platform == "win32"\n')
    (tmp_path / "shop/daemon.py").write_text(
        "import os\n\nfrom .compat import WINDOWS\n\n\ndef detach():\n    if not WINDOWS:\n        os.fork()\n")
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    assert findings(check(tmp_path)) == []
    assert findings(check(tmp_path)) == []  # warm
    (tmp_path / "shop/compat.py").write_text("WINDOWS = False\n")
    assert findings(check(tmp_path)) == [("shop/daemon.py", 8, "MP101")]


def test_a_change_to_the_module_that_makes_a_primitive_invalidates_the_worker_s_module(tmp_path: Path) -> None:
    """MP501 flags work.py's worker for using the counter and queue shared.py makes at import:
    the result of work.py depends on shared.py, so moving them into shared.py's main block
    clears the findings, and moving them back brings them back (cold and warm alike)."""
    shutil.copytree(FIXTURES / "mp501" / "imported_counter" / "before", tmp_path, dirs_exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    shared = tmp_path / "shared.py"
    made = shared.read_text()
    flagged = [("work.py", 11, "MP501"), ("work.py", 13, "MP501")]
    assert findings(check(tmp_path, "--select", "MP501")) == flagged
    assert len(entries(tmp_path)) == 3
    assert findings(check(tmp_path, "--select", "MP501")) == flagged  # warm
    shared.write_text(made.replace("converted = multiprocessing", "converted = reports = None\n\n"
                                   "if __name__ == '__main__':\n    converted = multiprocessing")
                      .replace("\nreports = ", "\n    reports = "))
    assert findings(check(tmp_path, "--select", "MP501")) == []
    assert findings(check(tmp_path, "--select", "MP501")) == []  # warm
    shared.write_text(made)
    assert findings(check(tmp_path, "--select", "MP501")) == flagged


def test_a_new_module_of_the_project_invalidates_the_files_that_looked_for_it(app: Path) -> None:
    (app / "clips/tools.py").unlink()
    assert findings(check(app)) == [("clips/report.py", 4, "MP601")]
    (app / "clips/tools.py").write_text(textwrap.dedent(APP["clips/tools.py"]).lstrip("\n"))
    assert ("render_all.py", 7, "MP201") in findings(check(app))


def test_other_settings_or_rules_use_other_entries(app: Path) -> None:
    everything = findings(check(app))
    assert findings(check(app, "--select", "MP601")) == [("clips/report.py", 4, "MP601")]
    (app / "pyproject.toml").write_text('[tool.mpcheck]\nignore = ["MP601"]\n')
    assert ("clips/report.py", 4, "MP601") not in findings(check(app))
    (app / "pyproject.toml").write_text('[tool.mpcheck]\nper-file-ignores = {"clips/*" = ["MP6"]}\n')
    assert ("clips/report.py", 4, "MP601") not in findings(check(app))
    (app / "pyproject.toml").write_text("[tool.mpcheck]\n")
    assert findings(check(app)) == everything


def test_another_mpcheck_version_does_not_read_the_entries(app: Path, monkeypatch) -> None:
    files = [(path, str(path)) for path in sorted(app.rglob("*.py"))]

    def run() -> list[str]:
        checker = Checker(cache_directory=app / ".mpcheck_cache")
        return [d.code for result in checker.run_files(files, jobs=1) for d in result.diagnostics]

    expected = run()
    for entry in entries(app):  # results no mpcheck would give: served only to this version
        data = json.loads(entry.read_text())
        data["result"]["diagnostics"] = []
        entry.write_text(json.dumps(data))
    assert run() == []
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert run() == expected


def test_a_corrupt_or_half_written_entry_is_a_miss(app: Path) -> None:
    cold = check(app)
    for number, entry in enumerate(entries(app)):
        entry.write_bytes([b"", b"{", b"\x00\xff", b'{"format": 1}', b"[]"][number % 5])
    again = check(app)
    assert (again.exit_code, findings(again)) == (cold.exit_code, findings(cold))
    assert all(json.loads(entry.read_text())["format"] for entry in entries(app))  # rewritten whole


def test_two_runs_at_once_both_succeed_and_leave_whole_entries(app: Path) -> None:
    expected = findings(check(app, "--no-cache"))
    command = [*mpcheck_command(), "check", "--output-format", "json", "."]
    environment = {**os.environ, "MPCHECK_CACHE_DIR": "", "PYTHONUNBUFFERED": "1"}
    runs = [subprocess.Popen(command, cwd=app, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    for output in outputs:
        assert sorted((i["file"].removeprefix("./"), i["line"], i["code"]) for i in json.loads(output)["diagnostics"]) \
            == expected
    assert all(json.loads(entry.read_text())["result"] is not None for entry in entries(app))
    assert not list((app / ".mpcheck_cache").rglob(".*.tmp"))
    assert findings(check(app)) == expected


def test_fix_mode_fixes_from_the_text_and_a_later_check_sees_the_fixed_file(app: Path) -> None:
    check(app)
    fixed = run_command([*mpcheck_command(), "fix", "."], app, env={"MPCHECK_CACHE_DIR": ""})
    assert fixed.exit_code in (0, 1)
    assert 'if __name__ == "__main__":' in (app / "render_all.py").read_text()
    assert not any(code == "MP201" for _, _, code in findings(check(app)))


@pytest.mark.parametrize("how", ["--no-cache", "MPCHECK_NO_CACHE", "cache = false"])
def test_the_cache_can_be_turned_off(app: Path, how: str) -> None:
    arguments, env = ((how,), {}) if how.startswith("--") else ((), {how: "1"}) if how.isupper() else ((), {})
    if how == "cache = false":
        (app / "pyproject.toml").write_text("[tool.mpcheck]\ncache = false\n")
    assert ("render_all.py", 7, "MP201") in findings(check(app, *arguments, env=env))
    assert not (app / ".mpcheck_cache").exists()


def test_stdin_is_never_cached(app: Path) -> None:
    source = (app / "render_all.py").read_bytes()
    run = run_command([*mpcheck_command(), "check", "--stdin-filename", "render_all.py", "-"], app, input=source,
                      env={"MPCHECK_CACHE_DIR": ""})
    assert "MP201" in run.stdout
    assert not (app / ".mpcheck_cache").exists()


def _fixture_trees() -> list[Path]:
    trees = sorted({path.parent for path in FIXTURES.glob("*/*/fixture.toml")})
    return [tree / "before" for tree in trees if (tree / "before").is_dir()] + [FIXTURES / "legacy_app"]


@pytest.mark.parametrize("tree", _fixture_trees(), ids=lambda tree: str(tree.relative_to(FIXTURES)))
def test_findings_are_the_same_cold_warm_and_with_any_number_of_jobs(tree: Path, tmp_path: Path) -> None:
    files = [(path, str(path)) for path in sorted(tree.rglob("*.py"))]

    def run(jobs: int, cache: Path | None) -> list:
        checker = Checker(fix_edits=False, cache_directory=cache)
        return [(r.path, r.diagnostics, r.unchecked) for r in checker.run_files(files, jobs=jobs)]

    expected = run(1, None)
    assert run(2, None) == expected
    assert run(2, tmp_path / "cache") == expected  # cold: written
    assert run(1, tmp_path / "cache") == expected  # warm: read
    assert run(2, tmp_path / "cache") == expected


def test_flake8_and_mpcheck_check_share_their_entries(app: Path) -> None:
    """With the same settings, the plugin reads what `mpcheck check` wrote (and the other
    way round): no second entry per file, and the same findings."""
    check_run = run_command([*mpcheck_command(), "check", "--quiet", "."], app, env={"MPCHECK_CACHE_DIR": ""})
    written = {entry: entry.read_bytes() for entry in entries(app)}
    assert len(written) == 4
    flake8 = run_command([str(Path(sys.executable).with_name("flake8")), "--select", "MP", "."], app,
                         env={"MPCHECK_CACHE_DIR": ""})
    assert {entry: entry.read_bytes() for entry in entries(app)} == written  # read, not written again
    assert sorted(line.removeprefix("./") for line in flake8.stdout.splitlines()) == \
        sorted(check_run.stdout.splitlines())
    (app / "render_all.py").write_text("import os\n\nprint(os.sep)\n")
    assert run_command([str(Path(sys.executable).with_name("flake8")), "--select", "MP", "."], app,
                       env={"MPCHECK_CACHE_DIR": ""}).stdout.splitlines() == ["./clips/report.py:4:1: MP601 " +
                                                                              findings_text(app, "clips/report.py")]


def findings_text(app: Path, name: str) -> str:
    """The message of the one finding `mpcheck check` makes in `name`, as flake8 prints it."""
    run = run_command([*mpcheck_command(), "check", "--quiet", name], app, env={"MPCHECK_CACHE_DIR": ""})
    return run.stdout.strip().split(": MP601 ", 1)[1]


# -- a project's hashes, kept with the stat of what they were computed from -----------------------


def age(tree: Path) -> None:
    """Date every file and directory of `tree` an hour back, as in a checkout nobody is
    editing: a project's hash is kept only when what it was computed from did not change in
    the last seconds (a coarse clock could hide a change made in the same tick)."""
    past = time.time() - 3600
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (past, past), follow_symlinks=False)


def kept_projects(app: Path) -> list[str]:
    memos = list((app / ".mpcheck_cache").glob("*/projects.json"))
    return sorted(json.loads(memos[0].read_text())) if memos else []


def _package_in_an_empty_directory(app: Path) -> None:
    (app / "tools").mkdir()
    script = app / "render_all.py"
    script.write_text(script.read_text().replace("from clips.tools import", "from tools.jobs import"))


def _make_the_package(app: Path) -> None:
    (app / "tools/__init__.py").write_text("")
    (app / "tools/jobs.py").write_text(textwrap.dedent(APP["clips/tools.py"]).lstrip("\n"))


def _a_gitignore(app: Path) -> None:
    (app / ".gitignore").write_text("build/\n")


def _ignore_the_helper(app: Path) -> None:
    with open(app / ".gitignore", "a") as stream:
        stream.write("clips/tools.py\n")


def _stop_importing_report(app: Path) -> None:
    """The same size, only the time and the text differ."""
    (app / "clips/__init__.py").write_text("from . import rep0rt\n")


def _packages_that_import_nothing(app: Path) -> None:
    (app / "clips/__init__.py").write_text("")
    (app / "viewer").mkdir()
    (app / "viewer/__init__.py").write_text("")


def _import_report_in_another_package(app: Path) -> None:
    """Known to the report module's check only through the project's import graph."""
    (app / "viewer/__init__.py").write_text("from clips import report\n")


# What the walk of a project, or its import graph, depends on, changed without a module of
# the run changing: each must make a warm run compute the project's hashes again.
CHANGES = {
    "a package made in a directory that held no module": (_package_in_an_empty_directory, _make_the_package),
    "a .gitignore edited to leave a module out": (_a_gitignore, _ignore_the_helper),
    "a module's imports edited, its size unchanged": (lambda app: None, _stop_importing_report),
    "a module imported by another package": (_packages_that_import_nothing, _import_report_in_another_package),
    "a module removed": (lambda app: None, lambda app: (app / "clips/tools.py").unlink()),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_kept_project_hash_is_computed_again_when_what_it_was_computed_from_changes(app: Path, change: str) -> None:
    prepare, edit = CHANGES[change]
    prepare(app)
    before = findings(check(app))  # makes the cache directory, which changes the project's
    age(app)
    assert findings(check(app, "--no-cache")) == before
    assert findings(check(app)) == before
    assert kept_projects(app) == [f"graph {app}", f"modules {app}"]
    edit(app)
    after = findings(check(app, "--no-cache"))
    assert after != before  # the change matters to the findings
    assert findings(check(app)) == after


def test_a_kept_project_hash_spares_the_walk(app: Path, monkeypatch) -> None:
    files = [(path, str(path)) for path in sorted(app.rglob("*.py"))]

    def run() -> list:
        checker = Checker(fix_edits=False, cache_directory=app / ".mpcheck_cache")
        return [(result.path, result.diagnostics) for result in checker.run_files(files, jobs=1)]

    expected = run()
    age(app)
    assert run() == expected
    monkeypatch.setattr(ProjectIndex, "_walk", lambda self: pytest.fail("the project was walked"))
    assert run() == expected
    # A file edited (pre-commit's case): checked again, from the module list kept.
    script = app / "render_all.py"
    script.write_text(script.read_text() + "# edited\n")
    assert run() == expected


def test_a_hash_is_not_kept_when_what_it_came_from_changed_during_the_run(app: Path, monkeypatch) -> None:
    """The project was walked before a module was added: the hash computed afterwards, from
    that walk, must not be kept with the directory's new stat (a later run would trust it)."""
    monkeypatch.setattr(cache_module, "_RACY_NS", 0)  # no coarse clock: only the run's own changes count
    check(app)
    age(app)
    checker = Checker(fix_edits=False, cache_directory=app / ".mpcheck_cache")
    started = time.time_ns()  # the checker's run started before this
    checker.check_file(app / "render_all.py")  # walks the project
    # The module is added until the file system dates it after the start. Its clock may keep
    # whole seconds, or lag a tick behind time.time_ns() (as on CI once): that is what the real
    # _RACY_NS covers, and the change would then look older than the run.
    deadline = time.monotonic() + 10
    while True:
        (app / "clips/extra.py").unlink(missing_ok=True)
        (app / "clips/extra.py").write_text("VALUE = 1\n")
        if (app / "clips").stat().st_mtime_ns > started:
            break
        assert time.monotonic() < deadline, "the file system's clock stands still"
        time.sleep(0.01)
    list(checker.run_files([(app / "render_all.py", str(app / "render_all.py"))], jobs=1))
    assert f"modules {app}" not in kept_projects(app), kept_projects(app)


def test_the_flake8_plugin_keeps_the_project_hashes_too(app: Path) -> None:
    """Its processes see no end of the run: what they learn is written as it is learnt."""
    check(app)
    age(app)
    flake8 = run_command([str(Path(sys.executable).with_name("flake8")), "--select", "MP", "."], app,
                         env={"MPCHECK_CACHE_DIR": ""})
    assert "render_all.py:7:" in flake8.stdout
    assert kept_projects(app) == [f"graph {app}", f"modules {app}"]


def test_the_flake8_plugin_keeps_what_it_learnt_of_the_modules(app: Path) -> None:
    """At the end of flake8's run, as `mpcheck check` does at the end of its own: a
    pre-commit run of flake8 on an edited file then takes what the modules it imports reach
    from the cache. (flake8's pool workers write theirs too, each merging what is there; two
    that end at the same moment can still lose one's facts, which the next run learns
    again: the cache is best effort, never wrong.)"""
    age(app)
    flake8 = run_command([str(Path(sys.executable).with_name("flake8")), "--select", "MP", "--jobs", "1", "."],
                         app, env={"MPCHECK_CACHE_DIR": ""})
    assert "render_all.py:7:" in flake8.stdout
    assert {"clips/tools.py", "render_all.py"} <= set(kept_modules(app))


def test_a_hash_computed_just_after_a_change_is_not_kept(app: Path) -> None:
    """The files were written a moment ago: within a coarse clock's tick of that, a later
    change might not show in their stat."""
    check(app)
    assert kept_projects(app) == []


def test_a_git_repository_made_above_the_project_brings_in_its_gitignore(tmp_path: Path) -> None:
    app = tmp_path / "work" / "app"
    for name, text in APP.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (app / "pyproject.toml").write_text("[tool.mpcheck]\n")
    (tmp_path / "work" / ".gitignore").write_text("app/clips/tools.py\n")  # not a repository yet: unused
    before = findings(check(app))
    age(tmp_path / "work")
    assert ("render_all.py", 7, "MP201") in before and findings(check(app)) == before
    assert kept_projects(app) == [f"graph {app}", f"modules {app}"]
    (tmp_path / "work" / ".git").mkdir()
    assert findings(check(app)) == findings(check(app, "--no-cache")) != before


# -- what runs learnt of each module, kept with its stat ------------------------------------------


def verdict_of(app: Path, name: str, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[set[str], list[str]]:
    """The rules the prefilter lets through for `name`, with the result cache of `app`, and
    the modules whose reaching names the name-based pass worked out from their text, rather
    than took from the cache."""
    grown: set[str] = set()
    if monkeypatch is not None:
        grow = Reach._grow
        monkeypatch.setattr(Reach, "_grow", lambda self, module, *rest: (grown.add(module.name), grow(self, module, *rest))[1])
    checker = Checker(fix_edits=False, cache_directory=app / ".mpcheck_cache")
    path = app / name
    codes = set(checker.verdict(path.read_text(), str(path)).codes)
    assert checker.cache is not None
    checker.cache.close()
    return codes, sorted(grown)


def kept_modules(app: Path) -> list[str]:
    memos = list((app / ".mpcheck_cache").glob("*/modules.json"))
    return sorted(json.loads(memos[0].read_text())["projects"][str(app)]["modules"]) if memos else []


def test_a_file_edited_since_the_last_run_takes_what_its_imports_reach_from_the_cache(
        app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run on an edited file: the modules it imports, directly or not, are not
    read again to tell whether it calls into code that starts processes."""
    (app / "render_all.py").write_text("from clips.tools import render\n\nrender('intro.mp4')\n")
    age(app)
    first, settled = verdict_of(app, "render_all.py", monkeypatch)
    assert "MP201" in first and "clips.tools" in settled
    assert "clips/tools.py" in kept_modules(app) and "render_all.py" in kept_modules(app)
    monkeypatch.undo()
    assert verdict_of(app, "render_all.py", monkeypatch) == (first, [])  # its own facts kept too
    (app / "render_all.py").write_text("from clips.tools import render\n\nrender('outro.mp4')\n")
    monkeypatch.undo()
    assert verdict_of(app, "render_all.py", monkeypatch) == (first, ["render_all"])


def _tools_without_processes(app: Path) -> None:
    (app / "clips/tools.py").write_text("import threading\n\n\ndef render(video):\n"
                                        "    threading.Thread(target=print, args=(video,)).start()\n")


# How what a module's reaching names depend on can change: each must make the next run learn
# them again, not trust the kept ones (an imported module starts processes now; the module it
# resolves to is a new one).
KEPT_CHANGES = {
    "the imported module edited": (_tools_without_processes,
                                   lambda app: (app / "clips/tools.py").write_text(textwrap.dedent(APP["clips/tools.py"]))),
    "a module imported through another edited": (
        lambda app: ((app / "clips/jobs.py").write_text(
            "from .tools import render as _render\n\n\ndef render(video):\n    return _render(video)\n"),
            _tools_without_processes(app)),
        lambda app: (app / "clips/tools.py").write_text(textwrap.dedent(APP["clips/tools.py"]))),
    "a module in an import cycle edited": (
        lambda app: ((app / "clips/jobs.py").write_text(
            "from . import tools\n\n\ndef render(video):\n    return tools.render(video)\n"),
            _tools_without_processes(app),
            (app / "clips/tools.py").write_text("from . import jobs\n" + (app / "clips/tools.py").read_text())),
        lambda app: (app / "clips/tools.py").write_text("from . import jobs\n" + textwrap.dedent(APP["clips/tools.py"]))),
    "the imported name now a module of its own": (
        lambda app: (app / "clips/jobs.py").write_text("def render(video):\n    return video\n"),
        lambda app: ((app / "clips/jobs").mkdir(), (app / "clips/jobs/__init__.py").write_text(
            "from ..tools import render\n"))),
}


@pytest.mark.parametrize("change", KEPT_CHANGES, ids=list(KEPT_CHANGES))
def test_kept_module_facts_are_learnt_again_when_what_they_came_from_changes(app: Path, change: str) -> None:
    prepare, edit = KEPT_CHANGES[change]
    prepare(app)
    (app / "render_all.py").write_text("from clips.jobs import render\n\nrender('intro.mp4')\n"
                                       if (app / "clips/jobs.py").exists() else
                                       "from clips.tools import render\n\nrender('intro.mp4')\n")
    age(app)
    assert "MP201" not in verdict_of(app, "render_all.py")[0]
    assert "render_all.py" in kept_modules(app)
    edit(app)
    assert "MP201" in verdict_of(app, "render_all.py")[0]


@pytest.mark.parametrize("use", ["from clips import kit\n\nkit.render('intro.mp4')\n",
                                 "import clips.report\n\nclips.tools.render('intro.mp4')\n"],
                         ids=["module-bound-to-a-name", "submodule-as-attribute"])
def test_what_a_module_bound_to_a_name_or_a_package_reaches_is_kept_and_learnt_again(
        app: Path, monkeypatch: pytest.MonkeyPatch, use: str) -> None:
    """`kit` is clips/tools.py, bound in clips/__init__.py; `clips.tools` is the package's
    attribute. A second run takes both from the cache; an edit of tools.py is seen."""
    (app / "clips/__init__.py").write_text("from . import report\nfrom . import tools as kit\n")
    (app / "render_all.py").write_text(use)
    age(app)
    first, settled = verdict_of(app, "render_all.py", monkeypatch)
    assert "MP201" in first and "clips.tools" in settled
    monkeypatch.undo()
    assert verdict_of(app, "render_all.py", monkeypatch) == (first, [])
    monkeypatch.undo()
    _tools_without_processes(app)
    assert "MP201" not in verdict_of(app, "render_all.py")[0]


def test_module_facts_are_not_kept_for_files_written_just_now(app: Path) -> None:
    verdict_of(app, "render_all.py")
    assert kept_modules(app) == []


@pytest.mark.parametrize("corrupt", [b"", b"[]", b'{"source": "another checkout", "projects": {}}',
                                     b'{"source": "%s", "projects": []}', b'{"source": "%s", "projects": {"%s": []}}',
                                     b'{"source": "%s", "projects": {"%s": {"list": 1, "modules": {"render_all.py": [1]}}}}',
                                     b'{"source": "%s", "projects": {"%s": {"list": "%s", "modules": {"render_all.py": %s}}}}'])
def test_a_corrupt_modules_memo_is_learnt_again(app: Path, corrupt: bytes) -> None:
    age(app)
    expected = verdict_of(app, "render_all.py")[0]
    memo = next((app / ".mpcheck_cache").glob("*/modules.json"))
    kept = json.loads(memo.read_text())["projects"][str(app)]
    entry = kept["modules"]["render_all.py"][:5]  # its stat, digest and imports, but no names
    for value in (cache_module._source_stamp(), str(app), kept["list"], json.dumps(entry)):
        corrupt = corrupt.replace(b"%s", value.encode(), 1)
    memo.write_bytes(corrupt)
    assert verdict_of(app, "render_all.py")[0] == expected
    assert "render_all.py" in kept_modules(app)


def test_kept_names_are_not_trusted_once_what_they_were_found_from_grew(app: Path) -> None:
    """helpers.py's names were kept when jobs.run started no process. A later run learnt
    jobs.py anew (it starts one now) without helpers.py: their stats all hold, but what
    helpers.py's names were found from does not."""
    (app / "jobs.py").write_text("def run():\n    return None\n")
    (app / "helpers.py").write_text("from jobs import run\n\n\ndef go():\n    run()\n")
    (app / "render_all.py").write_text("from helpers import go\n\ngo()\n")
    (app / "other.py").write_text("from jobs import run\n")
    age(app)
    assert "MP201" not in verdict_of(app, "render_all.py")[0]
    (app / "jobs.py").write_text(textwrap.dedent(APP["clips/tools.py"]).replace("def render(video)", "def run(video)"))
    past = time.time() - 3600
    os.utime(app / "jobs.py", (past, past))  # the other files keep their stat
    assert "MP201" in verdict_of(app, "other.py")[0]
    assert "MP201" in verdict_of(app, "render_all.py")[0]


# -- what a call into another module does, kept with the hashes of the files it read ---------------

# A package whose catalog module sets up logging through a function of another module at
# import, then logs: MP601 on catalog.py needs to know what configure_logging() configures.
SHOP = {
    "shop/__init__.py": "from . import catalog\n",
    "shop/logs.py": """
        import logging


        def configure_logging():
            logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    """,
    "shop/catalog.py": """
        import logging

        from .logs import configure_logging

        configure_logging()
        logging.getLogger(__name__).info("catalog loaded")


        def price(item):
            return item.cost * 1.2
    """,
}


def _shop(app: Path) -> Path:
    for name, text in SHOP.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    age(app)
    return app


def check_counting_parses(app: Path, names: list[str],
                          monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, int, str]], list[str]]:
    """The findings in `names` with the result cache of `app`, and the files parsed for them
    (all in this process: one job)."""
    import mpcheck.parsing

    parsed: list[str] = []
    parse = mpcheck.parsing.parse_module
    monkeypatch.setattr(mpcheck.parsing, "parse_module", lambda text, *given: (parsed.append(
        next(name for name in [*names, *SHOP] if (app / name).exists() and (app / name).read_text() == text)),
        parse(text, *given))[1])
    checker = Checker(fix_edits=False, cache_directory=app / ".mpcheck_cache")
    found = sorted((result.path, diagnostic.line, diagnostic.code)
                   for result in checker.run_files([(app / name, name) for name in names], jobs=1)
                   for diagnostic in result.diagnostics)
    monkeypatch.undo()
    return found, sorted(parsed)


def test_a_file_edited_since_the_last_run_takes_what_a_call_into_another_module_does_from_the_cache(
        app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run on an edited catalog.py: what configure_logging() configures is known
    without parsing logs.py; an edit of logs.py is seen, by the result of catalog.py that
    was kept without parsing it too."""
    _shop(app)
    expected = [("shop/catalog.py", 6, "MP601")]
    parsed = ["shop/catalog.py", "shop/logs.py"]
    assert check_counting_parses(app, ["shop/catalog.py"], monkeypatch) == (expected, parsed)
    memo = json.loads(next((app / ".mpcheck_cache").glob("*/answers.json")).read_text())
    key = f"call {app / 'shop/logs.py'}:configure_logging:1"  # what calling it configures: INFO
    assert memo["projects"][str(app)]["answers"][key][0] == [20]
    catalog = app / "shop/catalog.py"
    catalog.write_text(catalog.read_text() + "\n\ndef discount(item):\n    return item.cost * 0.9\n")
    assert check_counting_parses(app, ["shop/catalog.py"], monkeypatch) == (expected, ["shop/catalog.py"])
    logs = app / "shop/logs.py"
    logs.write_text(logs.read_text().replace("level=logging.INFO", "level=logging.WARNING"))
    assert check_counting_parses(app, ["shop/catalog.py"], monkeypatch) == ([], parsed)
    assert [found for found in findings(check(app, "--no-cache")) if found[0].startswith("shop/")] == []


def test_what_the_workers_learn_of_calls_is_kept_by_the_parent(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run whose files are checked in worker processes keeps their summaries too: the
    pre-commit run after it parses only the file edited."""
    _shop(app)
    for number in range(4):  # enough files to start the pool (engine._PARALLEL_MIN_FILES)
        (app / f"shop/feed{number}.py").write_text(textwrap.dedent(SHOP["shop/catalog.py"]).lstrip("\n"))
    (app / "shop/__init__.py").write_text("from . import catalog, feed0, feed1, feed2, feed3\n")
    age(app)
    names = ["shop/catalog.py", *(f"shop/feed{number}.py" for number in range(4))]
    found = [found for found in findings(check(app, "--jobs", "2")) if found[0].startswith("shop/")]
    assert [name for name, _, code in found if code == "MP601"] == names
    assert "logs.py:configure_logging:1" in next((app / ".mpcheck_cache").glob("*/answers.json")).read_text()
    catalog = app / "shop/catalog.py"
    catalog.write_text(catalog.read_text() + "\n# reviewed\n")
    again, parsed = check_counting_parses(app, names, monkeypatch)
    assert again == found and "shop/catalog.py" in parsed and "shop/logs.py" not in parsed


_ANSWERS = b'{"source": "%s", "projects": {"%s": {"list": "%s", "answers": '


@pytest.mark.parametrize("corrupt", [b"", b"[]", _ANSWERS + b'[]}}}',
                                     _ANSWERS + b'{"call %s/shop/logs.py:configure_logging:1": [["20"], {}]}}}}',
                                     _ANSWERS + b'{"call %s/shop/logs.py:configure_logging:1": [[50]]}}}}',
                                     _ANSWERS + b'{"call %s/shop/logs.py:configure_logging:1": [[50], {"shop/logs.py": 1}]}}}}'])
def test_a_corrupt_answers_memo_is_worked_out_again(app: Path, corrupt: bytes,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _shop(app)
    expected = check_counting_parses(app, ["shop/catalog.py"], monkeypatch)
    memo = next((app / ".mpcheck_cache").glob("*/answers.json"))
    listed = json.loads(memo.read_text())["projects"][str(app)]["list"]
    for value in (cache_module._source_stamp(), str(app), listed, str(app)):
        corrupt = corrupt.replace(b"%s", value.encode(), 1)
    memo.write_bytes(corrupt)
    catalog = app / "shop/catalog.py"
    catalog.write_text(catalog.read_text() + "\n# reviewed\n")
    assert check_counting_parses(app, ["shop/catalog.py"], monkeypatch) == expected


def test_a_kept_summary_counts_as_reading_what_it_was_worked_out_from(app: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A result that used a kept summary depends on the files the summary read, as when it
    was worked out (the result cache compares their hashes), and nothing is parsed for it."""
    from mpcheck.dependencies import content_digest, recording

    _shop(app)
    check_counting_parses(app, ["shop/catalog.py"], monkeypatch)  # keeps the summary
    checker = Checker(fix_edits=False, cache_directory=app / ".mpcheck_cache")
    index = checker.projects.for_path(str(app / "shop/catalog.py"))
    assert index is not None
    logs = app / "shop/logs.py"
    with recording() as reads:
        summary = index.call_summary(".logs.configure_logging", str(app / "shop/catalog.py"), 1,
                                     lambda *_: pytest.fail("worked out again"))
    assert summary is not None and summary.answer == 20 and summary.read == {str(logs)}
    assert reads.files == {str(logs): content_digest(logs.read_bytes())}
