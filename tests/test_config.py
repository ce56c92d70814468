"""[tool.mpcheck]: loading, validation (a typo is an error, never silence), command-line
overrides, per-file-ignores, and select/ignore/extend-select precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpcheck.config import ConfigError, Settings, load_settings

from .support import FORK_IMPORT

KNOWN = ("MP101", "MP102", "MP201")


def settings_from(tmp_path: Path, table: str, **overrides) -> Settings:
    (tmp_path / "pyproject.toml").write_text("[tool.mpcheck]\n" + table)
    return load_settings(None, KNOWN, overrides, search_from=tmp_path)


@pytest.mark.parametrize(
    ("select", "ignore", "extend_select", "enabled"),
    [
        (("MP",), (), (), {"MP101", "MP102", "MP201"}),
        (("MP1",), (), (), {"MP101", "MP102"}),
        (("MP",), ("MP1",), (), {"MP201"}),
        (("MP",), ("MP1",), ("MP101",), {"MP101", "MP201"}),  # the more specific selector wins
        (("MP101",), ("MP1",), (), {"MP101"}),
        (("MP1",), ("MP1",), (), set()),  # a tie goes to ignore
        (("ALL",), ("MP2",), (), {"MP101", "MP102"}),
        (("MP2",), (), ("MP102",), {"MP102", "MP201"}),
    ],
)
def test_most_specific_selector_wins(select, ignore, extend_select, enabled):
    settings = Settings(select=select, ignore=ignore, extend_select=extend_select)
    assert {code for code in KNOWN if settings.is_enabled(code)} == enabled


def test_pyproject_table_is_read_from_the_nearest_parent(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mpcheck]\nignore = ["MP2"]\nplatforms = ["windows"]\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    (tmp_path / "src" / "pyproject.toml").write_text("[project]\nname = 'no-mpcheck-table'\n")
    settings = load_settings(None, KNOWN, search_from=nested)
    assert settings.ignore == ("MP2",) and settings.platforms == ("windows",)
    assert settings.root == tmp_path


def test_command_line_overrides_the_file(tmp_path):
    settings = settings_from(tmp_path, 'select = ["MP2"]\nignore = ["MP201"]\n', select=["MP1"])
    assert settings.select == ("MP1",) and settings.ignore == ("MP201",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('selct = ["MP1"]\n', "unknown option `selct` (did you mean `select`?)"),
        ('ignore = ["MP999"]\n', "unknown rule code `MP999` in `ignore`"),
        ('per-file-ignores = { "tests/*" = ["E501"] }\n', "unknown rule code `E501` in `per-file-ignores.tests/*`"),
        ('per-file-ignores = { "tests/*" = 3 }\n', "`per-file-ignores.tests/*` must be a list of rule codes"),
        ("select = [1]\n", "`select` must be a list of strings"),
        ('platforms = ["beos"]\n', "unknown platform `beos`"),
        ('respect-gitignore = "yes"\n', "`respect-gitignore` must be true or false"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, table, message):
    with pytest.raises(ConfigError, match=None) as raised:
        settings_from(tmp_path, table)
    assert message in str(raised.value)


@pytest.mark.parametrize("document", ["[tool]\nmpcheck = 1\n", '[tool]\nmpcheck = "MP1"\n'])
def test_a_mpcheck_entry_that_is_not_a_table_is_a_clear_error(tmp_path, document):
    (tmp_path / "pyproject.toml").write_text(document)
    with pytest.raises(ConfigError, match=r"\[tool.mpcheck\] must be a table of options"):
        load_settings(None, KNOWN, search_from=tmp_path)


def test_unknown_code_on_the_command_line_is_exit_2(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    run = cli("check", "--select", "MP9", "app.py")
    assert run.exit_code == 2
    assert "command line: unknown rule code `MP9` in `select`" in run.stderr


def test_unknown_key_in_pyproject_is_exit_2_through_the_command(installed, write, tmp_path):
    write("pyproject.toml", "[tool.mpcheck]\nextend_ignore = []\n")
    write("app.py", FORK_IMPORT)
    run = installed("check", "app.py")
    assert run.exit_code == 2
    assert "unknown option `extend_ignore`" in run.stderr
    assert "Traceback" not in run.stderr


def test_config_option_reads_the_given_file(cli, write, in_tmp):
    write("app.py", FORK_IMPORT)
    write("ci/mpcheck.toml", 'ignore = ["MP101"]\n')  # a dedicated file: top-level keys
    assert cli("check", "app.py").exit_code == 1
    assert cli("check", "--config", "ci/mpcheck.toml", "app.py").exit_code == 0
    assert cli("check", "--config", "ci/missing.toml", "app.py").exit_code == 2


def test_per_file_ignores_are_relative_to_the_config_directory(cli, write, in_tmp):
    write("pyproject.toml", '[tool.mpcheck]\nper-file-ignores = { "tools/*" = ["MP1"], "daemon.py" = ["MP101"] }\n')
    write("tools/bench.py", FORK_IMPORT)
    write("src/daemon.py", FORK_IMPORT)  # a bare name matches in any directory
    write("src/app.py", FORK_IMPORT)
    run = cli("check", ".")
    assert [line.split(":")[0] for line in run.stdout.splitlines()[:-1]] == ["src/app.py"]


def test_platforms_without_windows_turn_mp101_off(cli, write, in_tmp):
    write("pyproject.toml", '[tool.mpcheck]\nplatforms = ["linux", "macos"]\n')
    write("app.py", FORK_IMPORT)
    assert cli("check", "app.py").exit_code == 0


def test_exclude_from_the_file_and_the_command_line(cli, write, in_tmp):
    write("pyproject.toml", '[tool.mpcheck]\nextend-exclude = ["legacy"]\n')
    write("legacy/old.py", FORK_IMPORT)
    write("new.py", FORK_IMPORT)
    assert cli("check", ".").stdout.startswith("new.py:1:37")
    write("clean.py", "import multiprocessing\n")
    assert cli("check", "--extend-exclude", "new.py", ".").stdout == "All checks passed!\n"


def test_extend_flags_add_to_the_file_and_other_flags_replace_it(tmp_path):
    settings = settings_from(
        tmp_path, 'select = ["MP2"]\nextend-select = ["MP101"]\nextend-exclude = ["legacy"]\n',
        select=["MP102"], **{"extend-select": ["MP201"], "extend-exclude": ["gen"]},
    )
    assert settings.select == ("MP102",)
    assert settings.extend_select == ("MP101", "MP201")
    assert settings.extend_exclude == ("legacy", "gen")


def test_config_is_found_from_the_checked_paths_not_only_the_current_directory(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.mpcheck]\nignore = ["MP101"]\n')
    (project / "src" / "jobs.py").write_text("import os\n\ndef detach():\n    return os.fork()\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from click.testing import CliRunner

    from mpcheck.cli import main

    result = CliRunner().invoke(main, ["check", str(project / "src")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["check", str(project / "src" / "jobs.py")])
    assert result.exit_code == 0, result.output


def test_a_pyproject_whose_tool_key_is_not_a_table_is_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_text("tool = 1\n")
    settings = load_settings(None, search_from=tmp_path)
    assert settings.is_enabled("MP101")


def test_load_settings_knows_the_rule_codes_by_itself(tmp_path):
    with pytest.raises(ConfigError, match="unknown rule code `MP999`"):
        load_settings(None, overrides={"select": ["MP999"]}, search_from=tmp_path)
