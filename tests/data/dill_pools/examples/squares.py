"""Squares of the first numbers, on the package's pool."""

from sweep.helpers import Pool

if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(lambda n: n * n, range(6)))
