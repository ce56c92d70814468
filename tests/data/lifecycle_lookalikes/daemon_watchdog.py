"""A daemon watchdog handed an Event, and a reporter whose queue the parent waits on."""

import multiprocessing as mp
import os


def watchdog(stop):
    stop.wait(timeout=30)


def reporter(queue, n):
    queue.put(n * n)


if __name__ == "__main__":
    stop = mp.Event()
    mp.Process(target=watchdog, args=(stop,), daemon=True).start()
    queue = mp.Queue()
    for n in range(3):
        mp.Process(target=reporter, args=(queue, n)).start()
    print(sorted(queue.get() for _ in range(3)), "cpus known:", (os.cpu_count() or 0) > 0)
    stop.set()
