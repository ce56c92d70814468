"""A bug in mpcheck (a rule, a fix or the engine raising on one file) is reported as MP999
for that file and that rule: the other rules' findings in the file and every other file
are still reported, the exit status is 2, and `fix` writes nothing to that file.

The bugs here are made on purpose by a rule registered only in these tests, so that they
hold for every rule the registry will ever have."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import libcst as cst
import pytest

import mpcheck.engine as engine
from mpcheck.findings import Applicability, Fix, Violation
from mpcheck.fixes import Replace
import mpcheck.model
import mpcheck.parsing
from mpcheck.rules import RULES, Explanation, Rule, RuleSpec

from .support import FORK_IMPORT

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

# A worker module the broken rule trips over (it names `ledger`), with a fixable MP101.
TRIPS = '''\
import multiprocessing

from multiprocessing.context import ForkProcess

LEDGER = {}


def record(ledger, key):
    ledger[key] = len(ledger)


def start(key):
    worker = ForkProcess(target=record, args=(LEDGER, key))
    worker.start()
    return worker
'''

# A module the broken rule passes over, with the same fixable MP101.
PASSES = '''\
import multiprocessing

from multiprocessing.context import ForkProcess


def start(task):
    worker = ForkProcess(target=task)
    worker.start()
    return worker
'''


class BrokenOnPurpose(Rule):
    """Raises on a file that names `ledger`; `mode` says where (set by each test)."""

    code = "MP990"
    name = "broken-on-purpose"
    summary = "A rule with a bug, for the tests of MP999"
    triggers = ("multiprocessing",)
    explanation = Explanation("-", "-", "-", "-", "-")
    mode = "check"

    def check(self, context):
        module = context.model.module
        if "ledger" not in module.code:
            return []
        if self.mode == "check":
            return [int(module.code)]  # ValueError, quoting the whole file: a message of many lines
        if self.mode == "fixed-text" and "ForkOrSpawnProcess" in module.code:
            raise KeyError("ForkOrSpawnProcess")
        if self.mode == "fix":
            # Two edits of one node: apply_fixes refuses such a fix (ValueError).
            target = module.body[0]
            edits = (Replace(target, cst.parse_statement("pass\n")), Replace(target, cst.parse_statement("pass\n")))
            return [Violation(target, "broken fix", (Fix(Applicability.SAFE, "replace twice", edits),))]
        return []


@pytest.fixture
def broken_rule(monkeypatch):
    """Register the broken rule next to every real one, for checkers made from now on."""
    spec = RuleSpec("MP990", f"{__name__}:BrokenOnPurpose", BrokenOnPurpose.triggers)
    monkeypatch.setattr(engine, "RULES", (*RULES, spec))

    def set_mode(mode: str) -> type[Rule]:
        monkeypatch.setattr(BrokenOnPurpose, "mode", mode)
        return BrokenOnPurpose

    return set_mode


def test_a_rule_that_raises_is_reported_for_that_file_and_rule_and_the_run_goes_on(broken_rule, cli, write, in_tmp):
    broken_rule("check")
    write("ledger.py", TRIPS)
    write("tasks.py", PASSES)
    run = cli("check", ".")
    assert run.exit_code == 2
    lines = run.stdout.splitlines()
    mp999 = [line for line in lines if " MP999 " in line]
    assert len(mp999) == 1
    assert mp999[0].startswith(
        "ledger.py:1:1: MP999 internal error in rule MP990: ValueError: invalid literal for int() with base 10: "
        "'import multiprocessing\\n\\nfrom multiprocessing.context import ForkProcess\\n\\nLEDGER = {}")
    assert "... (at mpcheck/engine.py:" in mp999[0]  # a long message is cut short, its place kept
    assert "This is a bug in mpcheck 0.1.0, not in your code: please report it at " in mp999[0]
    assert mp999[0].endswith("/issues with this file")
    # The other rules still ran on that file, and every rule on the other one.
    assert any(line.startswith("ledger.py:3:37: MP101 ") for line in lines)
    assert any(line.startswith("tasks.py:3:37: MP101 ") for line in lines)
    assert "mpcheck failed on 1 file (MP999: please report it)." in lines[-1]


def test_fix_writes_nothing_to_a_file_a_rule_failed_on(broken_rule, cli, write, in_tmp):
    broken_rule("check")
    trips = write("ledger.py", TRIPS)
    passes = write("tasks.py", PASSES)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert trips.read_text() == TRIPS  # its MP101 has a safe fix, but the file was not fully checked
    assert "ForkOrSpawnProcess" in passes.read_text()
    assert "ledger.py:1:1: MP999 internal error in rule MP990" in run.stdout
    assert "ledger.py:3:37: MP101" in run.stdout  # still there, not fixed


def test_a_rule_failing_on_what_the_fixes_made_leaves_the_file_unchanged(broken_rule, cli, write, in_tmp):
    broken_rule("fixed-text")
    trips = write("ledger.py", TRIPS)
    assert cli("check", "ledger.py").exit_code == 1  # the file as it is checks fine
    run = cli("fix", "ledger.py")
    assert run.exit_code == 2
    assert trips.read_text() == TRIPS
    assert ("ledger.py:1:1: MP999 internal error in rule MP990 (checking the code the fixes of MP101 produced): "
            "KeyError: 'ForkOrSpawnProcess'") in run.stdout
    assert "ledger.py:3:37: MP101" in run.stdout  # the findings in the file as it is


def test_a_fix_that_cannot_be_applied_is_an_internal_error_of_its_rule(broken_rule, cli, write, in_tmp):
    broken_rule("fix")
    trips = write("ledger.py", TRIPS)
    # JSON and SARIF give each fix's edit, so check builds it: it fails there.
    document = json.loads(cli("check", "--output-format", "json", "ledger.py").stdout)
    (error,) = [d for d in document["diagnostics"] if d["code"] == "MP999"]
    assert error["message"].startswith(
        "internal error in rule MP990: ValueError: fix 'replace twice' edits the same node twice")
    run = cli("fix", "ledger.py")
    assert run.exit_code == 2
    assert trips.read_text() == TRIPS


def test_fixes_that_break_the_code_are_an_internal_error_and_nothing_is_written(cli, write, in_tmp, monkeypatch):
    real_parse = mpcheck.parsing.parse_module

    def parse_rejecting_fixed_code(text, accepted=False):
        if "ForkOrSpawnProcess" in text:
            return real_parse(text + "def broken(:\n")
        return real_parse(text, accepted)

    monkeypatch.setattr(mpcheck.parsing, "parse_module", parse_rejecting_fixed_code)
    path = write("tasks.py", PASSES)
    run = cli("fix", "tasks.py")
    assert run.exit_code == 2
    assert ("tasks.py:1:1: MP999 internal error in the fixes of MP101: they produced code that does not check "
            "(syntax error: ") in run.stdout
    assert "tasks.py:3:37: MP101" in run.stdout
    assert path.read_text() == PASSES


def test_a_failure_outside_the_rules_loses_only_that_file(cli, write, in_tmp, monkeypatch):
    real_model = mpcheck.model.SemanticModel

    def model(module, path, *args):
        if "ledger" in module.code:
            raise AttributeError("'NoneType' object has no attribute 'scope'")
        return real_model(module, path, *args)

    monkeypatch.setattr(mpcheck.model, "SemanticModel", model)
    trips = write("ledger.py", TRIPS)
    passes = write("tasks.py", PASSES)
    run = cli("fix", ".")
    assert run.exit_code == 2
    assert ("ledger.py:1:1: MP999 internal error in mpcheck: AttributeError: 'NoneType' object has no attribute "
            "'scope' (at mpcheck/engine.py:") in run.stdout
    assert trips.read_text() == TRIPS
    assert "ForkOrSpawnProcess" in passes.read_text()


def test_internal_errors_cannot_be_ignored_or_suppressed(broken_rule, cli, write, in_tmp):
    broken_rule("check")
    write("ledger.py", "# noqa\n" + TRIPS)
    run = cli("check", "--exit-zero", "--ignore", "MP000", "ledger.py")
    assert run.exit_code == 2
    assert "MP999 internal error in rule MP990" in run.stdout
    assert cli("check", "--ignore", "MP999", "ledger.py").exit_code == 2  # not a rule code: a usage error
    assert "unknown rule code" in cli("check", "--ignore", "MP999", "ledger.py").stderr


def test_machine_formats_carry_internal_errors(broken_rule, cli, write, in_tmp):
    broken_rule("check")
    write("ledger.py", TRIPS)
    document = json.loads(cli("check", "--output-format", "json", "ledger.py").stdout)
    (error,) = [d for d in document["diagnostics"] if d["code"] == "MP999"]
    assert (error["name"], error["line"], error["fix"]) == ("internal-error", 1, None)
    sarif = json.loads(cli("check", "--output-format", "sarif", "ledger.py").stdout)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    run = sarif["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "MP999"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["name"] == "internal-error"
    statistics = cli("check", "--statistics", "ledger.py").stdout
    assert "1\tMP999\t    internal-error" in statistics


def test_the_library_api_and_flake8_plugin_report_it_too(broken_rule, monkeypatch):
    import mpcheck
    from mpcheck import flake8_plugin

    broken_rule("check")
    codes = [d.code for d in mpcheck.check_source(TRIPS, "ledger.py")]
    assert codes == ["MP999", "MP101"]
    assert mpcheck.fix_source(TRIPS, "ledger.py").text == TRIPS
    monkeypatch.setattr(flake8_plugin, "_checker_for", lambda directory: engine.Checker())
    reported = list(flake8_plugin.MpcheckPlugin(None, "ledger.py", TRIPS.splitlines(keepends=True)).run())
    assert [message.split()[0] for _, _, message, _ in reported] == ["MP999", "MP101"]


def test_a_checker_stays_usable_after_an_internal_error(broken_rule):
    broken_rule("check")
    checker = engine.Checker()
    assert [d.code for d in checker.check_text(TRIPS, "ledger.py")] == ["MP999", "MP101"]
    assert [d.code for d in checker.check_text(PASSES, "tasks.py")] == ["MP101"]
    assert [d.code for d in checker.check_text(FORK_IMPORT, "one.py")] == ["MP101"]


def test_a_prefilter_that_raises_loses_only_that_file(cli, write, in_tmp, monkeypatch):
    """The prefilter runs in the main process, before any worker: what it raises on one
    file becomes that file's MP999, in check and in fix."""
    from mpcheck.prefilter import Prefilter

    real_verdict = Prefilter.verdict

    def verdict(self, text, path, *args):
        if "LEDGER" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_verdict(self, text, path, *args)

    monkeypatch.setattr(Prefilter, "verdict", verdict)
    trips = write("ledger.py", TRIPS)
    passes = write("tasks.py", PASSES)
    for command in ("check", "fix"):
        run = cli(command, ".")
        assert run.exit_code == 2
        assert ("ledger.py:1:1: MP999 internal error in mpcheck: RecursionError: maximum recursion depth "
                "exceeded (at ") in run.stdout
    assert trips.read_text() == TRIPS
    assert "ForkOrSpawnProcess" in passes.read_text()
