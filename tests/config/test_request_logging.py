"""One log line per request at a level that follows the answer: INFO for 2xx-4xx (expected client errors), WARNING
for a deliberate 503, ERROR only for an unexpected failure (with its traceback on a line of its own); Django's own
per-response lines are not repeated; a suspicious request (bad Host) is a WARNING, not an ERROR."""

import io
import json
import logging

import pytest
from django.test import Client, override_settings

from config.logging import JsonFormatter
from config.middleware import response_log_level
from tests.accounts.factories import ParentFactory
from tests.config.urls_boom import SECRET_IN_TRACEBACK
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(caplog):
    """The log records of one request, as {request_id: [records]}; everything from INFO up."""
    caplog.set_level(logging.INFO)

    def of(request_id: str) -> list[logging.LogRecord]:
        return [record for record in caplog.records if getattr(record, "request_id", None) == request_id]

    return of


def request_line(records: list[logging.LogRecord]) -> logging.LogRecord:
    lines = [record for record in records if record.name == "thebot.requests"]
    assert len(lines) == 1, [record.getMessage() for record in records]
    return lines[0]


def test_levels_follow_the_status():
    assert [response_log_level(status) for status in (200, 302, 400, 401, 404, 429)] == [logging.INFO] * 6
    assert response_log_level(503) == logging.WARNING
    assert [response_log_level(status) for status in (500, 502, 504)] == [logging.ERROR] * 3


def test_404_is_one_info_line(api_client, records):
    api_client.get("/api/nothing-here/", HTTP_X_REQUEST_ID="log-404")

    logged = records("log-404")
    line = request_line(logged)
    assert (line.levelno, line.fields["status"], line.fields["path"]) == (logging.INFO, 404, "/api/nothing-here/")
    assert [record.name for record in logged] == ["thebot.requests"]  # no "Not Found: ..." from django.request


def test_400_is_one_info_line(api_client, records):
    api_client.post("/api/auth/login/", {"email": "not-an-address"}, format="json", HTTP_X_REQUEST_ID="log-400")

    logged = records("log-400")
    line = request_line(logged)
    assert (line.levelno, line.fields["status"], line.fields["method"]) == (logging.INFO, 400, "POST")
    assert max(record.levelno for record in logged) == logging.INFO


def test_deliberate_503_payments_not_configured_is_a_warning(make_client, settings, records):
    settings.PAYMENT_SHOP_ID = ""
    invoice = invoice_in("sent")

    response = make_client(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/", HTTP_X_REQUEST_ID="log-503")

    assert (response.status_code, response.json()["code"]) == (503, "payments_not_configured")
    logged = records("log-503")
    line = request_line(logged)
    assert (line.levelno, line.fields["status"], line.fields["user_id"]) == (logging.WARNING, 503, invoice.parent.pk)
    assert max(record.levelno for record in logged) == logging.WARNING  # no "Service Unavailable" ERROR


def test_readiness_failing_is_a_warning(api_client, records):
    broken_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with override_settings(CACHES=broken_cache):  # port 1 on loopback refuses at once
        response = api_client.get("/api/health/ready/", HTTP_X_REQUEST_ID="log-ready")

    assert response.status_code == 503
    logged = records("log-ready")
    assert request_line(logged).levelno == logging.WARNING
    assert max(record.levelno for record in logged) == logging.WARNING


@pytest.mark.urls("tests.config.urls_boom")
@pytest.mark.parametrize("path", ["/api/test-boom/drf/", "/api/test-boom/django/"])
def test_real_500_is_an_error_with_its_traceback(path, records):
    Client(raise_request_exception=False).get(path, HTTP_X_REQUEST_ID="log-500")

    logged = records("log-500")
    line = request_line(logged)
    assert (line.levelno, line.fields["status"]) == (logging.ERROR, 500)
    tracebacks = [record for record in logged if record.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].levelno == logging.ERROR
    assert SECRET_IN_TRACEBACK in JsonFormatter().format(tracebacks[0])
    assert len(logged) == 2


@pytest.fixture
def console():
    """What the configured console handler writes (the process's real log output), as parsed JSON lines."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    handler.setStream(previous)


def test_output_has_one_json_line_per_request_and_no_error_for_client_errors(api_client, console):
    api_client.get("/api/nothing-here/", HTTP_X_REQUEST_ID="out-404")
    api_client.get("/api/profile/me/", HTTP_X_REQUEST_ID="out-401")
    # A Host outside ALLOWED_HOSTS: Django answers 400 and logs django.security.DisallowedHost at ERROR.
    Client().get("/api/profile/me/", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="out-host")

    lines = console()
    assert [(line["request_id"], line["status"], line["level"]) for line in lines if line["message"] == "request"] == [
        ("out-404", 404, "INFO"),
        ("out-401", 401, "INFO"),
        ("out-host", 400, "INFO"),
    ]
    host = [line for line in lines if line["logger"] == "django.security.DisallowedHost"]
    assert len(host) == 1 and host[0]["level"] == "WARNING" and "evil.example" in host[0]["message"]
    assert "exception" not in host[0]
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
    assert all(line["time"].endswith("+00:00") for line in lines)


def test_output_of_a_deliberate_503_has_no_error_line(make_client, console):
    parent = ParentFactory()
    make_client(parent).post("/api/profile/me/telegram/", HTTP_X_REQUEST_ID="out-503")  # Telegram not configured

    lines = console()
    assert [(line["status"], line["level"]) for line in lines if line["message"] == "request"] == [(503, "WARNING")]
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
