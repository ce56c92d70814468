"""A closure over the scale, on a pool made through the package's `mp`."""

from sweep.helpers import mp


def sweep(scale):
    def scaled(n):
        return n * scale

    with mp.Pool(2) as pool:
        return pool.map(scaled, range(4))


if __name__ == "__main__":
    print(sweep(3))
