"""Unit helpers, and a small queue of pending readings (not a process queue)."""

from collections import deque

METRES_PER_FOOT = 0.3048


class Queue:
    def __init__(self):
        self.items = deque()

    def put(self, item):
        self.items.append(item)

    def qsize(self):
        return len(self.items)


def feet(metres):
    return metres / METRES_PER_FOOT
