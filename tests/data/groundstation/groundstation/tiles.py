"""Map tiles fetched ahead of the aircraft."""

from .lib import multiproc


def fetch(tile):
    x, y, zoom = tile
    return f"https://tiles.example.org/{zoom}/{x}/{y}.png"


def prefetch(tiles):
    children = []
    for tile in tiles:
        child = multiproc.Process(target=lambda: print(fetch(tile)))
        child.start()
        children.append(child)
    for child in children:
        child.join()
