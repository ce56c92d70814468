"""Counts converted files in a Value the module makes at import: right only under fork."""
import multiprocessing

processed = multiprocessing.Value("i", 0)


def convert(path):
    with processed.get_lock():
        processed.value += 1
    return path.upper()


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        print(pool.map(convert, ["a.txt", "b.txt", "c.txt"]))
    print("converted", processed.value)
