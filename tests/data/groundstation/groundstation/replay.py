"""Replays a recorded flight log in a child process."""

import threading

import groundstation.lib.multiproc as mp


def replay(path, lock):
    with lock, open(path) as log:
        for line in log:
            print(line.rstrip())


def start_replay(path):
    child = mp.Process(target=replay, args=(path, threading.Lock()))
    child.start()
    return child
