"""Per-user limits of the chat, shared by REST and WebSocket and by every process (cache).

Sending: a counter per user and second, at most `CHAT_SEND_PER_SECOND` messages (default 20). The second is the
application clock's (it is in the key); the key's expiry only cleans up, and is long enough that a second's counter
never expires while that second is still the application's current one (Redis expires on its own clock).
Attachments: at most `CHAT_ATTACHMENT_BYTES_PER_DAY` bytes of attachments per user in a window of a day opened by
their first attachment, counted atomically in the cache (config/counters.py) before the file is stored, and given
back when the send stores nothing (refused, or a repeated `client_id`). Over it: 429 `attachment_quota_exceeded`
with `Retry-After`. The request itself is under the `uploads` throttle scope (chat/views.py).
Typing: one `typing` per user and room in each `CHAT_TYPING_INTERVAL_SECONDS` (default 2), whatever the number of
the user's sockets. Like the request throttles they fail open when the cache is down (config/throttling.py gives
the reason).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled

from config import counters

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


ATTACHMENT_WINDOW_SECONDS = 24 * 3600


class AttachmentQuotaExceeded(Throttled):
    default_code = "attachment_quota_exceeded"


def _attachment_key(user_id: int) -> str:
    return f"chat:attachment-bytes:{user_id}"


def attachment_bytes_take(user_id: int, size: int) -> counters.Window | None:
    """Count `size` bytes against the user's daily allowance; over it, give them back and raise a 429. Answers the
    window to give them back to (`attachment_bytes_give_back`), or None when the cache is down (fails open)."""
    limit = settings.CHAT_ATTACHMENT_BYTES_PER_DAY
    try:
        window = counters.hit(_attachment_key(user_id), ATTACHMENT_WINDOW_SECONDS, amount=size)
    except Exception:
        logger.exception("chat attachment quota unavailable; attachment allowed")
        return None
    if window.count > limit:
        attachment_bytes_give_back(user_id, window, size)
        raise AttachmentQuotaExceeded(
            wait=window.retry_after(),
            detail=f"Attachments are limited to {limit} bytes a day; try again later.",
        )
    return window


def attachment_bytes_give_back(user_id: int, window: counters.Window | None, size: int) -> None:
    if window is None:
        return
    try:
        counters.release(_attachment_key(user_id), window.start, amount=size)
    except Exception:
        logger.exception("chat attachment quota unavailable; bytes not given back")
