"""Turning diagnostics into output: text, json, and the statistics table.

Reporters only format; what is a finding, and its exit status, is decided before them.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Sequence

import click

from .findings import INPUT_ERROR_CODE, Diagnostic
from .rules import RULES_BY_CODE

# The JSON document's layout. Bump on any incompatible change; documented in docs/.
JSON_SCHEMA_VERSION = 1


def format_text(diagnostics: Sequence[Diagnostic], color: bool) -> list[str]:
    lines = []
    for diagnostic in diagnostics:
        location = f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}:"
        code = diagnostic.code
        if color:
            location = click.style(location, bold=True)
            code = click.style(code, fg="red", bold=True)
        lines.append(f"{location} {code} {diagnostic.message}")
    return lines


def diagnostic_to_json(diagnostic: Diagnostic) -> dict:
    fix = None
    if diagnostic.fix is not None:
        edit = diagnostic.fix.edit
        fix = {
            "applicability": diagnostic.fix.applicability.value,
            "message": diagnostic.fix.description,
            "edits": [
                {
                    "content": edit.content,
                    "location": {"row": edit.line, "column": edit.column},
                    "end_location": {"row": edit.end_line, "column": edit.end_column},
                }
            ],
        }
    return {
        "filename": diagnostic.path,
        "code": diagnostic.code,
        "name": diagnostic.name,
        "message": diagnostic.message,
        "location": {"row": diagnostic.line, "column": diagnostic.column},
        "end_location": {"row": diagnostic.end_line or diagnostic.line, "column": diagnostic.end_column or diagnostic.column},
        "fix": fix,
    }


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([diagnostic_to_json(d) for d in diagnostics], indent=2, ensure_ascii=False)


def format_statistics(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """ruff's table: count, code, [*] when fixable, the rule's name."""
    counts = Counter(d.code for d in diagnostics)
    fixable = {d.code for d in diagnostics if d.fixable}
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule else "input-error"
        marker = "[*]" if code in fixable else "   "
        lines.append(f"{count:>{width}}\t{code}\t{marker} {name}")
    return lines


def summary_line(diagnostics: Sequence[Diagnostic], fix_hint: str | None) -> str:
    findings = [d for d in diagnostics if d.code != INPUT_ERROR_CODE]
    errors = len(diagnostics) - len(findings)
    if not diagnostics:
        return "All checks passed!"
    parts = []
    if findings:
        fixable = sum(1 for d in findings if d.fixable)
        noun = "finding" if len(findings) == 1 else "findings"
        parts.append(f"Found {len(findings)} {noun} ({fixable} fixable).")
        if fixable and fix_hint:
            parts.append(fix_hint)
    if errors:
        parts.append(f"{errors} {'file' if errors == 1 else 'files'} could not be checked.")
    return " ".join(parts)
