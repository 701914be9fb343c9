"""A chat socket for a locust user: a ticket from `POST /api/chat/ws-ticket/`, one real WebSocket to
`/ws/chat/?ticket=`, `message.send` frames with a `client_id`, and two timings reported as locust request events
of type "WS": send→ack (the server stored the message and answered this socket) and send→delivery (the
`message.new` broadcast came back through the channel layer to this very socket, as to every member's).

Locust monkey-patches the standard library with gevent, so `websocket-client`'s blocking socket yields; a
greenlet reads frames and matches them to pending sends by `client_id`.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import gevent
import websocket

ACK_TIMEOUT_SECONDS = 10.0


class ChatSocket:
    def __init__(self, user, ws_url: str):
        self.user = user
        self.environment = user.environment
        self.ws_url = ws_url
        self.socket: websocket.WebSocket | None = None
        self.reader = None
        self.pending_ack: dict[str, float] = {}
        self.pending_delivery: dict[str, float] = {}
        self.closed = False

    # --- events -------------------------------------------------------------------------------------------
    def _fire(self, name: str, started: float, length: int = 0, exception: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )

    # --- connection ---------------------------------------------------------------------------------------
    def connect(self, ticket: str) -> bool:
        started = time.perf_counter()
        try:
            self.socket = websocket.create_connection(f"{self.ws_url}/ws/chat/?ticket={ticket}", timeout=10)
        except Exception as error:  # noqa: BLE001 - any connection failure is a reported failure
            self._fire("ws connect", started, exception=error)
            return False
        self._fire("ws connect", started)
        self.reader = gevent.spawn(self._read_loop)
        return True

    def close(self) -> None:
        self.closed = True
        if self.socket is not None:
            with contextlib.suppress(Exception):  # closing a dead socket is fine
                self.socket.close()
        if self.reader is not None:
            self.reader.kill(block=False)

    def _read_loop(self) -> None:
        while not self.closed:
            try:
                text = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as error:  # noqa: BLE001
                if not self.closed:
                    self._fire("ws closed", time.perf_counter(), exception=error)
                    self.closed = True
                return
            if not text:
                continue
            self._on_frame(text)

    def _on_frame(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            return
        kind = frame.get("type")
        if kind == "ack":
            started = self.pending_ack.pop(frame.get("client_id"), None)
            if started is not None:
                self._fire("message.send → ack", started, len(text))
        elif kind == "message.new":
            message = frame.get("message") or {}
            started = self.pending_delivery.pop(message.get("client_id"), None)
            if started is not None and (message.get("sender") or {}).get("id") == self.user.me.get("id"):
                self._fire("message.send → message.new (delivery)", started, len(text))
        elif kind == "error" and frame.get("client_id"):
            client_id = frame["client_id"]
            started = self.pending_ack.pop(client_id, None)
            self.pending_delivery.pop(client_id, None)
            if started is not None:
                self._fire("message.send → ack", started, len(text), RuntimeError(f"error frame: {frame}"))

    # --- sending ------------------------------------------------------------------------------------------
    def send_message(self, room_id: int, text: str) -> None:
        self.expire_pending()
        if self.closed or self.socket is None:
            return
        client_id = uuid.uuid4().hex
        frame = json.dumps({"type": "message.send", "room": room_id, "text": text, "client_id": client_id})
        started = time.perf_counter()
        self.pending_ack[client_id] = started
        self.pending_delivery[client_id] = started
        try:
            self.socket.send(frame)
        except Exception as error:  # noqa: BLE001
            self.pending_ack.pop(client_id, None)
            self.pending_delivery.pop(client_id, None)
            self._fire("message.send → ack", started, exception=error)

    def expire_pending(self) -> None:
        """Sends unanswered after ACK_TIMEOUT_SECONDS are failures (never silently dropped)."""
        now = time.perf_counter()
        for pending, name in (
            (self.pending_ack, "message.send → ack"),
            (self.pending_delivery, "message.send → message.new (delivery)"),
        ):
            for client_id, started in list(pending.items()):
                if now - started > ACK_TIMEOUT_SECONDS:
                    pending.pop(client_id, None)
                    self._fire(name, started, exception=TimeoutError(f"no answer in {ACK_TIMEOUT_SECONDS:.0f} s"))
