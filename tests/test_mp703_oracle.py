"""MP703 shown by real runs (fixtures/mp703/frame_viewer): a viewer program that attaches
to a camera's shared memory with the default tracking has the segment unlinked when it
exits, on every Python here (3.10-3.13: the default `track=True` of 3.13 changes nothing);
the portable viewer (`track=False` from 3.13, `resource_tracker.unregister` before) and
viewers started by multiprocessing from the camera (one shared tracker) keep it. mpcheck
flags exactly the first. There is no fix to check (the rule reports), so these programs
have no fixture.toml: the before/after oracle does not apply."""

from __future__ import annotations

from pathlib import Path

import pytest

import mpcheck
from mpcheck import Settings

from .oracle import START_METHODS, Program, interpreters, run_program

FRAME_VIEWER = Path(__file__).resolve().parent.parent / "fixtures" / "mp703" / "frame_viewer"
BROKEN = "viewer 1: frame [1, 1, 1, 1]\nviewer 2: FileNotFoundError\ncamera: someone else removed the segment\n"
WORKS = "viewer 1: frame [1, 1, 1, 1]\nviewer 2: frame [2, 2, 2, 2]\n"
VERSIONS = sorted(interpreters())


def _flagged(directory: Path) -> list[tuple[str, int]]:
    found = []
    for path in sorted(directory.glob("*.py")):
        found += [(path.name, d.line) for d in mpcheck.check_source(path.read_text(), str(path),
                                                                    settings=Settings(select=("MP703",)))]
    return found


def test_mpcheck_flags_only_the_tracked_attach():
    assert _flagged(FRAME_VIEWER / "before") == [("viewer.py", 6)]
    assert _flagged(FRAME_VIEWER / "portable") == []
    assert _flagged(FRAME_VIEWER / "children") == []


def _run(variant: str, version: str, method: str = "fork"):
    python = interpreters()[version]
    if python is None:
        pytest.skip(f"CPython {version} is not installed here (looked in ~/.pyenv/versions)")
    return run_program(Program(FRAME_VIEWER / variant, ("camera.py",)), method, python, timeout=30)


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
def test_a_tracked_attach_unlinks_the_segment_on_every_version(version):
    run = _run("before", version)
    assert (run.returncode, run.stdout) == (0, BROKEN), run.describe()
    assert "leaked shared_memory objects" in run.stderr


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
def test_the_portable_viewer_keeps_it(version):
    run = _run("portable", version)
    assert (run.returncode, run.stdout) == (0, WORKS), run.describe()


@pytest.mark.oracle
@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("version", VERSIONS)
def test_viewers_started_by_multiprocessing_share_the_tracker(version, method):
    run = _run("children", version, method)
    assert (run.returncode, run.stdout) == (0, WORKS), run.describe()
