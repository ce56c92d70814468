"""MP702: SO_REUSEPORT and `reuse_port=True` where Windows can reach them, with the safe
`hasattr` guard, and a listening socket handed to several worker processes."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck import Settings


def findings(source: str, **settings) -> list[str]:
    return [d.message for d in mpcheck.check_source(source, "server.py", settings=Settings(select=("MP702",), **settings))]


def fixed(source: str) -> str:
    return mpcheck.fix_source(source, "server.py", settings=Settings(select=("MP702",))).text


GUARDED = {
    "hasattr": 'if hasattr(socket, "SO_REUSEPORT"):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n',
    "hasattr and more": ('if reuse and hasattr(socket, "SO_REUSEPORT"):\n'
                         "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"),
    "early exit": 'if not hasattr(socket, "SO_REUSEPORT"):\n    raise SystemExit\ns.setsockopt(1, socket.SO_REUSEPORT, 1)\n',
    "linux only": 'if sys.platform.startswith("linux"):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n',
    "not windows": 'if os.name != "nt":\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n',
    "try": "try:\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\nexcept AttributeError:\n    pass\n",
    "getattr with a default": 'option = getattr(socket, "SO_REUSEPORT", None)\n',
    "reuse_port from the constant": 'socket.create_server(("", 80), reuse_port=hasattr(socket, "SO_REUSEPORT"))\n',
    "reuse_port in a linux branch": 'if sys.platform == "linux":\n    socket.create_server(("", 80), reuse_port=True)\n',
    "reuse_port off": 'socket.create_server(("", 80), reuse_port=False)\n',
    "SO_REUSEADDR exists on Windows": "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n",
    "a look-alike create_server": "class Loop:\n    def create_server(self, **kw): ...\nLoop().create_server(reuse_port=True)\n",
}


@pytest.mark.parametrize("code", GUARDED.values(), ids=GUARDED.keys())
def test_guarded_uses_are_silent(code):
    assert findings("import os, socket, sys\ns = socket.socket()\nreuse = True\n" + code) == []


def test_only_windows_matters():
    source = "import socket\nsocket.socket().setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
    assert len(findings(source)) == 1
    assert findings(source, platforms=("linux", "macos")) == []


FIXES = {
    "a call statement": (
        "    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n",
        '    if hasattr(socket, "SO_REUSEPORT"):\n        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n'),
    "comments stay": (
        "    # let several workers bind\n    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # Linux 3.9+\n",
        '    # let several workers bind\n    if hasattr(socket, "SO_REUSEPORT"):\n'
        "        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # Linux 3.9+\n"),
}


@pytest.mark.parametrize(("line", "becomes"), FIXES.values(), ids=FIXES.keys())
def test_the_guard_fix(line, becomes):
    head = "import socket\n\n\ndef bind(port):\n    sock = socket.socket()\n"
    tail = '    sock.bind(("", port))\n    return sock\n'
    assert fixed(head + line + tail) == head + becomes + tail


def test_the_module_name_the_file_uses_and_an_import_when_there_is_none():
    source = "from socket import socket as Socket, SOL_SOCKET\nimport socket as net\n\ns = Socket()\ns.setsockopt(SOL_SOCKET, net.SO_REUSEPORT, 1)\n"
    assert 'if hasattr(net, "SO_REUSEPORT"):\n    s.setsockopt' in fixed(source)
    source = "import asyncio\n\nasync def main(h):\n    await asyncio.start_server(h, port=1, reuse_port=True)\n"
    assert fixed(source) == ("import asyncio\nimport socket\n\nasync def main(h):\n"
                             '    await asyncio.start_server(h, port=1, reuse_port=hasattr(socket, "SO_REUSEPORT"))\n')


NO_FIX = {
    "an assignment": "OPTION = socket.SO_REUSEPORT\n",
    "inside a list": "OPTIONS = [(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)]\n",
    "two statements on a line": "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n",
}


@pytest.mark.parametrize("code", NO_FIX.values(), ids=NO_FIX.keys())
def test_uses_whose_value_is_kept_get_no_fix(code):
    source = "import socket\n" + code
    assert len(findings(source)) == 1
    assert fixed(source) == source


WORKERS = '''\
import multiprocessing as mp
import socket


def serve(listener):
    while True:
        connection, _ = listener.accept()
        connection.close()


def start(count, method):
    listener = socket.create_server(("", 8000))
    ctx = mp.get_context(method)
    return [ctx.Process(target=serve, args=(listener,)) for _ in range(count)]
'''


@pytest.mark.parametrize(("method", "flagged"), [("spawn", 1), ("fork", 0)])
def test_a_socket_for_several_workers_unless_they_fork(method, flagged):
    source = WORKERS.replace("mp.get_context(method)", f"mp.get_context({method!r})")
    assert len(findings(source)) == flagged


def test_one_worker_or_no_socket_is_not_a_shared_listener():
    one = WORKERS.replace("[ctx.Process(target=serve, args=(listener,)) for _ in range(count)]",
                          "ctx.Process(target=serve, args=(listener,))")
    assert findings(one) == []
    no_socket = WORKERS.replace('socket.create_server(("", 8000))', '("", 8000)')
    assert findings(no_socket) == []
