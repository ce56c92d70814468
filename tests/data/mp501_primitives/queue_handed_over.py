"""The same, with the Queue made in the main block and passed to each process."""
import multiprocessing
import queue


def measure(path, results):
    results.put((path, len(path)))


if __name__ == "__main__":
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=measure, args=(path, results)) for path in ("a", "bb")]
    for worker in workers:
        worker.start()
    try:
        print(sorted(results.get(timeout=3) for _ in workers))
    except queue.Empty:
        print("no results")
    for worker in workers:
        worker.join()
