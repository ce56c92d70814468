"""Run programs as they would start on macOS, Windows and Python 3.14: multiprocessing's
default start method replaced from outside, in every Python process a command starts.

- `startmethod`: the replacement itself, loaded into those processes by `inject/sitecustomize.py`;
- `runner`: `run()` and `compare()`, behind `mpcheck run`;
- `pytest_plugin`: pytest's `--mp-start-method` and `--mp-no-fork` options.

Nothing is imported here: the pytest plugin is loaded by every pytest run of an environment
with mpcheck installed, and must cost nothing when its options are not given.
"""
