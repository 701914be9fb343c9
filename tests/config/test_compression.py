"""Compression happens in one place: Django's GZipMiddleware (config/settings.py MIDDLEWARE), never in nginx
(`gzip off;` in deploy/nginx/default.conf.template). Why: docs/security.md "Compression".

Django 4.2+ pads every gzip answer with 0-100 random bytes (the "Heal The Breach" mitigation), so the length of
an answer no longer tells a BREACH attacker whether a guess matched; the secrets answers carry are fresh per answer
(a login's token, a socket ticket) or masked per answer (the CSRF token), so there is no fixed secret to recover.
"""

import gzip
import json
import re
from pathlib import Path

import pytest
from django.test import Client

from tests.accounts.factories import DEFAULT_PASSWORD, StudentFactory
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    StudentFactory.create_batch(25)
    return client_for(admin_user)


def test_a_large_json_answer_is_gzipped_with_random_padding(admin_client):
    plain = admin_client.get("/api/admin/users/?page_size=25")
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers  # the client did not ask for it
    sizes, bodies = set(), set()
    for _ in range(6):
        response = admin_client.get("/api/admin/users/?page_size=25", HTTP_ACCEPT_ENCODING="gzip, br")
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        assert json.loads(gzip.decompress(response.content)) == plain.json()
        assert len(response.content) < len(plain.content) / 3
        sizes.add(len(response.content))
        bodies.add(response.content)
    # The same answer six times: gzip streams of different lengths, the padding being the only difference (0 to 100
    # random bytes: two of six draws may well pick the same length, all six the same almost never).
    assert len(sizes) > 1
    assert len(bodies) == len(sizes)


def test_a_small_answer_is_sent_as_is(admin_client):
    response = admin_client.get("/api/health/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert len(response.content) < 200  # GZipMiddleware leaves answers under 200 bytes alone
    assert "content-encoding" not in response.headers


def test_secrets_in_compressed_answers_are_fresh_each_time(admin_user):
    """A BREACH attacker needs one secret repeated across many answers: the login's token is new each time, and the
    admin login page's CSRF token is masked differently in every answer (gzipped both)."""
    client = Client()
    tokens = set()
    for _ in range(2):
        response = client.post(
            "/api/auth/login/",
            {"email": admin_user.email, "password": DEFAULT_PASSWORD},
            content_type="application/json",
            HTTP_ACCEPT_ENCODING="gzip",
        )
        assert response.status_code == 200
        body = gzip.decompress(response.content) if response.get("content-encoding") == "gzip" else response.content
        tokens.add(json.loads(body)["token"])
    assert len(tokens) == 2
    masked = set()
    for _ in range(2):
        page = client.get("/admin/login/", HTTP_ACCEPT_ENCODING="gzip")
        assert page.headers["content-encoding"] == "gzip"
        html = gzip.decompress(page.content).decode()
        masked.add(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1])
    assert len(masked) == 2


def test_nginx_does_not_compress_a_second_time():
    template = (ROOT / "deploy" / "nginx" / "default.conf.template").read_text()
    servers = template.split("\nserver {")[1:]
    assert len(servers) == 2
    assert all("\n    gzip off;" in server for server in servers)
    assert "\n    gzip on;" not in template
