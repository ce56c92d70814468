"""Worker classes shared by the recorders: the recorder relies on fork's copy of the
parent's buffers."""

from multiprocessing.context import ForkProcess

__all__ = ["ForkProcess"]
