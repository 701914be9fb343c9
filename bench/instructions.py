"""`make bench-instructions`: CPU instructions per request of each list endpoint, this tree against an earlier
commit (BENCH_REF, default 51527be), counted by valgrind's callgrind.

Instruction counts do not depend on what else the machine is doing, so the comparison holds on a busy machine where
requests per CPU-second (`make bench-compare`) swing by ±20 %. Each endpoint is served in-process by Django's own
handler (bench/inprocess.py: the whole middleware chain and the view, authenticated by a token; no server, no
socket) BENCH_REQUESTS times, and once with no request: the difference divided by the count is one request's cost,
start-up excluded. Both trees use their own database made by their own code (as in bench/compare.py).

Prints a table; exit status 1 when an endpoint costs more than BENCH_MAX_SLOWDOWN percent (default 5) more.
"""

import os
import re
import shutil
import subprocess  # nosec B404  # valgrind and our own script (argument lists, no shell)
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.compare import REF, WORK, extract, prepare, tree_env
from bench.run import ENDPOINTS, ROOT

BIN = Path(sys.executable).parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
MAX_SLOWDOWN = float(os.environ.get("BENCH_MAX_SLOWDOWN", "5"))
SCRIPT = ROOT / "bench" / "inprocess.py"
VALGRIND = shutil.which("valgrind") or "valgrind"
EMAILS = {"teacher": "teacher@demo.thebot", "admin": "admin@demo.thebot"}


def instructions(tree: Path, name: str, path: str, who: str, count: int) -> int:
    env = tree_env(tree, name) | {"PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    done = subprocess.run(  # noqa: S603  # nosec B603  # valgrind on our own script
        [
            VALGRIND, "--tool=callgrind", "--callgrind-out-file=/dev/null",
            str(BIN / "python"), str(SCRIPT), path, EMAILS[who], str(count),
        ],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{name} {path}: {done.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def per_request(tree: Path, name: str, path: str, who: str) -> float:
    return (instructions(tree, name, path, who, REQUESTS) - instructions(tree, name, path, who, 0)) / REQUESTS


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    only = {item.strip() for item in os.environ.get("BENCH_ONLY", "").split(",") if item.strip()}
    selected = [e for e in ENDPOINTS if e[1] == "GET" and e[3] and (not only or e[0] in only)]
    trees = {f"ref-{REF}": extract(REF), "head": ROOT}  # a database per commit
    for name, tree in trees.items():
        if not (WORK / f"compare-{name}.sqlite3").exists():
            prepare(tree, name)
    jobs = [(label, name, path, who) for label, _m, path, who, _t in selected for name in trees]
    with ThreadPoolExecutor(max_workers=int(os.environ.get("BENCH_JOBS", "2"))) as pool:
        costs = dict(
            zip(
                [(label, name) for label, name, _p, _w in jobs],
                pool.map(lambda job: per_request(trees[job[1]], job[1], job[2], job[3]), jobs),
                strict=True,
            )
        )
    print(f"| endpoint | {REF} instructions/request | this tree | change |")
    print("|---|---|---|---|")
    worst = 0.0
    for label, _method, path, _who, _target in selected:
        before, after = costs[(label, f"ref-{REF}")], costs[(label, "head")]
        change = (after - before) / before * 100
        worst = max(worst, change)
        print(f"| GET {path} | {before / 1e6:.2f} M | {after / 1e6:.2f} M | {change:+.1f} % |")
    verdict = "met" if worst <= MAX_SLOWDOWN else "MISSED"
    print(f"\nLargest increase: {worst:+.1f} % (goal: none above {MAX_SLOWDOWN:.0f} %): {verdict}")
    return 0 if worst <= MAX_SLOWDOWN else 1


if __name__ == "__main__":
    sys.exit(main())
