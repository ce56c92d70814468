"""Records telemetry to disk in a forked child."""

from groundstation.workers import ForkProcess


def record(path):
    with open(path, "a") as log:
        log.write("recording\n")


def start_recorder(path):
    recorder = ForkProcess(target=record, args=(path,))
    recorder.start()
    return recorder
