"""The process primitives the ground station uses, from one place: billiard (which re-runs
the script in the child instead of forking) on macOS before Python 3.8, multiprocessing
everywhere else. The windows and workers import them from here."""

import platform
import sys

if platform.system() == "Darwin" and sys.version_info < (3, 8):
    from billiard import Pipe, Pool, Process, Queue, freeze_support
else:
    from multiprocessing import Pipe, Pool, Process, Queue, freeze_support
