"""A cache invalidation made through one Daphne is seen through the other (the response cache, core/caching.py).

Both processes share one Redis: an answer cached by web B is retired by a write through web A (its scopes' new
generations are in Redis), so B's next answer is the fresh one. Runs with the prod-local topology (the fixture of
test_prod_local.py; `make prod-local-test`).
"""

import uuid

import httpx
import pytest

from tests.deploy.test_prod_local import AS_PROXY, daphne_url, login

pytestmark = [
    pytest.mark.slow,
    pytest.mark.heavy,
    pytest.mark.prodlocal,
    pytest.mark.xdist_group("prod_local"),
    pytest.mark.timeout(1200),
]


def _auth(client: httpx.Client, who: dict) -> dict:
    return {"Authorization": f"Bearer {login(client, who['email'], who['password'])}"}


def test_a_write_through_one_daphne_invalidates_the_cache_of_the_other(topology):
    logins = topology["logins"]["logins"]
    web_a = httpx.Client(base_url=daphne_url(topology, 1), headers=AS_PROXY, timeout=30)
    web_b = httpx.Client(base_url=daphne_url(topology, 2), headers=AS_PROXY, timeout=30)
    try:
        admin = _auth(web_a, logins["admin"])
        teacher = _auth(web_b, logins["teacher"])
        me = web_b.get("/api/profile/me/", headers=teacher).json()
        assert web_b.get("/api/profile/me/", headers=teacher).json() == me  # cached in Redis by B
        subjects = web_b.get("/api/materials/subjects/?page_size=100", headers=teacher).json()
        assert web_b.get("/api/materials/subjects/?page_size=100", headers=teacher).json() == subjects

        marker = f"Cache{uuid.uuid4().hex[:8]}"
        renamed = web_a.patch(f"/api/admin/users/{me['id']}/", json={"last_name": marker}, headers=admin)
        assert renamed.status_code == 200, renamed.text
        created = web_a.post("/api/materials/subjects/", json={"name": marker}, headers=admin)
        assert created.status_code == 201, created.text

        assert web_b.get("/api/profile/me/", headers=teacher).json()["last_name"] == marker
        fresh = web_b.get("/api/materials/subjects/?page_size=100", headers=teacher).json()
        assert fresh["count"] == subjects["count"] + 1
        assert marker in [subject["name"] for subject in fresh["results"]]

        restored = web_a.patch(f"/api/admin/users/{me['id']}/", json={"last_name": me["last_name"]}, headers=admin)
        assert restored.status_code == 200
        assert web_b.get("/api/profile/me/", headers=teacher).json()["last_name"] == me["last_name"]
    finally:
        web_a.close()
        web_b.close()
