"""Fixtures shared by every app's tests: API clients authenticated as a role, and a clean cache; the `--perf`
option and its table of wall-clock thresholds (tests/thresholds.py)."""

import os

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import thresholds
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
)
from tests.invoices.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeTelegram


def pytest_addoption(parser):
    parser.addoption(
        "--perf",
        action="store_true",
        help="assert the wall-clock thresholds of the `perf` tests (make perf, on an idle machine)",
    )


def pytest_configure(config):
    thresholds.ENFORCED = config.getoption("--perf")


_thresholds: list[tuple[str, ...]] = []


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "threshold":
            figure, measured, target, unit, timed, at_least = value
            verdict = "ok" if thresholds.met(measured, target, at_least) else "FAILED"
            bound = f"{'>=' if at_least else '<'} {target} {unit}"
            kind = "make perf" if timed else "every run"
            _thresholds.append((report.nodeid.split("::", 1)[-1], figure, f"{measured} {unit}", bound, kind, verdict))


def pytest_terminal_summary(terminalreporter, config):
    if not (_thresholds and config.getoption("--perf")):
        return
    terminalreporter.section("figures against their targets (make perf)")
    rows = [("test", "figure", "measured", "target", "asserted by", "result"), *_thresholds]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    terminalreporter.write_line(f"load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    # Argon2 is deliberately slow; tests that are about hashing set it back themselves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    """An APIClient that sends a real token of `user` (issued the way login issues it)."""
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    client.token = token
    return client


@pytest.fixture
def make_client():
    return client_for


@pytest.fixture
def student(db):
    return StudentFactory()


@pytest.fixture
def teacher(db):
    return TeacherFactory()


@pytest.fixture
def tutor(db):
    return TutorFactory()


@pytest.fixture
def parent(db):
    return ParentFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def fake_telegram(settings):
    """A fake Telegram Bot API on 127.0.0.1, with the settings pointing at it (invoices, reminders)."""
    server = FakeTelegram(BOT_TOKEN).start()
    settings.TELEGRAM_API_BASE_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TELEGRAM_TIMEOUT_SECONDS = 0.5
    settings.TELEGRAM_CLIENT_ATTEMPTS = 3
    settings.TELEGRAM_CLIENT_BACKOFF_SECONDS = 0.01
    settings.TELEGRAM_MAX_INLINE_WAIT = 1.5
    yield server
    server.stop()
