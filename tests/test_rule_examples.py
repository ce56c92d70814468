"""Every rule's own VALID and INVALID examples, collected from the registry: adding a rule
adds its tests (Fixit's idea; pyupgrade's before/after pairs)."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck.rules import ALL_RULES

VALID = [pytest.param(rule, example, id=f"{rule.code}-valid-{i}") for rule in ALL_RULES for i, example in enumerate(rule.VALID)]
INVALID = [pytest.param(rule, example, id=f"{rule.code}-invalid-{i}") for rule in ALL_RULES for i, example in enumerate(rule.INVALID)]


def _only(rule):
    # Each rule's examples show that rule's fix alone; other rules may flag them too.
    return mpcheck.Settings(select=(rule.code,))


def _findings(rule, source, path):
    return [d for d in mpcheck.check_source(source, path) if d.code == rule.code]


def test_every_rule_has_examples_of_both_kinds():
    for rule in ALL_RULES:
        assert rule.VALID and rule.INVALID, rule.code


@pytest.mark.parametrize(("rule", "example"), VALID)
def test_valid_example_is_not_flagged(rule, example):
    assert _findings(rule, example.source, example.path) == []


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_invalid_example_is_flagged_where_expected(rule, example):
    findings = _findings(rule, example.source, example.path)
    assert len(findings) == example.count, findings
    first = findings[0]
    if example.line is not None:
        assert first.line == example.line
    if example.column is not None:
        assert first.column == example.column
    if example.message is not None:
        assert example.message in first.message


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_safe_fix_gives_the_expected_source(rule, example):
    expected = example.fixed_source if example.fixed_source is not None else example.source
    result = mpcheck.fix_source(example.source, example.path, settings=_only(rule))
    assert result.text == expected
    # A second run changes nothing, and the fixed code no longer has a fixable finding.
    assert mpcheck.fix_source(result.text, example.path, settings=_only(rule)).text == result.text


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_unsafe_fix_gives_the_expected_source(rule, example):
    expected = example.unsafe_fixed_source or example.fixed_source or example.source
    result = mpcheck.fix_source(example.source, example.path, settings=_only(rule), unsafe_fixes=True)
    assert result.text == expected
    assert mpcheck.fix_source(result.text, example.path, settings=_only(rule), unsafe_fixes=True).text == result.text


@pytest.mark.parametrize(("rule", "example"), INVALID)
def test_fixed_code_is_not_flagged_by_the_rule_when_a_fix_exists(rule, example):
    if example.fixed_source is None:
        pytest.skip("no safe fix for this example")
    remaining = [d for d in _findings(rule, example.fixed_source, example.path) if d.fixable]
    assert remaining == []
