"""Request throttles against real parallel clients (tests/parallel.py: a live server, threads sending at once), on
the configured cache (the embedded cache on SQLite, Redis in the PostgreSQL run)."""

import httpx
import pytest
from knox.models import AuthToken

from tests.accounts.factories import StudentFactory
from tests.parallel import at_once, live_server_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server_url():
    with live_server_url() as url:
        yield url


def test_eight_parallel_clients_pass_exactly_the_limit(server_url, settings):
    # A day's window: the test does not depend on how fast the machine sends the requests.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "30/day"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    _, token = AuthToken.objects.create(user=StudentFactory())

    def client_run() -> list[httpx.Response]:
        with httpx.Client(base_url=server_url, headers={"Authorization": f"Token {token}"}, timeout=120) as client:
            return [client.get("/api/profile/me/") for _ in range(20)]

    responses = [response for run in at_once(8, client_run) for response in run]

    statuses = [response.status_code for response in responses]
    assert (statuses.count(200), statuses.count(429)) == (30, 130)
    for response in responses:
        if response.status_code == 429:
            assert response.json()["code"] == "throttled"
            assert 1 <= int(response.headers["Retry-After"]) <= 24 * 60 * 60


def test_a_throttle_rate_set_in_the_settings_applies_without_a_restart(make_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = make_client(StudentFactory())
    assert [client.get("/api/profile/me/").status_code for _ in range(3)] == [200, 200, 429]
