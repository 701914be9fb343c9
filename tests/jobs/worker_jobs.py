"""Jobs for the worker fault tests (tests/jobs/test_worker_outages.py), run by real `run_worker` processes.

`python -m tests.jobs.enqueue_job <task> <json args>` enqueues one in the database named by DATABASE_URL and
prints its id."""

import time
from pathlib import Path

from django_tasks import task

from jobs.effects import effect_once


def _append(path: str, line: str) -> None:
    with Path(path).open("a") as file:
        file.write(line + "\n")


@task()
def append_line(path: str, line: str) -> None:
    _append(path, line)


@task(takes_context=True)
def effect_then_wait(context, effect_path: str, release_path: str) -> str:
    """An external effect recorded with `effect_once` under the job's id, then a wait until the test releases
    the job (bounded, so that a failing test leaves no worker blocked for ever)."""
    if effect_once(f"test-effect:{context.task_result.id}"):
        _append(effect_path, "effect")
    for _ in range(6000):
        if Path(release_path).exists():
            return "released"
        time.sleep(0.05)
    return "never released"
