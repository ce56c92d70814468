"""The batch renderer as it should be: the same under fork, spawn and forkserver."""

import multiprocessing

from render_farm.frames import render_frame


def render_batch(frames):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.map(render_frame, frames)


if __name__ == "__main__":
    print(render_batch([0, 1, 2, 3]))
