"""Request throttles: atomic counters in the default cache (Redis when REDIS_URL is set).

Each request is counted first (config/counters.py: one atomic step, one round trip on Redis) and refused when the
count is over the rate, so parallel requests cannot all pass a check made before any of them was counted. A window
opens at a caller's first request of a scope and lasts the rate's period ("10/hour": 10 requests in the hour from
the first); over the limit the answer is 429 with `Retry-After` (the seconds left in the window). Refused requests
are counted too; they do not prolong the window.

When the cache cannot be reached the throttles fail open: the request is served and the outage is logged.
Refusing every request because Redis is down would turn a cache outage into a full outage; the login
failure limits (accounts.login_throttle) follow the same choice.
"""

import logging

from rest_framework import throttling
from rest_framework.settings import api_settings

from config import counters

logger = logging.getLogger("thebot.throttling")


class _AtomicRateMixin:
    cache_format = "rate:%(scope)s:%(ident)s"
    # DRF binds the rates to the class when it is imported; None reads REST_FRAMEWORK's at each request.
    THROTTLE_RATES = None

    def get_rate(self):
        if self.THROTTLE_RATES is None:
            self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

    def allow_request(self, request, view):
        self.window = None
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            self.window = counters.hit(self.key, self.duration, now=self.timer())
        except Exception:
            logger.exception("throttle cache unavailable; request allowed")
            return True
        return self.window.count <= self.num_requests

    def wait(self):
        return None if self.window is None else self.window.retry_after(self.timer())


class AnonRateThrottle(_AtomicRateMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_AtomicRateMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_AtomicRateMixin, throttling.ScopedRateThrottle):
    """Set `throttle_scope` on a view: password_change, uploads, invoice_send, payments, chat_ticket."""

    def allow_request(self, request, view):
        # DRF's ScopedRateThrottle.allow_request, whose counting the mixin replaces: the rate comes from the view.
        self.window = None
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
