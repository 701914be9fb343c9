"""Proofs of the local production topology (`make prod-local`, deploy/prod_local.py): nginx with TLS in front of
two Daphne processes, two workers, one Redis, PostgreSQL primary + streaming replica, all on 127.0.0.1.

Uses a topology already running (`make prod-local`), else the session starts one and stops it after (the
`topology` fixture of tests/deploy/conftest.py, shared by every module here). Marked
slow and heavy: `make prod-local-test` runs it, and CI's `make test-slow` (starting the topology takes minutes).
"""

import asyncio
import json
import os
import random
import re
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "var" / "prod-local" / "state.json"
SCRIPT = ROOT / "deploy" / "prod_local.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.heavy,
    pytest.mark.prodlocal,
    pytest.mark.xdist_group("prod_local"),
    pytest.mark.timeout(1200),
]


def _running() -> bool:
    return subprocess.run([sys.executable, SCRIPT, "status"], capture_output=True, timeout=60).returncode == 0


def tls(state: dict) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=state["ca_file"])


def https_url(state: dict) -> str:
    return f"https://127.0.0.1:{state['ports']['https']}"


def daphne_url(state: dict, index: int) -> str:
    return f"http://127.0.0.1:{state['ports'][f'daphne{index}']}"


# Straight to one Daphne the test plays the proxy: NUM_PROXIES=1 trusts its X-Forwarded-Proto (else: 301 to HTTPS).
AS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/api/auth/login/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_https_login_and_api_read_through_nginx(topology):
    student = topology["logins"]["logins"]["teacher"]
    with httpx.Client(base_url=https_url(topology), verify=tls(topology), timeout=30) as client:
        token = login(client, student["email"], student["password"])
        response = client.get("/api/scheduling/lessons/?page_size=1", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["count"] > 0
        assert response.json()["next"].startswith(https_url(topology) + "/")  # the scheme Django saw: https
        # HSTS once (nginx's; the application's own header is hidden).
        assert response.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains; preload"
        ]


def test_admin_login_over_https_passes_csrf(topology):
    """Secure cookies and the CSRF origin check work: nginx says https, Django trusts it (NUM_PROXIES=1)."""
    admin = topology["logins"]["logins"]["admin"]
    with httpx.Client(base_url=https_url(topology), verify=tls(topology), timeout=30) as client:
        page = client.get("/admin/login/")
        assert page.status_code == 200
        assert "secure" in page.headers["set-cookie"].lower()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        response = client.post(
            "/admin/login/?next=/admin/",
            data={"username": admin["email"], "password": admin["password"], "csrfmiddlewaretoken": token},
            headers={"Origin": https_url(topology), "Referer": https_url(topology) + "/admin/login/"},
        )
        assert response.status_code == 302, response.text[:500]
        assert response.headers["location"] == "/admin/"


def test_plain_http_is_redirected_to_https(topology):
    http = f"http://127.0.0.1:{topology['ports']['http']}"
    response = httpx.get(http + "/api/profile/me/?page=2", timeout=30)
    assert response.status_code == 301
    assert response.headers["location"] == https_url(topology) + "/api/profile/me/?page=2"
    # Daphne itself, reached without the proxy's X-Forwarded-Proto, redirects too (production settings).
    direct = httpx.get(daphne_url(topology, 1) + "/api/profile/me/", headers={"Host": "localhost"}, timeout=30)
    assert direct.status_code == 301
    assert direct.headers["location"].startswith("https://localhost/")


async def _chat_across_daphnes(state: dict) -> None:
    teacher = state["logins"]["logins"]["teacher"]
    async with httpx.AsyncClient(base_url=daphne_url(state, 1), headers=AS_PROXY, timeout=30) as first:
        response = await first.post(
            "/api/auth/login/", json={"email": teacher["email"], "password": teacher["password"]}
        )
        token = response.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        room = (await first.get("/api/chat/rooms/?page_size=1", headers=auth)).json()["results"][0]["id"]
        tickets = [(await first.post("/api/chat/ws-ticket/", headers=auth)).json()["ticket"] for _ in range(2)]
        port2, https_port = state["ports"]["daphne2"], state["ports"]["https"]
        origin = f"https://127.0.0.1:{https_port}"
        direct = connect(f"ws://127.0.0.1:{port2}/ws/chat/?ticket={tickets[0]}", origin=origin)
        proxied = connect(f"wss://127.0.0.1:{https_port}/ws/chat/?ticket={tickets[1]}", origin=origin, ssl=tls(state))
        async with direct as on_second, proxied as through_nginx:
            client_id = str(uuid.uuid4())
            sent = await first.post(
                f"/api/chat/rooms/{room}/messages/",
                json={"text": "across daphnes", "client_id": client_id},
                headers=auth,
            )
            assert sent.status_code == 201, sent.text
            for socket in (on_second, through_nginx):
                async with asyncio.timeout(20):
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "message.new" and frame["message"]["client_id"] == client_id:
                            break
                assert frame["message"]["id"] == sent.json()["id"]


def test_chat_message_through_one_daphne_reaches_a_socket_on_the_other(topology):
    asyncio.run(_chat_across_daphnes(topology))


def test_throttle_counts_across_both_daphnes(topology):
    """The chat-ticket rate (30 a minute per user) is one count in Redis, whichever process answers."""
    user = random.choice(topology["logins"]["pool"]["student"])  # a fresh user: its count starts at 0
    servers = [httpx.Client(base_url=daphne_url(topology, i), headers=AS_PROXY, timeout=30) for i in (1, 2)]
    try:
        auth = {"Authorization": f"Bearer {login(servers[0], user['email'], user['password'])}"}
        statuses = [servers[i % 2].post("/api/chat/ws-ticket/", headers=auth).status_code for i in range(30)]
        assert statuses == [200] * 30
        # The 31st is refused by either process.
        assert [server.post("/api/chat/ws-ticket/", headers=auth).status_code for server in servers] == [429, 429]
    finally:
        for server in servers:
            server.close()


def test_replica_is_streaming_from_the_primary(topology):
    with psycopg.connect(topology["database_url"], autocommit=True) as primary:
        rows = primary.execute("SELECT state, sync_state FROM pg_stat_replication").fetchall()
        assert rows == [("streaming", "async")]
        written = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        users = primary.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
    with psycopg.connect(topology["replica_url"], autocommit=True) as replica:
        assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        deadline = time.monotonic() + 30
        while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica did not replay the primary's WAL"
            replica.execute("SELECT pg_sleep(0.1)")
        assert replica.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == users


def test_worker_heartbeats_pass_the_container_health_check(topology):
    """`manage.py worker_alive` (compose's worker health check) finds this host's workers' heartbeats."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env |= {"THEBOT_DOTENV": "0", "DATABASE_URL": topology["database_url"]}
    done = subprocess.run(
        [sys.executable, ROOT / "manage.py", "worker_alive"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_private_file_is_sent_by_nginx_after_the_application_checked_access(topology):
    """PRIVATE_FILES_X_ACCEL: Daphne answers with X-Accel-Redirect and no body; nginx sends the bytes from the media
    folder with the download headers; nobody reaches /protected-media/ from outside."""
    with psycopg.connect(topology["database_url"], autocommit=True) as primary:
        material, name = primary.execute(
            "SELECT id, file FROM materials_material WHERE file <> '' ORDER BY id LIMIT 1"
        ).fetchone()
    stored = (ROOT / "var" / "prod-local" / "media" / name).read_bytes()
    admin = topology["logins"]["logins"]["admin"]
    with httpx.Client(base_url=https_url(topology), verify=tls(topology), timeout=30) as client:
        auth = {"Authorization": f"Bearer {login(client, admin['email'], admin['password'])}"}
        response = client.get(f"/api/materials/{material}/file/", headers=auth)
        assert response.status_code == 200, response.text
        assert response.content == stored
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
        assert "x-accel-redirect" not in response.headers
        assert client.get("/protected-media/" + name, headers=auth).status_code == 404
    direct = httpx.get(
        daphne_url(topology, 2) + f"/api/materials/{material}/file/", headers=AS_PROXY | auth, timeout=30
    )
    assert direct.headers["x-accel-redirect"] == "/protected-media/" + name
    assert direct.content == b""
