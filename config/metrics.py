"""Prometheus metrics of one server process (prometheus-client), and who may read them.

Each Daphne process keeps its own figures in prometheus-client's default registry and serves them at `/metrics`
(config/metrics_view.py): a scraper reads every process on its own port (make prod-local has two; compose's replicas
are scraped one by one through service discovery), and sums across processes in its queries. No multiprocess mode:
the processes share nothing but the database and Redis, and the figures read from those (job queue) are the same
from every process. docs/operations.md "Metrics" lists the families.

Label values are bounded by the code, never by the request: a request's route is its URL pattern
(`api/chat/rooms/<id:pk>/messages/`, never `/api/chat/rooms/19/messages/`), its method one of the HTTP methods
the API serves (else `other`), its status the response's code; a cache read's kind the leading words of its key
(`chat:ticket`), never an id.

Cost per request: one perf_counter pair, two dictionary reads and a counter increment plus a histogram observation
(bench/instructions.py, docs/performance.md "Metrics").
"""

import hmac
import ipaddress
import re
import time

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "thebot_http_requests",
    "HTTP requests answered by Django, by route (URL pattern), method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "thebot_http_request_duration_seconds",
    "Time from the first middleware to the response, by route (URL pattern) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBSOCKETS_OPEN = Gauge("thebot_websockets_open", "Authenticated chat sockets open in this process.")
PUBLISH_FAILURES = Counter(
    "thebot_channel_layer_publish_failures",
    "Chat events the channel layer did not take (Redis down or slow); the rooms are told to resync.",
    ["kind"],
)
CACHE_GETS = Counter(
    "thebot_cache_gets", "Cache reads by key kind (its leading words) and result (hit or miss).", ["kind", "result"]
)

# Requests outside any URL pattern (a 404 outside /api/, static files answered by WhiteNoise).
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# (route, method, status) -> the counter's child; (route, method) -> the histogram's child. prometheus-client's
# `labels()` takes a lock and validates on every call; the children are looked up once. Bounded: routes and methods
# by the code, statuses by HTTP.
_request_children: dict[tuple[str, str, int], object] = {}
_latency_children: dict[tuple[str, str], object] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    if method not in _METHODS:
        method = "other"
    counter = _request_children.get((route, method, status))
    if counter is None:
        counter = _request_children[(route, method, status)] = HTTP_REQUESTS.labels(route, method, str(status))
    histogram = _latency_children.get((route, method))
    if histogram is None:
        histogram = _latency_children[(route, method)] = HTTP_LATENCY.labels(route, method)
    counter.inc()
    histogram.observe(seconds)


class MetricsMiddleware:
    """Outermost: counts every request Django answers and times it, labelled by the URL pattern it matched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        observe_request(
            match.route if match is not None else UNMATCHED_ROUTE,
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
        return response


# --- cache reads ----------------------------------------------------------------------------------------------
_KEY_WORD = re.compile(r"[a-z_]{1,24}")
_cache_children: dict[tuple[str, bool], object] = {}


def cache_key_kind(key: str) -> str:
    """The first two colon-separated words of a key that are plain lowercase words (`chat:ticket:<t>` ->
    `chat:ticket`, `health:<uuid>` -> `health`): never an id, a token or a digest."""
    words = []
    for word in key.split(":", 2)[:2]:
        if not _KEY_WORD.fullmatch(word):
            break
        words.append(word)
    return ":".join(words) or "other"


def observe_cache_get(key: str, hit: bool) -> None:
    kind = cache_key_kind(key) if isinstance(key, str) else "other"
    child = _cache_children.get((kind, hit))
    if child is None:
        child = _cache_children[(kind, hit)] = CACHE_GETS.labels(kind, "hit" if hit else "miss")
    child.inc()


# --- access -------------------------------------------------------------------------------------------------------
def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETS]


def metrics_allowed(request) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a direct connection from a METRICS_ALLOWED_NETS address.

    The address is the socket's peer (REMOTE_ADDR), never a forwarded header; and a request that came through a
    proxy (it carries X-Forwarded-For or Forwarded) is never allowed by address: behind nginx every peer is the
    proxy's own address, so only the token opens the endpoint there (nginx refuses /metrics anyway)."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    return any(peer in network for network in _networks())
