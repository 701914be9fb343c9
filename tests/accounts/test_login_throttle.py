"""Failed-login limits per account and per address, on the configured cache (Redis in the PostgreSQL run)."""

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from tests.accounts.factories import DEFAULT_PASSWORD, StudentFactory
from tests.isolation import cache_clear

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"


def attempt(api_client, email, password, address="10.0.0.1"):
    return api_client.post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def test_sixth_failure_on_one_account_is_429_with_retry_after(api_client, settings):
    student = StudentFactory()
    for number in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert attempt(api_client, student.email, f"wrong-{number}", address=f"10.0.0.{number}").status_code == 401

    response = attempt(api_client, student.email, "wrong-again", address="10.0.9.9")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    # While locked even the right password waits: the lock is what stops guessing.
    assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 429
    # Other accounts are not affected.
    other = StudentFactory()
    assert attempt(api_client, other.email, DEFAULT_PASSWORD).status_code == 200


def test_account_limit_ignores_case_and_spaces_of_the_email(api_client, settings):
    student = StudentFactory(email="casey@example.test")
    spellings = ["casey@example.test", "CASEY@example.test", " Casey@Example.Test ", "casey@EXAMPLE.test"]
    for number in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert attempt(api_client, spellings[number % len(spellings)], "wrong").status_code == 401
    assert attempt(api_client, "CaSeY@example.test", "wrong").status_code == 429
    assert student.email == "casey@example.test"


def test_failures_per_address_over_many_accounts_are_limited(api_client, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for number in range(3):
        assert attempt(api_client, f"nobody{number}@example.test", "wrong").status_code == 401

    response = attempt(api_client, "someone-else@example.test", "wrong")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # Another address is not affected.
    assert attempt(api_client, "someone-else@example.test", "wrong", address="10.0.0.2").status_code == 401


def test_successful_logins_from_one_address_are_never_counted(api_client, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    # Many logins in a row from one address (a school behind one NAT), well above both limits.
    students = StudentFactory.create_batch(4)
    for _ in range(3):
        for student in students:
            assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200


def test_success_clears_the_accounts_failures(api_client, settings):
    student = StudentFactory()
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(limit - 1):
        assert attempt(api_client, student.email, "wrong").status_code == 401
    assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200
    for _ in range(limit - 1):
        assert attempt(api_client, student.email, "wrong").status_code == 401
    assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200


def test_counters_live_in_the_configured_cache(api_client, settings):
    """The failure counters are in the shared cache (Redis when REDIS_URL is set), so every worker sees them."""
    student = StudentFactory()
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        attempt(api_client, student.email, "wrong")
    assert attempt(api_client, student.email, "wrong").status_code == 429
    cache_clear()  # this process's keys (tests/isolation.py)
    assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200


def test_lock_ends_when_the_window_started_by_the_first_failure_ends(api_client, settings, time_machine):
    """The clock is the application's (time-machine), also on Redis, whose own expiry only cleans up."""
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    window, limit = settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.LOGIN_FAILURES_PER_ACCOUNT
    student = StudentFactory()
    assert attempt(api_client, student.email, "wrong").status_code == 401  # the window opens here
    time_machine.shift(20)
    for _ in range(limit - 1):
        assert attempt(api_client, student.email, "wrong").status_code == 401
    locked = attempt(api_client, student.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(window - 20)

    time_machine.shift(window - 20 - 1)  # one second before the window ends: still locked
    assert attempt(api_client, student.email, DEFAULT_PASSWORD)["Retry-After"] == "1"
    time_machine.shift(1)  # the window started by the first failure is over, not one started by the last

    assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200


def test_a_failure_after_the_window_opens_a_new_window_with_the_full_limit(api_client, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    window, limit = settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.LOGIN_FAILURES_PER_ACCOUNT
    student = StudentFactory()
    for _ in range(limit):
        assert attempt(api_client, student.email, "wrong").status_code == 401
    assert attempt(api_client, student.email, "wrong").status_code == 429
    time_machine.shift(window)

    for _ in range(limit):  # counted afresh from the first failure of the new window
        assert attempt(api_client, student.email, "wrong").status_code == 401
    locked = attempt(api_client, student.email, "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(window)


def test_forwarded_for_header_does_not_dodge_the_address_limit_without_a_trusted_proxy(api_client, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    for number in range(3):
        response = api_client.post(
            LOGIN,
            {"email": f"x{number}@example.test", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
        )
        assert response.status_code == 401
    spoofed = api_client.post(
        LOGIN, {"email": "y@example.test", "password": "wrong"}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert spoofed.status_code == 429


def test_limits_fail_open_when_the_cache_is_down(api_client, make_client, settings, caplog):
    """A cache outage must not become a full outage: logins and requests are served, the outage is logged."""
    student = StudentFactory()
    client = make_client(student)
    # A Redis that is not there: port 1 on loopback refuses at once.
    broken = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with override_settings(CACHES=broken):
        for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT + 1):
            assert attempt(api_client, student.email, "wrong").status_code == 401
        assert attempt(api_client, student.email, DEFAULT_PASSWORD).status_code == 200
        assert client.get("/api/profile/me/").status_code == 200
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)
