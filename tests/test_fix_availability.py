"""Whether a rule's findings can be fixed, and how, is said in five places: `mpcheck rules`,
`mpcheck explain`, docs/rules (page and index), and the README's rule table. All of them
print `Rule.fix_availability()`, which is read from the rule's own examples (each one checked
against what `fix` really does by test_rule_examples.py) and its `unsafe_fix_when`."""

from __future__ import annotations

import re

import pytest

import mpcheck
from mpcheck import docs
from mpcheck.explain import fix_summary, render_rule
from mpcheck.rules import ALL_RULES, RULES_BY_CODE

from .support import REPO


def _rules_command_cells(cli) -> dict[str, str]:
    """code -> the FIX cell of `mpcheck rules` (columns are padded to the widest cell)."""
    header, *rows = cli("rules").stdout.splitlines()
    start, end = header.index("FIX"), header.index("SUMMARY")
    return {row.split()[0]: row[start:end].rstrip() for row in rows}


def _markdown_cells(path) -> dict[str, str]:
    """code -> the fix cell of the rule table in a markdown file."""
    cells = {}
    for row in re.findall(r"^\| \[(MP\d+)\]\([^)]*\) \| [^|]+ \| ([^|]+) \|", path.read_text(encoding="utf-8"), re.M):
        cells[row[0]] = row[1].strip()
    return cells


def test_every_surface_prints_the_same_fix_availability(cli):
    expected = {rule.code: fix_summary(rule) for rule in ALL_RULES}
    assert _rules_command_cells(cli) == expected
    assert _markdown_cells(REPO / "docs" / "rules" / "index.md") == expected
    assert _markdown_cells(REPO / "README.md") == expected


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_explain_states_the_same_facts(cli, rule):
    availability = rule.fix_availability()
    page = cli("explain", rule.code).stdout
    assert page == render_rule(rule)
    first_lines = page.split("## What it does")[0]
    if availability.kind == "none":
        assert "No automatic fix" in first_lines
        return
    assert ("Fix is always available" in first_lines) == (availability.always and len(availability.kinds) == 1)
    assert ("offers an unsafe alternative" in first_lines) == availability.unsafe_alternative
    assert ("Some findings have no automatic fix" in first_lines) == (not availability.always)
    if availability.unsafe_when:
        assert f"when {availability.unsafe_when}" in first_lines


def test_the_current_rules_say_what_their_code_does():
    # Spelled out once, so that a change to a rule's fixes shows up here and in review.
    assert {rule.code: fix_summary(rule) for rule in ALL_RULES} == {
        "MP101": "safe (unsafe alternative; sometimes none)",  # os.fork() has none
        "MP102": "safe (sometimes none)",  # only a script's call with a plain main guard after it
        "MP103": "safe (sometimes none)",  # only the decorator-only use of `spaces` has one
        "MP201": "safe (unsafe when another module imports the file, or it is a package module or an entry point; sometimes none)",
        "MP202": "safe",
        "MP401": "safe (sometimes none)",  # local classes, decorator wrappers, unsafe hoists have none
        "MP402": "none",
        "MP403": "safe (sometimes unsafe only; sometimes none)",  # `(x)` of an unknown x; target=f()
        "MP501": "none",
        "MP601": "safe (sometimes none)",  # output inside a function called at import has none
        "MP701": "unsafe (sometimes none)",  # empty() for a comparison with zero only
        "MP702": "safe (sometimes none)",  # a shared listening socket has none
        "MP703": "none",
        "MP301": "unsafe (sometimes none)",  # none for process objects used for more than start/join
        "MP302": "safe (sometimes none)",  # no fix where a pending result is passed on
        "MP303": "safe (sometimes none)",  # none where the drain is not the next statement
        "MP304": "safe",
        "MP305": "safe (sometimes none)",  # none for a block that ends with return
        "MP306": "safe (sometimes unsafe only)",  # unsafe in a function: it now waits for its children
    }


def test_mp201_fix_is_unsafe_when_another_module_imports_the_file(tmp_path):
    # What `unsafe_fix_when` claims, and the single-file examples cannot show. The importer is
    # found from the file's project, whichever files the run was given (pre-commit, flake8).
    (tmp_path / "tables.py").write_text(
        "from multiprocessing import Pool\n\n\ndef square(n):\n    return n * n\n\n\n"
        "with Pool(2) as pool:\n    SQUARES = pool.map(square, range(16))\n")
    text = (tmp_path / "tables.py").read_text()
    alone = mpcheck.check_source(text, str(tmp_path / "tables.py"))
    assert [(d.code, d.fix.applicability.value if d.fix else None) for d in alone] == [("MP201", "safe")]
    (tmp_path / "report.py").write_text("import tables\n\nprint(tables.SQUARES[-1])\n")
    for project_files in ((), sorted(tmp_path.glob("*.py"))):
        imported = mpcheck.check_source(text, str(tmp_path / "tables.py"), project_files=project_files)
        assert [(d.code, d.fix, d.hidden_unsafe_fix) for d in imported] == [("MP201", None, True)]
    assert "another module imports" in RULES_BY_CODE["MP201"].unsafe_fix_when
