"""`manage.py run_worker`: the background-job worker (django-tasks database backend) plus the periodic
scheduler. Run as many as needed, on any machine that reaches the database. A database outage never ends it
(jobs/worker.py `Worker`): it waits with backoff and goes on."""

import logging
import os
import threading
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection
from django.utils.crypto import get_random_string

from jobs.scheduler import prune_periodic_runs, schedule_due
from jobs.worker import Worker

logger = logging.getLogger("thebot.jobs")


class Command(BaseCommand):
    help = "Run background jobs (and enqueue periodic ones) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--batch", action="store_true", help="Run what is queued now, then exit.")
        parser.add_argument("--no-scheduler", action="store_true", help="Do not enqueue periodic jobs.")

    def handle(self, *args, interval: float, batch: bool, no_scheduler: bool, **options):
        if not no_scheduler:
            if batch:
                schedule_due()
            else:
                threading.Thread(target=self._schedule_forever, daemon=True, name="periodic-scheduler").start()
        worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=f"{os.uname().nodename}-{os.getpid()}-{get_random_string(6)}",
            excluded_queue_names=[],
        )
        worker.run()

    @staticmethod
    def _schedule_forever() -> None:
        last_prune = 0.0
        while True:
            try:
                close_old_connections()
                schedule_due()
                if time.time() - last_prune > 3600:
                    prune_periodic_runs()
                    last_prune = time.time()
            except DatabaseError as error:
                logger.warning(
                    "periodic scheduler: database unavailable", extra={"fields": {"error": type(error).__name__}}
                )
                connection.close()
            except Exception:
                logger.exception("periodic scheduler iteration failed")
            time.sleep(15)
