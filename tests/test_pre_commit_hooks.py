"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit try-repo`.

try-repo clones this repository (with any uncommitted changes) and pip-installs it into a
fresh environment, as a user's pre-commit would: slow, and it needs the package index.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

HAZARDOUS = '''\
"""Thumbnail every image given on the command line, one process each."""

import sys
from multiprocessing.context import ForkProcess


def thumbnail(path):
    print("thumbnail of", path)


if __name__ == "__main__":
    workers = [ForkProcess(target=thumbnail, args=(path,)) for path in sys.argv[1:]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
'''

FIXED = '''\
"""Thumbnail every image given on the command line, one process each."""

import sys
import multiprocessing
ForkOrSpawnProcess = multiprocessing.get_context(
    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
).Process


def thumbnail(path):
    print("thumbnail of", path)


if __name__ == "__main__":
    workers = [
        ForkOrSpawnProcess(target=thumbnail, args=(path,)) for path in sys.argv[1:]
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
'''


@pytest.fixture
def user_repository(tmp_path):
    """A throwaway git repository with one hazardous file, independent of the user's git
    configuration and pre-commit cache."""
    empty_config = tmp_path / "gitconfig"
    empty_config.write_text("")
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(empty_config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PRE_COMMIT_COLOR": "never",
    }
    repository = tmp_path / "thumbnails"
    repository.mkdir()
    (repository / "thumbnails.py").write_text(HAZARDOUS)
    subprocess.run(["git", "init", "-q"], cwd=repository, env=env, check=True)
    subprocess.run(["git", "add", "thumbnails.py"], cwd=repository, env=env, check=True)
    return repository, env


def try_repo(hook: str, repository: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(REPOSITORY), hook, "--all-files"],
        cwd=repository, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_check_hook_fails_and_fix_hook_fixes(user_repository):
    repository, env = user_repository

    check = try_repo("mpcheck", repository, env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "thumbnails.py:4:37: MP101 `ForkProcess` does not exist on Windows" in check.stdout
    assert (repository / "thumbnails.py").read_text() == HAZARDOUS

    fix = try_repo("mpcheck-fix", repository, env)
    # pre-commit fails a hook that changed files, so the user can review and stage them.
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    assert (repository / "thumbnails.py").read_text() == FIXED
