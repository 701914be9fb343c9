"""The server we ship: Daphne with a request class that enforces the body limits while the body streams in.

    python -m config.server -b 127.0.0.1 -p 8000 config.asgi:application    # any `daphne` option works

Stock Daphne (Twisted's `http.Request`) writes a whole request body to memory or a temporary file before the
application sees a byte of it, so an application's 413 comes after the 400 MB were read, and a chunked body (no
`Content-Length`) is never size-checked at all. Here the route's limit (`config.body_limits.body_limit`) is decided
as soon as the headers are in (Twisted's `gotLength`): a declared length above it is answered 413 at once, and a
streamed body is counted chunk by chunk (`handleContentChunk`) and answered 413 as soon as its total passes the
limit. The refused body is not stored: the answer goes out with `Connection: close`, the write side is shut, and
whatever the client still sends is read and dropped for at most `LINGER_SECONDS` / `LINGER_BYTES` (so that the client
reads the 413 rather than a reset), then the connection is aborted. The application never runs for such a request.

On SIGTERM (or SIGINT) it shuts down gracefully (`GracefulServer`): it stops listening at once (new connections
are refused, so a proxy tries another process), closes every WebSocket with code 1012 (service restart: clients
reconnect elsewhere and resync, docs/websocket.md), closes idle keep-alive connections, answers the requests in
flight (with `Connection: close`) for at most `SHUTDOWN_GRACE_SECONDS`, and only then lets Daphne cancel what is
left and the process exit (status 0).

`make run`, `make serve`, the Dockerfile, the load test and the chat benchmark start the server this way. The ASGI
guard (`config.body_limits.BodyLimitGuard`) keeps the same limits under any other ASGI server.

Written against daphne 4.2.3 and Twisted 26.10.0 (the pins of requirements.txt): it relies on `Server.run` building
its factory as `self.http_factory = HTTPFactory(self)`, on `HTTPFactory.buildProtocol` setting `requestFactory`, on
`HTTPChannel` keeping the request line in `_command` / `_path` until `allContentReceived`, and on
`gotLength` / `handleContentChunk` / `requestReceived` being called as they are today.
`tests/config/test_server.py::test_written_for_the_pinned_daphne_and_twisted` fails when a pin moves, so that these
hooks are reviewed with the upgrade.
"""

import logging
import os
import threading
import time
import types
import weakref
from io import BytesIO
from urllib.parse import unquote

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet import defer, reactor, task

from config.body_limits import TOO_LARGE_BODY, body_limit
from config.logging import loggable_path

DAPHNE_VERSION = "4.2.3"
TWISTED_VERSION = "26.10.0"
# After a 413, what the client still sends is read and dropped (never stored) for this long or this many bytes at
# most, then the connection is aborted: long enough for the client to read the answer instead of a reset.
LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * 1024 * 1024

# The WebSocket close code of a server going down for a restart (RFC 6455 registry: "Service Restart").
SERVICE_RESTART = 1012
DRAIN_POLL_SECONDS = 0.05

logger = logging.getLogger("thebot.requests")
server_logger = logging.getLogger("thebot.server")

TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(TOO_LARGE_BODY)).encode() + b"\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"Connection: close\r\n"
    b"\r\n" + TOO_LARGE_BODY
)


def request_target_path(target: bytes) -> str:
    """The decoded path of a request target (origin form `/a/b?q`, or absolute form `http://host/a/b?q`), as
    Daphne puts it in the ASGI scope."""
    target = target.split(b"?", 1)[0].split(b"#", 1)[0]
    if b"://" in target:
        target = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
    try:
        return unquote(target.decode("ascii"))
    except UnicodeDecodeError:
        return "/"  # Daphne answers 400 to such a path; the default limit meanwhile


class BodyLimitRequest(WebRequest):
    """Daphne's request, refusing a body above its route's limit before or while it streams in."""

    body_limit: int | None = None
    body_received = 0
    body_refused = False

    def gotLength(self, length):
        channel = self.channel
        path = request_target_path(getattr(channel, "_path", b"/"))
        self.body_limit = body_limit(path)
        if length is not None and length > self.body_limit:
            self.content = BytesIO()
            # Twisted answers `Expect: 100-continue` right after this call: not to a refused request.
            self.requestHeaders.removeHeader(b"Expect")
            self._refuse(path, declared=length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.body_refused:
            return
        self.body_received += len(data)
        if self.body_limit is not None and self.body_received > self.body_limit:
            self._refuse(request_target_path(getattr(self.channel, "_path", b"/")), declared=None)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.body_refused:
            return  # answered already; the application never sees this request
        if getattr(self.channel.factory.server, "draining", False):
            self.last_on_connection()
        super().requestReceived(command, path, version)

    def last_on_connection(self) -> None:
        """Served, but the last on this connection (the server is shutting down): the client opens its next one
        elsewhere."""
        if self.channel is not None:
            self.channel.persistent = False
        if not self.startedWriting:
            self.responseHeaders.setRawHeaders(b"Connection", [b"close"])

    def _refuse(self, path: str, *, declared: int | None) -> None:
        self.body_refused = True
        channel = self.channel
        transport = channel.transport
        logger.info(
            "request",
            extra={
                "fields": {
                    "method": getattr(channel, "_command", b"").decode("ascii", "replace"),
                    "path": _loggable(path),
                    "status": 413,
                    "limit": self.body_limit,
                    "declared_length": declared,
                    "received": self.body_received,
                }
            },
        )
        # From now on the connection only drops what arrives: no parsing, no storing, no application.
        lingered = {"bytes": 0}

        def drop(data: bytes) -> None:
            lingered["bytes"] += len(data)
            if lingered["bytes"] > LINGER_BYTES:
                transport.abortConnection()

        channel.dataReceived = drop
        channel.rawDataReceived = drop
        channel.lineReceived = drop
        channel.setTimeout(None)
        transport.write(TOO_LARGE_RESPONSE)
        close_write = getattr(transport, "loseWriteConnection", None)
        if close_write is not None:
            close_write()  # the answer, then end of stream: the client stops sending and reads it
        else:
            transport.loseConnection()
        abort = reactor.callLater(LINGER_SECONDS, _abort, transport)
        lost = channel.connectionLost

        def connection_lost(reason):
            if abort.active():
                abort.cancel()
            lost(reason)

        channel.connectionLost = connection_lost


def _abort(transport) -> None:
    if getattr(transport, "connected", False):
        transport.abortConnection()


def _loggable(path: str) -> str:
    return loggable_path(types.SimpleNamespace(path=path))


class BodyLimitHTTPFactory(HTTPFactory):
    def __init__(self, server):
        super().__init__(server)
        self.channels = weakref.WeakSet()  # open HTTP connections, for closing the idle ones at shutdown

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BodyLimitRequest
        # Twisted wraps the HTTPChannel (`_GenericHTTPChannelProtocol`, for HTTP/2 negotiation): the channel is kept.
        self.channels.add(getattr(protocol, "_channel", protocol))
        return protocol


class BodyLimitServer(Server):
    """Daphne's server whose HTTP connections make `BodyLimitRequest`s.

    `Server.run` builds its factory inline (`self.http_factory = HTTPFactory(self)`) before listening: the
    assignment is taken over here, so the rest of `run` (endpoints, WebSocket factory, timeouts) stays Daphne's.
    """

    @property
    def http_factory(self):
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory):
        self._http_factory = factory if isinstance(factory, BodyLimitHTTPFactory) else BodyLimitHTTPFactory(self)


class GracefulServer(BodyLimitServer):
    """`BodyLimitServer` that drains before Daphne's own shutdown (which cancels every application at once).

    Daphne registers `kill_all_applications` as a "before shutdown" trigger of the reactor (SIGTERM and SIGINT stop
    the reactor); the Deferred returned here holds the shutdown until the drain is over, then runs Daphne's.
    """

    draining = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ports = []

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def kill_all_applications(self):
        drained = defer.ensureDeferred(self.drain(settings.SHUTDOWN_GRACE_SECONDS))
        drained.addErrback(lambda failure: server_logger.error("drain failed: %s", failure.getErrorMessage()))
        drained.addCallback(lambda _: super(GracefulServer, self).kill_all_applications())
        return drained

    async def drain(self, grace: float) -> None:
        self.draining = True
        deadline = time.monotonic() + grace
        for port in self.ports:
            await defer.maybeDeferred(port.stopListening)
        self.ports = []
        in_flight = len(self._busy())
        for protocol in list(self.connections):
            if isinstance(protocol, BodyLimitRequest) and not protocol.finished:
                protocol.last_on_connection()
        server_logger.info("shutting down", extra={"fields": {"in_flight": in_flight, "grace": grace}})
        while True:
            self._close_sockets()
            self._close_idle_connections()
            busy = self._busy()
            if not busy or time.monotonic() >= deadline:
                break
            await task.deferLater(reactor, DRAIN_POLL_SECONDS, lambda: None)
        fields = {"unfinished": len(busy), "in_flight": in_flight}
        if busy:
            server_logger.warning("shutdown grace over; cancelling what is left", extra={"fields": fields})
        else:
            server_logger.info("drained", extra={"fields": fields})

    def _busy(self) -> list:
        """Connections still open (a request in flight, a socket not closed yet) or whose application still runs
        (a consumer's disconnect handler)."""
        busy = []
        for protocol, details in list(self.connections.items()):
            instance = details.get("application_instance")
            if "disconnected" not in details or (instance is not None and not instance.done()):
                busy.append(protocol)
        return busy

    def _close_sockets(self) -> None:
        for protocol in list(self.connections):
            if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN:
                # Autobahn's public `sendClose` takes only 1000 and 3000-4999; the frame itself allows 1012.
                protocol.sendCloseFrame(code=SERVICE_RESTART, reasonUtf8=b"service restart")

    def _close_idle_connections(self) -> None:
        for channel in list(self.http_factory.channels):
            transport = getattr(channel, "transport", None)
            if transport is None or getattr(channel, "requests", True) or not getattr(transport, "connected", False):
                continue
            if getattr(transport, "protocol", channel) is not channel:
                continue  # handed over to a WebSocket
            transport.loseConnection()


class CommandLine(CommandLineInterface):
    description = "Daphne with the project's per-route body limits and a graceful shutdown (config/server.py)."
    server_class = GracefulServer

    def run(self, args):
        super().run(args)
        # The reactor stopped. A synchronous view still running past the grace holds a thread of the executor,
        # which the interpreter would wait for at exit: the process ends now instead (status 0, as a drain).
        stuck = [
            thread for thread in threading.enumerate() if thread is not threading.main_thread() and not thread.daemon
        ]
        if stuck and getattr(self.server, "draining", False):
            server_logger.warning("exiting with threads still running", extra={"fields": {"threads": len(stuck)}})
            logging.shutdown()
            os._exit(0)


if __name__ == "__main__":
    CommandLine.entrypoint()
