"""Failed-login limits, per account and per client address.

Only failures count, so a school of hundreds behind one address can sign in at once, while guessing one
account's password stops after a few tries. Windows open at the first failure and live in the shared cache
(atomic `incr` on Redis, which keeps the key's expiry). The window's start is stored beside the counter and the
application clock decides when the window is over; the keys' expiry only cleans up (Redis expires keys on its
own clock, which tests cannot move).
If the cache is unreachable the limits fail open and the outage is logged (see config/throttling.py).
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("thebot.throttling")


def client_address(request) -> str:
    """The client's address, honouring NUM_PROXIES the same way DRF's throttles do."""
    return BaseThrottle().get_ident(request)


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:acct:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT),
        (f"login-fail:addr:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def retry_after(email: str, address: str) -> int | None:
    """Seconds to wait when a limit is reached, else None."""
    try:
        keys = _keys(email, address)
        names = [name for key, _ in keys for name in (key, f"{key}:start")]
        values = cache.get_many(names)
    except Exception:
        logger.exception("login throttle cache unavailable; attempt allowed")
        return None
    now = time.time()
    for key, limit in keys:
        if values.get(key, 0) >= limit:
            ends = values.get(f"{key}:start", now) + settings.LOGIN_FAILURE_WINDOW_SECONDS
            if ends > now:
                return max(1, math.ceil(ends - now))
    return None


def record_failure(email: str, address: str) -> None:
    """Count a failure. A window opens at an account's (or address's) first failure and lasts
    LOGIN_FAILURE_WINDOW_SECONDS, so a burst cannot straddle two aligned windows to get twice the limit."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    now = time.time()
    try:
        for key, _ in _keys(email, address):
            if cache.add(key, 1, window):
                cache.set(f"{key}:start", now, window)
                continue
            started = cache.get(f"{key}:start")
            if started is not None and started + window <= now:
                # The window is over by the application's clock (the key may outlive it by a moment on Redis's
                # own clock): this failure opens the next one.
                cache.set_many({key: 1, f"{key}:start": now}, window)
                continue
            try:
                cache.incr(key)
            except ValueError:
                # The window expired between add() and incr(): this failure opens the next one.
                cache.set_many({key: 1, f"{key}:start": now}, window)
    except Exception:
        logger.exception("login throttle cache unavailable; failure not counted")


def reset_account(email: str) -> None:
    """A successful login clears the account's failures (not the address's)."""
    try:
        key = _keys(email, "-")[0][0]
        cache.delete_many([key, f"{key}:start"])
    except Exception:
        logger.exception("login throttle cache unavailable")
