"""Check the CPython standard library (without its tests) and compare with ruff.

    python benchmarks/stdlib.py [--runs 3]

The corpus is copied to a temporary directory first, so that no .gitignore above the
interpreter (pyenv is a git checkout) hides it. mpcheck and ruff run as subprocesses,
interleaved, and the medians are compared: on a small, noisy machine only ratios measured
side by side in one run mean anything. The budget (DESIGN.md): cold <= 8 x ruff.
ruff is optional (`pip install ruff`); without it only mpcheck's own figures are printed.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

_SKIPPED_PARTS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def copy_stdlib(destination: Path) -> int:
    source = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    for path in source.rglob("*.py"):
        relative = path.relative_to(source)
        if _SKIPPED_PARTS & set(relative.parts):
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        count += 1
    return count


def timed(command: list[str]) -> tuple[float, int]:
    """Wall time and the child's peak RSS in KiB."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def read_and_regex(corpus: Path) -> float:
    pattern = re.compile(r"multiprocessing|fork")
    start = time.perf_counter()
    for path in corpus.rglob("*.py"):
        pattern.search(path.read_text(encoding="utf-8", errors="replace"))
    return time.perf_counter() - start


def ruff_command() -> list[str] | None:
    executable = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return [executable] if Path(executable).exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mpcheck-bench-") as directory:
        corpus = Path(directory) / "stdlib"
        files = copy_stdlib(corpus)
        print(f"corpus: {files} files of the Python {sys.version.split()[0]} stdlib, tests excluded")
        mpcheck = [sys.executable, "-m", "mpcheck", "check", "--exit-zero", "-q", str(corpus)]
        ruff = ruff_command()
        ruff_check = None if ruff is None else [*ruff, "check", "--no-cache", "--isolated", "--exit-zero", "-q", str(corpus)]
        mpcheck_times, ruff_times, regex_times = [], [], []
        peak_rss = 0
        for _ in range(options.runs):
            elapsed, rss = timed(mpcheck)
            mpcheck_times.append(elapsed)
            peak_rss = max(peak_rss, rss)
            if ruff_check is not None:
                ruff_times.append(timed(ruff_check)[0])
            regex_times.append(read_and_regex(corpus))
        mpcheck_median = statistics.median(mpcheck_times)
        print(f"read every file + one regex: {statistics.median(regex_times):.3f} s")
        print(f"mpcheck check (cold, whole process): {mpcheck_median:.3f} s, peak RSS {peak_rss / 1024:.0f} MiB")
        if ruff_times:
            ruff_median = statistics.median(ruff_times)
            ratio = mpcheck_median / ruff_median
            print(f"ruff check (default rules, no cache): {ruff_median:.3f} s")
            print(f"ratio mpcheck / ruff: {ratio:.1f} x (budget <= 8 x): {'within' if ratio <= 8 else 'OVER'} budget")
        else:
            print("ruff not installed: no ratio (pip install ruff)")


if __name__ == "__main__":
    main()
