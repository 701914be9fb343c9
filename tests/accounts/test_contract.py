"""The error contract of docs/api.md on every accounts endpoint: 401, 405, 413, 415 and malformed JSON."""

import json

import pytest

from tests.accounts.factories import AdminFactory, StudentFactory

pytestmark = pytest.mark.django_db

# (method, path) of every endpoint that reads a JSON body; `{id}` is a student's id.
BODY_ENDPOINTS = [
    ("post", "/api/auth/login/"),
    ("patch", "/api/profile/me/"),
    ("post", "/api/profile/me/password/"),
    ("post", "/api/admin/users/"),
    ("patch", "/api/admin/users/{id}/"),
]
ALL_ENDPOINTS = [
    *BODY_ENDPOINTS,
    ("post", "/api/auth/logout/"),
    ("post", "/api/auth/logout-all/"),
    ("get", "/api/profile/me/"),
    ("get", "/api/admin/users/"),
    ("get", "/api/admin/users/{id}/"),
    ("delete", "/api/admin/users/{id}/"),
    ("post", "/api/admin/users/{id}/reset-password/"),
]
WRONG_METHODS = [
    ("put", "/api/auth/login/"),
    ("get", "/api/auth/logout/"),
    ("delete", "/api/auth/logout-all/"),
    ("post", "/api/profile/me/"),
    ("get", "/api/profile/me/password/"),
    ("delete", "/api/admin/users/"),
    ("put", "/api/admin/users/{id}/"),
    ("get", "/api/admin/users/{id}/reset-password/"),
]


@pytest.fixture
def admin_client(make_client):
    return make_client(AdminFactory())


@pytest.fixture
def target():
    return StudentFactory()


def call(client, method, path, target, **kwargs):
    return getattr(client, method)(path.format(id=target.pk), **kwargs)


def assert_error(response, status, code):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["code"] == code
    assert set(body) <= {"detail", "code", "fields"}
    assert response["X-Request-ID"]


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS)
def test_plain_text_body_is_415(admin_client, target, method, path):
    response = call(admin_client, method, path, target, data="email=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS)
def test_malformed_json_is_400(admin_client, target, method, path):
    response = call(admin_client, method, path, target, data='{"email": ', content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("method, path", [endpoint for endpoint in ALL_ENDPOINTS if endpoint[0] != "get"])
def test_body_over_the_limit_is_413(admin_client, target, settings, method, path):
    settings.REQUEST_MAX_BODY_SIZE = 512
    body = json.dumps({"first_name": "x" * 600})
    response = call(admin_client, method, path, target, data=body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


@pytest.mark.parametrize("method, path", [endpoint for endpoint in ALL_ENDPOINTS if "login" not in endpoint[1]])
def test_anonymous_is_401(api_client, target, method, path):
    response = call(api_client, method, path, target, data={}, format="json")
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("method, path", WRONG_METHODS)
def test_wrong_method_is_405(admin_client, target, method, path):
    response = call(admin_client, method, path, target, data={}, format="json")
    assert_error(response, 405, "method_not_allowed")
