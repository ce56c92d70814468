"""As on macOS: sem_getvalue() is missing, so reading a semaphore's value raises
NotImplementedError with no message (see ../README.md)."""

import _multiprocessing


class _SemLockWithoutGetValue(_multiprocessing.SemLock):
    def _get_value(self):
        raise NotImplementedError


# multiprocessing.synchronize makes (and, in a child, rebuilds) every semaphore through
# this module attribute.
_multiprocessing.SemLock = _SemLockWithoutGetValue
