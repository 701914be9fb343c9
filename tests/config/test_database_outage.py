"""A database out of reach answers 503 `service_unavailable` (the JSON contract, `Retry-After`), never 500, within the
pool's wait; readiness names the database within its own deadline. A real Daphne (tests/chat/daphne.py) pointed at a
PostgreSQL address where nothing listens: every connection attempt is refused, as with a stopped server.

The stop-and-start of a real cluster under load is the fault suite's (tests/faults/, `PostgreSQL stopped`)."""

import socket
import time

import httpx
import pytest

from tests.chat.daphne import DaphneProcess

pytestmark = pytest.mark.slow

POOL_TIMEOUT = 0.5  # DATABASE_POOL_TIMEOUT of the server under test: how long a request waits for a connection


def refused_database_url() -> str:
    """A PostgreSQL URL on a port of 127.0.0.1 that was free a moment ago and has no listener."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgres://postgres@127.0.0.1:{port}/thebot"


@pytest.fixture(scope="module")
def server():
    url = refused_database_url()
    env = {"DATABASE_POOL_TIMEOUT": str(POOL_TIMEOUT), "READINESS_TIMEOUT_SECONDS": "1", "LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "CACHE_KEY_PREFIX"):
        env[name] = ""
    process = DaphneProcess(url, **env)
    yield process
    process.stop()


def timed(method: str, url: str, **kwargs) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.request(method, url, timeout=30, **kwargs)
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "detail": "The service is temporarily unavailable; try again shortly.",
        "code": "service_unavailable",
    }
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/profile/me/", None),  # token authentication reads the database
        ("GET", "/api/chat/rooms/", None),
        ("POST", "/api/auth/login/", {"email": "someone@example.test", "password": "whatever-it-is"}),
    ],
)
def test_api_answers_503_while_the_database_is_down(server, method, path, body):
    headers = {"Authorization": "Token " + "a" * 64}
    response, took = timed(method, server.base_url + path, json=body, headers=headers)
    assert_unavailable(response)
    print(f"\n{method} {path}: 503 after {took:.2f} s (DATABASE_POOL_TIMEOUT={POOL_TIMEOUT})")


def test_django_view_answers_503_while_the_database_is_down(server):
    # The admin reads the session's user from the database: a Django view, not DRF's.
    response, _ = timed("GET", server.base_url + "/admin/", cookies={"sessionid": "s" * 32})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "Traceback" not in response.text


def test_no_500_in_the_server_log_while_the_database_is_down(server):
    headers = {"Authorization": "Token " + "b" * 64}
    for _ in range(3):
        assert_unavailable(httpx.get(server.base_url + "/api/profile/me/", headers=headers, timeout=30))
    log = server.log_tail(20000)
    assert '"status": 500' not in log and "Traceback" not in log, log
    assert "database unavailable" in log


def test_readiness_names_the_database_within_its_deadline(server):
    response, took = timed("GET", server.base_url + "/api/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"]["database"].startswith("failing"), body
    assert body["checks"]["cache"] == "ok" and body["checks"]["channel_layer"] == "ok"
    print(f"\nreadiness with the database refused: 503 after {took:.2f} s (READINESS_TIMEOUT_SECONDS=1)")
    assert took < 5  # correctness bound only (the deadline is 1 s; the figure is printed)
