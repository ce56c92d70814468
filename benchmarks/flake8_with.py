"""Run flake8 with the plugins of some distributions only (benchmarks/stdlib.py uses it).

    python benchmarks/flake8_with.py pycodestyle -- [flake8 arguments]
    python benchmarks/flake8_with.py mpcheck -- --select MP [flake8 arguments]

flake8 runs every installed plugin whatever `--select` says (it only filters what is
reported), so "flake8 --select MP" also pays for pycodestyle, pyflakes and mccabe. To measure
what a plugin costs, this leaves the others out: it filters flake8's plugin discovery
(`flake8.plugins.finder._find_importlib_plugins`, flake8 5-7) to the distributions named, and
keeps the reporters. Not for use outside the benchmark.
"""

from __future__ import annotations

import sys


def main(arguments: list[str]) -> int:
    separator = arguments.index("--")
    keep = set(arguments[0].split(","))
    import flake8.plugins.finder as finder
    from flake8.main.cli import main as flake8_main

    original = finder._find_importlib_plugins

    def kept():
        return (plugin for plugin in original()
                if plugin.package in keep or plugin.entry_point.group == "flake8.report")

    finder._find_importlib_plugins = kept
    return flake8_main(arguments[separator + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
