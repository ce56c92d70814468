"""The prefilter never hides a finding: every rule's INVALID examples pass its test, and every
fixture tree gives the same findings with the prefilter as with every rule run on every file.
Rules and fixtures are read from the registry and the fixtures directory, so those added later
are covered without touching this file. Also: the name-based pass over the project (reach.py)
on its own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mpcheck.engine import Checker
from mpcheck.prefilter import Prefilter, Verdict
from mpcheck.project import ProjectIndex
from mpcheck.rules import ALL_RULES

from .support import FIXTURES

_EXAMPLES = [(rule, example) for rule in ALL_RULES for example in rule.INVALID]


@pytest.mark.parametrize(("rule", "example"), _EXAMPLES,
                         ids=[f"{rule.code}-{i}" for i, (rule, _) in enumerate(_EXAMPLES)])
def test_every_invalid_example_passes_its_rules_test(rule, example) -> None:
    verdict = Prefilter(ALL_RULES).verdict(example.source, example.path, [r.code for r in ALL_RULES], None)
    assert rule.code in verdict.codes


def _trees() -> list[Path]:
    """Every directory of fixtures/ that is checked as one tree: a fixture's before/ and
    after/, and the top-level example applications."""
    trees = [path.parent for path in FIXTURES.glob("*/*/fixture.toml") for path in
             (path.parent / "before" / "x", path.parent / "after" / "x") if path.parent.is_dir()]
    trees += [path for path in FIXTURES.iterdir() if path.is_dir() and not list(path.glob("*/fixture.toml"))]
    return sorted(tree for tree in trees if any(tree.rglob("*.py")))


class _Everything(Prefilter):
    def verdict(self, text, path, codes, project) -> Verdict:
        return Verdict(frozenset(codes))


@pytest.mark.parametrize("tree", _trees(), ids=lambda tree: str(tree.relative_to(FIXTURES)))
def test_every_fixture_gives_the_same_findings_with_and_without_the_prefilter(tree: Path) -> None:
    files = sorted(tree.rglob("*.py"))
    filtered, unfiltered = Checker(fix_edits=False), Checker(fix_edits=False)
    unfiltered.prefilter = _Everything(())
    found = [d for path in files for d in filtered.check_file(path).diagnostics]
    expected = [d for path in files for d in unfiltered.check_file(path).diagnostics]
    assert found == expected


def _project(root: Path, files: dict[str, str]) -> ProjectIndex:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return ProjectIndex(root, sorted(root.rglob("*.py")))


_WORDS = ("multiprocess",)


def test_a_name_reaches_through_aliases_reexports_and_the_names_it_uses(tmp_path: Path) -> None:
    index = _project(tmp_path, {
        "shop/__init__.py": "from .jobs import run_all as everything\n",
        "shop/jobs.py": """
            import multiprocessing as mp

            LIMIT = 4

            def _pool():
                return mp.Pool(LIMIT)

            def run_all(items):
                with _pool() as pool:
                    return pool.map(abs, items)

            def describe():
                return f"at most {LIMIT}"
        """,
        "plain.py": "import shop.jobs\n\nshop.jobs.describe()\n",
        "dotted.py": "import shop.jobs\n\nshop.jobs.run_all([1])\n",
        "package.py": "from shop import everything\n\neverything([1])\n",
        "aliased.py": "from shop import jobs as j\n\nj . run_all([1])\n",
    })
    jobs = index.module_at(tmp_path / "shop/jobs.py")
    assert [name for name in ("mp", "LIMIT", "_pool", "run_all", "describe") if index.reaches(jobs, name, _WORDS)] \
        == ["mp", "_pool", "run_all"]
    uses = {name: index.uses_names_reaching(tmp_path / name, (tmp_path / name).read_text(), _WORDS)
            for name in ("plain.py", "dotted.py", "package.py", "aliased.py")}
    assert {name: found for name, (found, _) in uses.items()} == \
        {"plain.py": False, "dotted.py": True, "package.py": True, "aliased.py": True}
    # What each answer read: the file, the modules it imports, and theirs.
    assert uses["package.py"][1] == {tmp_path / "package.py", tmp_path / "shop/__init__.py", tmp_path / "shop/jobs.py"}


def test_import_cycles_and_unparsable_modules_still_over_approximate(tmp_path: Path) -> None:
    index = _project(tmp_path, {
        "a.py": "import b\n\ndef start():\n    return b.helper()\n",
        "b.py": "import a\nimport c\n\ndef helper():\n    return c.anything\n",
        # CPython cannot parse this: the whole module counts as one statement binding every name.
        "c.py": "from multiprocessing import Pool\ndef broken(:\n    pass\nanything = 1\n",
        "main.py": "from a import start\nstart()\n",
    })
    found, read = index.uses_names_reaching(tmp_path / "main.py", "from a import start\nstart()\n", _WORDS)
    assert found
    assert read == {tmp_path / name for name in ("a.py", "b.py", "c.py", "main.py")}
