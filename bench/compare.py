"""`make bench-compare`: this tree against an earlier commit, side by side in one run, in requests per CPU-second.

The commit (BENCH_REF, default 51527be: the state before issue 17's layout) is extracted with `git archive` into
var/bench/ref-<commit>/ and run with this venv. Each tree gets its own SQLite database, made by its own code
(`migrate`, `seed_demo --scale small`, `python -m bench.data`), and its own Daphne as it ships it (`config.server`
where the tree has it, stock `daphne` before). Both servers are pinned to the server core and wrk to the client
core; for each endpoint their runs alternate (warm-up, then BENCH_REPEAT runs of BENCH_DURATION seconds each), so a
change in the machine's load hits both alike. The figure compared is requests per second of the server's own CPU
time, the measure that survives a busy machine; RPS is printed beside it.

Exit status 1 when an endpoint is slower than BENCH_MAX_SLOWDOWN percent (default 5) or a request failed.
"""

import contextlib
import json
import os
import shutil
import subprocess  # nosec B404  # git, tar, manage.py and our servers (argument lists, no shell)
import sys
from pathlib import Path

from bench.run import (
    CLIENT_CORE,
    CONNECTIONS,
    DURATION,
    ENDPOINTS,
    REPEAT,
    ROOT,
    SERVER_CORE,
    WARMUP,
    WORK,
    alternate,
    free_port,
    login,
    request_for,
    server_env,
    wait_until_up,
)

BIN = Path(sys.executable).parent
REF = os.environ.get("BENCH_REF", "51527be")
MAX_SLOWDOWN = float(os.environ.get("BENCH_MAX_SLOWDOWN", "5"))
GIT, TAR, TASKSET = (shutil.which(name) or name for name in ("git", "tar", "taskset"))


def run(command: list[str], cwd: Path, env: dict) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # nosec B603  # our own commands


def extract(ref: str) -> Path:
    """The commit's tree under var/bench/ref-<full sha>/ (reused when already there)."""
    sha = subprocess.run(  # noqa: S603  # nosec B603  # git from PATH, fixed arguments
        [GIT, "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = WORK / f"ref-{sha}"
    if not (target / "manage.py").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.Popen(  # noqa: S603  # nosec B603  # git from PATH, fixed arguments
            [GIT, "archive", sha], cwd=ROOT, stdout=subprocess.PIPE
        )
        subprocess.run(  # noqa: S603  # nosec B603  # tar from PATH, fixed arguments
            [TAR, "-x", "-C", str(target)], stdin=archive.stdout, check=True
        )
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {sha} failed")
    return target


def tree_env(tree: Path, name: str) -> dict[str, str]:
    env = server_env()
    env["DATABASE_URL"] = f"sqlite:///{WORK / f'compare-{name}.sqlite3'}"
    return env


def prepare(tree: Path, name: str) -> dict:
    for path in WORK.glob(f"compare-{name}.sqlite3*"):
        path.unlink()
    env = tree_env(tree, name)
    python = str(BIN / "python")
    run([python, "manage.py", "migrate", "--noinput"], tree, env)
    logins = WORK / f"compare-{name}-logins.json"
    run([python, "manage.py", "seed_demo", "--scale", "small", "--output", str(logins)], tree, env)
    run([python, "-m", "bench.data"], tree, env)
    return json.loads(logins.read_text())["logins"]


@contextlib.contextmanager
def daphne(tree: Path, name: str):
    port = free_port()
    if (tree / "config" / "server.py").exists():
        command = [str(BIN / "python"), "-m", "config.server"]
    else:
        command = [str(BIN / "daphne")]
    command += ["-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    log = open(WORK / f"compare-{name}.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603  # nosec B603  # our own server, pinned with taskset
        [TASKSET, "-c", SERVER_CORE, *command], cwd=tree, env=tree_env(tree, name), stdout=log, stderr=log
    )
    try:
        wait_until_up(port, process)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    only = {item.strip() for item in os.environ.get("BENCH_ONLY", "").split(",") if item.strip()}
    selected = [endpoint for endpoint in ENDPOINTS if not only or endpoint[0] in only]
    trees = {REF: extract(REF), "this tree": ROOT}
    names = {REF: f"ref-{REF}", "this tree": "head"}  # a database per commit
    print(
        f"Preparing both trees... servers on core {SERVER_CORE}, wrk on core {CLIENT_CORE}, {CONNECTIONS} "
        f"connections, {WARMUP} s warm-up + {REPEAT}x{DURATION} s per point, alternating",
        file=sys.stderr,
        flush=True,
    )
    logins = {label: prepare(tree, names[label]) for label, tree in trees.items()}
    results: dict[str, dict] = {label: {} for label in trees}
    with contextlib.ExitStack() as stack:
        servers = {label: stack.enter_context(daphne(tree, names[label])) for label, tree in trees.items()}
        tokens = {
            label: {role: login(base, logins[label][role]) for role in ("teacher", "admin")}
            for label, (base, _pid) in servers.items()
        }
        for label, method, path, who, _target in selected:
            connections = 1 if method == "POST" else CONNECTIONS
            scripts = {tree: request_for(label, method, who, logins[tree], tokens[tree]) for tree in servers}
            for tree, summary in alternate(servers, path, scripts, connections).items():
                results[tree][label] = summary
            print(f"  {label:12} done", file=sys.stderr, flush=True)

    print()
    print(f"| endpoint | {REF} req/CPU-s (RPS) | this tree req/CPU-s (RPS) | change in req/CPU-s | failed |")
    print("|---|---|---|---|---|")
    worst, failed_total = 0.0, 0
    for label, method, path, _who, _target in selected:
        before, after = results[REF][label], results["this tree"][label]
        change = (after["per_cpu"] - before["per_cpu"]) / before["per_cpu"] * 100
        worst = min(worst, change)
        failed = before["failures"] + after["failures"]
        failed_total += failed
        print(
            f"| {method} {path} | {before['per_cpu']:.0f} ±{before['cpu_spread']:.0f}% ({before['rps']:.0f}) | "
            f"{after['per_cpu']:.0f} ±{after['cpu_spread']:.0f}% ({after['rps']:.0f}) | {change:+.1f} % | {failed} |"
        )
    print()
    verdict = "met" if worst >= -MAX_SLOWDOWN else "MISSED"
    print(f"Slowest change: {worst:+.1f} % (goal: no endpoint slower than {MAX_SLOWDOWN:.0f} %): {verdict}")
    return 1 if worst < -MAX_SLOWDOWN or failed_total else 0


if __name__ == "__main__":
    sys.exit(main())
