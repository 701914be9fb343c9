"""Fixtures shared by every app's tests: API clients authenticated as a role, and a clean cache; the `--perf`
option and its table of wall-clock thresholds (tests/thresholds.py)."""

import os
from collections import Counter

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from knox.models import AuthToken
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from config import settings as project_settings
from tests import databases, isolation, thresholds
from tests.accounts.counting_hasher import PATH as SUITE_HASHER
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
)
from tests.fuzz import figures as fuzzing
from tests.notifications.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeTelegram
from tests.notifications.smtp import FakeSmtp


def pytest_addoption(parser):
    parser.addoption(
        "--perf",
        action="store_true",
        help="assert the wall-clock thresholds of the `perf` tests (make perf, on an idle machine)",
    )


TEMPLATE = pytest.StashKey[str]()

# The run's password hashers, set once for the whole run (pytest_configure), never swapped by a test
# (tests/test_test_tree.py): new hashes use the suite's fast MD5 hasher (Argon2 is deliberately slow; this one
# counts its hashes and has a gate that tests/accounts/test_limits_under_parallel_load.py closes), and the
# project's own hashers (Argon2id first, config/settings.py) still verify and rehash what they made.
PASSWORD_HASHERS = [SUITE_HASHER, *project_settings.PASSWORD_HASHERS]


def pytest_configure(config):
    override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS).enable()  # before any test (and any hash) runs
    thresholds.ENFORCED = config.getoption("--perf")
    config.stash[TEMPLATE] = databases.template_name()  # before pytest-django suffixes a worker's test name
    worker = isolation.worker_id(config)
    if worker is not None:
        isolation.separate_worker(worker)


def pytest_collection_modifyitems(config, items):
    """Every test has a node id of its own: xdist's group scheduling (`make test-slow`) keys tests by it, so tests
    sharing one would silently run once (schemathesis' generated tests did before they got a `caller` parameter)."""
    shared = sorted(nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1)
    if shared:
        raise pytest.UsageError(f"{len(shared)} node ids name more than one test, e.g. {shared[:3]}")


def _builds_the_template(config) -> bool:
    """The process that migrates the template: the xdist controller, or the only process of a serial run."""
    return isolation.worker_id(config) is None and not (config.option.collectonly or config.option.help)


def pytest_sessionstart(session):
    config = session.config
    if _builds_the_template(config):
        blocker = config.stash[blocking_manager_key]
        with blocker.unblock():
            databases.template_build(config.stash[TEMPLATE])


def pytest_sessionfinish(session):
    config = session.config
    if _builds_the_template(config):
        with config.stash[blocking_manager_key].unblock():
            databases.template_drop(config.stash[TEMPLATE])


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """This process's test database, copied from the template the controller migrated (tests/databases.py)
    instead of migrating again; named by pytest-django (`_gw<N>` under xdist). Dropped at the end."""
    with django_db_blocker.unblock():
        connection = connections[databases.ALIAS]
        target = connection.creation._get_test_db_name()
        databases.clone(request.config.stash[TEMPLATE], target)
        old_name = databases.use(target)
    yield
    with django_db_blocker.unblock():
        connection.creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory):
    """Uploaded files of this process under its own temporary directory (also for the servers it starts): the one
    place tests redirect MEDIA_ROOT."""
    path = tmp_path_factory.mktemp("media")
    os.environ["MEDIA_ROOT"] = str(path)
    settings.MEDIA_ROOT = path
    return path


_thresholds: list[tuple[str, ...]] = []


def pytest_runtest_logreport(report):
    fuzzing.collect(report)  # the API fuzzing's figures (tests/fuzz/)
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
    fuzzing.summary(terminalreporter)
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
def _clean_cache():
    isolation.cache_clear()
    yield
    isolation.cache_clear()


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
def telegram_settings(settings):
    """Telegram configured for the webhook and links only (no outbound server)."""
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def fake_telegram(settings):
    """A fake Telegram Bot API on 127.0.0.1, with the settings pointing at it (notifications: invoices, reminders)."""
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


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd, tests/notifications/smtp.py) with Django's SMTP backend pointed at
    it: the email channel and password reset mails go through a socket, nothing is patched."""
    server = FakeSmtp().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5.0
    settings.EMAIL_NOTIFICATIONS = True
    yield server
    server.stop()
