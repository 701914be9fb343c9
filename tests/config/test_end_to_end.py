"""The embedded `make run` path over real HTTP: migrate, seed, Daphne on a free port, then the API and statics.

Runs against a fresh SQLite file with no Redis, exactly as on a fresh machine.
"""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "CACHE_KEY_PREFIX", "DJANGO_ENV", "DEBUG", "SECRET_KEY"}
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def manage(env, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(env, args: list[str], log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdout and process.stdout.close()


@pytest.fixture
def embedded_server(embedded_env, tmp_path):
    """Migrate, then seed the demo, run one worker batch and start Daphne side by side (as `make run` does)."""
    migrated = manage(embedded_env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    logins_file = tmp_path / "logins.json"
    port = free_port()
    processes = {
        "seed": start(embedded_env, ["manage.py", "seed_demo", "--output", str(logins_file)], tmp_path / "seed.log"),
        "worker": start(embedded_env, ["manage.py", "run_worker", "--batch"], tmp_path / "worker.log"),
        "daphne": start(
            embedded_env,
            ["-m", "config.server", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            tmp_path / "daphne.log",
        ),
    }
    base = f"http://127.0.0.1:{port}"
    try:
        for name in ("seed", "worker"):
            returncode = processes[name].wait(timeout=120)
            assert returncode == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
        deadline = time.monotonic() + 60
        while True:
            assert processes["daphne"].poll() is None, (tmp_path / "daphne.log").read_text()[-3000:]
            try:
                httpx.get(f"{base}/api/health/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base, json.loads(logins_file.read_text())["logins"]
    finally:
        for process in processes.values():
            stop(process)


@pytest.mark.slow
def test_daphne_serves_the_api_the_docs_and_static_files(embedded_server, tmp_path):
    """Also: the worker batch started by the fixture exited 0, and both processes logged JSON lines only."""
    base, logins = embedded_server
    with httpx.Client(base_url=base, timeout=10) as http:
        health = http.get("/api/health/", headers={"X-Request-ID": "e2e-1"})
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert health.headers["x-request-id"] == "e2e-1"

        ready = http.get("/api/health/ready/")
        assert ready.status_code == 200, ready.text

        student = logins["student"]
        login = http.post("/api/auth/login/", json={"email": student["email"], "password": student["password"]})
        assert login.status_code == 200, login.text
        token = login.json()["token"]

        me = http.get("/api/profile/me/", headers={"Authorization": f"Token {token}"})
        assert me.status_code == 200
        assert me.json()["email"] == student["email"]
        assert me.json()["profile"]["tutor"]["id"] == logins["tutor"]["id"]
        assert me.headers["x-request-id"]

        assert http.get("/api/profile/me/").status_code == 401
        assert http.get("/api/nothing/").json()["code"] == "not_found"

        docs = http.get("/api/docs/")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        assert "cdn" not in docs.text.lower()
        assert http.get("/api/schema/").status_code == 200
        css = http.get("/static/admin/css/base.css")
        assert css.status_code == 200
        assert "text/css" in css.headers["content-type"]
        assert http.get("/admin/login/").status_code == 200
        assert http.get("/api/nothing/", headers={"X-Request-ID": "e2e-404"}).status_code == 404
        assert http.get("/api/profile/me/", headers={"X-Request-ID": "e2e-401"}).status_code == 401

    # One log format per process: Daphne's plain access log is off (-v 0); the app writes one JSON line a request.
    server_lines = [json.loads(line) for line in (tmp_path / "daphne.log").read_text().splitlines() if line]
    requests = [line for line in server_lines if line["logger"] == "thebot.requests"]
    by_id = {line["request_id"]: line for line in requests}
    assert [line["request_id"] for line in requests].count("e2e-404") == 1
    assert by_id["e2e-404"]["status"] == 404 and by_id["e2e-404"]["level"] == "INFO"
    assert by_id["e2e-401"]["status"] == 401 and by_id["e2e-401"]["path"] == "/api/profile/me/"
    assert {"time", "level", "method", "path", "status", "duration_ms", "user_id"} <= set(by_id["e2e-404"])
    assert any(line["path"] == "/api/auth/login/" and line["status"] == 200 for line in requests)
    assert not [line for line in server_lines if line["level"] in {"ERROR", "CRITICAL"}]
    worker_lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines() if line]
    assert all(line["logger"] and line["level"] for line in worker_lines)
