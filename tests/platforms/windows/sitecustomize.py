"""As on Windows: the socket module has no SO_REUSEPORT (see ../README.md)."""

import _socket
import socket

for _module in (socket, _socket):
    if hasattr(_module, "SO_REUSEPORT"):
        delattr(_module, "SO_REUSEPORT")
