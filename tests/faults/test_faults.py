"""The fault suite (`make test-faults`): each scenario breaks one part of a real topology (tests/faults/stack.py)
under a small load (tests/faults/load.py), waits for the part to answer again, lets the clients catch up, then
records its figures (a table printed at the end and written to reports/faults.md) and asserts the targets that
are correctness: 0 messages lost, duplicated or out of order after resync, 0 jobs lost, duplicated or stuck, no
5xx (nor unanswered request) started once the service was back for a second, and no process dead that nobody
meant to kill. Durations are printed, never asserted.

"Back" is measured by the service answering (a PING, a `SELECT 1`, a health check), polled; the outage lengths
below are the faults' own durations, not waits for anything.
"""

import asyncio
import os
import time
from dataclasses import asdict

import pytest

from tests.chat.daphne import ROOT
from tests.chat.redis_server import REDIS_SERVER
from tests.faults.load import Figures, Load
from tests.faults.stack import Stack, wait_until
from tests.pgcluster import unavailable_reason

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.slow,
    pytest.mark.xdist_group("faults"),
    pytest.mark.timeout(900),  # one topology for the module (make test-slow runs --dist loadgroup)
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary"),
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

REDIS_PAUSE = 10.0  # seconds Redis stays paused (SIGSTOP … SIGCONT)
REDIS_DOWN = 5.0  # seconds between Redis' SIGKILL and its restart on the same port
POSTGRES_DOWN = 15.0  # seconds PostgreSQL stays stopped
DAPHNE_DOWN = 3.0  # seconds before the supervisor restarts the killed Daphne
WORKER_DOWN = 2.0  # seconds before the supervisor restarts the killed worker

RESULTS: list[Figures] = []
REPORT = ROOT / "reports" / "faults.md"


@pytest.fixture(scope="module")
def stack(request):
    started = time.monotonic()
    topology = Stack()
    setup = time.monotonic() - started
    yield topology
    topology.close()
    write_report(request.config, setup, time.monotonic() - started)


COLUMNS = [
    ("scenario", "scenario"),
    ("outage", "outage s"),
    ("requests", "requests"),
    ("server_errors", "5xx"),
    ("not_503", "5xx not 503"),
    ("no_answer", "no answer"),
    ("server_errors_after", "5xx after back+1 s"),
    ("recovery", "recovery s"),
    ("slowest", "slowest s"),
    ("slowest_during", "slowest started in outage s"),
    ("max_backends", "max PG backends"),
    ("sent", "msgs sent"),
    ("received", "received per client"),
    ("lost", "lost"),
    ("duplicated", "dup"),
    ("out_of_order", "out of order"),
    ("resyncs", "resyncs"),
    ("reconnects", "reconnects"),
    ("jobs_enqueued", "jobs"),
    ("jobs_done", "done"),
    ("jobs_duplicated", "dup effects"),
    ("jobs_lost", "jobs lost"),
    ("jobs_stuck", "stuck"),
    ("supervisor_restarts", "restarted (the killed one)"),
    ("restarted_by_hand", "dead otherwise"),
]


def cell(value) -> str:
    if isinstance(value, list):
        return "/".join(str(v) for v in value) if value else "-"
    return "-" if value is None else str(value)


def write_report(config, setup: float, total: float) -> None:
    if not RESULTS:
        return
    header = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(cell(asdict(row)[name]) for name, _ in COLUMNS) + " |" for row in RESULTS]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    text = "\n".join(
        [
            "# Fault suite (`make test-faults`)",
            "",
            f"Run at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {len(RESULTS)} scenarios in {total:.0f} s"
            f" (topology set-up {setup:.0f} s); load average at the end {load} on {os.cpu_count()} CPUs.",
            'What each scenario does and what the columns mean: docs/operations.md, "Faults".',
            "",
            header,
            rule,
            *rows,
            "",
        ]
    )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        for line in text.splitlines():
            reporter.write_line(line)


async def back_when(load: Load, answers) -> float:
    """The moment (load clock) the service answers again, polled."""
    await asyncio.to_thread(wait_until, answers, "the service to answer")
    return load.now()


async def outage(stack: Stack, index: int, name: str, fault, restore, answers, seconds: float) -> Figures:
    """The common shape: load; jobs and messages before; the fault; jobs queued during it; `seconds` later the
    restore; back when `answers`; more messages and jobs; the clients catch up; the figures."""
    async with Load(stack, index) as load:
        await load.send_invoices(3)
        await load.messages_after(5)
        broke = load.now()
        await asyncio.to_thread(fault)
        during = asyncio.create_task(load.send_invoices(3))
        await asyncio.sleep(seconds)  # the outage's length: the fault itself, not a wait for anything
        await asyncio.to_thread(restore)
        back = await back_when(load, answers)
        await during
        await load.messages_after(10)
        await load.send_invoices(2)
        await load.stop()
        return await load.figures(name, back, back - broke)


def nothing() -> None:
    pass


def redis_paused(stack: Stack) -> Figures:
    return asyncio.run(
        outage(stack, 0, "Redis paused", stack.redis.pause, stack.redis.resume, stack.redis_answers, REDIS_PAUSE)
    )


def redis_killed(stack: Stack) -> Figures:
    name = "Redis killed, restarted"
    return asyncio.run(outage(stack, 1, name, stack.redis.kill, stack.redis.start, stack.redis_answers, REDIS_DOWN))


def postgres_fast_restart(stack: Stack) -> Figures:
    return asyncio.run(
        outage(stack, 2, "PostgreSQL restart -m fast", stack.cluster.restart, nothing, stack.postgres_answers, 0)
    )


def postgres_stopped(stack: Stack) -> Figures:
    return asyncio.run(
        outage(
            stack,
            3,
            f"PostgreSQL stopped {POSTGRES_DOWN:.0f} s",
            stack.cluster.stop,
            stack.cluster.start,
            stack.postgres_answers,
            POSTGRES_DOWN,
        )
    )


def postgres_backends_terminated(stack: Stack) -> Figures:
    return asyncio.run(
        outage(
            stack, 4, "PostgreSQL backends terminated", stack.terminate_app_backends, nothing, stack.postgres_answers, 0
        )
    )


def daphne_killed(stack: Stack) -> Figures:
    return asyncio.run(
        outage(
            stack,
            5,
            "Daphne SIGKILLed with sockets open",
            lambda: stack.kill_daphne(1),
            lambda: stack.restart_daphne(1),
            lambda: stack.daphne_answers(1),
            DAPHNE_DOWN,
        )
    )


async def worker_scenario(stack: Stack) -> Figures:
    async with Load(stack, 6) as load:
        # The fake Telegram holds the second call unanswered: the worker is killed inside that job, after its
        # effect (recorded, and the message received by Telegram), before the answer.
        stack.telegram.hold(2)
        await load.send_invoices(len(load.invoices))  # every job queued
        await asyncio.to_thread(wait_until, stack.telegram.held.is_set, "the second job's call")
        broke = load.now()
        await asyncio.to_thread(stack.kill_worker)
        stack.telegram.release()
        await asyncio.sleep(WORKER_DOWN)  # the outage's length
        await asyncio.to_thread(stack.restart_worker)
        back = await back_when(load, stack.worker.alive)
        await load.messages_after(10)
        await load.stop()
        return await load.figures("worker SIGKILLed, jobs queued", back, back - broke)


def worker_killed(stack: Stack) -> Figures:
    return asyncio.run(worker_scenario(stack))


SCENARIOS = [
    redis_paused,
    redis_killed,
    postgres_fast_restart,
    postgres_stopped,
    postgres_backends_terminated,
    daphne_killed,
    worker_killed,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_fault(stack, scenario):
    before = list(stack.restarts)
    figures = scenario(stack)
    figures.supervisor_restarts = stack.restarts[len(before) :]
    figures.restarted_by_hand = stack.dead()
    RESULTS.append(figures)
    print(f"\n{figures}")
    assert figures.restarted_by_hand == [], stack.log_tail()
    assert (figures.lost, figures.duplicated, figures.out_of_order) == (0, 0, 0), figures
    assert (figures.jobs_lost, figures.jobs_duplicated, figures.jobs_stuck) == (0, 0, 0), figures
    assert figures.jobs_done == figures.jobs_enqueued
    assert figures.server_errors_after == 0, figures
    # An outage answers 503 service_unavailable (config/exceptions.py), never 500.
    assert figures.not_503 == 0, figures
    # No connection leak: 2 Daphne and 1 worker, each with its pool of at most DATABASE_POOL_MAX (default 20).
    assert figures.max_backends <= 3 * 20, figures
    if scenario is redis_paused:
        # Each request pays one REDIS_SOCKET_TIMEOUT at most (the breaker); a correctness bound, the figure is printed.
        assert figures.slowest_during < 5, figures
    # Every process still serves: a message goes through each Daphne.
    for index in range(len(stack.servers)):
        assert stack.daphne_answers(index)
