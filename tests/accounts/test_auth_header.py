"""The Authorization header: `Bearer <token>` (canonical) and `Token <token>`, and a clear 401 for everything else."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from core import caching
from tests.accounts.factories import DEFAULT_PASSWORD, StudentFactory, TeacherFactory
from tests.config.test_asgi_handler import _asgi

pytestmark = pytest.mark.django_db

ME = "/api/profile/me/"
LOGOUT = "/api/auth/logout/"
LOGIN = "/api/auth/login/"
EXPECTED = "Send 'Authorization: Bearer <token>'."
CHALLENGE = 'Bearer realm="api"'


def get_with(header: str | None, path: str = ME):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.get(path)


def assert_401(response, code: str) -> dict:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    return body


@pytest.fixture
def token():
    user = TeacherFactory()
    _, key = AuthToken.objects.create(user=user)
    return key


@pytest.mark.parametrize(
    "template",
    [
        "Bearer {}",
        "bearer {}",
        "BEARER {}",
        "Token {}",
        "token {}",
        "TOKEN {}",
        "Bearer   {}",  # several spaces between scheme and token (RFC 7235: 1*SP)
        "  Bearer {}  ",
        "Bearer\t{}",
    ],
)
def test_bearer_and_token_schemes_any_case_authenticate(token, template):
    response = get_with(template.format(token))

    assert response.status_code == 200
    assert response.json()["email"]


def test_bearer_costs_the_same_single_query_as_token(token, django_assert_num_queries):
    # /api/profile/me/ of a teacher: the token with its user (1), then, cold, the teacher's profile and subjects
    # (2); warm, the profile comes from the cache (core/caching.py).
    for scheme in ("Bearer", "Token"):
        with django_assert_num_queries(3):
            assert get_with(f"{scheme} {token}").status_code == 200
        with django_assert_num_queries(1):
            assert get_with(f"{scheme} {token}").status_code == 200
        caching.invalidate(caching.PEOPLE)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("Basic dXNlcjpwYXNz", "Unsupported authorization scheme."),
        ("JWT eyJhbGciOiJIUzI1NiJ9.e30.x", "Unsupported authorization scheme."),
        ("Digest username=x", "Unsupported authorization scheme."),
        ("Bearer", "No token after the scheme."),
        ("Token", "No token after the scheme."),
        ("bearer   ", "No token after the scheme."),
        ("Bearer abc def", "The token may not contain spaces."),
        ("Token a b", "The token may not contain spaces."),
        ("Bearer " + "é" * 10, "The Authorization header may hold ASCII characters only."),
        ("Tökén abc", "The Authorization header may hold ASCII characters only."),
        ("", "The Authorization header is empty."),
        ("   ", "The Authorization header is empty."),
        ("0123456789abcdef", "Unsupported authorization scheme."),  # a bare token without a scheme
    ],
)
def test_other_schemes_and_malformed_headers_are_invalid_auth_header(header, problem, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = get_with(header)

    body = assert_401(response, "invalid_auth_header")
    assert body["detail"] == f"{problem} {EXPECTED}"


def test_no_header_is_not_authenticated():
    assert_401(get_with(None), "not_authenticated")


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
@pytest.mark.parametrize("value", ["00" * 32, "zz" * 32, "abc"])
def test_unknown_token_is_authentication_failed(scheme, value):
    StudentFactory()
    body = assert_401(get_with(f"{scheme} {value}"), "authentication_failed")
    assert body["detail"] == "Invalid token."


def test_expired_token_is_authentication_failed_with_either_scheme(token):
    AuthToken.objects.filter(digest=hash_token(token)).update(expiry=timezone.now() - timedelta(seconds=1))

    assert_401(get_with(f"Bearer {token}"), "authentication_failed")
    assert not AuthToken.objects.filter(digest=hash_token(token)).exists()  # deleted when presented, as knox does
    assert_401(get_with(f"Token {token}"), "authentication_failed")


def test_revoked_token_is_authentication_failed(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(LOGOUT).status_code == 204

    assert_401(client.get(ME), "authentication_failed")


def test_a_request_with_an_invalid_header_changes_nothing(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    assert_401(client.post(LOGOUT), "invalid_auth_header")

    assert AuthToken.objects.filter(digest=hash_token(token)).exists()
    assert get_with(f"Bearer {token}").status_code == 200


def test_public_endpoints_do_not_read_the_header(api_client):
    student = StudentFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    response = api_client.post(LOGIN, {"email": student.email, "password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 200
    assert api_client.get("/api/health/").status_code == 200


def test_the_login_token_works_as_bearer(api_client):
    student = StudentFactory()
    key = api_client.post(LOGIN, {"email": student.email, "password": DEFAULT_PASSWORD}, format="json").json()["token"]

    response = get_with(f"Bearer {key}")

    assert response.status_code == 200
    assert response.json()["id"] == student.pk


def test_openapi_security_scheme_is_http_bearer():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    (scheme,) = schema["components"]["securitySchemes"].values()
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert "Authorization: Bearer <token>" in scheme["description"]
    assert "Authorization: Token <token>" in scheme["description"]
    secured = schema["paths"]["/api/profile/me/"]["get"]["security"]
    assert secured == [{name: []} for name in schema["components"]["securitySchemes"]]


@pytest.mark.django_db(transaction=True)
def test_over_asgi_raw_header_bytes(token):
    """Through the ASGI application as Daphne calls it: bearer works, raw non-ASCII bytes are a clear 401."""
    start, _ = _asgi(ME, [(b"authorization", f"bearer {token}".encode())])
    assert start["status"] == 200

    start, body = _asgi(ME, [(b"authorization", b"Bearer \xc3\xa9\xff")])
    assert start["status"] == 401
    assert json.loads(body)["code"] == "invalid_auth_header"
    assert (b"www-authenticate", CHALLENGE.encode()) in [(name.lower(), value) for name, value in start["headers"]]
