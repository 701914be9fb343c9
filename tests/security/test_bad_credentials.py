"""Every protected operation of the OpenAPI schema refuses the five kinds of bad credentials with a 401 and writes
nothing: no token, a malformed header, a revoked token (logged out), an expired token, the token of a deactivated
user. "Nothing written" is the database fingerprint (row count, max id and timestamps of every table) before and
after. The only row that may change is the expired token itself, which authentication deletes when it is presented
(knox's rule). The credentials belong to the admin, who may call everything once signed in, with each operation's
valid body (tests/security/bodies.py)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import isolation
from tests.security.bodies import body_for
from tests.security.world import OPERATIONS, PUBLIC, build_world, fill, fingerprint, fingerprint_diff, split

pytestmark = pytest.mark.django_db

PROTECTED = sorted(set(OPERATIONS) - PUBLIC)
CASES = ["no token", "malformed", "revoked", "expired", "deactivated"]
MALFORMED = ["Bearer", "Basic YWRtaW46cGFzcw==", "Token a b"]
CODES = {"not_authenticated", "authentication_failed", "invalid_auth_header"}


def _client(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def _token(user) -> str:
    return AuthToken.objects.create(user=user)[1]


def _refusals(world, headers, key: str) -> list[str]:
    """The answers that are not a proper 401 for this operation, one client per header."""
    method, path = split(key)
    url = fill(path, world.a)
    wrong = []
    for header in headers:
        isolation.cache_clear()
        body, fmt = body_for(key, world)
        client = _client(header)
        response = client.get(url) if method == "get" else getattr(client, method)(url, body, format=fmt)
        if (
            response.status_code != 401
            or response.json().get("code") not in CODES
            or response.get("WWW-Authenticate") != 'Bearer realm="api"'
        ):
            wrong.append(f"{key} with {header!r}: {response.status_code} {response.content[:120]!r}")
    return wrong


@pytest.mark.parametrize("case", CASES)
def test_every_protected_operation_answers_401_and_writes_nothing(case):
    world = build_world()
    admin = world.admin
    travel = None
    if case == "no token":
        headers = [None]
    elif case == "malformed":
        headers = MALFORMED
    elif case == "revoked":
        token = _token(admin)
        assert _client(f"Bearer {token}").post("/api/auth/logout/").status_code == 204
        headers = [f"Bearer {token}"]
    elif case == "expired":
        headers = [f"Bearer {_token(admin)}" for _ in PROTECTED]  # each presentation deletes its expired token
        travel = time_machine.travel(timezone.now() + settings.TOKEN_TTL + timedelta(seconds=1), tick=False)
    else:
        headers = [f"Bearer {_token(admin)}"]
        admin.is_active = False
        admin.save(update_fields=["is_active"])
    if travel:
        travel.start()
    try:
        before = fingerprint()
        wrong = []
        for index, key in enumerate(PROTECTED):
            wrong += _refusals(world, [headers[index]] if case == "expired" else headers, key)
        after = fingerprint()
    finally:
        if travel:
            travel.stop()
    print(f"{case}: {len(PROTECTED)} protected operations x {len(headers) if case != 'expired' else 1} headers")
    assert wrong == []
    changed = fingerprint_diff(before, after)
    if case == "expired":
        assert set(changed) <= {"knox_authtoken"}
        assert not AuthToken.objects.filter(user=admin).exists()  # every presented expired token was deleted
    else:
        assert changed == {}


def test_the_sweep_covers_the_protected_operations():
    assert len(PROTECTED) >= 70
    assert {"POST /api/auth/login/", "GET /api/health/", "POST /api/invoices/payments/webhook/"} <= PUBLIC
    assert "DELETE /api/admin/users/{id}/" in PROTECTED
