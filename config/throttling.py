"""Request throttles. Counters live in the default cache (Redis when REDIS_URL is set).

When the cache cannot be reached the throttles fail open: the request is served and the outage is logged.
Refusing every request because Redis is down would turn a cache outage into a full outage; the login
failure limits (accounts.login_throttle) follow the same choice.
"""

import logging

from rest_framework import throttling

logger = logging.getLogger("thebot.throttling")


class _FailOpenMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.exception("throttle cache unavailable; request allowed")
            return True


class AnonRateThrottle(_FailOpenMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_FailOpenMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_FailOpenMixin, throttling.ScopedRateThrottle):
    """Set `throttle_scope` on a view: password_change, uploads, invoice_send, payments."""
