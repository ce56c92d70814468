"""The lifecycle rules MP301-MP306 on whole programs (issue 9): look-alikes that stay silent
and work under every start method, and findings that need more than one snippet (a
function of another module started per item, a class method, platform and version guards)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import mpcheck

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, run_all_methods

LOOKALIKES = Path(__file__).parent / "data" / "lifecycle_lookalikes"
CODES = ("MP301", "MP302", "MP303", "MP304", "MP305", "MP306")


def lifecycle_findings(source: str, path: str = "app.py") -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in mpcheck.check_source(textwrap.dedent(source), path) if d.code in CODES]


@pytest.mark.parametrize("script", sorted(LOOKALIKES.glob("*.py")), ids=lambda path: path.stem)
def test_lookalikes_are_not_flagged(script):
    assert lifecycle_findings(script.read_text(), script.name) == []


@pytest.mark.oracle
@pytest.mark.parametrize("script", sorted(LOOKALIKES.glob("*.py")), ids=lambda path: path.stem)
def test_lookalikes_work_under_every_start_method(script):
    runs = run_all_methods(Program(LOOKALIKES, (script.name,)), sys.executable, timeout=30,
                           methods=(*START_METHODS, SIMULATED_WINDOWS))
    reference = runs["fork"]
    assert reference.returncode == 0 and reference.stdout, reference.describe()
    for run in runs.values():
        assert run.returncode == 0 and run.stdout == reference.stdout, run.describe()


def test_a_function_of_another_module_started_per_item(tmp_path):
    package = tmp_path / "studio"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'studio'\n")
    (package / "__init__.py").write_text("")
    (package / "workers.py").write_text(textwrap.dedent("""\
        import multiprocessing as mp


        def encode(path):
            print("encoding", path)


        def start_encoder(path):
            process = mp.Process(target=encode, args=(path,))
            process.start()
            return process
    """))
    cli = package / "cli.py"
    cli.write_text(textwrap.dedent("""\
        import sys

        from studio.workers import start_encoder


        def main(paths):
            encoders = [start_encoder(path) for path in paths]
            for encoder in encoders:
                encoder.join()


        if __name__ == "__main__":
            main(sys.argv[1:])
    """))
    found = [d for d in mpcheck.check_source(cli.read_text(), str(cli)) if d.code == "MP301"]
    assert [(d.line, "through studio.workers.start_encoder()" in d.message) for d in found] == [(7, True)]
    assert "the argument `paths`" in found[0].message


MODEL_LOADER = """\
    import multiprocessing


    def _fetch(queue, name):
        queue.put(f"/models/{name}")


    def download(name, wait=True):
        # in a child, so that a hung download can be cancelled
        queue = multiprocessing.Queue()
        child = multiprocessing.Process(target=_fetch, args=(queue, name))
        child.start()
        path = queue.get()
        {join}
        return path


    class ModelDownloader:
        def __init__(self, name):
            self.name = name

        def run(self):
            return download(self.name)
"""


@pytest.mark.parametrize(("join", "expected"), [
    ("child.join()", []),
    ("if wait:\n        child.join()", [8]),  # joined only on some paths
    ("pass", [8]),
], ids=["joined", "joined-on-one-path", "not-joined"])
def test_a_helper_of_another_module_that_joins_its_child_is_a_blocking_call(tmp_path, join, expected):
    """buzz downloads each missing model through `ModelDownloader(model).run()`, which runs
    the download in a child it joins before returning: one process at a time, each a blocking
    call, not one process per item."""
    package = tmp_path / "studio"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'studio'\n")
    (package / "__init__.py").write_text("")
    (package / "loader.py").write_text(textwrap.dedent(MODEL_LOADER).replace("{join}", join))
    cli = package / "cli.py"
    cli.write_text(textwrap.dedent("""\
        import sys

        from studio.loader import ModelDownloader


        def main(names):
            for name in names:
                ModelDownloader(name).run()


        if __name__ == "__main__":
            main(sys.argv[1:])
    """))
    found = [d.line for d in mpcheck.check_source(cli.read_text(), str(cli)) if d.code == "MP301"]
    assert found == expected


OWNED_POOLS = """\
    from multiprocessing import Pool


    def run(items, pool=None):
        own = pool is None
        if own:
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if own:
                pool.close()


    def run_unless_lent(items, pool=None):
        borrowed = pool is not None
        if not borrowed:
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if not borrowed:
                pool.close()


    def run_with_a_cleanup_flag(items, pool=None):
        if pool is None:
            pool = Pool(2)
            cleanup = True
        else:
            cleanup = False
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_with_a_flag_set_after(items, pool=None):
        cleanup = False
        if pool is None:
            pool = Pool(2)
            cleanup = True
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_with_a_flag_set_before_it_is_made(items, pool=None):
        cleanup = False
        if pool is None:
            cleanup = True
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_flag_reset_later(items, pool=None, reset=False):
        cleanup = False
        if pool is None:
            pool = Pool(2)
            cleanup = True
        if reset:
            cleanup = False
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_flag_set_elsewhere(items, pool=None, force=False):
        cleanup = False
        if pool is None:
            pool = Pool(2)
        elif force:
            cleanup = True
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_flag_set_before(items, pool=None):
        cleanup = False
        if pool is None:
            cleanup = True
            pool = Pool(2)
            cleanup = False
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_never_cleaned(items, pool=None):
        cleanup = False
        if pool is None:
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if cleanup:
                pool.close()


    def run_flag_bound_again(items, pool=None):
        own = pool is None
        if own:
            pool = Pool(2)
        own = False
        try:
            return pool.map(abs, items)
        finally:
            if own:
                pool.close()


    def run_closed_the_wrong_way(items, pool=None):
        borrowed = pool is not None
        if not borrowed:
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if borrowed:
                pool.close()


    def run_other_flag(items, pool=None, verbose=False):
        own = pool is None
        if own:
            pool = Pool(2)
        try:
            return pool.map(abs, items)
        finally:
            if verbose:
                pool.close()
"""


def test_a_pool_closed_under_a_flag_true_wherever_it_is_made_is_closed():
    """The library shape: a pool made only when the caller lends none, closed in `finally`
    under a flag that says so; a flag that may be false where the pool was made keeps it."""
    assert [f for f in lifecycle_findings(OWNED_POOLS) if f[0] == "MP302"] == \
        [("MP302", 66), ("MP302", 80), ("MP302", 94), ("MP302", 106), ("MP302", 117), ("MP302", 129), ("MP302", 140)]


def test_a_throttled_loop_is_reported_as_bounded_in_concurrency_only():
    found = mpcheck.check_source(textwrap.dedent("""\
        import multiprocessing as mp

        def fetch(url, slots):
            with slots:
                print(url)

        def fetch_all(urls):
            slots = mp.BoundedSemaphore(4)
            for url in urls:
                slots.acquire()
                slots.release()
                mp.Process(target=fetch, args=(url, slots)).start()
    """), "fetch.py")
    mp301 = [d for d in found if d.code == "MP301"]
    assert len(mp301) == 1 and "a semaphore" in mp301[0].message and "not how many are created" in mp301[0].message
    assert not mp301[0].fixable and not mp301[0].hidden_unsafe_fix


@pytest.mark.parametrize(("guard", "expected"), [
    ("if sys.platform != 'win32':", []),
    ("if sys.version_info >= (3, 13):", [("MP304", 6)]),  # the executor rejects > 61 on every version
    ("if True:", [("MP304", 6), ("MP304", 7)]),
])
def test_mp304_follows_platform_and_version_guards(guard, expected):
    source = textwrap.dedent(f"""\
        import sys
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import Pool

        {guard}
            executor = ProcessPoolExecutor(max_workers=96)
            pool = Pool(96)
    """)
    assert [f for f in lifecycle_findings(source) if f[0] == "MP304"] == expected


def test_mp304_says_where_each_pool_breaks():
    found = {d.line: d for d in mpcheck.check_source(textwrap.dedent("""\
        import os
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import Pool

        executor = ProcessPoolExecutor(os.cpu_count() * 2)
        pool = Pool(128)
    """), "app.py") if d.code == "MP304"}
    assert "max_workers must be <= 61" in found[5].message
    assert "up to Python 3.12" in found[6].message


def test_a_pool_that_is_never_used_is_reported_without_a_fix():
    found = mpcheck.check_source("from multiprocessing import Pool\n\n\ndef idle():\n    pool = Pool(2)\n", "idle.py")
    assert [(d.code, d.fixable) for d in found] == [("MP302", False)]
