"""The guide's walkthrough shows real runs: every console block marked `<!-- transcript -->`
in docs/guide.md is run, in order, in a fresh copy of fixtures/legacy_app (a git repository,
as the guide tells the reader to make), and must print exactly what the guide shows.

After a change to the fixture or the rules, re-capture the blocks with

    MPCHECK_UPDATE_TRANSCRIPTS=1 python -m pytest tests/test_guide_transcripts.py

and read the diff of docs/guide.md: the prose around the blocks may need the same care.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
GUIDE = REPOSITORY / "docs" / "guide.md"
LEGACY_APP = REPOSITORY / "fixtures" / "legacy_app"
_TRANSCRIPT = re.compile(r"^<!-- transcript -->\n```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _commands(block: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a `$ command` console block."""
    pairs: list[tuple[str, str]] = []
    for line in block.splitlines(keepends=True):
        if line.startswith("$ "):
            pairs.append((line[2:].rstrip("\n"), ""))
        else:
            command, output = pairs[-1]
            pairs[-1] = (command, output + line)
    return pairs


def _run(command: str, cwd: Path) -> str:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1",
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    completed = subprocess.run(command, shell=True, cwd=cwd, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=120)
    return completed.stdout


@pytest.mark.slow
def test_walkthrough_output_is_what_the_commands_print(tmp_path):
    if not LEGACY_APP.is_dir():
        pytest.skip(f"{LEGACY_APP.relative_to(REPOSITORY)} is not in this checkout")
    guide = GUIDE.read_text(encoding="utf-8")
    blocks = _TRANSCRIPT.findall(guide)
    assert blocks, "docs/guide.md has no <!-- transcript --> blocks"
    app = tmp_path / "legacy_app"
    shutil.copytree(LEGACY_APP, app, ignore=shutil.ignore_patterns("__pycache__"))
    _run("git init -q && git add -A && git -c user.name=guide -c user.email=guide@example.com "
         "commit -qm 'legacy app, before mpcheck'", app)
    captured = ["".join(f"$ {command}\n{_run(command, app)}" for command, _ in _commands(block)) for block in blocks]
    if os.environ.get("MPCHECK_UPDATE_TRANSCRIPTS"):
        replacements = iter(captured)
        GUIDE.write_text(_TRANSCRIPT.sub(lambda m: m.group(0).replace(m.group(1), next(replacements)), guide),
                         encoding="utf-8", newline="\n")
        return
    for expected, actual in zip(blocks, captured):
        assert actual == expected, "re-capture with MPCHECK_UPDATE_TRANSCRIPTS=1 (see this file's docstring)"
