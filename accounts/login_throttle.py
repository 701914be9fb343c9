"""Failed-login limits, per account and per client address.

Only failures count, so a school of hundreds behind one address can sign in at once, while guessing one
account's password stops after a few tries. Fixed windows in the shared cache (atomic `incr` on Redis).
If the cache is unreachable the limits fail open and the outage is logged (see config/throttling.py).
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("thebot.throttling")


def client_address(request) -> str:
    """The client's address, honouring NUM_PROXIES the same way DRF's throttles do."""
    return BaseThrottle().get_ident(request)


def _window() -> tuple[int, int]:
    size = settings.LOGIN_FAILURE_WINDOW_SECONDS
    now = int(time.time())
    return now // size, size - now % size


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    window, _ = _window()
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:acct:{account}:{window}", settings.LOGIN_FAILURES_PER_ACCOUNT),
        (f"login-fail:addr:{address}:{window}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def retry_after(email: str, address: str) -> int | None:
    """Seconds to wait when a limit is reached, else None."""
    try:
        keys = _keys(email, address)
        counts = cache.get_many([key for key, _ in keys])
    except Exception:
        logger.exception("login throttle cache unavailable; attempt allowed")
        return None
    for key, limit in keys:
        if counts.get(key, 0) >= limit:
            return _window()[1]
    return None


def record_failure(email: str, address: str) -> None:
    try:
        for key, _ in _keys(email, address):
            if not cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS + 1):
                cache.incr(key)
    except Exception:
        logger.exception("login throttle cache unavailable; failure not counted")


def reset_account(email: str) -> None:
    """A successful login clears the account's failures (not the address's)."""
    try:
        cache.delete(_keys(email, "-")[0][0])
    except Exception:
        logger.exception("login throttle cache unavailable")
