"""Command line entry point: render the frames given on the command line."""

import sys
import json
from multiprocessing.context import ForkProcess

from render_farm.frames import render_frame


def main(argv):
    frames = [int(arg) for arg in argv] or [0, 1, 2]
    workers = [ForkProcess(target=render_frame, args=(frame,)) for frame in frames]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
