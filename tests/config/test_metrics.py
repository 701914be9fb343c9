"""`GET /metrics` (config/metrics.py, config/metrics_view.py): who may read it, what it holds, and that its labels
stay bounded (URL patterns, never raw paths or ids)."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from accounts.tasks import tokens_prune_expired_job
from config.metrics import cache_key_kind

pytestmark = pytest.mark.django_db

FAMILIES = (
    "thebot_http_requests",
    "thebot_http_request_duration_seconds",
    "thebot_websockets_open",
    "thebot_channel_layer_publish_failures",
    "thebot_cache_gets",
    "thebot_jobs_ready",
    "thebot_jobs_oldest_ready_age_seconds",
    "thebot_metrics_scrape_ok",
)
OUTSIDE = "203.0.113.9"  # TEST-NET-3: never in the allowed networks


def scrape(api_client, **extra) -> str:
    response = api_client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_internal_network_reads_every_family(api_client):
    text = scrape(api_client)  # the test client's peer is 127.0.0.1, in the default METRICS_ALLOWED_NETS
    names = {family.name for family in text_string_to_metric_families(text)}
    assert set(FAMILIES) <= names
    assert value(text, "thebot_metrics_scrape_ok", part="jobs") == 1
    assert value(text, "thebot_metrics_scrape_ok", part="db_pool") == 1


def test_an_outside_address_is_refused_with_the_error_contract(api_client):
    response = api_client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "thebot_" not in response.content.decode()


def test_a_proxied_request_needs_the_token_even_from_an_allowed_peer(api_client):
    # Behind nginx every peer is the proxy's loopback address: the forwarded header marks the request as relayed.
    for header in ({"HTTP_X_FORWARDED_FOR": "198.51.100.1"}, {"HTTP_FORWARDED": "for=198.51.100.1"}):
        assert api_client.get("/metrics", **header).status_code == 403


def test_the_token_opens_it_from_anywhere_and_only_the_exact_token(api_client, settings):
    settings.METRICS_TOKEN = "scrape-secret-42"
    settings.METRICS_ALLOWED_NETS = []
    assert api_client.get("/metrics").status_code == 403  # no address is allowed now
    for wrong in ("Bearer scrape-secret-4", "Bearer scrape-secret-420", "Token scrape-secret-42", "scrape-secret-42"):
        assert api_client.get("/metrics", HTTP_AUTHORIZATION=wrong, REMOTE_ADDR=OUTSIDE).status_code == 403
    scrape(api_client, HTTP_AUTHORIZATION="Bearer scrape-secret-42", REMOTE_ADDR=OUTSIDE)
    scrape(api_client, HTTP_AUTHORIZATION="bearer scrape-secret-42", HTTP_X_FORWARDED_FOR=OUTSIDE)


def test_no_token_configured_opens_nothing(api_client, settings):
    settings.METRICS_TOKEN = ""
    response = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403


def test_an_allowed_network_is_matched_by_cidr(api_client, settings):
    settings.METRICS_ALLOWED_NETS = ["10.20.0.0/16"]
    assert api_client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert api_client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 403
    assert api_client.get("/metrics", REMOTE_ADDR="not-an-address").status_code == 403


def test_other_methods_are_a_json_405(api_client):
    for method in ("post", "put", "delete"):
        response = getattr(api_client, method)("/metrics")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"


def test_requests_are_counted_by_route_never_by_raw_path(api_client, make_client, student):
    before = scrape(api_client)
    client = make_client(student)
    for room_id in (987_654_321, 987_654_322):
        assert client.get(f"/api/chat/rooms/{room_id}/messages/").status_code == 404
    assert client.get("/api/profile/me/").status_code == 200
    assert api_client.get("/api/no-such-endpoint/424242/").status_code == 404
    assert api_client.get("/nowhere-747474").status_code == 404
    after = scrape(api_client)

    route = "api/chat/rooms/<id:pk>/messages/"
    moved = value(after, "thebot_http_requests_total", route=route, method="GET", status="404") - value(
        before, "thebot_http_requests_total", route=route, method="GET", status="404"
    )
    assert moved == 2
    assert value(after, "thebot_http_request_duration_seconds_count", route=route, method="GET") >= 2
    profile = {"route": "api/profile/me/", "method": "GET", "status": "200"}
    assert value(after, "thebot_http_requests_total", **profile) - value(
        before, "thebot_http_requests_total", **profile
    )
    assert value(after, "thebot_http_requests_total", route="unmatched", method="GET", status="404") >= 1
    for raw in ("987654321", "987654322", "424242", "747474", "no-such-endpoint"):
        assert raw not in after


def test_unknown_methods_share_one_label(api_client):
    api_client.generic("BREW", "/api/profile/me/")
    text = scrape(api_client)
    methods = {labels.get("method") for (name, labels) in _labelled(text, "thebot_http_requests_total")}
    assert "BREW" not in methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def _labelled(text: str, name: str):
    for (sample, labels), _ in samples(text).items():
        if sample == name:
            yield sample, dict(labels)


def test_cache_reads_are_counted_as_hits_and_misses_by_key_kind(api_client):
    before = scrape(api_client)
    assert cache.get("metricstest:probe:x1234") is None
    cache.set("metricstest:probe:x1234", "x", 30)
    assert cache.get("metricstest:probe:x1234") == "x"
    assert cache.get("metricstest:probe:x1234", "fallback") == "x"
    assert cache.get("metricstest:probe:x5678", "fallback") == "fallback"
    after = scrape(api_client)
    for result, moved in (("hit", 2), ("miss", 2)):
        labels = {"kind": "metricstest:probe", "result": result}
        delta = value(after, "thebot_cache_gets_total", **labels) - value(before, "thebot_cache_gets_total", **labels)
        assert delta == moved
    assert "x1234" not in after


@given(st.text(max_size=80))
def test_a_cache_key_kind_is_never_more_than_two_plain_words(key):
    kind = cache_key_kind(key)
    assert kind == "other" or re.fullmatch(r"[a-z_]{1,24}(:[a-z_]{1,24})?", kind)
    assert kind == "other" or key.startswith(kind)


def test_the_job_queue_depth_and_oldest_age(api_client, time_machine):
    time_machine.move_to("2026-03-02 10:00:00+00:00", tick=False)
    start = value(scrape(api_client), "thebot_jobs_ready", queue="default")
    tokens_prune_expired_job.enqueue()
    tokens_prune_expired_job.enqueue()
    time_machine.move_to("2026-03-02 10:01:30+00:00", tick=False)
    text = scrape(api_client)
    assert value(text, "thebot_jobs_ready", queue="default") == start + 2
    assert value(text, "thebot_jobs_oldest_ready_age_seconds", queue="default") >= 90


@pytest.mark.skipif(not settings.DATABASES["default"]["OPTIONS"].get("pool"), reason="PostgreSQL with its pool only")
def test_the_database_pool_is_reported(api_client):
    text = scrape(api_client)
    assert value(text, "thebot_db_pool_max_size", alias="default") >= 1
    assert value(text, "thebot_db_pool_size", alias="default") >= value(text, "thebot_db_pool_in_use", alias="default")
