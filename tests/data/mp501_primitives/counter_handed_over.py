"""The same count, with the Value made in the main block and handed to each worker as it starts."""
import multiprocessing

processed = None


def share(counter):
    global processed
    processed = counter


def convert(path):
    with processed.get_lock():
        processed.value += 1
    return path.upper()


if __name__ == "__main__":
    counter = multiprocessing.Value("i", 0)
    with multiprocessing.Pool(2, initializer=share, initargs=(counter,)) as pool:
        print(pool.map(convert, ["a.txt", "b.txt", "c.txt"]))
    print("converted", counter.value)
