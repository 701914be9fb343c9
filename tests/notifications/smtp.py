"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread): the `smtp_server` fixture of tests/conftest.py points
Django's SMTP backend at it. Nothing of ours is patched: the email job speaks SMTP to it over a socket."""

import email
import random
import socket
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

PORTS = range(27000, 28000)  # this helper's ports (helper 7: 27000-27999)


def free_port() -> int:
    """A port of PORTS nobody listens on (bound and released: the server binds it right after)."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 27000-27999")


class _Handler:
    def __init__(self, server: "FakeSmtp"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refused = self.server.refuse_recipients.get(address)
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.server.lock:
            planned = self.server.script.pop(0) if self.server.script else None
            if planned:
                self.server.refused += 1
                return planned
            self.server.messages.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(envelope.content, policy=default_policy),
                )
            )
            self.server.delivered.notify_all()
        return "250 Message accepted for delivery"


class FakeSmtp:
    """`messages`: (mail from, recipients, parsed EmailMessage) as received. `script`: replies to give DATA instead
    of accepting (e.g. "451 4.3.0 try later"), consumed in order; `refuse_recipients`: {address: reply} for RCPT."""

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered = threading.Condition(self.lock)
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.script: list[str] = []
        self.refuse_recipients: dict[str, str] = {}
        self.refused = 0
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "FakeSmtp":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for _, recipients, message in self.messages if address in recipients]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
