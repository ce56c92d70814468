"""The search for process starts reads the arguments of the call it follows: a function that
starts a pool only when asked to (`encode(texts, pool=None, devices=None)`, as
sentence-transformers' `SentenceTransformer.encode` does) is no start where the call leaves
those parameters at defaults that rule the start out, in this module or another, also when a
wrapper passes its own parameters on. Unknown values, unpacked arguments and a parameter
bound again before the test keep the start."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mpcheck.engine import Checker

from .oracle import Program, run_all_methods

ENCODER = """
    from multiprocessing import Pool


    def _square(value):
        return value * value


    def _encode_parallel(values, pool, devices):
        if pool is None:
            with Pool(len(devices)) as own:
                return own.map(_square, values)
        return pool.map(_square, values)


    class Encoder:
        def encode(self, values, pool=None, devices=None, chunk_size=None):
            if pool is not None or (isinstance(devices, list) and len(devices) > 0):
                return _encode_parallel(values, pool, devices)
            return [_square(value) for value in values]

        def encode_query(self, values, pool=None, devices=None):
            return self.encode(values, pool=pool, devices=devices, chunk_size=8)

        def encode_on(self, values, devices=None):
            if devices:
                return _encode_parallel(values, None, devices)
            return [_square(value) for value in values]


    def encode_all(values, parallel=False):
        if parallel:
            return Encoder().encode(values, devices=["cpu", "cpu"])
        return Encoder().encode(values)
"""


def _mp201(tmp_path: Path, main: str) -> list[str]:
    (tmp_path / "encoder.py").write_text(textwrap.dedent(ENCODER).lstrip("\n"))
    script = "from encoder import Encoder, encode_all\n\nencoder = Encoder()\n" + textwrap.dedent(main).lstrip("\n")
    (tmp_path / "app.py").write_text(script)
    checker = Checker(project_files=sorted(tmp_path.glob("*.py")))
    return [d.message for d in checker.check_file(tmp_path / "app.py").diagnostics if d.code == "MP201"]


@pytest.mark.parametrize("main", [
    "print(encoder.encode([1, 2]))",
    "print(encoder.encode([1, 2], pool=None))",
    "print(encoder.encode([1, 2], chunk_size=4))",
    "print(encoder.encode_on([1, 2]))",
    "print(encoder.encode_query([1, 2]))",  # passes its own pool=None and devices=None on
    "print(encode_all([1, 2]))",
], ids=["defaults", "pool-none", "other-keyword", "method-default", "through-a-wrapper", "flag-default"])
def test_a_call_that_leaves_the_pool_out_starts_nothing(tmp_path, main):
    assert _mp201(tmp_path, main) == []


@pytest.mark.parametrize("main", [
    "print(encoder.encode([1, 2], devices=['cpu', 'cpu']))",
    "print(encoder.encode([1, 2], None, ['cpu', 'cpu']))",  # the devices given by position
    "options = {'devices': ['cpu']}\nprint(encoder.encode([1, 2], **options))",
    "print(encoder.encode_query([1, 2], devices=['cpu', 'cpu']))",
    "print(encode_all([1, 2], parallel=True))",
    "print(encode_all([1, 2], True))",
    "import sys\nprint(encoder.encode([1, 2], devices=sys.argv[1:]))",
    # A method's positional arguments are not read: the call may bind `self` or not.
    "print(encoder.encode([1, 2], None, None))",
    "print(encoder.encode_on([1, 2], ['cpu', 'cpu']))",
], ids=["devices", "devices-by-position", "unpacked", "through-a-wrapper", "flag-set", "flag-set-by-position",
        "unknown-value", "method-positional-nones", "method-last-positional"])
def test_a_call_that_asks_for_processes_starts_them(tmp_path, main):
    found = _mp201(tmp_path, main)
    assert len(found) == 1 and "Pool() (through encoder." in found[0], found


def test_a_parameter_bound_again_before_the_test_is_not_taken_at_its_default(tmp_path):
    (tmp_path / "encoder.py").write_text(textwrap.dedent("""
        from multiprocessing import Pool

        DEFAULT_POOL_SIZE = 2


        def encode(values, size=None):
            if size is None:
                size = DEFAULT_POOL_SIZE
            if size is not None:
                with Pool(size) as pool:
                    return pool.map(abs, values)
            return values
    """).lstrip("\n"))
    (tmp_path / "app.py").write_text("from encoder import encode\n\nprint(encode([-1, 2]))\n")
    checker = Checker(project_files=sorted(tmp_path.glob("*.py")))
    found = [d for d in checker.check_file(tmp_path / "app.py").diagnostics if d.code == "MP201"]
    assert len(found) == 1, found


def test_the_same_function_in_one_file_is_read_with_each_call_s_arguments():
    text = textwrap.dedent("""
        from multiprocessing import Pool


        def squares(values, workers=0):
            if workers:
                with Pool(workers) as pool:
                    return pool.map(abs, values)
            return [abs(value) for value in values]


        print(squares([-1, 2]))
        print(squares([-3, 4], workers=2))
        print(squares([-5, 6], 0))
    """).lstrip("\n")
    lines = [d.line for d in Checker(fix_edits=False).check_text(text, "app.py") if d.code == "MP201"]
    assert lines == [12]


def test_what_the_search_rules_out_runs_alike_under_every_start_method(tmp_path):
    """The silent program runs the same under spawn and forkserver; the flagged one, whose
    call asks for devices, fails there as MP201 says."""
    assert _mp201(tmp_path, "print(encoder.encode([1, 2]))") == []
    runs = run_all_methods(Program(cwd=tmp_path, args=("app.py",)), python=sys.executable, timeout=30)
    assert all(run.returncode == 0 and run.stdout == "[1, 4]\n" for run in runs.values()), \
        "\n".join(run.describe() for run in runs.values())
    assert len(_mp201(tmp_path, "print(encoder.encode([1, 2], devices=['cpu', 'cpu']))")) == 1
    runs = run_all_methods(Program(cwd=tmp_path, args=("app.py",)), python=sys.executable, timeout=30)
    assert runs["fork"].returncode == 0 and runs["fork"].stdout == "[1, 4]\n", runs["fork"].describe()
    assert runs["spawn"].returncode != 0 and "bootstrapping phase" in runs["spawn"].stderr, runs["spawn"].describe()


def test_isinstance_of_none_is_false_only_for_classes_none_is_no_instance_of():
    text = textwrap.dedent("""
        from multiprocessing import Pool


        def run(values, config=None):
            if isinstance(config, object):  # None is an object
                with Pool(2) as pool:
                    return pool.map(abs, values)
            return values


        def run_listed(values, devices=None):
            if isinstance(devices, list):
                with Pool(len(devices)) as pool:
                    return pool.map(abs, values)
            return values


        print(run([-1, 2]))
        print(run_listed([-1, 2]))
    """).lstrip("\n")
    lines = [d.line for d in Checker(fix_edits=False).check_text(text, "app.py") if d.code == "MP201"]
    assert lines == [18]


def test_a_count_or_a_choice_compared_with_constants_rules_the_start_out():
    """`if workers <= 1: return ...` (the usual serial fallback before a pool) and
    `if device in ("cpu", "mps"):` decide for the defaults, as Python would; None compared by
    order (a TypeError at run time) decides nothing."""
    text = textwrap.dedent("""
        from multiprocessing import Pool


        def run(values, workers=1):
            if workers <= 1:
                return [abs(value) for value in values]
            with Pool(workers) as pool:
                return pool.map(abs, values)


        def run_above(values, workers=0.0):
            if workers > 1:
                with Pool(int(workers)) as pool:
                    return pool.map(abs, values)
            return values


        def run_on(values, device="cpu"):
            if device not in ("cuda", "xpu"):
                return values
            with Pool(2) as pool:
                return pool.map(abs, values)


        def run_unordered(values, workers=None):
            if workers < 2:
                return values
            with Pool(2) as pool:
                return pool.map(abs, values)


        def run_mixed(values, workers=1):
            if workers in ("1", None):
                return values
            with Pool(2) as pool:
                return pool.map(abs, values)


        print(run([-1, 2]))
        print(run_above([-1, 2]))
        print(run_on([-1, 2]))
        print(run([-1, 2], workers=4))
        print(run_above([-1, 2], 2))
        print(run_on([-1, 2], device="cuda"))
        print(run_unordered([-1, 2]))
        print(run_mixed([-1, 2]))
    """).lstrip("\n")
    lines = [d.line for d in Checker(fix_edits=False).check_text(text, "app.py") if d.code == "MP201"]
    assert lines == [42, 43, 44, 45, 46]
