"""Pools closed every way the rules accept: with-blocks, try/finally, results read inside,
close()+join() before the exit, an executor whose exit waits."""

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool


def cube(n):
    return n ** 3


def with_block(numbers):
    with Pool(2) as pool:
        pending = pool.map_async(cube, numbers)
        return pending.get(timeout=10)


def try_finally(numbers):
    pool = Pool(2)
    try:
        return pool.map(cube, numbers)
    finally:
        pool.close()
        pool.join()


def closed_before_exit(numbers):
    with Pool(2) as pool:
        results = [pool.apply_async(cube, (n,)) for n in numbers]
        pool.close()
        pool.join()
    return [result.get() for result in results]


def executor(numbers):
    with ProcessPoolExecutor(2) as workers:
        futures = [workers.submit(cube, n) for n in numbers]
    return [future.result() for future in futures]


if __name__ == "__main__":
    numbers = [1, 2, 3]
    for make in (with_block, try_finally, closed_before_exit, executor):
        print(make.__name__, make(numbers))
