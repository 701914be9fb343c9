"""The embedded mode's in-process cache (config.cache.LocalCache, settings.EMBEDDED_CACHES) never evicts a live
security counter or ticket to make room; chat tickets are bounded per user. Run on the embedded cache in both
suite runs (the PostgreSQL run's Redis is swapped for it here)."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from chat import presence
from chat.tickets import ticket_consume
from tests.accounts.factories import DEFAULT_PASSWORD, StudentFactory
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
TICKET = "/api/chat/ws-ticket/"


@pytest.fixture
def embedded_cache(settings):
    with override_settings(CACHES=settings.EMBEDDED_CACHES):
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


def test_four_hundred_tickets_evict_no_login_counter_ticket_or_presence(api_client, embedded_cache, settings):
    victim = StudentFactory()
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert api_client.post(LOGIN, {"email": victim.email, "password": "wrong"}).status_code == 401
    assert presence.presence_connect(victim.pk, presence.new_socket_id()) == (True, True)
    early = client_for(StudentFactory()).post(TICKET).json()["ticket"]

    minters = [client_for(StudentFactory()) for _ in range(16)]
    tickets = [minter.post(TICKET).json()["ticket"] for minter in minters for _ in range(25)]

    # The account is still locked, the early ticket and every new one still open a socket, the user is online.
    assert api_client.post(LOGIN, {"email": victim.email, "password": DEFAULT_PASSWORD}).status_code == 429
    assert ticket_consume(early) is not None
    assert all(ticket_consume(ticket) is not None for ticket in tickets)
    assert presence.online_among([victim.pk]) == {victim.pk}


def test_a_user_mints_at_most_thirty_tickets_a_minute(embedded_cache):
    client = client_for(StudentFactory())
    assert all(client.post(TICKET).status_code == 200 for _ in range(30))

    refused = client.post(TICKET)

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client_for(StudentFactory()).post(TICKET).status_code == 200  # another user is not affected


def test_a_full_cache_drops_expired_entries_before_any_live_one(settings):
    small = {"default": {**settings.EMBEDDED_CACHES["default"], "OPTIONS": {"MAX_ENTRIES": 10}}}
    with override_settings(CACHES=small):
        cache = caches["default"]
        cache.clear()
        # The oldest entries are live, then come expired ones (never read again), then more live ones.
        for number in range(5):
            cache.set(f"live-{number}", number, timeout=60)
        for number in range(5):
            cache.set(f"dead-{number}", number, timeout=0)  # already expired
        for number in range(5, 9):
            cache.set(f"live-{number}", number, timeout=60)

        assert cache.get_many([f"live-{number}" for number in range(9)]) == {f"live-{n}": n for n in range(9)}
        cache.clear()
