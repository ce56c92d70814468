"""Run programs as they would start on macOS, Windows and Python 3.14: multiprocessing's
default start method replaced from outside, in every Python process a command starts.

- `startmethod`: the replacement itself, loaded into those processes by `inject/sitecustomize.py`;
- `runner`: `run()` and `compare()`, behind `mpcheck run`;
- `pytest_plugin`: pytest's `--mp-start-method` and `--mp-no-fork` options.

Nothing is imported here: the pytest plugin is loaded by every pytest run of an environment
with mpcheck installed, and must cost nothing when its options are not given; the command
line defines `mpcheck run` from the constants below without importing `runner`.
"""

# Exit statuses of `mpcheck run`, as timeout(1) has them (and env(1) for 126 and 127).
EXIT_TIMED_OUT = 124
EXIT_RUN_ERROR = 125
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127
DEFAULT_KILL_AFTER = 5.0
