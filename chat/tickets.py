"""Single-use WebSocket tickets: the API token never travels in a URL.

A ticket is a random string kept in the cache (shared by every process when Redis is configured) for
`TICKET_TTL_SECONDS`. Consuming it deletes the key; only the caller whose delete succeeded gets the user, so
a ticket opens at most one socket even when two processes race for it.
"""

import hashlib
import secrets

from django.core.cache import cache

TICKET_TTL_SECONDS = 60
TICKET_MAX_LENGTH = 100


def _key(ticket: str) -> str:
    return "chat:ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id: int) -> str:
    ticket = secrets.token_urlsafe(32)
    cache.set(_key(ticket), user_id, TICKET_TTL_SECONDS)
    return ticket


def ticket_consume(ticket: str) -> int | None:
    """The user id the ticket was issued to, or None when it is unknown, expired or already used."""
    if not ticket or len(ticket) > TICKET_MAX_LENGTH:
        return None
    key = _key(ticket)
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return None
    return user_id
