"""Helpers the tests share: where things are, running a command the way a user would, and
the semantic model of a snippet with the expressions in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest

from mpcheck.model import SemanticModel
from mpcheck.project import ProjectIndex

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

FORK_IMPORT = "from multiprocessing.context import ForkProcess\n"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def mpcheck_command() -> list[str]:
    """The console script installed next to the interpreter running the tests."""
    script = Path(sys.executable).with_name("mpcheck")
    if not script.exists():
        found = shutil.which("mpcheck")
        if found is None:
            pytest.fail("the mpcheck console script is not installed (pip install -e '.[test]')")
        script = Path(found)
    return [str(script)]


def run_command(command: list[str], cwd: Path, input: bytes | None = None, env: dict | None = None,
                timeout: float = 60) -> Run:
    completed = subprocess.run(
        command, cwd=cwd, input=input, capture_output=True, timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return Run(completed.returncode, completed.stdout.decode("utf-8", "replace"),
               completed.stderr.decode("utf-8", "replace"))


def project_index(root: Path, files: dict[str, str]) -> ProjectIndex:
    """The index of a project made of `files` (name -> dedented text), written under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return ProjectIndex(root, sorted(root.rglob("*.py")))


def model_of(source: str, path: str = "app.py", project=None) -> SemanticModel:
    """The semantic model of `source` (dedented) as the file `path`."""
    return SemanticModel(cst.parse_module(textwrap.dedent(source)), path, project=project)


def find(model: SemanticModel, code: str, occurrence: int = -1) -> cst.BaseExpression:
    """The expression of `model`'s module whose source text is `code`: the last one in
    source order unless `occurrence` says which."""
    found = []
    stack = [model.module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BaseExpression) and model.module.code_for_node(node) == code:
            found.append(node)
        stack.extend(reversed(node.children))
    if not found:
        raise AssertionError(f"no expression {code!r} in the snippet")
    return found[occurrence]
