"""Fixtures shared by every app's tests: API clients authenticated as a role, and a clean cache."""

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
)
from tests.invoices.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeTelegram


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
