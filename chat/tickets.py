"""Single-use WebSocket tickets: the API token never travels in a URL.

A ticket is a random string kept in the cache (shared by every process when Redis is configured) for
`TICKET_TTL_SECONDS`. Consuming it deletes the key; only the caller whose delete succeeded gets the user, so
a ticket opens at most one socket even when two processes race for it. The ticket also names the session (the
knox token's digest) it was issued for, so that the socket closes when that session is revoked (chat/revocation.py).
"""

import hashlib
import secrets

from django.core.cache import cache

TICKET_TTL_SECONDS = 60
TICKET_MAX_LENGTH = 100


def _key(ticket: str) -> str:
    return "chat:ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id: int, token_digest: str | None = None) -> str:
    ticket = secrets.token_urlsafe(32)
    cache.set(_key(ticket), (user_id, token_digest), TICKET_TTL_SECONDS)
    return ticket


def ticket_consume(ticket: str) -> tuple[int, str | None] | None:
    """(user id, token digest) the ticket was issued for, or None when it is unknown, expired or already used."""
    if not ticket or len(ticket) > TICKET_MAX_LENGTH:
        return None
    key = _key(ticket)
    issued = cache.get(key)
    if issued is None or not cache.delete(key):
        return None
    user_id, token_digest = issued
    return user_id, token_digest
