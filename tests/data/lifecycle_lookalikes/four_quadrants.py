"""Four processes, one per quadrant of an image: a fixed count, joined, with a lock held by each."""

import multiprocessing as mp


def shade(quadrant, lock, totals):
    value = sum(range(quadrant * 1000, (quadrant + 1) * 1000))
    with lock:
        totals[quadrant] = value


if __name__ == "__main__":
    lock = mp.Lock()
    totals = mp.Array("q", 4, lock=False)
    quadrants = [mp.Process(target=shade, args=(quadrant, lock, totals)) for quadrant in range(4)]
    for process in quadrants:
        process.start()
    for process in quadrants:
        process.join()
    print(list(totals))
