"""Which files a directory walk checks: excludes, VCS data, virtual environments, caches,
build output, .gitignore (nested and from the repository root above), stdin, duplicates."""

from __future__ import annotations

from mpcheck.config import Settings
from mpcheck.discovery import DiscoveredFile, DiscoveryError, discover

from .support import FORK_IMPORT


def found(paths, **settings) -> list[str]:
    results = list(discover(paths, Settings(**settings)))
    return [r.display if isinstance(r, DiscoveredFile) else f"error:{r.display}" for r in results]


def test_skips_vcs_caches_build_output_and_virtual_environments(write, in_tmp):
    for relative in (
        "app/main.py", ".git/hooks/post.py", "app/__pycache__/main.py", "build/lib/app/main.py",
        "dist/x.py", ".tox/py311/x.py", "node_modules/pkg/x.py", "env311/lib/x.py",
    ):
        write(relative, FORK_IMPORT)
    write("env311/pyvenv.cfg", "home = /usr/bin\n")  # a venv under any name
    write("app/README.md", "fork\n")  # not Python
    assert found(["."]) == ["app/main.py"]


def test_exclude_replaces_the_defaults_and_extend_exclude_adds(write, in_tmp):
    write("build/gen.py", FORK_IMPORT)
    write("src/legacy/old.py", FORK_IMPORT)
    write("src/new.py", FORK_IMPORT)
    write("src/test_new.py", FORK_IMPORT)
    assert found(["."], extend_exclude=("src/legacy", "test_*.py")) == ["src/new.py"]
    assert found(["."], exclude=("legacy",)) == ["build/gen.py", "src/new.py", "src/test_new.py"]


def test_gitignore_nested_and_from_the_repository_root_above(write, in_tmp):
    (in_tmp / ".git").mkdir()
    write(".gitignore", "generated/\n*_pb2.py\n")
    write("project/src/generated/api.py", FORK_IMPORT)
    write("project/src/api_pb2.py", FORK_IMPORT)
    write("project/src/app.py", FORK_IMPORT)
    write("project/src/vendor/.gitignore", "*.py\n!keep.py\n")
    write("project/src/vendor/lib.py", FORK_IMPORT)
    write("project/src/vendor/keep.py", FORK_IMPORT)
    # Walking project/ only: the root's .gitignore still applies, as git would apply it.
    assert found(["project"]) == ["project/src/app.py", "project/src/vendor/keep.py"]
    assert len(found(["project"], respect_gitignore=False)) == 5


def test_gitignore_outside_a_repository_applies_only_below(write, in_tmp):
    write("outer/.gitignore", "*.py\n")  # no .git above: not a repository we are in
    write("outer/inner/app.py", FORK_IMPORT)
    assert found(["outer/inner"]) == ["outer/inner/app.py"]


def test_explicit_files_are_checked_whatever_their_suffix_unless_excluded(write, in_tmp):
    write("bin/launch", FORK_IMPORT)
    write("build/gen.py", FORK_IMPORT)
    assert found(["bin/launch", "build/gen.py"]) == ["bin/launch"]


def test_a_file_given_twice_is_checked_once(write, in_tmp):
    write("pkg/app.py", FORK_IMPORT)
    assert found(["pkg/app.py", "pkg", "./pkg/app.py"]) == ["pkg/app.py"]


def test_missing_paths_are_errors_in_order(write, in_tmp):
    write("a.py", FORK_IMPORT)
    assert found(["nope", "a.py"]) == ["error:nope", "a.py"]


def test_directory_symlinks_are_not_followed(write, in_tmp):
    write("real/app.py", FORK_IMPORT)
    (in_tmp / "tree").mkdir()
    (in_tmp / "tree" / "real").symlink_to(in_tmp / "real", target_is_directory=True)
    assert found(["tree"]) == []


def test_cli_reports_stdin_under_its_stdin_filename(cli, in_tmp):
    run = cli("check", "-", "--stdin-filename", "src/worker.py", input=FORK_IMPORT)
    assert run.exit_code == 1
    assert run.stdout.startswith("src/worker.py:1:37: MP101 ")


def test_cli_checks_stdin_and_files_together(cli, write, in_tmp):
    write("a.py", FORK_IMPORT)
    run = cli("check", "a.py", "-", input=FORK_IMPORT)
    assert [line.split(":")[0] for line in run.stdout.splitlines()[:2]] == ["-", "a.py"]


def test_per_file_ignores_match_the_stdin_filename(cli, write, in_tmp):
    write("pyproject.toml", '[tool.mpcheck]\nper-file-ignores = { "scripts/*" = ["MP101"] }\n')
    assert cli("check", "-", "--stdin-filename", "scripts/run.py", input=FORK_IMPORT).exit_code == 0
    assert cli("check", "-", "--stdin-filename", "src/run.py", input=FORK_IMPORT).exit_code == 1


def test_discovery_error_type_is_exposed(in_tmp):
    (error,) = discover(["missing.py"], Settings())
    assert isinstance(error, DiscoveryError) and error.reason == "no such file or directory"


def test_a_gitignore_pattern_git_cannot_use_is_skipped(tmp_path):
    # psf/black's own .gitignore holds a bare `!`: pathspec rejects it, git ignores it.
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("!\n*.log\nbuild/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text("import os\n")
    (tmp_path / "app.py").write_text("import os\n")
    found = [item.path.name for item in discover([str(tmp_path)], Settings(root=tmp_path))]
    assert found == ["app.py"]
