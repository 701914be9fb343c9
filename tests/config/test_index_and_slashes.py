"""`/` is a small JSON index; an API path without its trailing slash is redirected (GET/HEAD) or named (others)."""

import json

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.config.test_asgi_handler import _asgi
from tests.materials.factories import MaterialFactory

pytestmark = pytest.mark.django_db

INDEX = {
    "name": "THE_BOT API",
    "version": settings.SPECTACULAR_SETTINGS["VERSION"],
    "links": {
        "docs": "/api/docs/",
        "schema": "/api/schema/",
        "redoc": "/api/redoc/",
        "health": "/api/health/",
        "admin": "/admin/",
    },
}


def test_index_is_json_for_anyone(api_client):
    response = api_client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == INDEX
    assert response.json()["version"] == "1.0.0"


def test_index_ignores_the_authorization_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert api_client.get("/").json() == INDEX


def test_index_answers_head_without_a_body(api_client):
    response = api_client.head("/")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_index_is_get_and_head_only(api_client, method):
    response = getattr(api_client, method)("/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["code"] == "method_not_allowed"


def test_index_links_lead_somewhere(api_client):
    for name, path in INDEX["links"].items():
        response = api_client.get(path)
        assert response.status_code == (302 if name == "admin" else 200), path  # admin: to its login page


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/materials", "/api/materials/"),
        ("/api/materials?page=2&search=a%20b", "/api/materials/?page=2&search=a%20b"),
        ("/api/materials/subjects", "/api/materials/subjects/"),
        ("/api/materials/12", "/api/materials/12/"),  # resolves with a slash whether or not material 12 exists
        ("/api/profile/me", "/api/profile/me/"),
        ("/api/auth/login", "/api/auth/login/"),
        ("/api/scheduling/lessons", "/api/scheduling/lessons/"),
        ("/api/chat/rooms", "/api/chat/rooms/"),
        ("/api/invoices", "/api/invoices/"),
        ("/api/health", "/api/health/"),
        ("/api/schema", "/api/schema/"),
    ],
)
@pytest.mark.parametrize("method", ["get", "head"])
def test_get_and_head_without_the_slash_are_redirected(api_client, path, target, method):
    response = getattr(api_client, method)(path)

    assert response.status_code == 301
    assert response["Location"] == target


def test_the_redirect_lands_on_the_list(make_client, teacher):
    material, _ = MaterialFactory(author=teacher, title="Fractions"), MaterialFactory(author=teacher, title="Maps")

    response = make_client(teacher).get("/api/materials?search=Fractions", follow=True)

    assert response.redirect_chain == [("/api/materials/?search=Fractions", 301)]
    assert [row["id"] for row in response.json()["results"]] == [material.pk]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/materials", "/api/auth/login", "/api/materials/12"])
def test_other_methods_without_the_slash_are_a_404_naming_the_path(make_client, teacher, method, path):
    client = make_client(teacher)

    response = getattr(client, method)(path, {"title": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": f"Not found. Did you mean {path}/?", "code": "not_found"}


@pytest.mark.parametrize("method", ["get", "head", "post"])
@pytest.mark.parametrize(
    "path", ["/api/nothing-here", "/api/materials/12/nothing", "/api/materials/x", "/api//evil.example", "/api/.."]
)
def test_paths_that_exist_neither_way_stay_a_json_404(api_client, method, path):
    response = getattr(api_client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    if method != "head":
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_redirects_also_with_debug_on(settings):
    settings.DEBUG = True
    client = APIClient()

    assert client.get("/api/materials")["Location"] == "/api/materials/"
    assert client.post("/api/materials").json()["detail"] == "Not found. Did you mean /api/materials/?"


@pytest.mark.django_db(transaction=True)
def test_index_and_redirect_over_asgi():
    start, body = _asgi("/", [])
    assert start["status"] == 200
    assert json.loads(body) == INDEX

    start, _ = _asgi("/api/materials", [])
    assert start["status"] == 301
    assert (b"location", b"/api/materials/") in [(name.lower(), value) for name, value in start["headers"]]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/materials", "/api/nothing-here/"])
def test_unknown_api_paths_are_a_json_404_with_csrf_checks_on(method, path):
    # The test client skips CSRF checks unless told to; a real client without a CSRF cookie must get the JSON 404
    # too, not Django's HTML "CSRF verification failed" page.
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(path, data="{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
