"""`--output-format`: concise (and its old name text), full, json, sarif and github, read
back the way their consumers read them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from mpcheck.cli import main
from mpcheck.findings import Diagnostic
from mpcheck.reporting import format_github
from mpcheck.rules import ALL_RULES

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

# Two findings with a fix, one without, one indented by a tab.
SPOOLER = '''\
import multiprocessing
import os
from multiprocessing.context import ForkProcess


def spool(jobs):
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        return pool.map(print, jobs)


def detach():
\tif os.fork():
\t\tos._exit(0)
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spooler.py").write_text(SPOOLER)
    # Only files that mention a rule's triggers are parsed, so this one names fork.
    (tmp_path / "broken.py").write_text('CONTEXT = "fork"\ndef start(:\n    pass\n')
    return tmp_path


def mpcheck(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def test_text_is_the_old_name_of_concise(project):
    concise = mpcheck("check", "--output-format", "concise", "spooler.py")
    assert mpcheck("check", "--output-format", "text", "spooler.py") == concise
    assert mpcheck("check", "spooler.py") == concise
    assert concise[1].splitlines()[0] == (
        "spooler.py:3:37: MP101 `ForkProcess` does not exist on Windows (ImportError: cannot import "
        "name 'ForkProcess' from 'multiprocessing.context'); choose the start method by platform "
        "(breaks on: Windows)"
    )


def test_full_shows_the_source_line_with_carets_under_the_finding(project):
    status, output = mpcheck("check", "--output-format", "full", "spooler.py")
    assert status == 1
    blocks = output.split("\n\n")
    assert blocks[1].splitlines()[1:] == [
        "  |",
        '7 |     ctx = multiprocessing.get_context("fork")',
        "  |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ MP101",
        "  |",
        "  = breaks on: Windows",
        "  = fix (safe): Use fork where the platform has it, spawn elsewhere",
    ]
    # A tab before the finding is kept under it, so the carets line up in any terminal.
    assert blocks[2].splitlines()[1:] == [
        "   |",
        "13 | \tif os.fork():",
        "   | \t   ^^^^^^^^^ MP101",
        "   |",
        "  = breaks on: Windows",
    ]
    assert output.rstrip().endswith("Found 3 findings (2 fixable). Run `mpcheck fix` to fix them.")


def test_full_shows_the_right_line_after_a_form_feed_line(project):
    # A form feed line (old GNU style) is one line to Python; str.splitlines makes it two.
    (project / "paged.py").write_text('import multiprocessing\n\x0c\n\nctx = multiprocessing.get_context("fork")\n')
    status, output = mpcheck("check", "--output-format", "full", "paged.py")
    assert output.splitlines()[1:4] == [
        "  |",
        '4 | ctx = multiprocessing.get_context("fork")',
        "  |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ MP101",
    ]


def test_json_has_the_documented_keys(project):
    status, output = mpcheck("check", "--output-format", "json", "spooler.py", "broken.py")
    assert status == 2
    document = json.loads(output)
    assert document["schema_version"] == 1
    diagnostics = document["diagnostics"]
    keys = {"file", "line", "column", "end_line", "end_column", "code", "name", "message", "breaks_on", "fix"}
    assert all(set(d) == keys for d in diagnostics)
    assert [(d["file"], d["line"], d["column"], d["end_line"], d["end_column"], d["code"], d["name"]) for d in diagnostics] == [
        ("broken.py", 2, 11, 2, 11, "MP000", "input-error"),
        ("spooler.py", 3, 37, 3, 48, "MP101", "fork-only-api"),
        ("spooler.py", 7, 11, 7, 46, "MP101", "fork-only-api"),
        ("spooler.py", 13, 5, 13, 14, "MP101", "fork-only-api"),
    ]
    assert diagnostics[0]["breaks_on"] == []  # an input error breaks nothing
    assert all(d["breaks_on"] == [{"platform": "windows", "since": None, "until": None, "text": "Windows"}]
               for d in diagnostics[1:])
    fixes = [d["fix"] for d in diagnostics]
    assert fixes[0] is None and fixes[3] is None
    assert fixes[2]["applicability"] == "safe"
    assert set(fixes[2]) == {"applicability", "description", "edit"}
    assert set(fixes[2]["edit"]) == {"line", "column", "end_line", "end_column", "content"}


def _apply(text: str, edit: dict) -> str:
    lines = text.splitlines(keepends=True)

    def offset(line: int, column: int) -> int:
        return sum(len(previous) for previous in lines[: line - 1]) + column - 1

    start, end = offset(edit["line"], edit["column"]), offset(edit["end_line"], edit["end_column"])
    return text[:start] + edit["content"] + text[end:]


def test_json_edit_is_what_fix_writes(project):
    # One fixable finding: its edit alone must give the file `mpcheck fix` writes.
    source = 'import multiprocessing\n\nPOOL_CONTEXT = multiprocessing.get_context("forkserver")\n'
    (project / "pools.py").write_text(source)
    [diagnostic] = json.loads(mpcheck("check", "--output-format", "json", "pools.py")[1])["diagnostics"]
    mpcheck("fix", "pools.py")
    fixed = (project / "pools.py").read_text()
    assert fixed != source
    assert _apply(source, diagnostic["fix"]["edit"]) == fixed


def test_sarif_is_valid_and_describes_every_rule(project):
    status, output = mpcheck("check", "--output-format", "sarif", "spooler.py", "broken.py")
    assert status == 2
    document = json.loads(output)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))

    [run] = document["runs"]
    descriptors = run["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == [rule.code for rule in ALL_RULES] + ["MP000", "MP999"]
    for rule, descriptor in zip(ALL_RULES, descriptors):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.explanation.what
        assert descriptor["help"]["text"].startswith(f"# {rule.code}: {rule.name}")
        assert descriptor["helpUri"].endswith(f"/docs/rules/{rule.code}.md")

    results = run["results"]
    json_diagnostics = json.loads(mpcheck("check", "--output-format", "json", "spooler.py", "broken.py")[1])["diagnostics"]
    assert len(results) == len(json_diagnostics) == 4
    for result, diagnostic in zip(results, json_diagnostics):
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"] == diagnostic["code"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == diagnostic["file"]
        assert location["region"] == {
            "startLine": diagnostic["line"], "startColumn": diagnostic["column"],
            "endLine": diagnostic["end_line"], "endColumn": diagnostic["end_column"],
        }
        assert ("fixes" in result) == (diagnostic["fix"] is not None)
        breakages = diagnostic["breaks_on"]
        assert result.get("properties", {}) == ({
            "breaksOn": "; ".join(breakage["text"] for breakage in breakages),
            "breaksOnPlatforms": breakages,
        } if breakages else {})


def test_sarif_without_findings_is_valid(project):
    (project / "clean.py").write_text("import multiprocessing\n")
    status, output = mpcheck("check", "--output-format", "sarif", "clean.py")
    assert status == 0
    document = json.loads(output)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    assert document["runs"][0]["results"] == []


def test_github_prints_one_annotation_per_finding(project):
    status, output = mpcheck("check", "--output-format", "github", "spooler.py")
    assert status == 1
    lines = output.splitlines()
    assert len(lines) == 3
    assert lines[1] == (
        "::error file=spooler.py,line=7,col=11,endLine=7,endColumn=46,title=MP101::"
        "`get_context(\"fork\")` fails on Windows (ValueError: cannot find context for 'fork'); "
        "choose the start method by platform (breaks on: Windows)"
    )


def test_github_escapes_what_workflow_commands_reserve():
    diagnostic = Diagnostic("jobs/a,b:c%.py", 2, 5, "MP101", "50% of\r\nworkers: lost", end_line=2, end_column=9)
    assert format_github([diagnostic]) == (
        "::error file=jobs/a%2Cb%3Ac%25.py,line=2,col=5,endLine=2,endColumn=9,title=MP101::"
        "50%25 of%0D%0Aworkers: lost"
    )


def test_machine_formats_print_nothing_else(project):
    (project / "clean.py").write_text("import os\n")
    assert mpcheck("check", "--output-format", "github", "clean.py") == (0, "")
    assert json.loads(mpcheck("check", "--output-format", "json", "clean.py")[1])["diagnostics"] == []
