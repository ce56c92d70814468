"""Mutation tests of MP702's safe fix (the `hasattr(socket, "SO_REUSEPORT")` guard): the echo
service of fixtures/mp702/echo_service is changed the ways real code differs from it -- the
option set in a branch, on a one-line `if`, in a `try`, its result kept, the module imported
under another name, a local variable called `socket` -- and `mpcheck fix` (safe fixes only)
is run. Each fix must be declined (the file unchanged) or keep the program working: under
fork, spawn, forkserver and as on Windows (no fork, no SO_REUSEPORT), the fixed program exits
0 and prints what the mutant printed under fork.

The argument the fix rests on: the guard is true wherever the constant exists, so there the
statement runs as before; where it does not, the statement raised. It holds only for a
statement whose value nobody keeps, and only if the guard names the socket *module*."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from mpcheck.cli import main

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, run_program

ECHO = Path(__file__).resolve().parent.parent / "fixtures" / "mp702" / "echo_service" / "before" / "echo.py"
LINE = "    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
METHODS = (*START_METHODS, SIMULATED_WINDOWS)


def _alias(source: str) -> str:
    return source.replace("import socket\n", "import socket as net\n").replace("socket.", "net.")


MUTANTS = {  # name -> (mutate the source, the fix is expected to be made)
    "in-a-branch": (lambda s: s.replace(LINE, "    if REUSE:\n    " + LINE).replace(
        "import socket\n", "import socket\n\nREUSE = True\n"), True),
    "in-a-try": (lambda s: s.replace(LINE, "    try:\n    " + LINE + "    finally:\n        pass\n"), True),
    "module-alias": (_alias, True),
    "local-named-socket": (lambda s: _alias(s).replace("    listener = net.socket(", "    socket = listener = net.socket("), True),
    "one-line-if": (lambda s: s.replace(LINE, "    if True: " + LINE.lstrip()), False),
    "result-kept": (lambda s: s.replace(LINE, "    applied = " + LINE.lstrip() + "    print('option', applied)\n"), False),
}


@pytest.fixture(scope="module")
def mutants(tmp_path_factory) -> dict[str, tuple[Path, bool, bool]]:
    """name -> (the fixed tree, whether the fix changed it, whether it was expected to)."""
    made = {}
    for name, (mutate, expected) in MUTANTS.items():
        tree = tmp_path_factory.mktemp(name)
        (tree / "echo.py").write_text(mutate(ECHO.read_text()))
        shutil.copytree(tree, tree.with_name(tree.name + "-original"))
        result = CliRunner().invoke(main, ["fix", "-q", "--select", "MP702", str(tree)])
        assert result.exit_code in (0, 1), result.output
        changed = (tree / "echo.py").read_text() != (tree.with_name(tree.name + "-original") / "echo.py").read_text()
        made[name] = (tree, changed, expected)
    return made


@pytest.mark.parametrize("name", MUTANTS)
def test_the_fix_is_made_or_declined_as_argued(mutants, name):
    tree, changed, expected = mutants[name]
    assert changed == expected, (tree / "echo.py").read_text()
    if name == "local-named-socket":  # the guard names the module, not the local socket object
        assert 'if hasattr(net, "SO_REUSEPORT"):' in (tree / "echo.py").read_text()


@pytest.mark.oracle
@pytest.mark.parametrize("name", MUTANTS)
def test_a_fixed_mutant_behaves_as_the_mutant_did_under_fork(mutants, name):
    tree, changed, _ = mutants[name]
    if not changed:
        pytest.skip("the fix was declined")
    original = Program(tree.with_name(tree.name + "-original"), ("echo.py",))
    fixed = Program(tree, ("echo.py",))
    with ThreadPoolExecutor(len(METHODS) + 1) as pool:
        reference = pool.submit(run_program, original, "fork")
        runs = {method: pool.submit(run_program, fixed, method) for method in METHODS}
        reference = reference.result()
        assert reference.returncode == 0 and reference.stdout, reference.describe()
        for method, run in runs.items():
            run = run.result()
            assert (run.returncode, run.stdout) == (0, reference.stdout), run.describe()
