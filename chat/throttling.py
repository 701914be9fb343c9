"""Per-user limits of the chat, shared by REST and WebSocket and by every process (cache).

Sending: a counter per user and second, at most `CHAT_SEND_PER_SECOND` messages (default 20). The second is the
application clock's (it is in the key); the key's expiry only cleans up, and is long enough that a second's counter
never expires while that second is still the application's current one (Redis expires on its own clock).
Typing: one `typing` per user and room in each `CHAT_TYPING_INTERVAL_SECONDS` (default 2), whatever the number of
the user's sockets. Like the request throttles they fail open when the cache is down (config/throttling.py gives
the reason).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("thebot.throttling")
KEY_TTL_SECONDS = 60


def send_allowed(user_id: int) -> bool:
    limit = settings.CHAT_SEND_PER_SECOND
    key = f"chat:send:{user_id}:{int(time.time())}"
    try:
        try:
            count = cache.incr(key)  # one round trip in the common case
        except ValueError:  # first message of this second
            if cache.add(key, 1, KEY_TTL_SECONDS):
                return True
            count = cache.incr(key)
        return count <= limit
    except Exception:
        logger.exception("chat send throttle unavailable; message allowed")
        return True


def typing_allowed(user_id: int, room_id: int) -> bool:
    """True for the first `typing` of the user in the room since the last one relayed expired (one atomic
    add-if-missing with the interval as its lifetime)."""
    interval = settings.CHAT_TYPING_INTERVAL_SECONDS
    try:
        return cache.add(f"chat:typing:{user_id}:{room_id}", 1, interval)
    except Exception:
        logger.exception("chat typing limit unavailable; typing relayed")
        return True
