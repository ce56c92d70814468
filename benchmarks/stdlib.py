"""How fast mpcheck is next to ruff and flake8, on the CPython standard library.

    python benchmarks/stdlib.py [--runs 3] [--corpus DIR] [--skip-scaling] [--skip-flake8]

The corpus is the running interpreter's standard library without its tests, copied to a
temporary directory (so that no .gitignore above the interpreter hides it), or any directory
given. Every command runs as its own process, and the commands are measured alternately,
round after round: on a small machine shared with other work only ratios measured side by
side mean anything. For each: the median wall time over the rounds, its spread (slowest
minus fastest, over the median: how noisy the machine was) and the peak memory of the
largest process of the command: on Linux this process is the subreaper of what the command
starts, so that a pool's workers, reaped by a forkserver that outlives the command, are
waited for here too (os.wait4); elsewhere, the command's own process. ruff and flake8 are
optional (`pip install ruff flake8`); without them their rows are left out.

Cold runs pass `--no-cache`; warm runs use a cache filled by one run before the rounds
(kept outside the corpus, through MPCHECK_CACHE_DIR). The "just edited" rows are what a
pre-commit run meets: the two files were edited since the cache was filled (a line added
before each run, taken out after it), the rest of the project was not. flake8 runs every
installed plugin whatever `--select` says, so its rows run flake8 with one plugin's
distribution only (benchmarks/flake8_with.py): pycodestyle alone, and mpcheck alone
(`--select MP`).

Targets (issue 11, with every rule enabled): cold <= 6 x ruff; warm <= 1 x ruff; a pre-commit
run on 2 files <= 0.15 s when neither can hold a finding or both are cached, <= 0.6 s when
both must be parsed; peak memory <= 150 MB; flake8 with the MP plugin <= 1.2 x flake8 with
pycodestyle; --jobs 2 >= 1.6 x faster than --jobs 1 on a tree where the prefilter keeps at
least 100 files; cold time linear in the corpus size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_SKIPPED_PARTS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
# Commands run as installed packages do, with their bytecode: PYTHONDONTWRITEBYTECODE (set
# in some development shells) would have every run of an editable install compile mpcheck.
_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants (Linux's prctl
    PR_SET_CHILD_SUBREAPER): a process whose parent exits is then handed to this one, not to
    init, and waiting for it gives its peak memory and that of the processes it waited for.
    False where that cannot be done."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def copy_stdlib(destination: Path, source: Path | None = None) -> int:
    """Copy the `.py` files of `source` (default: this interpreter's stdlib, tests excluded)."""
    source = source or Path(sysconfig.get_paths()["stdlib"])
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


@dataclass
class Measure:
    name: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    peak_kib: int = 0
    edited: list[Path] = field(default_factory=list)  # files given a new line before each run

    def run(self) -> None:
        kept = [(path, path.read_bytes(), path.stat()) for path in self.edited]
        for path, text, _ in kept:
            path.write_bytes(text + f"\n# edited for run {len(self.times)}\n".encode())
        try:
            self._run()
        finally:  # put back as they were, stat included: the other rows see the same tree
            for path, text, status in kept:
                path.write_bytes(text)
                os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))

    def _run(self) -> None:
        start = time.perf_counter()
        # close_fds=False lets Python start the command with posix_spawn: a forked copy of
        # this process would count in the command's peak memory.
        process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False,
                                   env={**_ENVIRONMENT, **self.environment})
        _, _, usage = os.wait4(process.pid, 0)
        self.times.append(time.perf_counter() - start)
        self.peak_kib = max(self.peak_kib, usage.ru_maxrss)
        process.returncode = 0  # reaped by wait4
        while True:  # the processes it left, orphans adopted by this one (`adopt_orphans`)
            try:
                _, _, usage = os.wait4(-1, 0)  # (the usage of one and of those it waited for)
            except ChildProcessError:
                break
            self.peak_kib = max(self.peak_kib, usage.ru_maxrss)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        return (max(self.times) - min(self.times)) / self.median

    def line(self) -> str:
        return (f"{self.name:<52} {self.median:8.3f} s  (spread {self.spread:4.0%}, {len(self.times)} runs)"
                f"  peak {self.peak_kib / 1024:6.0f} MiB")


def age(tree: Path) -> None:
    """Date the files and directories of `tree` an hour back, as in a checkout nobody is
    editing (the cache trusts no stat from the seconds before a run: mpcheck/cache.py)."""
    past = time.time() - 3600
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (past, past))


def tool(name: str) -> list[str] | None:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    return [found] if Path(found).exists() else None


def alternate(measures: list[Measure], runs: int) -> None:
    for _ in range(runs):
        for measure in measures:
            measure.run()


def pick_files(corpus: Path, mpcheck: list[str], parsed: bool, count: int = 2) -> list[Path]:
    """`count` files of about 500 lines that the prefilter keeps (`parsed`) or skips."""
    from mpcheck.engine import Checker

    checker = Checker(fix_edits=False)
    chosen = []
    for path in sorted(corpus.rglob("*.py"), key=lambda p: abs(len(p.read_bytes().splitlines()) - 500)):
        text = path.read_text(encoding="utf-8", errors="replace")
        if bool(checker.verdict(text, str(path)).codes) == parsed:
            chosen.append(path)
            if len(chosen) == count:
                return chosen
    return chosen


def parse_heavy_tree(corpus: Path, destination: Path, at_least: int = 100) -> int:
    """A tree of copies of the corpus files the prefilter keeps, until there are `at_least`."""
    from mpcheck.engine import Checker

    checker = Checker(fix_edits=False)
    kept = [path for path in sorted(corpus.rglob("*.py"))
            if checker.verdict(path.read_text(encoding="utf-8", errors="replace"), str(path)).codes]
    count = 0
    copy = 0
    while count < at_least and kept:
        for path in kept:
            target = destination / f"copy{copy}" / path.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            count += 1
        copy += 1
    return count


def ratio(label: str, numerator: Measure, denominator: Measure, target: str) -> None:
    print(f"{label}: {numerator.median / denominator.median:.2f} x ({target})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="a directory to check instead of the stdlib")
    parser.add_argument("--skip-scaling", action="store_true", help="do not measure 1x..4x the corpus")
    parser.add_argument("--skip-flake8", action="store_true", help="flake8 takes ~15-30 s a run")
    options = parser.parse_args()
    whole_tree = adopt_orphans()
    mpcheck = [sys.executable, "-m", "mpcheck", "check", "--exit-zero", "-q"]
    cold = [*mpcheck, "--no-cache"]
    ruff, flake8 = tool("ruff"), None if options.skip_flake8 else tool("flake8")
    flake8_with = [sys.executable, str(Path(__file__).with_name("flake8_with.py"))]
    with tempfile.TemporaryDirectory(prefix="mpcheck-bench-") as directory:
        corpus = Path(directory) / "corpus"
        files = copy_stdlib(corpus, options.corpus)
        age(corpus)
        origin = options.corpus or f"the Python {sys.version.split()[0]} stdlib, tests excluded"
        print(f"corpus: {files} files of {origin}; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f} at the start; {time.strftime('%Y-%m-%d')}; peak memory of "
              f"{'the largest process of each command, workers included' if whole_tree else 'each command process'}")
        quiet = pick_files(corpus, mpcheck, parsed=False)
        busy = pick_files(corpus, mpcheck, parsed=True)
        warm = {"MPCHECK_CACHE_DIR": str(Path(directory) / "cache")}
        for paths in ([str(corpus)], list(map(str, quiet)), list(map(str, busy))):  # fill the cache
            subprocess.run([*mpcheck, *paths], env={**_ENVIRONMENT, **warm}, stdout=subprocess.DEVNULL, check=False)
        # The "just edited" rows keep the results of the edited files in a cache of their own.
        edited = {"MPCHECK_CACHE_DIR": str(Path(directory) / "cache-edited")}
        shutil.copytree(warm["MPCHECK_CACHE_DIR"], edited["MPCHECK_CACHE_DIR"])
        measures = [
            Measure("mpcheck check (cold)", [*cold, str(corpus)]),
            Measure("mpcheck check (warm)", [*mpcheck, str(corpus)], warm),
            Measure("mpcheck check --jobs 1 (cold)", [*cold, "--jobs", "1", str(corpus)]),
            Measure("mpcheck check, 2 files the prefilter skips", [*cold, *map(str, quiet)]),
            Measure("mpcheck check, 2 files the prefilter skips, cached", [*mpcheck, *map(str, quiet)], warm),
            Measure("mpcheck check, 2 files the prefilter skips, just edited", [*mpcheck, *map(str, quiet)], edited,
                    edited=quiet),
            Measure("mpcheck check, 2 files that are parsed", [*cold, *map(str, busy)]),
            Measure("mpcheck check, 2 files that are parsed, cached", [*mpcheck, *map(str, busy)], warm),
            Measure("mpcheck check, 2 files that are parsed, just edited", [*mpcheck, *map(str, busy)], edited,
                    edited=busy),
            Measure("mpcheck --version", [sys.executable, "-m", "mpcheck", "--version"]),
        ]
        if ruff:
            measures.append(Measure("ruff check --no-cache (default rules)",
                                    [*ruff, "check", "--no-cache", "--isolated", "--exit-zero", "-q", str(corpus)]))
        if flake8:
            no_cache = {"MPCHECK_NO_CACHE": "1"}
            measures += [
                Measure("flake8, pycodestyle alone", [*flake8_with, "pycodestyle", "--", "--exit-zero", str(corpus)]),
                Measure("flake8 --select MP, the MP plugin alone (cold)",
                        [*flake8_with, "mpcheck", "--", "--select", "MP", "--exit-zero", str(corpus)], no_cache),
            ]
        alternate(measures, options.runs)
        for measure in measures:
            print(measure.line())
        by_name = {measure.name: measure for measure in measures}
        if ruff:
            ruff_run = by_name["ruff check --no-cache (default rules)"]
            ratio("cold mpcheck / ruff", by_name["mpcheck check (cold)"], ruff_run, "target <= 6 x")
            ratio("warm mpcheck / ruff", by_name["mpcheck check (warm)"], ruff_run, "target <= 1 x")
        if flake8:
            ratio("flake8 MP plugin / pycodestyle", by_name["flake8 --select MP, the MP plugin alone (cold)"],
                  by_name["flake8, pycodestyle alone"], "target <= 1.2 x")
        print(f"2 files skipped: {', '.join(path.name for path in quiet)}; "
              f"2 files parsed: {', '.join(path.name for path in busy)}")

        heavy = Path(directory) / "parse-heavy"
        kept = parse_heavy_tree(corpus, heavy)
        jobs = [Measure(f"--jobs 1 on {kept} kept files (cold)", [*cold, "--jobs", "1", str(heavy)]),
                Measure(f"--jobs 2 on {kept} kept files (cold)", [*cold, "--jobs", "2", str(heavy)])]
        alternate(jobs, options.runs)
        for measure in jobs:
            print(measure.line())
        ratio("speed-up of --jobs 2", jobs[0], jobs[1], "target >= 1.6 x")

        if not options.skip_scaling:
            scaled = []
            for factor in (1, 2, 4):
                tree = Path(directory) / f"x{factor}"
                for copy in range(factor):
                    shutil.copytree(corpus, tree / f"copy{copy}")
                scaled.append(Measure(f"mpcheck check on {factor} x the corpus (cold)", [*cold, str(tree)]))
            alternate(scaled, max(1, options.runs // 2))
            for measure in scaled:
                print(measure.line() + f"  ({measure.median / scaled[0].median:.2f} x the 1 x time)")


if __name__ == "__main__":
    main()
