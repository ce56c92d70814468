"""Pending telemetry readings, in the project's own queue."""

from groundstation.lib import units


def pending(readings):
    waiting = units.Queue()
    for reading in readings:
        waiting.put(units.feet(reading))
    return waiting.qsize()
