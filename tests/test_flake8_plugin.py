"""The flake8 plugin, run through the real `flake8` executable on fixture projects."""

from __future__ import annotations

import gc
import multiprocessing
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import mpcheck
from mpcheck.engine import Checker
from mpcheck.flake8_plugin import MpcheckPlugin

DATA = Path(__file__).parent / "data"
RENDER_FARM = DATA / "render_farm"
LINUX_ONLY = DATA / "linux_only_service"
BIN = Path(sys.executable).parent


def run(tool: str, *args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
    )


def test_flake8_reports_exactly_what_mpcheck_check_reports():
    with ThreadPoolExecutor(2) as pool:
        flake8 = pool.submit(run, "flake8", "--select", "MP", "render_farm", cwd=RENDER_FARM)
        check = pool.submit(run, "mpcheck", "check", "--quiet", "--output-format", "text", "render_farm", cwd=RENDER_FARM)
    flake8, check = flake8.result(), check.result()
    assert (flake8.returncode, check.returncode) == (1, 1), (flake8.stderr, check.stderr)
    assert flake8.stdout.splitlines() == check.stdout.splitlines()
    # Not two empty outputs: the fixture's three findings, and not the one under `# noqa: MP101`.
    reported = [line.split(" ", 1)[0] for line in flake8.stdout.splitlines()]
    assert reported == ["render_farm/app.py:5:37:", "render_farm/frames.py:22:15:", "render_farm/frames.py:35:8:"]


def test_extend_select_runs_next_to_pyflakes():
    result = run("flake8", "--extend-select", "MP", "render_farm/app.py", cwd=RENDER_FARM)
    codes = [line.split()[1] for line in result.stdout.splitlines()]
    assert "F401" in codes and "MP101" in codes


def test_stdin_is_checked_from_the_lines_flake8_read():
    source = (RENDER_FARM / "render_farm" / "app.py").read_text()
    result = run("flake8", "--select", "MP", "--stdin-display-name", "app.py", "-", cwd=RENDER_FARM, stdin=source)
    assert result.stdout.startswith("app.py:5:37: MP101 `ForkProcess` does not exist on Windows")


def test_platforms_from_tool_mpcheck_are_honoured(tmp_path):
    # The service declares Linux and macOS only: fork is fine there.
    assert run("flake8", "--select", "MP", ".", cwd=LINUX_ONLY).stdout == ""
    # The same code in a project with no such declaration is flagged.
    shutil.copy(LINUX_ONLY / "ingest.py", tmp_path)
    flagged = run("flake8", "--select", "MP", ".", cwd=tmp_path).stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in flagged] == ["./ingest.py:13:10:", "./ingest.py:18:8:"]


def test_plugin_is_registered_with_its_version():
    assert f"mpcheck: {mpcheck.__version__}" in run("flake8", "--version", cwd=DATA).stdout


def test_per_file_ignores_from_tool_mpcheck_are_honoured(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mpcheck]\nper-file-ignores = { "legacy/*" = ["MP101"] }\n')
    for directory in ("legacy", "service"):
        (tmp_path / directory).mkdir()
        shutil.copy(LINUX_ONLY / "ingest.py", tmp_path / directory)
    with ThreadPoolExecutor(2) as pool:
        flake8 = pool.submit(run, "flake8", "--select", "MP", "legacy", "service", cwd=tmp_path)
        check = pool.submit(run, "mpcheck", "check", "--quiet", "legacy", "service", cwd=tmp_path)
    lines = flake8.result().stdout.splitlines()
    assert lines == check.result().stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["service/ingest.py:13:10:", "service/ingest.py:18:8:"]


def test_file_level_noqa_is_decided_by_the_engine_for_both_tools(tmp_path):
    from .test_suppressions import SUPERVISOR

    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    for name, directive in [("plain", ""), ("partly", "# mpcheck: noqa: MP101"), ("exempt", "# mpcheck: noqa"),
                            ("trailing", "x = 1  # mpcheck: noqa")]:
        (tmp_path / f"{name}.py").write_text(SUPERVISOR.format(directive=directive))
    with ThreadPoolExecutor(2) as pool:
        flake8 = pool.submit(run, "flake8", "--select", "MP", ".", cwd=tmp_path)
        check = pool.submit(run, "mpcheck", "check", "--quiet", ".", cwd=tmp_path)
    flake8_lines = [line.removeprefix("./") for line in flake8.result().stdout.splitlines()]
    assert flake8_lines == check.result().stdout.splitlines()
    assert sorted({line.split(":")[0] for line in flake8_lines}) == ["partly.py", "plain.py", "trailing.py"]
    assert [line.split(" ")[1] for line in flake8_lines if line.startswith("partly.py")] == ["MP201"]


def test_flake8s_own_file_noqa_hides_mpcheck_from_flake8_only(tmp_path):
    # As docs/guide.md says: `# flake8: noqa` is flake8's (it skips the file for every
    # plugin, codes or not); `mpcheck check` does not read it.
    from .test_suppressions import SUPERVISOR

    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    (tmp_path / "legacy.py").write_text(SUPERVISOR.format(directive="# flake8: noqa: E501"))
    assert run("flake8", "--select", "MP", ".", cwd=tmp_path).stdout == ""
    assert len(run("mpcheck", "check", "--quiet", ".", cwd=tmp_path).stdout.splitlines()) == 3


def test_flake8_one_file_at_a_time_sees_the_project(tmp_path):
    # flake8 hands the plugin one file; the call into jobs.py is still followed, and the fix
    # is declined for tables.py because main.py imports it -- as `mpcheck check` says.
    (tmp_path / "jobs.py").write_text(
        "from multiprocessing import Pool\n\n\ndef run_all(items):\n    with Pool(2) as pool:\n"
        "        return pool.map(abs, items)\n")
    (tmp_path / "nightly.py").write_text("import jobs\n\njobs.run_all([1, -2])\n")
    flake8 = run("flake8", "--select", "MP", "nightly.py", cwd=tmp_path)
    mpcheck_run = run("mpcheck", "check", "-q", "nightly.py", cwd=tmp_path)
    assert "nightly.py:3:1: MP201 Pool() (through jobs.run_all())" in flake8.stdout
    assert flake8.stdout.splitlines() == mpcheck_run.stdout.splitlines()


def test_the_plugin_turns_the_cycle_collector_back_on_outside_flake8s_workers(monkeypatch):
    """The collector does not run by itself while the plugin checks a file, as in mpcheck's
    own processes; a process that is no worker of flake8's pool (flake8 run by another program,
    or with one job) gets its setting back, even when the check raises."""
    lines = (RENDER_FARM / "render_farm" / "app.py").read_text().splitlines(keepends=True)
    seen = []
    real = Checker.check_text

    def check_text(self, text, path):
        seen.append(gc.isenabled())
        if len(seen) > 1:
            raise RuntimeError("a bug")
        return real(self, text, path)

    monkeypatch.setattr(Checker, "check_text", check_text)
    assert gc.isenabled()
    monkeypatch.chdir(RENDER_FARM)
    try:
        assert [finding[2].split()[0] for finding in MpcheckPlugin(None, "render_farm/app.py", lines).run()] == ["MP101"]
        assert gc.isenabled()
        with pytest.raises(RuntimeError):
            list(MpcheckPlugin(None, "render_farm/app.py", lines).run())
        assert gc.isenabled() and seen == [False, False]
    finally:
        gc.unfreeze()


def test_outside_flake8s_workers_what_is_alive_between_files_is_frozen(monkeypatch):
    """Between files, the collections flake8's own work sets off do not go through what the
    checker keeps (gc.freeze); each file's check sees it all again, for a collection when
    due."""
    lines = (RENDER_FARM / "render_farm" / "app.py").read_text().splitlines(keepends=True)
    frozen_during_checks = []
    real = Checker.check_text

    def check_text(self, text, path):
        frozen_during_checks.append(gc.get_freeze_count())
        return real(self, text, path)

    monkeypatch.setattr(Checker, "check_text", check_text)
    monkeypatch.chdir(RENDER_FARM)
    try:
        for _ in range(2):
            list(MpcheckPlugin(None, "render_farm/app.py", lines).run())
            assert gc.get_freeze_count() > 0 and gc.isenabled()
        assert frozen_during_checks == [0, 0]
    finally:
        gc.unfreeze()


def test_a_worker_of_flake8s_pool_keeps_the_collector_off(monkeypatch):
    """A worker of flake8's pool only runs checks: the collector stays off between files
    there, and collects when due (engine.collect_cycles_when_due)."""
    import flake8.checker

    import mpcheck.flake8_plugin as plugin

    lines = (RENDER_FARM / "render_farm" / "app.py").read_text().splitlines(keepends=True)
    monkeypatch.chdir(RENDER_FARM)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    plugin._in_a_flake8_worker.cache_clear()
    try:
        assert not plugin._in_a_flake8_worker()  # a child process, but not flake8's
        plugin._in_a_flake8_worker.cache_clear()
        monkeypatch.setattr(flake8.checker, "_mp", ("checkers", "options"), raising=False)
        asked = []
        monkeypatch.setattr(plugin, "collect_cycles_when_due", lambda: asked.append(1))
        list(MpcheckPlugin(None, "render_farm/app.py", lines).run())
        assert not gc.isenabled() and asked == [1]
    finally:
        gc.enable()
        plugin._in_a_flake8_worker.cache_clear()
