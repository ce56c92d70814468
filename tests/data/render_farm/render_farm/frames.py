"""Rendering one frame, and the process pool the batch renderer uses."""

import multiprocessing
import os

_CACHE = {}


def _reset_cache_in_child():
    _CACHE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_cache_in_child)


def render_frame(frame):
    print(f"frame {frame} rendered by {os.getpid()}")


def render_batch(frames):
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        return pool.map(render_frame, frames)


def render_batch_detached(frames):
    # Deliberately fork-only: the legacy daemon path, reviewed and kept.
    context = multiprocessing.get_context("forkserver")  # noqa: MP101
    with context.Pool(2) as pool:
        return pool.map(render_frame, frames)


def daemonize():
    if os.fork():
        os._exit(0)
