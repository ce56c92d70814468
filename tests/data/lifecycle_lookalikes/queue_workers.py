"""A fixed number of long-lived workers fed through a queue; results drained before the join."""

import multiprocessing as mp
import os

N_WORKERS = 2


def worker(jobs, results):
    for path in iter(jobs.get, None):
        results.put((path, len(path) * 100))


def main(paths):
    jobs, results = mp.Queue(), mp.Queue()
    workers = [mp.Process(target=worker, args=(jobs, results)) for _ in range(N_WORKERS)]
    for process in workers:
        process.start()
    for path in paths:
        jobs.put(path)
    for _ in workers:
        jobs.put(None)
    sizes = sorted(results.get() for _ in paths)
    for process in workers:
        process.join()
    return sizes


if __name__ == "__main__":
    print(main([f"clip_{n}.wav" for n in range(7)] + [os.sep.join(["a", "b"])]))
