"""Per-route body limits (config/body_limits.py): decided from the path alone, kept by the ASGI guard under any server
and by the Django middleware. The server process itself is proven in tests/config/test_body_limits_server.py."""

import json
import re
from operator import attrgetter
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator

from config import server
from config.body_limits import BodyLimitGuard, body_limit, declared_length
from config.server import request_target_path

ROOT = Path(__file__).resolve().parents[2]
KiB, MiB = 1024, 1024 * 1024


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        ("/api/auth/login/", "LOGIN_MAX_BODY_SIZE"),
        ("/api/auth/login", "LOGIN_MAX_BODY_SIZE"),
        ("/admin/login/", "LOGIN_MAX_BODY_SIZE"),
        ("/api/invoices/payments/webhook/", "WEBHOOK_MAX_BODY_SIZE"),
        ("/api/telegram/webhook/", "WEBHOOK_MAX_BODY_SIZE"),
        ("/api/materials/", "REQUEST_MAX_BODY_SIZE"),
        ("/api/materials/12/", "REQUEST_MAX_BODY_SIZE"),
        ("/api/assignments/3/submissions/", "REQUEST_MAX_BODY_SIZE"),
        ("/api/assignments/3/attachments/", "REQUEST_MAX_BODY_SIZE"),
        ("/api/chat/rooms/7/messages/", "REQUEST_MAX_BODY_SIZE"),
        ("/admin/materials/material/1/change/", "REQUEST_MAX_BODY_SIZE"),
        ("/api/materials/subjects/", "JSON_MAX_BODY_SIZE"),
        ("/api/materials/12/publish/", "JSON_MAX_BODY_SIZE"),
        ("/api/scheduling/lessons/", "JSON_MAX_BODY_SIZE"),
        ("/api/profile/me/", "JSON_MAX_BODY_SIZE"),
        ("/api/chat/messages/4/", "JSON_MAX_BODY_SIZE"),
        ("/nowhere", "JSON_MAX_BODY_SIZE"),
    ],
)
def test_each_route_has_its_limit(settings, path, setting):
    assert body_limit(path) == attrgetter(setting)(settings)


def test_the_defaults_are_small_except_on_uploads(settings):
    defaults = (settings.LOGIN_MAX_BODY_SIZE, settings.WEBHOOK_MAX_BODY_SIZE, settings.JSON_MAX_BODY_SIZE)
    uploads = settings.UPLOAD_MAX_FILE_SIZE + MiB
    assert defaults == (4 * KiB, 64 * KiB, MiB)
    assert uploads == settings.REQUEST_MAX_BODY_SIZE


def test_no_route_passes_the_overall_cap(settings):
    settings.REQUEST_MAX_BODY_SIZE = 100
    assert {body_limit(path) for path in ("/api/auth/login/", "/api/materials/", "/api/profile/me/")} == {100}


@pytest.mark.parametrize(
    ("value", "length"),
    [
        (b"12", 12),
        (" 7 ", 7),
        (None, None),
        (b"", None),
        (b"-1", None),
        (b"1e9", None),
        ("²", None),
        (b"9" * 40, 2**63),
    ],
)
def test_declared_length_is_read_with_bounds(value, length):
    assert declared_length(value) == length


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"/api/auth/login/?next=/x", "/api/auth/login/"),
        (b"/api/auth/%6Cogin/", "/api/auth/login/"),
        (b"http://example.com/api/telegram/webhook/", "/api/telegram/webhook/"),
        (b"/\xff", "/"),
    ],
)
def test_the_server_reads_the_path_like_daphnes_scope(target, path):
    assert request_target_path(target) == path


def test_written_for_the_pinned_daphne_and_twisted():
    """config/server.py hooks into daphne's and Twisted's internals: a moved pin must be reviewed there first."""
    import daphne
    import twisted

    pins = dict(re.findall(r"^(daphne|twisted)==([\w.]+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE))
    assert pins == {"daphne": server.DAPHNE_VERSION, "twisted": server.TWISTED_VERSION}
    assert (daphne.__version__, twisted.__version__) == (server.DAPHNE_VERSION, server.TWISTED_VERSION)


# --- The ASGI guard, in front of an application that records what it was given ------------------------------------
class Recorder:
    def __init__(self):
        self.body = b""
        self.called = False

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})


def _scope(path: str, headers=()):
    return {"type": "http", "method": "POST", "path": path, "headers": list(headers)}


async def _answer(communicator) -> tuple[int, bytes]:
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    return start["status"], body["body"]


@pytest.mark.anyio
async def test_the_guard_refuses_a_declared_length_before_the_application_runs():
    app = Recorder()
    communicator = ApplicationCommunicator(
        BodyLimitGuard(app), _scope("/api/auth/login/", [(b"content-length", b"2000000")])
    )
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": True})
    status, body = await _answer(communicator)
    assert (status, json.loads(body)["code"]) == (413, "request_too_large")
    assert not app.called
    await communicator.wait(5)


@pytest.mark.anyio
async def test_the_guard_counts_streamed_bytes_and_cuts_the_body_off():
    app = Recorder()
    communicator = ApplicationCommunicator(BodyLimitGuard(app), _scope("/api/telegram/webhook/"))
    for _ in range(3):
        await communicator.send_input({"type": "http.request", "body": b"x" * 30 * KiB, "more_body": True})
    status, body = await _answer(communicator)
    assert (status, json.loads(body)["code"]) == (413, "request_too_large")
    await communicator.wait(5)
    assert len(app.body) <= 64 * KiB  # the application got no more than the limit, and sent nothing


@pytest.mark.anyio
async def test_the_guard_lets_a_body_under_the_limit_through():
    app = Recorder()
    communicator = ApplicationCommunicator(BodyLimitGuard(app), _scope("/api/auth/login/"))
    await communicator.send_input({"type": "http.request", "body": b"x" * 3000, "more_body": True})
    await communicator.send_input({"type": "http.request", "body": b"x" * 1000})
    assert await _answer(communicator) == (200, b"served")
    assert len(app.body) == 4000


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_django_refuses_a_declared_body_over_the_login_limit(api_client):
    response = api_client.post("/api/auth/login/", {"email": "a@b.c", "password": "x" * 5000}, format="json")
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
