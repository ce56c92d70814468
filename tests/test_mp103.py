"""MP103 (fork-only third-party modules): mutation tests of the safe `spaces` fix, and the
`fork-only-modules` option.

The fixture fixtures/mp103/zerogpu_demo is mutated the ways Space apps differ from it (an
alias, `from spaces import GPU`, the decorator called directly, other uses of the module) and
`mpcheck fix` is run. Every safe fix must be declined (the file is unchanged) or proven: the
fixed program exits 0 and prints, under fork, spawn, forkserver and with no fork at all (as on
Windows), what the mutated original printed under fork.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

import mpcheck
from mpcheck.cli import main

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, run_program

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "mp103" / "zerogpu_demo" / "before"
METHODS = (*START_METHODS, SIMULATED_WINDOWS)

# (old, new) replacements in app.py, and whether the safe fix must still be offered.
MUTATIONS = {
    "alias": ([("import spaces\n", "import spaces as zero\n"), ("@spaces.GPU", "@zero.GPU")], True),
    "from-import": ([("import spaces\n", "from spaces import GPU\n"), ("@spaces.GPU", "@GPU")], True),
    "called-directly": ([("if __name__", "fast = spaces.GPU(duration=5)(check_video)\n\nif __name__"),
                         ("print(check_video(", "print(fast(")], True),
    "module-used-otherwise": ([("if __name__", "print(spaces.__name__)\n\nif __name__")], False),
    "two-modules-on-a-line": ([("import os\nimport spaces\n", "import os, spaces\n")], False),
    "rebound": ([("if __name__", "spaces = None\n\nif __name__")], False),
}


def _mutated(tmp_path: Path, replacements) -> Path:
    tree = tmp_path / "app"
    shutil.copytree(FIXTURE, tree)
    app = tree / "app.py"
    text = app.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    app.write_text(text)
    return tree


@pytest.mark.oracle
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_safe_fix_is_declined_or_keeps_behaviour(mutation, tmp_path):
    replacements, offered = MUTATIONS[mutation]
    original = _mutated(tmp_path / "original", replacements)
    fixed = _mutated(tmp_path / "fixed", replacements)
    result = CliRunner().invoke(main, ["fix", "-q", str(fixed)])
    assert result.exit_code in (0, 1), result.output
    changed = (fixed / "app.py").read_text() != (original / "app.py").read_text()
    assert changed == offered, (fixed / "app.py").read_text()
    if not changed:
        return
    reference = run_program(Program(original, ("app.py",)), "fork")
    assert reference.returncode == 0 and reference.stdout, reference.describe()
    broken = run_program(Program(original, ("app.py",)), SIMULATED_WINDOWS)
    assert broken.returncode != 0 and "ForkProcess" in broken.stderr, broken.describe()
    with ThreadPoolExecutor(len(METHODS)) as pool:
        runs = list(pool.map(lambda method: run_program(Program(fixed, ("app.py",)), method), METHODS))
    for run in runs:
        assert run.returncode == 0 and run.stdout == reference.stdout, run.describe()


def test_fork_only_modules_option_adds_a_module():
    source = "import gpu_pool.client\n\nclient = gpu_pool.client.connect()\n"
    assert mpcheck.check_source(source, "app.py") == []
    settings = mpcheck.Settings(fork_only_modules=("gpu_pool",))
    [finding] = mpcheck.check_source(source, "app.py", settings=settings)
    assert finding.code == "MP103" and "`gpu_pool`" in finding.message and not finding.fixable


def test_option_is_validated(tmp_path):
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.mpcheck]\nfork-only-modules = ["spaces-gpu"]\n')
    with pytest.raises(mpcheck.ConfigError, match="not a module name"):
        mpcheck.load_settings(config)


def test_silent_when_windows_is_not_a_platform():
    settings = mpcheck.Settings(platforms=("linux", "macos"))
    assert mpcheck.check_source("import spaces\n", "app.py", settings=settings) == []


@pytest.mark.parametrize(("requirement", "flagged"), [
    ("spaces==0.30.4", False), ("spaces>=0.29.1", False), ("spaces~=0.31", False),
    ("spaces", True), ("spaces==0.28.3", True), ("spaces<0.40", True), ("spaces!=0.29.0", True),
])
def test_a_project_that_requires_a_fixed_release_is_not_flagged(tmp_path, requirement, flagged):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "requirements.txt").write_text(f"gradio>=4\n{requirement}\n")
    app = tmp_path / "app.py"
    app.write_text("import spaces\n\n\n@spaces.GPU\ndef run(x):\n    return x\n")
    findings = [d for d in mpcheck.check_source(app.read_text(), str(app)) if d.code == "MP103"]
    assert bool(findings) == flagged
