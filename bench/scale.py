"""`make bench-scale`: does the production topology scale out? One run, three parts, figures printed (not asserted).

(a) Scale-out. The topology of `make prod-local` (deploy/prod_local.py: nginx with TLS, two Daphnes, two workers,
    Redis, PostgreSQL primary + replica), started on free ports from SCALE_PORT_BASE (26000). The mixed locust load
    (tests/load/locustfile.py, SCALE_USERS users for SCALE_SECONDS) runs twice: against ONE Daphne straight (pinned to
    core 0 with taskset; the other one idle), then against nginx in front of BOTH. Each run prints the CPU seconds of
    each component (web, worker, nginx, PostgreSQL, Redis, the load generator) read from /proc (utime + stime of the
    process tree, exited children included) and the requests per CPU-second of the web processes: the goal is two
    processes at ≥ 90 % of one's. Then the chat: messages posted through Daphne 1, each received by a socket on
    Daphne 1 and one on Daphne 2; the cross-process delivery's extra time (goal: p99 < 5 ms).
(b) Capacity curve. The load against the one pinned Daphne, SCALE_STEPS users (each step SCALE_STEP_SECONDS after
    its users spawned and SCALE_STEP_WARMUP seconds passed): RPS and p95 per step. The knee is the last step whose
    p95 stays within the targets of docs/performance.md (a quarter of each endpoint's QA target, SCALE_P95_SHARE);
    goal: ≥ 100 RPS on one core.
(c) Each list endpoint's requests per CPU-second against commit 51527be (BENCH_REF): `bench.compare`, run as it is
    (its BENCH_* knobs; here BENCH_DURATION 3 and BENCH_REPEAT 1 unless set). SCALE_COMPARE=0 skips it.

The production settings run with SECURE_SSL_REDIRECT=0 (locust talks plain HTTP to the one Daphne; through nginx the
proxy's X-Forwarded-Proto says https anyway) and throttles a benchmark cannot hit. The chart of (b) is written to
reports/scale.svg. State and logs: var/bench/scale/. Everything is stopped and removed at the end.
"""

import asyncio
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess  # nosec B404  # locust, taskset and bench.compare (argument lists, no shell)
import sys
import time
import uuid
from pathlib import Path

from bench.run import ENDPOINTS, ROOT

sys.path.insert(0, str(ROOT / "deploy"))
import prod_local

BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench" / "scale"
REPORTS = ROOT / "reports"
PORT_BASE = int(os.environ.get("SCALE_PORT_BASE", "26000"))
PG_PREFIX = os.environ.get("SCALE_PG_PREFIX", "thebot-scale-pg-")
USERS = int(os.environ.get("SCALE_USERS", "40"))
SECONDS = int(os.environ.get("SCALE_SECONDS", "30"))
STEPS = [int(step) for step in os.environ.get("SCALE_STEPS", "20,40,80,120,160").split(",")]
STEP_SECONDS = int(os.environ.get("SCALE_STEP_SECONDS", "20"))
STEP_WARMUP = int(os.environ.get("SCALE_STEP_WARMUP", "5"))
P95_SHARE = float(os.environ.get("SCALE_P95_SHARE", "0.25"))
CHAT_MESSAGES = int(os.environ.get("SCALE_CHAT_MESSAGES", "40"))
COMPARE = os.environ.get("SCALE_COMPARE", "1") != "0"
TASKSET = shutil.which("taskset")
TICKS = os.sysconf("SC_CLK_TCK")
# The p95 target of each endpoint under mixed load: its QA target (bench/run.py's table) times P95_SHARE.
TARGETS = {(method, path): target * P95_SHARE for _label, method, path, _who, target in ENDPOINTS}


def say(message: str) -> None:
    print(f"bench-scale: {message}", file=sys.stderr, flush=True)


# --- CPU seconds from /proc ------------------------------------------------------------------------------------
def _processes() -> dict[int, tuple[int, float]]:
    """{pid: (parent pid, CPU seconds of the process and of its exited, reaped children)}."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: ppid is field 4, utime 14, stime 15, cutime 16, cstime 17 (1-based, proc(5)).
        table[int(entry)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / TICKS)
    return table


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each component: its root processes and every live descendant."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, pids in roots.items():
        total, stack = 0.0, [pid for pid in pids if pid in table]
        while stack:
            pid = stack.pop()
            total += table[pid][1]
            stack.extend(children.get(pid, []))
        totals[name] = total
    return totals


def postmaster(state: dict, name: str) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int((Path(state["pg_root"]) / name / "postmaster.pid").read_text().split()[0])
    return None


def components(state: dict, locust_pid: int | None = None) -> dict[str, list[int]]:
    pids = state["pids"]
    roots = {
        "web": [pids["daphne1"], pids["daphne2"]],
        "worker": [pids["worker1"], pids["worker2"]],
        "nginx": [pids["nginx"]],
        "postgresql": [pid for pid in (postmaster(state, "primary"), postmaster(state, "replica")) if pid],
        "redis": [pids["redis"]],
    }
    if locust_pid is not None:
        roots["load generator"] = [locust_pid]
    return roots


def pin(pid: int, cores: str) -> None:
    if TASKSET:
        subprocess.run([TASKSET, "-a", "-p", "-c", cores, str(pid)], check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # nosec B603


# --- locust ----------------------------------------------------------------------------------------------------
def locust(state: dict, host: str, users: int, seconds: int, warmup: int, name: str) -> dict:
    """One headless locust run; its aggregated and per-endpoint figures and the CPU seconds of each component."""
    prefix = WORK / name
    for old in WORK.glob(f"{name}_*.csv"):
        old.unlink()
    spawn_rate = max(users / 2, 1)
    run_time = int(users / spawn_rate + warmup + seconds + 0.999)
    env = {
        **os.environ,
        "LOADTEST_LOGINS": state["demo_logins_file"],
        "LOADTEST_WARMUP": str(warmup),
        "SSL_CERT_FILE": state["ca_file"],  # the chat sockets through nginx (wss) trust its self-signed certificate
    }
    command = [
        *([TASKSET, "-c", "1"] if TASKSET else []),
        str(BIN / "locust"), "-f", str(ROOT / "tests" / "load" / "locustfile.py"), "--headless",
        "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time}s", "-H", host,
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "5",
    ]  # fmt: skip
    with open(WORK / f"{name}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603  # nosec B603
        roots = components(state, process.pid)
        # The measured window: from the end of the warm-up (when locust's statistics start again) to the exit.
        time.sleep(users / spawn_rate + warmup)
        before, started = cpu_seconds(roots), time.monotonic()
        # The load generator's own CPU is read just before it exits (its tree is gone afterwards).
        while process.poll() is None and time.monotonic() - started < seconds - 0.5:
            time.sleep(0.2)
        last_locust = cpu_seconds({"load generator": roots["load generator"]})["load generator"]
        process.wait()
        after, elapsed = cpu_seconds(roots), time.monotonic() - started
        after["load generator"] = last_locust
    cpu = {name: max(after[name] - before[name], 0.0) for name in roots}
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115 - read at once
    total = next(row for row in rows if row["Name"] == "Aggregated")
    endpoints = [row for row in rows if row["Name"] != "Aggregated"]
    requests = int(total["Request Count"])
    return {
        "users": users,
        "requests": requests,
        "failures": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p95": float(total["95%"]),
        "cpu": cpu,
        "elapsed": elapsed,
        "endpoints": {
            (row["Type"], row["Name"]): float(row["95%"]) for row in endpoints if (row["Type"], row["Name"]) in TARGETS
        },
    }


def per_cpu(run: dict) -> float:
    """Requests per CPU-second of the web processes (the requests and the CPU of the same window)."""
    return run["requests"] / run["cpu"]["web"] if run["cpu"]["web"] else 0.0


# --- chat across processes ------------------------------------------------------------------------------------
async def chat_latency(state: dict) -> dict:
    import httpx
    from websockets.asyncio.client import connect

    teacher = json.loads(Path(state["demo_logins_file"]).read_text())["logins"]["teacher"]
    ports = state["ports"]
    first_url = f"http://127.0.0.1:{ports['daphne1']}"
    async with httpx.AsyncClient(base_url=first_url, timeout=30) as first:
        login = {"email": teacher["email"], "password": teacher["password"]}
        token = (await first.post("/api/auth/login/", json=login)).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        room = (await first.get("/api/chat/rooms/?page_size=1", headers=auth)).json()["results"][0]["id"]
        tickets = [(await first.post("/api/chat/ws-ticket/", headers=auth)).json()["ticket"] for _ in range(2)]
        sockets = {}
        for label, index, ticket in (("same", 1, tickets[0]), ("cross", 2, tickets[1])):
            port = ports[f"daphne{index}"]
            sockets[label] = await connect(
                f"ws://127.0.0.1:{port}/ws/chat/?ticket={ticket}", origin=f"http://127.0.0.1:{port}"
            )
        latencies: dict[str, list[float]] = {"same": [], "cross": []}

        async def received(label: str, client_id: str, sent_at: float) -> None:
            while True:
                frame = json.loads(await sockets[label].recv())
                if frame.get("type") == "message.new" and frame["message"].get("client_id") == client_id:
                    latencies[label].append((time.perf_counter() - sent_at) * 1000)
                    return

        try:
            for number in range(CHAT_MESSAGES):
                client_id = str(uuid.uuid4())
                sent_at = time.perf_counter()
                waiting = [asyncio.create_task(received(label, client_id, sent_at)) for label in sockets]
                body = {"text": f"scale {number}", "client_id": client_id}
                response = await first.post(f"/api/chat/rooms/{room}/messages/", json=body, headers=auth)
                response.raise_for_status()
                async with asyncio.timeout(20):
                    await asyncio.gather(*waiting)
        finally:
            for socket in sockets.values():
                await socket.close()
    extra = sorted(cross - same for same, cross in zip(latencies["same"], latencies["cross"], strict=True))
    return {
        "messages": CHAT_MESSAGES,
        "same_p50": statistics.median(latencies["same"]),
        "same_p99": quantile(latencies["same"], 0.99),
        "cross_p50": statistics.median(latencies["cross"]),
        "cross_p99": quantile(latencies["cross"], 0.99),
        "extra_p50": statistics.median(extra),
        "extra_p99": quantile(extra, 0.99),
    }


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- report ----------------------------------------------------------------------------------------------------
def within_targets(run: dict) -> tuple[bool, str]:
    """Whether every targeted endpoint's p95 is within its target, and the worst one (`path p95/target`)."""
    ratios = {key: p95 / TARGETS[key] for key, p95 in run["endpoints"].items()}
    if not ratios:
        return False, "no targeted endpoint"
    worst = max(ratios, key=ratios.get)
    label = " ".join(worst)
    return max(ratios.values()) <= 1, f"{label} {run['endpoints'][worst]:.0f}/{TARGETS[worst]:.0f} ms"


def svg_chart(curve: list[dict], knee: dict | None, path: Path) -> None:
    """RPS (line) and p95 (dots) against users: a small hand-written SVG, no plotting library needed."""
    width, height, pad = 560, 300, 50
    top_rps = max(run["rps"] for run in curve) or 1
    top_p95 = max(run["p95"] for run in curve) or 1
    top_users = max(run["users"] for run in curve)

    def x(users: float) -> float:
        return pad + (width - 2 * pad) * users / top_users

    def y(value: float, top: float) -> float:
        return height - pad - (height - 2 * pad) * value / top

    rps = " ".join(f"{x(run['users']):.1f},{y(run['rps'], top_rps):.1f}" for run in curve)
    p95 = " ".join(f"{x(run['users']):.1f},{y(run['p95'], top_p95):.1f}" for run in curve)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<polyline points="{rps}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
        f'<polyline points="{p95}" fill="none" stroke="#d62728" stroke-dasharray="4 3"/>',
        f'<text x="{pad}" y="{pad - 10}">RPS (blue, max {top_rps:.0f}) and p95 (red, max {top_p95:.0f} ms) '
        "against users, one Daphne on one core</text>",
        f'<text x="{width / 2}" y="{height - 15}">users ({", ".join(str(run["users"]) for run in curve)})</text>',
    ]
    if knee is not None:
        parts.append(
            f'<line x1="{x(knee["users"]):.1f}" y1="{pad}" x2="{x(knee["users"]):.1f}" y2="{height - pad}" '
            'stroke="gray" stroke-dasharray="2 2"/>'
        )
        parts.append(f'<text x="{x(knee["users"]) + 4:.1f}" y="{pad + 12}">knee</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def ascii_chart(curve: list[dict]) -> list[str]:
    top = max(run["rps"] for run in curve) or 1
    return [
        f"  {run['users']:>4} users | {'#' * int(40 * run['rps'] / top):<40} {run['rps']:6.1f} RPS, "
        f"p95 {run['p95']:.0f} ms"
        for run in curve
    ]


def cpu_table(runs: dict[str, dict]) -> list[str]:
    names = ["web", "worker", "nginx", "postgresql", "redis", "load generator"]
    lines = [
        "| run | users | requests | failed | RPS | p95 ms | " + " | ".join(f"{n} CPU-s" for n in names)
        + " | req per web CPU-s |",
        "|---" * (7 + len(names)) + "|",
    ]  # fmt: skip
    for label, run in runs.items():
        cpu = " | ".join(f"{run['cpu'].get(name, 0):.1f}" for name in names)
        lines.append(
            f"| {label} | {run['users']} | {run['requests']} | {run['failures']} | {run['rps']:.1f} | "
            f"{run['p95']:.0f} | {cpu} | {per_cpu(run):.0f} |"
        )
    return lines


def compare() -> list[str]:
    env = {**os.environ, "BENCH_DURATION": os.environ.get("BENCH_DURATION", "3")}
    env["BENCH_REPEAT"] = os.environ.get("BENCH_REPEAT", "1")
    done = subprocess.run(  # noqa: S603  # nosec B603  # our own benchmark
        [str(BIN / "python"), "-m", "bench.compare"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return lines or [f"bench.compare failed ({done.returncode}): {done.stderr[-500:]}"]


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(exist_ok=True)
    prod_local.STATE_DIR, prod_local.STATE, prod_local.LOGS = WORK, WORK / "state.json", WORK / "logs"
    os.environ |= {
        "SECURE_SSL_REDIRECT": "0",
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "LOGIN_FAILURES_PER_ADDRESS": "100000",
    }
    leftover = prod_local.load()
    if leftover:
        prod_local.stop(leftover)
    state: dict = {}
    out = []
    try:
        say(f"starting the topology (deploy/prod_local.py) on ports from {PORT_BASE}")
        with contextlib.redirect_stdout(sys.stderr):
            prod_local.start(state, PORT_BASE, PG_PREFIX)
        ports = state["ports"]
        one, nginx = f"http://127.0.0.1:{ports['daphne1']}", f"https://127.0.0.1:{ports['https']}"

        say(f"(a) {USERS} users for {SECONDS} s against one Daphne (core 0), then against nginx and two")
        pin(state["pids"]["daphne1"], "0")
        runs = {"one Daphne (core 0)": locust(state, one, USERS, SECONDS, 5, "one")}
        pin(state["pids"]["daphne1"], "0,1")
        runs["nginx + two Daphnes"] = locust(state, nginx, USERS, SECONDS, 5, "two")
        ratio = per_cpu(runs["nginx + two Daphnes"]) / per_cpu(runs["one Daphne (core 0)"])
        say("chat across processes")
        chat = asyncio.run(chat_latency(state))

        say(f"(b) capacity curve: {STEPS} users, {STEP_SECONDS} s each, one Daphne on core 0")
        pin(state["pids"]["daphne1"], "0")
        curve = []
        for users in STEPS:
            curve.append(locust(state, one, users, STEP_SECONDS, STEP_WARMUP, f"step-{users}"))
            say(f"  {users} users: {curve[-1]['rps']:.1f} RPS, p95 {curve[-1]['p95']:.0f} ms")
        fits = [run for run in curve if within_targets(run)[0]]
        knee = fits[-1] if fits else None
        svg_chart(curve, knee, REPORTS / "scale.svg")
    finally:
        say("stopping the topology")
        with contextlib.redirect_stdout(sys.stderr):
            prod_local.stop(state)

    out += ["## (a) Scale-out: the mixed locust load, one Daphne against nginx + two", "", *cpu_table(runs), ""]
    verdict = "met" if ratio >= 0.9 else "MISSED"
    out.append(
        f"Two processes: {ratio * 100:.0f} % of one process's requests per web CPU-second (goal ≥ 90 %): {verdict}"
    )
    extra_verdict = "met" if chat["extra_p99"] < 5 else "MISSED"
    out += [
        "",
        f"Chat, {chat['messages']} messages posted through Daphne 1: delivered on Daphne 1 "
        f"p50 {chat['same_p50']:.1f} ms / p99 {chat['same_p99']:.1f} ms, on Daphne 2 "
        f"p50 {chat['cross_p50']:.1f} ms / p99 {chat['cross_p99']:.1f} ms;"
        f" cross-process extra p50 {chat['extra_p50']:.2f} ms, p99 {chat['extra_p99']:.2f} ms (goal < 5 ms): "
        f"{extra_verdict}",
        "",
        f"## (b) Capacity curve: one Daphne on core 0 (p95 targets: {P95_SHARE:g} times each endpoint's QA target)",
        "",
        "| users | RPS | p95 ms | failed | worst endpoint p95 / target | within targets |",
        "|---|---|---|---|---|---|",
    ]
    for run in curve:
        ok, worst = within_targets(run)
        out.append(
            f"| {run['users']} | {run['rps']:.1f} | {run['p95']:.0f} | {run['failures']} | {worst} | "
            f"{'yes' if ok else 'no'} |"
        )
    out += ["", *ascii_chart(curve), ""]
    if knee is None:
        out.append("Knee: none of the steps kept p95 within the targets (goal: ≥ 100 RPS on one core): MISSED")
    else:
        knee_verdict = "met" if knee["rps"] >= 100 else "MISSED"
        out.append(
            f"Knee: {knee['users']} users, {knee['rps']:.1f} RPS (goal: ≥ 100 RPS on one core): {knee_verdict}"
            f" — chart: reports/scale.svg"
        )
    if COMPARE:
        say("(c) every list endpoint against 51527be (bench.compare)")
        out += ["", "## (c) Requests per CPU-second against 51527be (bench/compare.py)", "", *compare()]
    text = "\n".join([machine(), "", *out])
    (REPORTS / "scale.md").write_text(f"# make bench-scale\n\n{text}\n")
    print(text)
    return 0


def machine() -> str:
    """When, which commit, on what: the line every printed figure depends on."""
    commit = subprocess.run(  # noqa: S603  # nosec B603  # git, fixed arguments
        [shutil.which("git") or "git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "unknown CPU")
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, {os.cpu_count()} cores ({model}), "
        f"load average {' / '.join(load)} at the end"
    )


if __name__ == "__main__":
    sys.exit(main())
