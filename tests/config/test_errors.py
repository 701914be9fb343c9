"""The error contract of docs/api.md for every /api/ response, and X-Request-ID on every response."""

import json
import logging
import re

import pytest
from django.test import Client

from config.logging import JsonFormatter
from tests.accounts.factories import StudentFactory
from tests.config.urls_boom import SECRET_IN_TRACEBACK

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
ME = "/api/profile/me/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "code", "fields"}
    assert response["X-Request-ID"]
    return body


@pytest.mark.parametrize(
    "path", ["/api/nothing-here/", "/api/nothing-here", "/api/admin/nothing/", "/api/profile/me/password/extra/"]
)
def test_unknown_api_path_is_json_404(api_client, path):
    assert_error(api_client.get(path), 404, "not_found")
    assert_error(api_client.post(path, {}, format="json"), 404, "not_found")


def test_unknown_api_path_is_json_404_with_debug_on(api_client, settings):
    settings.DEBUG = True
    assert_error(api_client.get("/api/nothing-here/"), 404, "not_found")


def test_unknown_path_outside_api_is_not_json(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_json_405(api_client, make_client):
    assert_error(api_client.get(LOGIN), 405, "method_not_allowed")
    assert_error(api_client.delete("/api/health/"), 405, "method_not_allowed")
    assert_error(make_client(StudentFactory()).put(ME, {}, format="json"), 405, "method_not_allowed")


def test_malformed_json_is_400_parse_error(api_client, make_client):
    body = assert_error(
        api_client.post(LOGIN, '{"email": "a@b.c", ', content_type="application/json"), 400, "parse_error"
    )
    assert "fields" not in body
    client = make_client(StudentFactory())
    assert_error(client.patch(ME, "{not json}", content_type="application/json"), 400, "parse_error")


def test_json_that_is_not_an_object_is_400(api_client):
    response = api_client.post(LOGIN, "[1, 2]", content_type="application/json")
    assert_error(response, 400, "invalid")


def test_unsupported_media_type_is_json_415(api_client, make_client):
    assert_error(api_client.post(LOGIN, "email=a&password=b", content_type="text/plain"), 415, "unsupported_media_type")
    client = make_client(StudentFactory())
    assert_error(
        client.patch(ME, "<first_name>x</first_name>", content_type="application/xml"), 415, "unsupported_media_type"
    )


def test_form_encoded_login_is_refused(api_client):
    response = api_client.post(LOGIN, "email=a%40b.c&password=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_the_limit_is_json_413_before_it_is_read(api_client, make_client, settings):
    settings.REQUEST_MAX_BODY_SIZE = 1024
    big = json.dumps({"email": "a@b.c", "password": "x" * 2000})
    assert_error(api_client.post(LOGIN, big, content_type="application/json"), 413, "request_too_large")
    client = make_client(StudentFactory())
    assert_error(
        client.patch(ME, json.dumps({"first_name": "y" * 2000}), content_type="application/json"),
        413,
        "request_too_large",
    )
    # Just under the limit is served.
    small = json.dumps({"email": "a@b.c", "password": "x", "padding": "x" * 900})
    assert api_client.post(LOGIN, small, content_type="application/json").status_code == 401


def test_json_body_over_the_in_memory_limit_is_413(api_client, settings):
    """A JSON body is parsed in memory: above DATA_UPLOAD_MAX_MEMORY_SIZE it is refused, not parsed."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = json.dumps({"email": "a@b.c", "password": "x" * 2000})
    assert_error(api_client.post(LOGIN, big, content_type="application/json"), 413, "request_too_large")


def test_validation_errors_have_fields(api_client):
    body = assert_error(api_client.post(LOGIN, {}, format="json"), 400, "invalid")
    assert body["fields"] == {"email": ["This field is required."], "password": ["This field is required."]}


def test_401_carries_www_authenticate(api_client):
    response = api_client.get(ME)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.urls("tests.config.urls_boom")
@pytest.mark.parametrize("path", ["/api/test-boom/drf/", "/api/test-boom/django/"])
def test_unhandled_exception_is_json_500_without_traceback(path, caplog):
    client = Client(raise_request_exception=False)

    response = client.get(path, HTTP_X_REQUEST_ID="boom-request-1")

    body = assert_error(response, 500, "server_error")
    assert body == {"detail": "Internal server error.", "code": "server_error"}
    text = response.content.decode()
    assert SECRET_IN_TRACEBACK not in text and "Traceback" not in text and "BoomError" not in text
    assert response["X-Request-ID"] == "boom-request-1"
    # Logged with the request id and the traceback (as the JSON formatter writes it), beside the request's line.
    errors = [
        json.loads(JsonFormatter().format(record)) for record in caplog.records if record.levelno >= logging.ERROR
    ]
    tracebacks = [entry for entry in errors if "exception" in entry]
    assert len(tracebacks) == 1, errors
    assert tracebacks[0]["request_id"] == "boom-request-1"
    assert SECRET_IN_TRACEBACK in tracebacks[0]["exception"]
    assert [(entry["logger"], entry["status"]) for entry in errors if "exception" not in entry] == [
        ("thebot.requests", 500)
    ]


@pytest.mark.urls("tests.config.urls_boom")
def test_unhandled_exception_outside_api_is_not_json():
    client = Client(raise_request_exception=False)
    response = client.get("/api-not/test")
    assert response.status_code == 404


def test_request_id_is_echoed_when_valid(api_client):
    response = api_client.get("/api/nothing-here/", HTTP_X_REQUEST_ID="abc-123_DEF.4:5")
    assert response["X-Request-ID"] == "abc-123_DEF.4:5"
    assert api_client.get("/api/health/ready/", HTTP_X_REQUEST_ID="ready-1")["X-Request-ID"] == "ready-1"


@pytest.mark.parametrize("supplied", [None, "", "has space", "x" * 129, "new\nline", "semi;colon", "é"])
def test_request_id_is_generated_when_missing_or_invalid(api_client, supplied):
    headers = {} if supplied is None else {"HTTP_X_REQUEST_ID": supplied}
    first = api_client.get(ME, **headers)["X-Request-ID"]
    second = api_client.get(ME, **headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_request_id_on_non_api_and_admin_responses(client):
    assert client.get("/admin/login/")["X-Request-ID"]
    assert client.get("/no-such-page/", HTTP_X_REQUEST_ID="page-1")["X-Request-ID"] == "page-1"


def test_request_is_logged_with_method_path_status_duration_and_user(make_client, caplog):
    student = StudentFactory()
    client = make_client(student)
    caplog.set_level(logging.INFO, logger="thebot.requests")
    client.get(ME, HTTP_X_REQUEST_ID="log-me-1")
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    entry = next(line for line in lines if line["logger"] == "thebot.requests" and line["request_id"] == "log-me-1")
    assert entry["method"] == "GET"
    assert entry["path"] == ME
    assert entry["status"] == 200
    assert entry["user_id"] == student.pk
    assert isinstance(entry["duration_ms"], float | int)
    assert client.token not in json.dumps(lines)


def test_cors_allows_only_configured_origins(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.test"]
    allowed = api_client.options(
        LOGIN, HTTP_ORIGIN="https://app.example.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.test"
    other = api_client.options(
        LOGIN, HTTP_ORIGIN="https://evil.example.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
def test_json_nested_too_deeply_is_400_not_500(api_client, settings, depth):
    settings.LOGIN_MAX_BODY_SIZE = 1024 * 1024  # the parser's own bound, behind the login's body limit
    body = "[" * depth + "]" * depth
    assert_error(api_client.post(LOGIN, body, content_type="application/json"), 400, "parse_error")


def test_json_nested_within_the_bound_is_parsed(api_client):
    nested = "[" * 30 + "]" * 30
    body = '{"email": "a@b.c", "password": "x", "extra": ' + nested + "}"
    assert api_client.post(LOGIN, body, content_type="application/json").status_code == 401
