"""Flight log statistics."""

from .lib.multiproc import Pool, Queue


def summarise(logs):
    pool = Pool(2)
    sizes = pool.map(len, logs)
    return sum(sizes)


def backlog(lines):
    queue = Queue()
    for line in lines:
        queue.put(line)
    print("lines waiting:", queue.qsize())
