"""Cubes, mapped asynchronously on the package's pool."""

from sweep.helpers import Pool, cpu_count

if __name__ == "__main__":
    with Pool(min(4, cpu_count())) as pool:
        print(pool.map_async(lambda n: n ** 3, range(6)).get())
