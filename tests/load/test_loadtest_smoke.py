"""`make loadtest` end to end, small and short: the stack starts, every role's scripted calls succeed against the
real API (a contract change breaks this), the chat socket delivers, and the report is written with its figures."""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from django.conf import settings

from tests.load.report import server_times
from tests.load.run_loadtest import parse_args, seconds
from tests.load.sampler import ProcSampler


@pytest.mark.slow
def test_loadtest_runs_and_reports(tmp_path):
    reports = tmp_path / "reports"
    options = ["--db", "sqlite", "--users", "6", "--spawn-rate", "6", "--duration", "25s", "--warmup", "3"]
    # Short waits: enough tasks in 25 s that the rare ones (signing in again, so a steady-state login) all run.
    fast = {"LOADTEST_ONE_EACH": "1", "LOADTEST_WAIT_MIN": "0.05", "LOADTEST_WAIT_MAX": "0.3"}
    result = subprocess.run(
        [sys.executable, "tests/load/run_loadtest.py", *options, "--reports", str(reports)],
        cwd=settings.BASE_DIR,
        env={**os.environ, **fast},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (reports / "performance.md").read_text()
    total = re.search(r"\| total \| (\d+) requests, (\d+) failures", report)
    assert total, report[:2000]
    assert int(total[1]) > 20, report
    assert int(total[2]) == 0, report
    warmup = re.search(r"\| measured \| 25s of steady state: the statistics start 3 s after .*: (\d+) requests", report)
    assert warmup and int(warmup[1]) > 0, report[:2000]
    for row in (
        r"\| `POST /api/auth/login/` \| < 200 \| [1-9]",  # after the warm-up: users signing in again
        r"\| POST \| `/api/auth/logout/` \| [1-9]",
        r"\| `GET /api/health/` \| < 50 \| [1-9]",
        r"\| WS \| `message.send → message.new \(delivery\)` \| [1-9]",
        r"\| `GET /api/admin/users/` \| < 300 \| [1-9]",
        r"\| \*\*all requests\*\* \|",
        r"\| daphne \| [\d.]+ MiB \| [\d.]+ MiB \|",
    ):
        assert re.search(row, report), row
    # Query counts come from a successful replay (no "(replay 4xx)" next to the list endpoints of table 1.1).
    assert re.search(r"\| `GET /api/materials/` \|[^\n]*\| \d+ \| (PASS|FAIL) \|", report)
    # The server's own time is read from its request log for the same endpoints.
    assert re.search(r"\| `GET /api/materials/` \|[^\n]*\| \d+ / \d+ \| \d+ \| (PASS|FAIL)", report)
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv", "latency.png"):
        assert (reports / name).stat().st_size > 0, name


def test_sampler_measures_cpu_and_memory_of_a_process():
    burner = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<2: pass"])
    sampler = ProcSampler({"burner": burner.pid}, interval=0.2)
    sampler.start()
    burner.wait()
    sampler.stop()
    proc = sampler.summary()["processes"]["burner"]
    # The machine may be busy: the burner gets some CPU, not necessarily a whole core.
    assert proc["cpu_seconds"] > 0.05
    assert proc["cpu_mean_percent"] > 2
    assert proc["rss_peak_mib"] > 1


def test_server_times_group_ids_and_skip_the_warm_up(tmp_path):

    def line(clock: float, path: str, duration: float, method: str = "GET") -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(clock))
        return json.dumps(
            {"time": stamp, "message": "request", "method": method, "path": path, "duration_ms": duration}
        )

    start = float(int(time.time()))
    log = tmp_path / "daphne.log"
    rows = [line(start - 5, "/api/materials/", 900.0), "not json", '{"message": "other"}']
    rows += [line(start + 1, "/api/materials/", float(ms)) for ms in range(1, 21)]
    rows += [line(start + 2, f"/api/materials/{pk}/progress/", 7.0, "PUT") for pk in (3, 41)]
    log.write_text("\n".join(rows) + "\n")

    times = server_times(log, since=start)

    assert times["GET /api/materials/"] == (11.0, 20.0)  # the warm-up's 900 ms request is not counted
    assert times["PUT /api/materials/[id]/progress/"] == (7.0, 7.0)
    assert server_times(tmp_path / "missing.log", since=None) == {}


def test_durations_are_read_like_locusts_run_time():
    import argparse

    assert [seconds(text) for text in ("90", "60s", "5m", "1h30m", "2m10s")] == [90, 60, 300, 5400, 130]
    for bad in ("", "m", "5x", "1.5m", "-3s"):
        with pytest.raises(argparse.ArgumentTypeError):
            seconds(bad)
    assert parse_args(["--duration", "2m"]).duration == 120
    assert parse_args([]).duration == 60  # the default goes through the same parser
