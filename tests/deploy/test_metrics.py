"""Prometheus metrics in the local production topology (`make prod-local`): each of the two Daphne processes serves
its own `/metrics` on its own port (config/metrics.py: no multiprocess mode), the counters of one move with the
requests it answered and only those, and nginx never exposes the endpoint.

Uses a topology already running (`make prod-local`), else starts one (tests/deploy/test_prod_local.py's fixture).
"""

import asyncio
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.deploy.test_prod_local import AS_PROXY, daphne_url, https_url, login, tls

pytestmark = [
    pytest.mark.slow,
    pytest.mark.heavy,
    pytest.mark.prodlocal,
    pytest.mark.xdist_group("prod_local"),
    pytest.mark.timeout(1200),
]
PROFILE = {"route": "api/profile/me/", "method": "GET", "status": "200"}


def scrape(state: dict, index: int) -> dict[tuple[str, tuple], float]:
    """One Daphne's samples, read the way Prometheus does: straight to the process, from loopback."""
    response = httpx.get(daphne_url(state, index) + "/metrics", headers={"Host": "127.0.0.1"}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_each_daphne_serves_its_own_metrics_and_counts_its_own_requests(topology):
    before = {index: scrape(topology, index) for index in (1, 2)}
    for index in (1, 2):
        assert value(before[index], "thebot_metrics_scrape_ok", part="jobs") == 1
        assert value(before[index], "thebot_metrics_scrape_ok", part="db_pool") == 1
        assert value(before[index], "thebot_db_pool_max_size", alias="default") >= 1
    user = topology["logins"]["logins"]["student"]
    sent = {1: 3, 2: 5}
    for index, count in sent.items():
        with httpx.Client(base_url=daphne_url(topology, index), headers=AS_PROXY, timeout=30) as client:
            auth = {"Authorization": f"Bearer {login(client, user['email'], user['password'])}"}
            for _ in range(count):
                assert client.get("/api/profile/me/", headers=auth).status_code == 200
    after = {index: scrape(topology, index) for index in (1, 2)}
    for index, count in sent.items():
        moved = value(after[index], "thebot_http_requests_total", **PROFILE) - value(
            before[index], "thebot_http_requests_total", **PROFILE
        )
        assert moved == count, f"daphne{index}"
        latency = {"route": "api/profile/me/", "method": "GET"}
        assert value(after[index], "thebot_http_request_duration_seconds_count", **latency) >= count
        login_route = {"route": "api/auth/login/", "method": "POST", "status": "200"}
        assert value(after[index], "thebot_http_requests_total", **login_route) > value(
            before[index], "thebot_http_requests_total", **login_route
        )


async def _socket_counted_on_its_own_process(state: dict) -> None:
    user = state["logins"]["logins"]["student"]
    with httpx.Client(base_url=daphne_url(state, 1), headers=AS_PROXY, timeout=30) as client:
        auth = {"Authorization": f"Bearer {login(client, user['email'], user['password'])}"}
        ticket = client.post("/api/chat/ws-ticket/", headers=auth).json()["ticket"]
    start = {index: value(scrape(state, index), "thebot_websockets_open") for index in (1, 2)}
    origin = f"https://127.0.0.1:{state['ports']['https']}"
    async with connect(f"ws://127.0.0.1:{state['ports']['daphne2']}/ws/chat/?ticket={ticket}", origin=origin):
        deadline = time.monotonic() + 20
        while value(scrape(state, 2), "thebot_websockets_open") != start[2] + 1:
            assert time.monotonic() < deadline, "the socket was not counted on daphne2"
            await asyncio.sleep(0.05)
        assert value(scrape(state, 1), "thebot_websockets_open") == start[1]
    deadline = time.monotonic() + 20
    while value(scrape(state, 2), "thebot_websockets_open") != start[2]:
        assert time.monotonic() < deadline, "the closed socket was not counted out on daphne2"
        await asyncio.sleep(0.05)


def test_an_open_socket_is_counted_by_the_process_that_holds_it(topology):
    asyncio.run(_socket_counted_on_its_own_process(topology))


def test_nginx_never_exposes_metrics_and_a_proxied_request_needs_the_token(topology):
    with httpx.Client(base_url=https_url(topology), verify=tls(topology), timeout=30) as client:
        for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?format=text"):
            # The raw path as written (httpx would read "//metrics" as a host).
            response = client.get(httpx.URL(https_url(topology)).copy_with(raw_path=path.encode()))
            assert response.status_code == 404, path
            assert "thebot_" not in response.text
    # Straight to Daphne but carrying a proxy's X-Forwarded-For: refused, whatever the peer's address.
    direct = httpx.get(daphne_url(topology, 1) + "/metrics", headers=AS_PROXY | {"Host": "127.0.0.1"}, timeout=30)
    assert direct.status_code == 403
    assert direct.json()["code"] == "permission_denied"
