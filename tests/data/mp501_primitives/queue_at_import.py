"""Collects lengths through a Queue the module makes at import: the parent sees them only under fork."""
import multiprocessing
import queue

results = multiprocessing.Queue()


def measure(path):
    results.put((path, len(path)))


if __name__ == "__main__":
    workers = [multiprocessing.Process(target=measure, args=(path,)) for path in ("a", "bb")]
    for worker in workers:
        worker.start()
    try:
        print(sorted(results.get(timeout=3) for _ in workers))
    except queue.Empty:
        print("no results")
    for worker in workers:
        worker.join()
