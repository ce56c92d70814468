"""Ingest uploaded files with a pool of forked workers (Linux servers only)."""

import multiprocessing
import os


def parse(path):
    with open(path, "rb") as stream:
        return len(stream.read())


def ingest(paths):
    with multiprocessing.get_context("fork").Pool() as pool:
        return pool.map(parse, paths)


def detach():
    if os.fork():
        os._exit(0)
