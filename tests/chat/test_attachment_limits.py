"""Chat attachments are uploads like any other: a send with a file (multipart) is under the `uploads` throttle scope,
and the bytes of one user's attachments are limited per day (`CHAT_ATTACHMENT_BYTES_PER_DAY`), counted atomically in
the cache before a file is stored and given back when the send stores nothing. The send endpoint parses JSON with the
project's bounded parser."""

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from knox.models import AuthToken

from chat.models import Message
from config.throttling import ScopedRateThrottle
from tests.accounts.factories import StudentFactory
from tests.chat.factories import group_room
from tests.parallel import at_once, live_server_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(student, teacher):
    return group_room(teacher, student)


def url(room) -> str:
    return f"/api/chat/rooms/{room.pk}/messages/"


def _file(size: int, name: str = "notes.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"n" * (size - 1) + b"\n", content_type="text/plain")


def _send(client, room, client_id: str, size: int):
    return client.post(url(room), {"client_id": client_id, "attachment": _file(size)}, format="multipart")


def test_a_send_with_a_file_is_under_the_uploads_throttle(make_client, room, student, settings, monkeypatch):
    # DRF binds the rates to the throttle class when it is imported, so the override goes there.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "uploads": "3/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    client = make_client(student)
    assert [_send(client, room, f"f{n}", 12).status_code for n in range(3)] == [201, 201, 201]
    refused = _send(client, room, "f3", 12)
    assert (refused.status_code, refused.json()["code"]) == (429, "throttled")
    assert int(refused["Retry-After"]) > 0
    # A text message (JSON) is no upload: still sent.
    assert client.post(url(room), {"client_id": "t", "text": "hi"}, format="json").status_code == 201
    assert Message.objects.filter(sender=student).exclude(attachment="").count() == 3


def test_attachments_are_limited_in_bytes_per_day_and_refused_sends_cost_nothing(
    make_client, room, student, teacher, settings
):
    settings.CHAT_ATTACHMENT_BYTES_PER_DAY = 30
    client = make_client(student)
    assert _send(client, room, "a", 12).status_code == 201  # 12 of 30
    assert _send(client, room, "a", 12).status_code == 200  # the same send again stores nothing new: still 12
    fake = SimpleUploadedFile("evil.pdf", b"plain text pretending", content_type="application/pdf")
    assert client.post(url(room), {"client_id": "x", "attachment": fake}, format="multipart").status_code == 400
    foreign = group_room(StudentFactory(), StudentFactory())
    assert _send(client, foreign, "y", 12).status_code == 404  # refused by the service: given back
    assert _send(client, room, "b", 12).status_code == 201  # 24 of 30

    over = _send(client, room, "c", 12)
    assert over.status_code == 429
    body = over.json()
    assert body["code"] == "attachment_quota_exceeded"
    assert "30 bytes a day" in body["detail"]
    assert 1 <= int(over["Retry-After"]) <= 24 * 3600
    assert not Message.objects.filter(client_id="c").exists()

    assert _send(client, room, "d", 6).status_code == 201  # exactly 30: the refused 12 were not counted
    assert _send(client, room, "e", 3).status_code == 429
    # Text is not limited by it, and another user has their own allowance.
    assert client.post(url(room), {"client_id": "t", "text": "hi"}, format="json").status_code == 201
    assert _send(make_client(teacher), room, "t1", 30).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_parallel_attachments_never_exceed_the_daily_bytes(room, student, settings):
    settings.CHAT_ATTACHMENT_BYTES_PER_DAY = 50
    _, token = AuthToken.objects.create(user=student)
    counter = iter(range(100))

    with live_server_url() as server:

        def send() -> int:
            with httpx.Client(base_url=server, headers={"Authorization": f"Token {token}"}, timeout=120) as client:
                files = {"attachment": ("notes.txt", b"n" * 9 + b"\n", "text/plain")}
                return client.post(url(room), data={"client_id": f"p{next(counter)}"}, files=files).status_code

        statuses = at_once(12, send)

    assert (statuses.count(201), statuses.count(429)) == (5, 7), statuses
    assert Message.objects.filter(sender=student).exclude(attachment="").count() == 5


@pytest.mark.parametrize("depth", [33, 10_000])
def test_send_refuses_deeply_nested_json_with_a_400(make_client, room, student, depth):
    body = '{"client_id": "deep", "text": "x", "extra": ' + "[" * depth + "]" * depth + "}"
    response = make_client(student).post(url(room), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Message.objects.exists()
