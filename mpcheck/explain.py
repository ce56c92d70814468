"""A rule's documentation, generated from the rule itself: `mpcheck explain CODE` prints
it and docs/rules/CODE.md is it, so the two cannot drift apart."""

from __future__ import annotations

import textwrap

from typing import TYPE_CHECKING

from .findings import describe_breakages

if TYPE_CHECKING:
    from .rules import Rule

# There is no docs website: each rule's page (docs/rules/CODE.md) is read in the repository,
# and SARIF's helpUri and the like point there.
REPOSITORY_URL = "https://github.com/mpcheck/mpcheck"
RULE_DOCS_URL = REPOSITORY_URL + "/blob/main/docs/rules/{code}.md"

_FIX_COMMAND = {"safe": "`mpcheck fix`", "unsafe": "`mpcheck fix --unsafe-fixes`"}


def fix_summary(rule: type[Rule]) -> str:
    """The fix column of the rules table (`mpcheck rules`, docs/rules/index.md, README)."""
    return rule.fix_availability().summary()


def _fix_sentence(rule: type[Rule]) -> str:
    """ruff's "Fix is always/sometimes available", from the same facts as `fix_summary`."""
    availability = rule.fix_availability()
    if availability.kind == "none":
        return "No automatic fix: the message and this page give the portable form."
    how_often = "always" if availability.always and len(availability.kinds) == 1 else "sometimes"
    sentences = [f"Fix is {how_often} available with {_FIX_COMMAND[availability.kind]} ({availability.kind})."]
    if availability.unsafe_alternative:
        sentences.append(f"{_FIX_COMMAND['unsafe']} offers an unsafe alternative.")
    if availability.unsafe_when:
        sentences.append(f"The fix is unsafe, and needs `--unsafe-fixes`, when {availability.unsafe_when}.")
    if availability.kind == "safe" and "unsafe" in availability.kinds:
        sentences.append("Some findings only get an unsafe fix.")
    if not availability.always:
        sentences.append("Some findings have no automatic fix.")
    return " ".join(sentences)


def _breakage_sentence(rule: type[Rule]) -> str:
    """Where the rule's hazard breaks programs, and how the settings use that."""
    return (f"{describe_breakages(rule.breaks_on)}. Each finding says where it breaks (a finding may "
            "say less, for code that runs only on some platforms or Python versions); findings that "
            "cannot break on the configured `platforms` from `target-version` on are not reported.")


def rule_docs_url(code: str) -> str:
    return RULE_DOCS_URL.format(code=code)


def _code_block(code: str) -> str:
    return f"```python\n{textwrap.dedent(code).strip()}\n```"


def render_rule(rule: type[Rule]) -> str:
    explanation = rule.explanation
    sections = [
        f"# {rule.code}: {rule.name}",
        rule.summary + ".",
        _fix_sentence(rule),
        "## What it does",
        explanation.what,
        "## Why is this bad?",
        explanation.why,
        "## Where it breaks",
        _breakage_sentence(rule),
        "## Example",
        _code_block(explanation.example),
        "## Use instead",
        _code_block(explanation.use_instead),
        "## Fix safety",
        explanation.fix_safety,
    ]
    before_after = next((example for example in rule.INVALID if example.fixed_source or example.unsafe_fixed_source), None)
    if before_after is not None:
        sections += ["## What `mpcheck fix` does", "Before:", _code_block(before_after.source)]
        if before_after.fixed_source:
            sections += ["After `mpcheck fix`:", _code_block(before_after.fixed_source)]
        if before_after.unsafe_fixed_source:
            sections += ["After `mpcheck fix --unsafe-fixes`:", _code_block(before_after.unsafe_fixed_source)]
    if explanation.options:
        sections += ["## Options", "\n".join(f"- {option}" for option in explanation.options)]
    if explanation.references:
        sections += ["## References", "\n".join(f"- {reference}" for reference in explanation.references)]
    return "\n\n".join(sections) + "\n"
