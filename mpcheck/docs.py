"""docs/rules, generated from the registered rules: one page per rule (the text
`mpcheck explain CODE` prints) and an index table. Nothing in docs/rules is written by hand,
so a new rule needs no docs work and a changed rule cannot leave a stale page behind.

    python -m mpcheck.docs            # (re)write docs/rules
    python -m mpcheck.docs --check    # exit 1 and name the stale pages, write nothing
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Sequence

from .explain import fix_summary, render_rule
from .rules import ALL_RULES

DEFAULT_DIRECTORY = Path("docs") / "rules"
REGENERATE_COMMAND = "python -m mpcheck.docs"
_RULE_PAGE = re.compile(r"[A-Z]+[0-9]+\.md")


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_index() -> str:
    rows = [
        f"| [{rule.code}]({rule.code}.md) | {rule.name} | {fix_summary(rule)} | {_table_cell(rule.summary)} |"
        for rule in sorted(ALL_RULES, key=lambda rule: rule.code)
    ]
    return "\n".join([
        "# Rules",
        "",
        f"<!-- Generated from the rules' own metadata by `{REGENERATE_COMMAND}`; do not edit. -->",
        "",
        "Every page is also printed by `mpcheck explain CODE`; `mpcheck rules` prints this table.",
        "",
        "| code | name | fix | flags |",
        "|---|---|---|---|",
        *rows,
        "",
    ])


def expected_pages() -> dict[str, str]:
    """File name in docs/rules -> its generated text."""
    pages = {f"{rule.code}.md": render_rule(rule) for rule in ALL_RULES}
    pages["index.md"] = render_index()
    return pages


def stale_pages(directory: Path) -> list[str]:
    """Pages that differ from the generated text, are missing, or belong to no rule."""
    expected = expected_pages()
    present = {path.name for path in directory.glob("*.md")} if directory.is_dir() else set()
    stale = [
        name for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    stale += [name for name in present - expected.keys() if _RULE_PAGE.fullmatch(name)]
    return sorted(stale)


def write_pages(directory: Path) -> list[str]:
    """Bring `directory` up to date; return what was done, one line per page."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_pages()
    done = []
    for name in stale_pages(directory):
        page = directory / name
        if name in expected:
            # newline="\n": the pages are compared byte for byte on every platform.
            page.write_text(expected[name], encoding="utf-8", newline="\n")
            done.append(f"wrote {page}")
        else:
            page.unlink()
            done.append(f"removed {page} (no such rule)")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mpcheck.docs", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIRECTORY,
                        help=f"where the rule pages live (default: {DEFAULT_DIRECTORY})")
    parser.add_argument("--check", action="store_true", help="report stale pages and exit 1; write nothing")
    arguments = parser.parse_args(argv)
    if arguments.check:
        stale = stale_pages(arguments.directory)
        for name in stale:
            print(f"{arguments.directory / name}: out of date; run `{REGENERATE_COMMAND}`", file=sys.stderr)
        return 1 if stale else 0
    for line in write_pages(arguments.directory):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
