"""MP702: `socket.SO_REUSEPORT` (and `reuse_port=True`) without a guard, and one listening
socket handed to several worker processes, both of which break on Windows."""

from __future__ import annotations

from typing import Iterable, Iterator

import libcst as cst

from .. import apis
from ..findings import WHERE_FORK_IS_MISSING, Applicability, Fix, Violation, narrow
from ..model import Kind, LoopRegion, Site, keyword_argument
from ..model.regions import catches
from .base import Explanation, Invalid, Rule, RuleContext, Valid

_CONSTANT = ("socket", "SO_REUSEPORT")
_GUARD = 'hasattr({socket}, "SO_REUSEPORT")'


class ReusePortAndSharedSocket(Rule):
    code = "MP702"
    name = "reuse-port-or-shared-listening-socket"
    summary = "`SO_REUSEPORT` used without a `hasattr` guard, or one listening socket handed to several worker processes"
    # Windows has no SO_REUSEPORT (facts §11) and no fork: the same platforms as MP101's.
    breaks_on = WHERE_FORK_IS_MISSING
    explanation = Explanation(
        what=(
            "Flags three things that break on Windows. (1) `socket.SO_REUSEPORT` read (or "
            "`from socket import SO_REUSEPORT`) where nothing shows the constant exists: no "
            "`if hasattr(socket, \"SO_REUSEPORT\"):` around it (or an early exit when it is "
            "missing), no platform test that leaves Windows out, no `try` that catches "
            "`AttributeError`. (2) `reuse_port=True` given to `socket.create_server()`, "
            "`asyncio.start_server()` or an event loop's `create_server()` / "
            "`create_datagram_endpoint()` under the same conditions. (3) A socket (from "
            "`socket.socket()`, `socket.create_server()`, `socket.fromfd()`, uvicorn's "
            "`Config.bind_socket()`) handed to worker processes started in a loop or "
            "comprehension -- the multi-worker server design of uvicorn's `--workers` and "
            "LitServe -- unless the processes fork (a fork context cannot run on Windows). "
            "The socket is followed through names, list displays and the arguments this file "
            "passes to a function."
        ),
        why=(
            "Windows does not define `SO_REUSEPORT`: reading it raises "
            "`AttributeError: module 'socket' has no attribute 'SO_REUSEPORT'`, and "
            "`reuse_port=True` raises `ValueError: SO_REUSEPORT not supported on this platform` "
            "(`socket.create_server`) or `ValueError: reuse_port not supported by socket module` "
            "(asyncio). The asyncio documentation says so: \"not supported on Windows and some "
            "Unixes. If the SO_REUSEPORT constant is not defined then this capability is "
            "unsupported.\"\n\n"
            "Several processes accepting on one listening socket is the POSIX pre-fork design. "
            "On Windows multiprocessing hands each child a duplicate of the socket "
            "(`socket.share()`), but asyncio's default event loop there (the IOCP proactor) "
            "can register one socket with only one completion port: the workers fail with\n\n"
            "    Accept failed on a socket\n"
            "    ...\n"
            "    OSError: [WinError 87] The parameter is incorrect\n\n"
            "and `[WinError 995] The I/O operation has been aborted` when they stop (uvicorn "
            "#342 and #1317 with `--workers`; the LitServe article among mpcheck's seeds). "
            "Linux and macOS are not affected (`mpcheck facts 11`)."
        ),
        example=(
            "import socket\n\n"
            "listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
            "listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
            "listener.bind((\"0.0.0.0\", 8000))\n"
        ),
        use_instead=(
            "import socket\n\n"
            "listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
            "if hasattr(socket, \"SO_REUSEPORT\"):\n"
            "    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n"
            "listener.bind((\"0.0.0.0\", 8000))\n"
        ),
        fix_safety=(
            "The fix for (1) puts a statement that only calls something (`sock.setsockopt(..., "
            "socket.SO_REUSEPORT, 1)`) under `if hasattr(socket, \"SO_REUSEPORT\"):`, and the fix "
            "for (2) passes `reuse_port=hasattr(socket, \"SO_REUSEPORT\")`. Both are safe: where "
            "the constant exists (Linux, macOS) the test is true and the program does exactly "
            "what it did; where it does not, the original raised. Other uses of the constant "
            "(an assignment, an argument list) get no fix: the value would be missing later.\n\n"
            "(3) has no automatic fix. On Windows, let one process accept and hand the "
            "connections to the workers (a queue of accepted sockets, or a reverse proxy in "
            "front of single-worker servers), run the workers' asyncio loops with "
            "`asyncio.WindowsSelectorEventLoopPolicy()` (select() has no completion port), or "
            "run one worker there, as LitServe now does."
        ),
        references=(
            "`mpcheck facts 11` (docs/facts.md section 11): SO_REUSEPORT and sharing a listening socket on Windows",
            "https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.create_server",
            "https://github.com/Kludex/uvicorn/issues/342",
        ),
        options=("`platforms`: reported only when `windows` is one of them (the default lists all three)",),
    )

    VALID = [
        Valid(
            """
            import socket

            listener = socket.socket()
            if hasattr(socket, "SO_REUSEPORT"):
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            """
        ),
        Valid(
            """
            import socket, sys

            def reuse_port(sock):
                if sys.platform == "win32":
                    return
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            """
        ),
        Valid(
            """
            import asyncio, socket

            async def serve(handler):
                reuse = hasattr(socket, "SO_REUSEPORT")
                return await asyncio.start_server(handler, "0.0.0.0", 8000, reuse_port=reuse)
            """
        ),
        Valid(
            """
            import multiprocessing as mp
            import socket

            def serve(listener):
                while True:
                    connection, _ = listener.accept()
                    connection.close()

            if __name__ == "__main__":
                listener = socket.create_server(("0.0.0.0", 8000))
                ctx = mp.get_context("fork")  # pre-fork workers: POSIX only
                for _ in range(4):
                    ctx.Process(target=serve, args=(listener,)).start()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import socket


            def listen(port):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # per worker
                sock.bind(("0.0.0.0", port))
                return sock
            """,
            line=6,
            column=40,
            message="`socket.SO_REUSEPORT` does not exist on Windows",
            fixed="""
            import socket


            def listen(port):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                if hasattr(socket, "SO_REUSEPORT"):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # per worker
                sock.bind(("0.0.0.0", port))
                return sock
            """,
        ),
        Invalid(
            """
            import socket as so

            server = so.create_server(("", 9000), reuse_port=True)
            """,
            line=3,
            column=39,
            message="reuse_port=True",
            fixed="""
            import socket as so

            server = so.create_server(("", 9000), reuse_port=hasattr(so, "SO_REUSEPORT"))
            """,
        ),
        Invalid(
            """
            import asyncio


            async def main(handle):
                loop = asyncio.get_running_loop()
                server = await loop.create_server(handle, port=8000, reuse_port=True)
                await server.serve_forever()
            """,
            line=6,
            column=58,
            fixed="""
            import asyncio
            import socket


            async def main(handle):
                loop = asyncio.get_running_loop()
                server = await loop.create_server(
                    handle, port=8000, reuse_port=hasattr(socket, "SO_REUSEPORT")
                )
                await server.serve_forever()
            """,
        ),
        Invalid(
            """
            from socket import SO_REUSEPORT, SOL_SOCKET

            OPTIONS = [(SOL_SOCKET, SO_REUSEPORT, 1)]
            """,
            line=1,
            column=20,
        ),
        Invalid(
            """
            import multiprocessing
            import uvicorn


            def serve(config, sockets):
                uvicorn.Server(config).run(sockets=sockets)


            def run(app, workers):
                config = uvicorn.Config(app, port=8000)
                sockets = [config.bind_socket()]
                processes = []
                for _ in range(workers):
                    process = multiprocessing.Process(target=serve, args=(config, sockets))
                    process.start()
                    processes.append(process)
                return processes
            """,
            line=14,
            column=19,
            message="listening socket handed to several worker processes",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for site in model.attributes:
            symbol = model.resolve(site.node)
            if symbol is not None and apis.has_role(symbol.qualname, apis.Role.MISSING_ON_WINDOWS):
                yield from self._constant(context, site, site.node, "AttributeError")
        for binding in model.imports:
            if binding.kind is Kind.IMPORT and binding.qualname == ".".join(_CONSTANT) \
                    and isinstance(binding.node, cst.ImportAlias) and binding.name == _CONSTANT[1]:
                yield from self._constant(context, binding.site, binding.node, "ImportError")
        for site in model.calls:
            yield from self._reuse_port(context, site)
            yield from self._shared_socket(context, site)

    # -- socket.SO_REUSEPORT ----------------------------------------------------------------------

    def _constant(self, context: RuleContext, site: Site, node: cst.CSTNode, raises: str) -> Iterator[Violation]:
        model = context.model
        facts = model.facts(site)
        if not model.runs_at_runtime(site) or _CONSTANT in facts.attributes or catches(site, (raises,)):
            return
        fix = _guard_fix(context, site) if raises == "AttributeError" else None
        yield Violation(
            node,
            "`socket.SO_REUSEPORT` does not exist on Windows "
            + ("(AttributeError: module 'socket' has no attribute 'SO_REUSEPORT'); "
               if raises == "AttributeError" else "(ImportError: cannot import name 'SO_REUSEPORT' from 'socket'); ")
            + "use it under `if hasattr(socket, \"SO_REUSEPORT\"):`",
            fixes=(fix,) if fix else (),
            breaks_on=narrow(self.breaks_on, facts.platforms, facts.versions),
        )

    # -- reuse_port=True ----------------------------------------------------------------------------

    def _reuse_port(self, context: RuleContext, site: Site) -> Iterator[Violation]:
        model = context.model
        call = site.node
        assert isinstance(call, cst.Call)
        given = keyword_argument(call, "reuse_port")
        if given is None or model.value_of(given.value) is not True:
            return
        symbol = model.resolve(call.func)
        if symbol is None or not apis.has_role(symbol.qualname, apis.Role.REUSE_PORT):
            return
        facts = model.facts(site)
        if not model.runs_at_runtime(site) or _CONSTANT in facts.attributes or catches(site, ("ValueError",)):
            return
        fix = context.fix_context.fix()
        socket_name = fix.need_module("socket", before=site.top)
        fix.replace(given.value, fix.expression(_GUARD.format(socket=socket_name)))
        label = apis.CATALOGUE[symbol.qualname].label
        yield Violation(
            given,
            f"`{label}` with reuse_port=True fails on Windows (ValueError: SO_REUSEPORT not supported); "
            "pass `reuse_port=hasattr(socket, \"SO_REUSEPORT\")`",
            fixes=(fix.build(Applicability.SAFE, "Ask for reuse_port only where SO_REUSEPORT exists"),),
            breaks_on=narrow(self.breaks_on, facts.platforms, facts.versions),
        )

    # -- one listening socket, several worker processes ---------------------------------------------

    def _shared_socket(self, context: RuleContext, site: Site) -> Iterator[Violation]:
        model = context.model
        process_call = model.processes.process_call(site)
        if process_call is None or process_call.start_method == "fork" or not process_call.data:
            return
        if not any(isinstance(region, LoopRegion) for region in site.regions):
            return
        socket = next((symbol for expr in process_call.data for symbol in model.symbols_reaching(expr)
                       if symbol.is_instance and apis.has_role(symbol.qualname[:-2], apis.Role.SOCKET)), None)
        if socket is None or not model.runs_at_runtime(site):
            return
        facts = model.facts(site)
        yield Violation(
            site.node,
            f"a listening socket handed to several worker processes (`{apis.CATALOGUE[socket.qualname[:-2]].label}` "
            f"to `{process_call.api.label}` in a loop): on Windows their asyncio loops cannot all accept on it "
            "(OSError: [WinError 87] The parameter is incorrect); accept in one process there, or use the "
            "selector event loop",
            breaks_on=narrow(self.breaks_on, facts.platforms, facts.versions),
        )


def _guard_fix(context: RuleContext, site: Site) -> Fix | None:
    """`stmt` -> `if hasattr(socket, "SO_REUSEPORT"): stmt`, for a statement that only calls
    something: its value is discarded, so skipping it leaves nothing unbound."""
    statement = site.statement
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1 \
            or not isinstance(statement.body[0], cst.Expr) or not isinstance(statement.body[0].value, (cst.Call, cst.Await)):
        return None
    fix = context.fix_context.fix()
    socket_name = fix.need_module("socket", before=site.top)
    fix.replace(statement, lambda updated: cst.If(
        test=fix.expression(_GUARD.format(socket=socket_name)),
        body=cst.IndentedBlock(body=[updated.with_changes(leading_lines=())]),
        leading_lines=updated.leading_lines,
    ))
    return fix.build(Applicability.SAFE, "Set SO_REUSEPORT only where the socket module has it")

