"""Chat benchmark (`make bench-chat`): prints figures, asserts nothing.

One Daphne process pinned to core 0 (`taskset -c 0`) with the Redis channel layer; this client process on
core 1. (a) idle sockets: the server's RSS growth per open socket; (b) fan-out: a 50-member room fed at 50, 100
and 200 messages/s for 10 s each over WebSocket (senders rotate among the members): delivery latency p50/p99
across receivers, deliveries per second, messages lost, server CPU.

Environment: REDIS_URL (required), DATABASE_URL (default: a fresh SQLite file), BENCH_IDLE_SOCKETS (5000),
BENCH_RATES ("50,100,200"), BENCH_SECONDS (10), BENCH_MEMBERS (50).
"""

import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.chat.daphne import DaphneProcess, seed

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def server_quiet(pid: int, timeout: float = 180) -> None:
    """Wait until the server has worked off what the previous phase left (e.g. thousands of disconnects)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(1)
        if cpu_seconds(pid) - before < 0.05:
            return


class Bench:
    def __init__(self, server: DaphneProcess, data: dict):
        self.server = server
        self.data = data
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=180, limits=httpx.Limits(max_connections=50))

    async def ticket(self, user_id: int) -> str:
        token = self.data["tokens"][str(user_id)]
        response = await self.http.post("/api/chat/ws-ticket/", headers={"Authorization": f"Token {token}"})
        response.raise_for_status()
        return response.json()["ticket"]

    async def open(self, user_id: int):
        ticket = await self.ticket(user_id)
        return await connect(
            f"{self.server.ws_url}?ticket={ticket}",
            origin=f"http://127.0.0.1:{self.server.port}",
            compression=None,
            ping_interval=None,
            max_queue=None,
            open_timeout=60,
        )

    # --- (a) idle sockets ---------------------------------------------------------------------------------
    async def idle_sockets(self, count: int) -> dict:
        users = self.data["outsiders"]
        semaphore = asyncio.Semaphore(50)

        async def one(index: int):
            async with semaphore:
                return await self.open(users[index % len(users)])

        # Warm-up: code paths, pools and allocator arenas of the HTTP (ticket) and WebSocket paths.
        warm = await asyncio.gather(*(one(index) for index in range(min(500, count))))
        await asyncio.gather(*(socket.close() for socket in warm[50:]))
        warm = warm[:50]
        await asyncio.sleep(3)
        before = rss_kib(self.server.pid)
        started = time.monotonic()
        sockets = await asyncio.gather(*(one(index) for index in range(count)), return_exceptions=True)
        opened = [socket for socket in sockets if not isinstance(socket, BaseException)]
        failures = [repr(socket) for socket in sockets if isinstance(socket, BaseException)]
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(3)
        after = rss_kib(self.server.pid)
        result = {
            "sockets": len(opened),
            "failed": len(failures),
            "first_failure": failures[0] if failures else None,
            "connect_seconds": round(connect_seconds, 1),
            "rss_before_mib": round(before / 1024, 1),
            "rss_after_mib": round(after / 1024, 1),
            "kib_per_socket": round((after - before) / max(1, len(opened)), 1),
        }
        await asyncio.gather(*(socket.close() for socket in opened + warm), return_exceptions=True)
        await server_quiet(self.server.pid)
        return result

    # --- (b) fan-out ----------------------------------------------------------------------------------------
    async def fan_out(self, rate: int, seconds: float, phase: int) -> dict:
        members = self.data["members"]
        room = self.data["room"]
        sockets = [await self.open(user_id) for user_id in members]
        await asyncio.sleep(1)
        sent_at: dict[str, float] = {}
        latencies: list[float] = []
        received = 0
        errors: dict[str, int] = {}
        last_receive = 0.0
        marker = f"b{phase}-"

        async def read(socket):
            nonlocal received, last_receive
            with contextlib.suppress(Exception):
                async for frame in socket:
                    now = time.perf_counter()
                    if frame.startswith('{"type":"message.new"'):
                        start = frame.find('"text":"' + marker)
                        if start < 0:
                            continue
                        start += 8
                        key = frame[start : frame.index('"', start)]
                        sent = sent_at.get(key)
                        if sent is not None:
                            latencies.append(now - sent)
                            received += 1
                            last_receive = now
                    elif frame.startswith('{"type":"error"'):
                        code = json.loads(frame)["code"]
                        errors[code] = errors.get(code, 0) + 1

        readers = [asyncio.create_task(read(socket)) for socket in sockets]
        cpu_before = cpu_seconds(self.server.pid)
        client_cpu_before = time.process_time()
        total = int(rate * seconds)
        started = time.perf_counter()
        for index in range(total):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"{marker}{index}"
            sent_at[key] = time.perf_counter()
            frame = {"type": "message.send", "room": room, "text": key, "client_id": key}
            await sockets[index % len(sockets)].send(json.dumps(frame))
        send_seconds = time.perf_counter() - started
        expected = total * len(sockets)
        deadline = time.perf_counter() + 30
        while received < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        cpu_after = cpu_seconds(self.server.pid)
        client_cpu = time.process_time() - client_cpu_before
        elapsed = max(last_receive, started + send_seconds) - started
        for socket in sockets:
            await socket.close()
        await server_quiet(self.server.pid)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        return {
            "rate": rate,
            "sent": total,
            "send_seconds": round(send_seconds, 2),
            "deliveries_expected": expected,
            "deliveries": received,
            # not received within 30 s of the last send
            "lost": expected - received,
            "errors": errors,
            "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "latency_max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
            "deliveries_per_second": round(received / elapsed) if elapsed else 0,
            "server_cpu_percent": round((cpu_after - cpu_before) / elapsed * 100) if elapsed else 0,
            "client_cpu_percent": round(client_cpu / elapsed * 100) if elapsed else 0,
        }


async def main() -> None:
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench-chat needs REDIS_URL (the Redis channel layer)")
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {1})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    idle_count = int(os.environ.get("BENCH_IDLE_SOCKETS", "5000"))
    if soft < idle_count + 500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, idle_count + 1000), hard))
    rates = [int(rate) for rate in os.environ.get("BENCH_RATES", "50,100,200").split(",") if rate]
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    members = int(os.environ.get("BENCH_MEMBERS", "50"))
    workdir = tempfile.mkdtemp(prefix="bench-chat-")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"
    data = seed(database_url, members=members, outsiders=20, migrate=True)
    # The idle-socket run holds thousands of sockets for 20 users: lift the per-user cap for it.
    server = DaphneProcess(database_url, cpu=0, CHAT_MAX_SOCKETS_PER_USER=str(idle_count + 1000))
    print(f"server pid {server.pid} on core 0, clients on core 1; database {database_url.split('@')[-1]}")
    try:
        bench = Bench(server, data)
        if idle_count:
            idle = await bench.idle_sockets(idle_count)
            print("idle sockets:", json.dumps(idle))
        for phase, rate in enumerate(rates):
            result = await bench.fan_out(rate, seconds, phase)
            print(f"fan-out to {members} members:", json.dumps(result))
        await bench.http.aclose()
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
