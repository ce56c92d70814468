"""squares.py and scaled.py in one file: the same fallback imports, written here."""

try:
    import multiprocess as mp
    from multiprocess import Pool
except ImportError:
    import multiprocessing as mp
    from multiprocessing import Pool


def sweep(scale):
    def scaled(n):
        return n * scale

    with mp.Pool(2) as pool:
        return pool.map(scaled, range(4))


if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(lambda n: n * n, range(6)))
    print(sweep(3))
