import pytest
from django.test import override_settings


def test_liveness_needs_no_auth_and_no_database(api_client):
    # No django_db mark: any database access in this test would raise.
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readiness_reports_every_part(api_client):
    response = api_client.get("/api/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_readiness_names_the_failing_part(api_client):
    broken_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    # A Redis that is not there: port 1 on loopback refuses at once.
    with override_settings(CACHES=broken_cache):
        response = api_client.get("/api/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("failing")
    assert "cache" in body["detail"]
