"""Thumbnail names (the real work would resize the image)."""

import logging

logger = logging.getLogger(__name__)


def thumbnail(name, size=128):
    logger.debug("resizing %s", name)
    stem, _, extension = name.rpartition(".")
    return f"{stem}-{size}px.{extension}"
