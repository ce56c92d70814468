"""Make thumbnails of a few photos with a pool of workers, logging to stdout."""

import logging
import multiprocessing
import sys

import photokit

PHOTOS = ["cat.jpg", "dog.png", "owl.jpg", "fox.webp"]

if __name__ == "__main__":
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(message)s")
    with multiprocessing.Pool(2) as pool:
        for name in sorted(pool.map(photokit.thumbnail, PHOTOS)):
            print(name)
