"""Fixtures: run mpcheck through click's runner or the installed console script, and
write small source trees (helpers that are not fixtures live in support.py)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from mpcheck.cli import main

from .support import Run, mpcheck_command, run_command


@pytest.fixture(autouse=True)
def _cache_per_test(tmp_path_factory, monkeypatch):
    """Each test's runs keep their result cache in a directory of their own: no test sees
    another's entries, and none is written into the repository (tests/test_cache.py
    exercises the default place)."""
    monkeypatch.setenv("MPCHECK_CACHE_DIR", str(tmp_path_factory.mktemp("mpcheck-cache")))


@pytest.fixture
def cli():
    """Invoke the click command in-process: cli("check", "x.py", input=...)."""

    def invoke(*args: str, input: str | bytes | None = None, color: bool = False) -> Run:
        result = CliRunner().invoke(main, list(args), input=input, color=color, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def installed(tmp_path):
    """Run the installed `mpcheck` command as a subprocess, in tmp_path unless told."""

    def invoke(*args: str, cwd: Path | None = None, input: bytes | None = None) -> Run:
        return run_command([*mpcheck_command(), *args], cwd or tmp_path, input)

    return invoke


@pytest.fixture
def write(tmp_path):
    """write("pkg/mod.py", source) creates the file (dedented) under tmp_path."""

    def create(relative: str, source: str | bytes = "") -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return create


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Work in tmp_path, so that paths are printed relative; its empty [tool.mpcheck]
    stops the search for a configuration above it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n")
    return tmp_path


# Hypothesis (tests/test_fuzz.py): the same examples on every run and every machine, no
# example database, no deadline (a loaded CI machine is slow). HYPOTHESIS_PROFILE=explore
# searches afresh on each run and keeps what fails in .hypothesis/ to be replayed.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("explore", settings.get_profile("ci"), derandomize=False,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
