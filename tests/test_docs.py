"""docs/ stays true to the code: the rule pages are what the rules generate (and what
`mpcheck explain` prints), and the guide's configuration, links and flags are real."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mpcheck import docs
from mpcheck.cli import main
from mpcheck.config import _KNOWN_KEYS, load_settings
from mpcheck.rules import ALL_RULES, RULES_BY_CODE

REPOSITORY = Path(__file__).resolve().parents[1]
RULE_PAGES = REPOSITORY / "docs" / "rules"
HAND_WRITTEN = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]
GUIDE = REPOSITORY / "docs" / "guide.md"


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_rule_pages_are_up_to_date():
    stale = docs.stale_pages(RULE_PAGES)
    assert not stale, f"docs/rules is out of date ({', '.join(stale)}): run `{docs.REGENERATE_COMMAND}` and commit docs/rules"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_explain_prints_the_rule_page(rule):
    result = CliRunner().invoke(main, ["explain", rule.code.lower()])
    assert result.exit_code == 0, result.output
    assert result.output == (RULE_PAGES / f"{rule.code}.md").read_text(encoding="utf-8")


def test_index_lists_every_rule_with_a_link():
    index = (RULE_PAGES / "index.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert f"| [{rule.code}]({rule.code}.md) | {rule.name} |" in index


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_options_a_rule_documents_are_configuration_keys(rule):
    for option in rule.explanation.options:
        key = re.match(r"`([a-z-]+)`: ", option)
        assert key and key.group(1) in _KNOWN_KEYS, option


def test_stale_pages_are_found_and_rewritten(tmp_path, capsys):
    pages = tmp_path / "rules"
    readme = tmp_path / "README.md"
    readme.write_text((REPOSITORY / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert docs.main([str(pages), "--readme", str(readme), "--check"]) == 1  # nothing generated yet
    assert docs.main([str(pages), "--readme", str(readme)]) == 0
    assert docs.main([str(pages), "--readme", str(readme), "--check"]) == 0

    some_rule = ALL_RULES[0].code
    (pages / f"{some_rule}.md").write_text("hand-edited\n", encoding="utf-8")
    (pages / "MP999.md").write_text("# a rule that no longer exists\n", encoding="utf-8")
    (pages / "notes.txt").write_text("not a rule page\n", encoding="utf-8")
    assert docs.stale_pages(pages) == [f"{some_rule}.md", "MP999.md"]
    capsys.readouterr()
    assert docs.main([str(pages), "--readme", str(readme), "--check"]) == 1
    assert docs.REGENERATE_COMMAND in capsys.readouterr().err

    assert docs.main([str(pages), "--readme", str(readme)]) == 0
    assert docs.stale_pages(pages) == []
    assert not (pages / "MP999.md").exists() and (pages / "notes.txt").exists()


@pytest.mark.parametrize("block", _code_blocks(GUIDE.read_text(encoding="utf-8"), "toml"))
def test_guide_configuration_is_accepted(tmp_path, block):
    config = tmp_path / "pyproject.toml"
    config.write_text(block, encoding="utf-8")
    settings = load_settings(config, RULES_BY_CODE)
    assert settings.root == tmp_path


def test_guide_uses_only_real_mpcheck_flags():
    known = {name: {option for parameter in command.params if isinstance(parameter, click.Option)
                    for option in parameter.opts} | {"--help"} for name, command in main.commands.items()}
    known["check"] |= {"--version"}
    # Each `mpcheck [COMMAND] ...` up to the end of the shell command; for `mpcheck run`, up
    # to the `--` that starts the command it runs.
    invocations = [match.groups() for block in _code_blocks(GUIDE.read_text(encoding="utf-8"), "(?:sh|console|yaml)")
                   for match in re.finditer(r"\bmpcheck(?: (check|fix|run|rules|explain)\b)?((?:(?! -- )[^|&>\n])*)", block)]
    assert {command for command, _ in invocations} >= {None, "check", "fix", "run"}
    unknown = {(command or "check", flag) for command, rest in invocations
               for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest) if flag not in known[command or "check"]}
    assert not unknown


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("document", HAND_WRITTEN, ids=lambda path: path.name)
def test_relative_links_resolve(document):
    text = document.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
        if "://" in target:
            continue
        linked = (document.parent / target) if target else document
        assert linked.exists(), f"{document.name} links to missing {target}"
        if anchor:
            assert anchor in _anchors(linked.read_text(encoding="utf-8")), f"{document.name} links to missing {target}#{anchor}"


def _yaml_blocks() -> list[dict]:
    yaml = pytest.importorskip("yaml")
    return [yaml.safe_load(block) for block in _code_blocks(GUIDE.read_text(encoding="utf-8"), "yaml")]


def test_guide_pre_commit_recipe_is_a_valid_config_for_the_real_hooks(tmp_path):
    from pre_commit.clientlib import load_config, load_manifest

    recipes = [block for block in _yaml_blocks() if "repos" in block]
    assert len(recipes) == 1
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(json.dumps(recipes[0]), encoding="utf-8")  # JSON is YAML
    load_config(str(config))  # pre-commit's own schema check; raises on a bad config
    manifest = REPOSITORY / ".pre-commit-hooks.yaml"
    if not manifest.exists():
        pytest.skip("no .pre-commit-hooks.yaml in this checkout to compare the hook ids with")
    offered = {hook["id"] for hook in load_manifest(str(manifest))}
    used = {hook["id"] for repo in recipes[0]["repos"] for hook in repo["hooks"]}
    assert used <= offered


def _workflows_with_job(job: str) -> list[dict]:
    return [block for block in _yaml_blocks() if isinstance(block, dict) and job in block.get("jobs", {})]


def test_guide_github_workflow_uploads_the_sarif_it_writes():
    workflows = _workflows_with_job("mpcheck")
    assert len(workflows) == 1
    steps = workflows[0]["jobs"]["mpcheck"]["steps"]
    run = next(step["run"] for step in steps if "--output-format sarif" in step.get("run", ""))
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert run.endswith(f"> {upload['with']['sarif_file']}")
    assert workflows[0]["jobs"]["mpcheck"]["permissions"]["security-events"] == "write"


def test_guide_start_method_matrix_covers_every_method_and_no_fork():
    from mpcheck.runtime.startmethod import START_METHODS

    (workflow,) = _workflows_with_job("tests")
    cells = workflow["jobs"]["tests"]["strategy"]["matrix"]["start-method"]
    assert {cell.partition("=")[2] for cell in cells if cell.startswith("--mp-start-method=")} == set(START_METHODS)
    assert "--mp-no-fork" in cells
    assert workflow["jobs"]["tests"]["steps"][-1]["run"] == "python -m pytest ${{ matrix.start-method }}"


def test_the_fact_base_ships_with_the_package_and_prints_by_section(cli):
    # Rule pages, `explain` and SARIF cite "mpcheck facts N": it must work from a wheel.
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"mpcheck" = ["facts.md"]' in pyproject
    run = cli("facts", "3")
    assert run.exit_code == 0 and run.stdout.startswith("## 3. Missing")
    assert "bootstrapping phase" in run.stdout and "## 4." not in run.stdout
    assert cli("facts", "99").exit_code == 2
