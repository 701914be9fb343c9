"""No secret that travels in a URL reaches the log: the calendar feed's secret (in its path) is written as
`/api/scheduling/feed/<redacted>.ics`, a route's `secret`/`token`/… path parameter as `<redacted>`, and query strings
(WebSocket tickets, any `?token=`) are never logged. Checked on what the configured console handler really writes
and on the records themselves."""

import io
import json
import logging

import pytest
from django.test import Client

from config.logging import JsonFormatter
from tests.config.urls_boom import SECRET_IN_TRACEBACK

pytestmark = pytest.mark.django_db

FEED_REDACTED = "/api/scheduling/feed/<redacted>.ics"


@pytest.fixture
def console():
    """Everything the configured console handler writes during the test, as raw text."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer.getvalue
    handler.setStream(previous)


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _feed_path(make_client, student) -> str:
    url = make_client(student).get("/api/scheduling/calendar/").json()["url"]
    return url.removeprefix("http://testserver")


def test_the_calendar_feed_secret_is_redacted_from_the_request_line(make_client, api_client, student, console, caplog):
    caplog.set_level(logging.INFO)
    path = _feed_path(make_client, student)
    secret = path.removeprefix("/api/scheduling/feed/").removesuffix(".ics")
    assert len(secret) >= 32

    served = api_client.get(path, HTTP_X_REQUEST_ID="feed-ok")
    unknown = api_client.get("/api/scheduling/feed/" + "ab" * 32 + ".ics", HTTP_X_REQUEST_ID="feed-unknown")
    mistyped = api_client.get(f"/api/scheduling/feed/{secret}x.ics", HTTP_X_REQUEST_ID="feed-mistyped")
    assert (served.status_code, unknown.status_code, mistyped.status_code) == (200, 404, 404)

    output = console()
    assert secret not in output and "ab" * 32 not in output
    by_id = {line["request_id"]: line for line in _lines(output) if line["logger"] == "thebot.requests"}
    assert {by_id[key]["path"] for key in ("feed-ok", "feed-unknown", "feed-mistyped")} == {FEED_REDACTED}
    assert all(secret not in record.getMessage() and secret not in str(vars(record)) for record in caplog.records)


def test_query_strings_are_never_logged(make_client, student, console):
    client = make_client(student)
    client.get("/api/scheduling/lessons/?token=qs-secret-123&ticket=qs-ticket-456", HTTP_X_REQUEST_ID="qs")
    output = console()
    assert "qs-secret-123" not in output and "qs-ticket-456" not in output
    [line] = [line for line in _lines(output) if line["request_id"] == "qs"]
    assert line["path"] == "/api/scheduling/lessons/"


@pytest.mark.urls("tests.config.urls_boom")
@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/test-boom/drf/path-secret-789/", "/api/test-boom/drf/<redacted>/"),
        ("/api/test-boom/django/path-token-789/", "/api/test-boom/django/<redacted>/"),
    ],
)
def test_a_secret_path_parameter_is_redacted_also_from_a_500s_traceback_lines(path, logged, console):
    response = Client(raise_request_exception=False).get(path, HTTP_X_REQUEST_ID="boom-secret")
    assert response.status_code == 500
    output = console()
    assert "-789" not in output
    lines = [line for line in _lines(output) if line["request_id"] == "boom-secret"]
    assert [line["path"] for line in lines if line["logger"] == "thebot.requests"] == [logged]
    errors = [line for line in lines if line["logger"] != "thebot.requests"]
    assert len(errors) == 1 and SECRET_IN_TRACEBACK in errors[0]["exception"]  # the traceback is kept
    assert logged in json.dumps(errors[0])
