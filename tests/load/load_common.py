"""Helpers shared by the locust user classes: logins from the seed file, authenticated calls with explicit
expectations, id discovery from list endpoints, and the per-request recorder that `run_loadtest.py` reads.

The recorder keeps, per (method, name), the exact response-time distribution in the buckets of the QA report's
section 6 and one concrete successful request (path, body, login) so that the query count of each endpoint can be
measured afterwards by replaying it. It is written to `$LOADTEST_EXTRA_FILE` when locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

BUCKETS = (50, 200, 500)  # ms: < 50, 50-200, 200-500, > 500
SEED_FILE = Path(os.environ.get("LOADTEST_LOGINS", Path(__file__).resolve().parents[2] / "var" / "demo_logins.json"))


# --- Logins ---------------------------------------------------------------------------------------------------
class Logins:
    """`pool` {role: [login, ...]} when the seed wrote one, else the single `logins` {role: login}; handed out
    round-robin so concurrent users of one role spread over the pool."""

    def __init__(self, path: Path = SEED_FILE):
        self._data = None
        self._path = path
        self._counters: dict[str, itertools.count] = defaultdict(itertools.count)
        self._lock = threading.Lock()

    def _load(self) -> dict:
        if self._data is None:
            self._data = json.loads(self._path.read_text())
        return self._data

    def pool(self, role: str) -> list[dict]:
        data = self._load()
        pool = (data.get("pool") or {}).get(role)
        if pool:
            return pool
        single = (data.get("logins") or {}).get(role)
        if not single:
            raise RuntimeError(f"No {role} login in {self._path}")
        return [single]

    def next(self, role: str) -> dict:
        pool = self.pool(role)
        with self._lock:
            index = next(self._counters[role])
        return pool[index % len(pool)]


LOGINS = Logins()


# --- Recorder -------------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.samples: dict[str, dict] = {}
        self.warmup: dict | None = None

    def reset(self, **warmup) -> None:
        """End of the warm-up: the buckets start again (the samples, only replayed for query counts, are kept)."""
        self.buckets.clear()
        self.warmup = warmup

    @staticmethod
    def key(method: str, name: str) -> str:
        return f"{method} {name}"

    def on_request(self, request_type, name, response_time, exception=None, **kwargs):
        if exception is not None or response_time is None:
            return
        row = self.buckets[self.key(request_type, name)]
        total = self.buckets["ALL"]
        index = sum(response_time >= edge for edge in BUCKETS)
        row[index] += 1
        total[index] += 1

    def sample(self, method: str, name: str, path: str, body, login: dict, role: str) -> None:
        key = self.key(method, name)
        if key not in self.samples:
            self.samples[key] = {
                "method": method,
                "name": name,
                "path": path,
                "body": body,
                "email": login["email"],
                "role": role,
            }

    def dump(self, path: str, stats=None) -> None:
        data = {"buckets": self.buckets, "samples": self.samples, "warmup": self.warmup}
        if stats is not None:
            data["final"] = final_stats(stats)
            data["failures"] = [
                {"Method": e.method, "Name": e.name, "Error": str(e.error), "Occurrences": e.occurrences}
                for e in stats.errors.values()
            ]
        Path(path).write_text(json.dumps(data, indent=1))


def final_stats(stats) -> list[dict]:
    """Locust's in-memory totals at quit (what its summary and HTML show). Its stats CSV is rewritten once a
    second by a greenlet and misses the last second and the stop phase, so the tables use these."""
    rows = []
    for entry in [*stats.entries.values(), stats.total]:
        count = entry.num_requests
        rows.append(
            {
                "Type": entry.method or "",
                "Name": entry.name,
                "Request Count": count,
                "Failure Count": entry.num_failures,
                "Requests/s": entry.total_rps,
                "Max Response Time": entry.max_response_time if count else None,
                **{f"{p}%": entry.get_response_time_percentile(p / 100) if count else None for p in (50, 95, 99)},
            }
        )
    return rows


RECORDER = Recorder()


# --- Calls ----------------------------------------------------------------------------------------------------
def with_query(path: str, params: dict | None) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def call(
    user,
    method: str,
    path: str,
    *,
    name: str | None = None,
    params: dict | None = None,
    body=None,
    ok: tuple[int, ...] = (200,),
    expected=None,
):
    """One authenticated request. Success is a status in `ok`, or an outcome `expected(response)` accepts (e.g. a
    genuine 409 conflict); anything else is a locust failure with the status and the start of the body. Returns
    the parsed JSON of a success (None otherwise)."""
    url = with_query(path, params)
    name = name or path
    with user.client.request(
        method, url, name=name, json=body, headers=user.auth_headers, catch_response=True
    ) as response:
        status = response.status_code
        if status in ok:
            response.success()
            RECORDER.sample(method, name, url, body, user.login, user.role)
            if status == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                response.failure(f"{status}: not JSON")
                return None
        if expected is not None and expected(response):
            response.success()
            return None
        text = response.text[:200] if response.content else ""
        response.failure(f"{status}: {text}")
        return None


def error_code(response) -> str | None:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


def results(page) -> list[dict]:
    return (page or {}).get("results") or []


def pick(items: list):
    return random.choice(items) if items else None


def log_in(user, role: str, login: dict | None = None) -> bool:
    """POST /api/auth/login/ with `login` (default: the next login of the role); sets the token header for the
    user's calls."""
    user.role = role
    user.login = login or LOGINS.next(role)
    user.auth_headers = {}
    data = call(
        user,
        "POST",
        "/api/auth/login/",
        body={"email": user.login["email"], "password": user.login["password"]},
    )
    if not data or "token" not in data:
        return False
    user.auth_headers = {"Authorization": f"Bearer {data['token']}"}
    user.me = data.get("user") or {}
    return True
