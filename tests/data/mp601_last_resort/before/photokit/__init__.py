"""photokit: thumbnails for a photo library."""

import logging

from .resize import thumbnail

__version__ = "1.2"
__all__ = ["thumbnail"]

logger = logging.getLogger(__name__)

try:
    from . import _speedups  # a C extension, built only by `pip install photokit[fast]`
except ImportError:
    _speedups = None
    logger.warning("photokit._speedups is not built: using the pure-Python resize")
