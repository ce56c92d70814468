"""Turning diagnostics into output: the formats of `--output-format`, and the statistics table.

Reporters only format; what is a finding, and its exit status, is decided before them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path, PurePath
from typing import Callable, Mapping, Sequence
from urllib.parse import quote

import click

from . import __version__
from .explain import REPOSITORY_URL, render_rule, rule_docs_url
from .findings import ERROR_CODES, INPUT_ERROR_CODE, INTERNAL_ERROR_CODE, INTERNAL_ERROR_NAME, Diagnostic, describe_breakages
from .source import source_lines


def format_text(diagnostics: Sequence[Diagnostic], color: bool, breaks_on: bool = True) -> list[str]:
    """The concise format: `path:line:col: CODE message (breaks on: ...)`, one line per
    finding (`breaks_on`: False leaves out where it breaks)."""
    lines = []
    for diagnostic in diagnostics:
        location = f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}:"
        code = diagnostic.code
        if color:
            location = click.style(location, bold=True)
            code = click.style(code, fg="red", bold=True)
        lines.append(f"{location} {code} {diagnostic.text if breaks_on else diagnostic.message}")
    return lines


def format_full(diagnostics: Sequence[Diagnostic], texts: Mapping[str, str], color: bool) -> list[str]:
    """ruff's full format: the concise line, then the source line with carets under the
    finding, where it breaks, and the fix it offers. `texts` maps a path to the text its findings are in."""
    lines = []
    for diagnostic, header in zip(diagnostics, format_text(diagnostics, color, breaks_on=False)):
        lines.append(header)
        text_lines = source_lines(texts.get(diagnostic.path, ""))
        if 0 < diagnostic.line <= len(text_lines):
            lines.extend(_source_excerpt(diagnostic, text_lines[diagnostic.line - 1].rstrip("\r\n"), color))
        if diagnostic.breaks_on:
            lines.append(f"  = breaks on: {describe_breakages(diagnostic.breaks_on)}")
        if diagnostic.fix is not None:
            lines.append(f"  = fix ({diagnostic.fix.applicability.value}): {diagnostic.fix.description}")
        lines.append("")
    return lines


def _source_excerpt(diagnostic: Diagnostic, source_line: str, color: bool) -> list[str]:
    number = str(diagnostic.line)
    gutter = " " * len(number)
    start = diagnostic.column - 1
    # A finding that ends on a later line is underlined to the end of its first line.
    end = diagnostic.end_column - 1 if diagnostic.end_line == diagnostic.line else len(source_line)
    # Tabs stay tabs under the source so that the carets line up however tabs are shown.
    indent = "".join(char if char == "\t" else " " for char in source_line[:start])
    carets = "^" * max(1, end - start)
    if color:
        carets = click.style(carets, fg="red", bold=True)
    return [
        f"{gutter} |",
        f"{number} | {source_line}",
        f"{gutter} | {indent}{carets} {diagnostic.code}",
        f"{gutter} |",
    ]


_INPUT_ERROR_NAME = "input-error"

# The JSON document's layout. Bump on any incompatible change (adding keys is compatible).
JSON_SCHEMA_VERSION = 1


def diagnostic_to_json(diagnostic: Diagnostic) -> dict:
    fix = None
    if diagnostic.fix is not None:
        edit = diagnostic.fix.edit
        assert edit is not None, "the checker was made without fix_edits"
        fix = {
            "applicability": diagnostic.fix.applicability.value,
            "description": diagnostic.fix.description,
            "edit": {
                "line": edit.line,
                "column": edit.column,
                "end_line": edit.end_line,
                "end_column": edit.end_column,
                "content": edit.content,
            },
        }
    return {
        "file": diagnostic.path,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "end_line": diagnostic.end_line,
        "end_column": diagnostic.end_column,
        "code": diagnostic.code,
        "name": diagnostic.name or _INPUT_ERROR_NAME,
        "message": diagnostic.message,
        "breaks_on": [breakage.to_json() for breakage in diagnostic.breaks_on],
        "fix": fix,
    }


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    """`--output-format json`: one document, stable for a given `schema_version`::

        {
          "schema_version": 1,
          "mpcheck_version": "0.1.0",
          "diagnostics": [
            {
              "file": "src/app.py",      # the path as given, or as found in a directory given
              "line": 1,                 # where the finding starts and ends: 1-based lines,
              "column": 37,              # columns counting characters from 1,
              "end_line": 1,             # the end exclusive
              "end_column": 48,
              "code": "MP101",           # MP000: the file could not be read or parsed;
                                         # MP999: mpcheck failed on it (a bug in mpcheck)
              "name": "fork-only-api",   # "input-error" for MP000, "internal-error" for MP999
              "message": "...",
              "breaks_on": [             # where it breaks, among the platforms and versions
                {"platform": "windows",  # the settings target ([] for MP000): "windows",
                 "since": null,          # "macos" or "linux", from Python `since` (a
                 "until": null,          # "3.N" string or null) up to, not including,
                 "text": "Windows"}      # `until`; `text` as the concise format prints it
              ],
              "fix": null                # or, when `mpcheck fix` with the same flags fixes it:
                # {"applicability": "safe" or "unsafe",   # unsafe: needs --unsafe-fixes
                #  "description": "...",
                #  "edit": {"line": 1, "column": 1, "end_line": 3, "end_column": 1,
                #           "content": "..."}}            # replaces [start, end) of the file
            }
          ]
        }

    Diagnostics are sorted by file, line, column and code. An edit's positions are in the
    file as it was checked (after `mpcheck fix`, the fixed file).
    """
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "mpcheck_version": __version__,
        "diagnostics": [diagnostic_to_json(d) for d in diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


_SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_INPUT_ERROR_DESCRIPTOR = {
    "id": INPUT_ERROR_CODE,
    "name": _INPUT_ERROR_NAME,
    "shortDescription": {"text": "The file could not be read or parsed, so it was not checked"},
    "fullDescription": {"text": "The file could not be read, decoded or parsed as Python source; none of its code was checked."},
    "help": {"text": "Correct what the message names (syntax, encoding, nesting) and check the file again."},
    "defaultConfiguration": {"level": "error"},
}
_INTERNAL_ERROR_DESCRIPTOR = {
    "id": INTERNAL_ERROR_CODE,
    "name": INTERNAL_ERROR_NAME,
    "shortDescription": {"text": "mpcheck failed on the file: a bug in mpcheck"},
    "fullDescription": {"text": "A rule, a fix or mpcheck's engine raised an error on the file; the file was not fully checked and was not fixed."},
    "help": {"text": "Report it with the file, as the message says; the other rules' findings in the file are still reported."},
    "defaultConfiguration": {"level": "error"},
}


def _sarif_rules() -> list[dict]:
    from .rules import ALL_RULES  # each rule's whole documentation: imports every rule

    descriptors = []
    for rule in ALL_RULES:
        page = render_rule(rule)
        descriptors.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.explanation.what},
            "help": {"text": page, "markdown": page},
            "helpUri": rule_docs_url(rule.code),
            "defaultConfiguration": {"level": "error"},
            "properties": {"fix": rule.fix_availability().kind},
        })
    return [*descriptors, _INPUT_ERROR_DESCRIPTOR, _INTERNAL_ERROR_DESCRIPTOR]


def _sarif_artifact(path: str) -> dict:
    """Relative paths stay relative to the directory mpcheck ran in (%SRCROOT%), which is
    how GitHub code scanning finds them in the repository."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(pure.as_posix()), "uriBaseId": "%SRCROOT%"}


def _sarif_region(line: int, column: int, end_line: int, end_column: int) -> dict:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _sarif_result(diagnostic: Diagnostic, rule_index: Mapping[str, int]) -> dict:
    artifact = _sarif_artifact(diagnostic.path)
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index[diagnostic.code],
        "level": "error",
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact,
            "region": _sarif_region(diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column),
        }}],
    }
    if diagnostic.breaks_on:
        result["properties"] = {
            "breaksOn": describe_breakages(diagnostic.breaks_on),
            "breaksOnPlatforms": [breakage.to_json() for breakage in diagnostic.breaks_on],
        }
    if diagnostic.fix is not None:
        edit = diagnostic.fix.edit
        assert edit is not None, "the checker was made without fix_edits"
        result["fixes"] = [{
            "description": {"text": diagnostic.fix.description},
            "artifactChanges": [{
                "artifactLocation": artifact,
                "replacements": [{
                    "deletedRegion": _sarif_region(edit.line, edit.column, edit.end_line, edit.end_column),
                    "insertedContent": {"text": edit.content},
                }],
            }],
            "properties": {"applicability": diagnostic.fix.applicability.value},
        }]
    return result


def format_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """SARIF 2.1.0 as GitHub code scanning reads it: one run, a descriptor for every rule
    (and for MP000 and MP999), a result per diagnostic with its region, the fix it offers
    and, in its property bag, where it breaks (`breaksOn`: the text; `breaksOnPlatforms`: as
    in json)."""
    rules = _sarif_rules()
    rule_index = {descriptor["id"]: index for index, descriptor in enumerate(rules)}
    document = {
        "$schema": _SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mpcheck",
                "version": __version__,
                "informationUri": REPOSITORY_URL,
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            # Columns count characters, not the UTF-16 code units SARIF assumes by default.
            "columnKind": "unicodeCodePoints",
            "results": [_sarif_result(d, rule_index) for d in diagnostics],
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _escape_github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_github_property(text: str) -> str:
    return _escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on its line."""
    lines = []
    for d in diagnostics:
        properties = {
            "file": d.path,
            "line": d.line,
            "col": d.column,
            "endLine": d.end_line,
            "endColumn": d.end_column,
            "title": d.code,
        }
        rendered = ",".join(f"{key}={_escape_github_property(str(value))}" for key, value in properties.items())
        lines.append(f"::error {rendered}::{_escape_github_data(d.text)}")
    return "\n".join(lines)


# Formats for tools, not people: the document alone, no summary line.
MACHINE_FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}


def format_statistics(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """ruff's table: count, code, [*] when fixable, the rule's name."""
    counts = Counter(d.code for d in diagnostics)
    fixable = {d.code for d in diagnostics if d.fixable}
    names = {d.code: d.name for d in diagnostics}
    width = max((len(str(n)) for n in counts.values()), default=1)
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        name = names[code] or _INPUT_ERROR_NAME
        marker = "[*]" if code in fixable else "   "
        lines.append(f"{count:>{width}}\t{code}\t{marker} {name}")
    return lines


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _unchecked_parts(diagnostics: Sequence[Diagnostic], unchecked: int, missing: int) -> list[str]:
    """What the summary says about what was not checked: files that could not be read or
    parsed (reported as MP000, or hidden because MP000 is ignored), files mpcheck failed on
    (MP999) and paths that do not exist."""
    errors = sum(1 for d in diagnostics if d.code == INPUT_ERROR_CODE)
    failed = len({d.path for d in diagnostics if d.code == INTERNAL_ERROR_CODE})
    parts = []
    if errors:
        parts.append(f"{_plural(errors, 'file')} could not be checked.")
    if failed:
        parts.append(f"mpcheck failed on {_plural(failed, 'file')} (MP999: please report it).")
    if unchecked:
        parts.append(f"{_plural(unchecked, 'file')} could not be checked ({INPUT_ERROR_CODE} is ignored).")
    if missing:
        parts.append(f"{_plural(missing, 'path')} {'does' if missing == 1 else 'do'} not exist.")
    return parts


def _hidden_fixes(diagnostics: Sequence[Diagnostic]) -> int:
    return sum(1 for d in diagnostics if d.hidden_unsafe_fix)


def summary_line(diagnostics: Sequence[Diagnostic], fix_hint: str | None, *, unchecked: int = 0,
                 missing: int = 0) -> str:
    """The last line of `mpcheck check`: the findings, how many `fix` would fix (and how many
    more with `--unsafe-fixes`), and what could not be checked. "All checks passed!" only when
    every given path was checked and nothing was found. `unchecked`: files that could not be
    checked whose MP000 is ignored; `missing`: given paths that do not exist."""
    findings = [d for d in diagnostics if d.code not in ERROR_CODES]
    parts = []
    if findings:
        fixable = sum(1 for d in findings if d.fixable)
        hidden = _hidden_fixes(findings)
        more = f", {hidden} more with `--unsafe-fixes`" if hidden else ""
        parts.append(f"Found {_plural(len(findings), 'finding')} ({fixable} fixable{more}).")
        if fixable and fix_hint:
            parts.append(fix_hint)
    parts += _unchecked_parts(diagnostics, unchecked, missing)
    return " ".join(parts) if parts else "All checks passed!"


def fix_summary_line(fixed: int, diagnostics: Sequence[Diagnostic], *, diff: bool, unchecked: int = 0,
                     missing: int = 0) -> str:
    """The last line of `mpcheck fix` (`diff`: of `mpcheck fix --diff`): how many findings the
    fixes resolved (or would), how many remain, how many more `--unsafe-fixes` would fix,
    and what could not be checked. `diagnostics`: what is left after fixing."""
    remaining = [d for d in diagnostics if d.code not in ERROR_CODES]
    hidden = _hidden_fixes(remaining)
    if diff:
        more = f" ({hidden} more with `--unsafe-fixes`)" if hidden else ""
        parts = [f"Would fix {_plural(fixed, 'finding')}{more}."]
    else:
        more = f"; {hidden} more fixable with `--unsafe-fixes`" if hidden else ""
        parts = [f"Fixed {_plural(fixed, 'finding')} ({len(remaining)} remaining{more})."]
        if len(remaining) > hidden and not any(d.fixable for d in remaining):
            parts.append("The rest have no automatic fix: `mpcheck explain CODE` shows the portable form.")
    return " ".join([*parts, *_unchecked_parts(diagnostics, unchecked, missing)])
