"""Fixtures of the API fuzzing (tests/fuzz/): the small demo world seeded once per module and process, a real token
per role, the fake Telegram and payment provider, and the record of what each fuzzed operation answered."""

import json
import urllib.parse

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from config.seeding import seed_demo
from config.seeding.people import demo_email
from tests.invoices.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeProvider, FakeTelegram

ROLES = ["student", "teacher", "tutor", "parent", "admin"]
PASSWORD = "fuzz-pass-2026"


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, media_root):
    """The demo data at the small scale, in a transaction rolled back at the end of the module: each test runs in a
    savepoint inside it (pytest-django's `db`), so every test starts from the same seeded rows. The requests go
    through Django's WSGI handler in this thread, on this connection; like Django's test client, the handler must
    not close the connection at the end of a request (that would end the transaction)."""
    telegram = FakeTelegram(BOT_TOKEN).start()
    provider = FakeProvider("shop-1", "shop-secret").start()
    try:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                seed_demo(scale="small", seed=1, password=PASSWORD)
                users = {role: User.objects.get(email=demo_email(role)) for role in ROLES}
                tokens = {role: AuthToken.objects.create(user=user)[1] for role, user in users.items()}
                feed_secret = _feed_secret(tokens["student"])  # Django's test client reconnects the signals
                signals.request_started.disconnect(close_old_connections)
                signals.request_finished.disconnect(close_old_connections)
                yield {
                    "users": users,
                    "tokens": tokens,
                    "feed_secret": feed_secret,
                    "telegram": telegram,
                    "provider": provider,
                }
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
    finally:
        telegram.stop()
        provider.stop()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _feed_secret(token: str) -> str:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = client.get("/api/scheduling/calendar/").json()["url"]
    return urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".ics")


@pytest.fixture
def fuzz_env(fuzz_world, db, settings):
    """Everything configured as in production: Telegram and payments against the fakes, readiness with a deadline
    that a loaded test machine cannot miss."""
    settings.TELEGRAM_API_BASE_URL = fuzz_world["telegram"].url
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TELEGRAM_TIMEOUT_SECONDS = 5
    settings.PAYMENT_API_BASE_URL = fuzz_world["provider"].url
    settings.PAYMENT_SHOP_ID = "shop-1"
    settings.PAYMENT_SECRET_KEY = "shop-secret"
    settings.PAYMENT_TIMEOUT_SECONDS = 5
    settings.READINESS_TIMEOUT_SECONDS = 60
    return fuzz_world


class Record:
    """What one fuzzed operation answered one role: cases sent, statuses seen."""

    def __init__(self):
        self.role = ""
        self.label = ""
        self.cases = 0
        self.successes = 0
        self.statuses: dict[int, int] = {}

    def add(self, status: int, own_method: bool = True) -> None:
        """One answer; `own_method` False for the coverage phase's requests with another method than the
        operation's (they count as cases, never as the operation's 2xx)."""
        self.cases += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if own_method and 200 <= status < 300:
            self.successes += 1


@pytest.fixture
def record(request, record_property):
    """The answers of this test, recorded for the per-role table (`fuzz` user property, printed by
    tests/conftest.py at the end of the run)."""
    answers = Record()
    yield answers
    figures = {"role": answers.role, "label": answers.label, "cases": answers.cases, "successes": answers.successes}
    record_property("fuzz", json.dumps({**figures, "statuses": answers.statuses}))
