"""`GET /metrics`: this process's Prometheus metrics (config/metrics.py), plus what is read when scraped.

Read at scrape time, by the collector below: each database pool of this process (psycopg_pool's get_stats: size,
in use, requests waiting now, requests that had to wait and for how long in total), and the job queue, from the
database (ready jobs per queue and the age of the oldest): the same figures from every process. A part that cannot
be read (the database down) is left out and `thebot_metrics_scrape_ok{part}` says 0; the endpoint still answers.
"""

import logging

from django.db import connections
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from config.exceptions import ErrorCode, json_error
from config.metrics import metrics_allowed
from jobs.selectors import ready_queue_stats

logger = logging.getLogger("thebot.metrics")


class ScrapeCollector:
    """Database pools and the job queue, read when scraped."""

    def describe(self):
        # Given so that registering does not call collect() (which reads the database) at import.
        return list(self._families().values())

    def collect(self):
        families = self._families()
        ok = families["ok"]
        ok.add_metric(["db_pool"], self._pools(families))
        ok.add_metric(["jobs"], self._jobs(families))
        return list(families.values())

    @staticmethod
    def _families() -> dict:
        return {
            "pool_size": GaugeMetricFamily("thebot_db_pool_size", "Connections the pool holds.", labels=["alias"]),
            "pool_in_use": GaugeMetricFamily(
                "thebot_db_pool_in_use", "Pool connections lent out to a request or task now.", labels=["alias"]
            ),
            "pool_waiting": GaugeMetricFamily(
                "thebot_db_pool_waiting", "Requests waiting for a pool connection now.", labels=["alias"]
            ),
            "pool_max": GaugeMetricFamily("thebot_db_pool_max_size", "The pool's max_size.", labels=["alias"]),
            "pool_waits": CounterMetricFamily(
                "thebot_db_pool_waits", "Connection requests that had to wait (queued).", labels=["alias"]
            ),
            "pool_wait_seconds": CounterMetricFamily(
                "thebot_db_pool_wait_seconds", "Total time connection requests waited.", labels=["alias"]
            ),
            "pool_errors": CounterMetricFamily(
                "thebot_db_pool_errors", "Connection requests that failed (timeout, pool closed).", labels=["alias"]
            ),
            "jobs_ready": GaugeMetricFamily(
                "thebot_jobs_ready", "Jobs due and waiting for a worker, per queue.", labels=["queue"]
            ),
            "jobs_oldest": GaugeMetricFamily(
                "thebot_jobs_oldest_ready_age_seconds",
                "How long the oldest due job of the queue has been waiting.",
                labels=["queue"],
            ),
            "ok": GaugeMetricFamily(
                "thebot_metrics_scrape_ok", "1 when the part was read for this scrape, else 0.", labels=["part"]
            ),
        }

    @staticmethod
    def _pools(families: dict) -> int:
        try:
            for alias in connections:
                wrapper = connections[alias]
                pool = wrapper.pool if wrapper.vendor == "postgresql" else None
                if pool is None:
                    continue
                stats = pool.get_stats()
                size = stats.get("pool_size", 0)
                families["pool_size"].add_metric([alias], size)
                families["pool_in_use"].add_metric([alias], size - stats.get("pool_available", 0))
                families["pool_waiting"].add_metric([alias], stats.get("requests_waiting", 0))
                families["pool_max"].add_metric([alias], stats.get("pool_max", 0))
                families["pool_waits"].add_metric([alias], stats.get("requests_queued", 0))
                families["pool_wait_seconds"].add_metric([alias], stats.get("requests_wait_ms", 0) / 1000)
                families["pool_errors"].add_metric([alias], stats.get("requests_errors", 0))
        except Exception:
            logger.warning("metrics: the database pools could not be read", exc_info=True)
            return 0
        return 1

    @staticmethod
    def _jobs(families: dict) -> int:
        try:
            queues = ready_queue_stats()
        except Exception:
            logger.warning("metrics: the job queue could not be read", exc_info=True)
            return 0
        now = timezone.now()
        for queue, depth, oldest in queues:
            families["jobs_ready"].add_metric([queue], depth)
            families["jobs_oldest"].add_metric([queue], max(0.0, (now - oldest).total_seconds()))
        return 1


REGISTRY.register(ScrapeCollector())


@csrf_exempt  # no cookie is read: the token is a header, the network the socket's peer
def metrics(request):
    """Prometheus text format, to METRICS_TOKEN's bearer or a direct peer in METRICS_ALLOWED_NETS; else 403."""
    if request.method not in ("GET", "HEAD"):
        return json_error(405, f'Method "{request.method}" not allowed.', ErrorCode.METHOD_NOT_ALLOWED)
    if not metrics_allowed(request):
        return json_error(
            403, "Metrics are for the internal network or the metrics token.", ErrorCode.PERMISSION_DENIED
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
