"""The job worker that `manage.py run_worker` runs: django-tasks-db's worker made to outlive the database and its
own kind.

A database error never ends it (it waits 1, 2, 4 … s up to WORKER_BACKOFF_MAX_SECONDS, logging each wait at WARNING,
and goes on), and a job whose worker died is taken back through a lease (`reclaim_expired`): each worker touches its
`WorkerHeartbeat` row, which names the job it runs.
"""

import contextlib
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from jobs.models import WorkerHeartbeat

logger = logging.getLogger("thebot.jobs")


def backoff_delay(failures: int) -> float:
    """Seconds to wait after the n-th database failure in a row: 1, 2, 4 … capped at WORKER_BACKOFF_MAX_SECONDS."""
    return min(float(settings.WORKER_BACKOFF_MAX_SECONDS), 2.0 ** min(failures - 1, 30))


class LeaseExpired(Exception):
    """The job's worker stopped beating WORKER_JOB_MAX_ATTEMPTS times: it is failed, not run again."""


def beat(worker_id: str, *, job_id=None, set_job: bool = False) -> None:
    """Touch the worker's heartbeat row (re-created if another worker pruned it during an outage)."""
    now = timezone.now()
    fields = {"beat_at": now, **({"job_id": job_id} if set_job else {})}
    if not WorkerHeartbeat.objects.filter(pk=worker_id).update(**fields):
        WorkerHeartbeat.objects.create(worker_id=worker_id, beat_at=now, job_id=job_id if set_job else None)


def reclaim_expired(now=None, limit: int = 100) -> int:
    """Put back in the queue every RUNNING job whose lease expired: its worker's heartbeat is older than
    WORKER_LEASE_SECONDS, or gone. A job already run WORKER_JOB_MAX_ATTEMPTS times is failed instead. Rows are
    locked with SKIP LOCKED (PostgreSQL), so two workers never reclaim the same job; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    with exclusive_transaction(DBTaskResult.objects.db):
        WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).delete()
        leased = WorkerHeartbeat.objects.filter(job_id=OuterRef("pk"))
        expired = list(
            DBTaskResult.objects.running()
            .filter(started_at__lt=cutoff)
            .filter(~Exists(leased))
            .select_for_update(skip_locked=True)
            .order_by("started_at")[:limit]
        )
        for job in expired:
            attempts = len(job.worker_ids)
            fields = {"job": job.task_path, "id": str(job.id), "attempts": attempts}
            if attempts >= settings.WORKER_JOB_MAX_ATTEMPTS:
                job.status = "FAILED"
                job.finished_at = now
                job.exception_class_path = f"{LeaseExpired.__module__}.{LeaseExpired.__qualname__}"
                job.traceback = f"LeaseExpired: its worker stopped beating on each of {attempts} runs\n"
                job.return_value = None
                job.save(update_fields=["status", "finished_at", "exception_class_path", "traceback", "return_value"])
                logger.error("job lease expired; job failed", extra={"fields": fields})
            else:
                job.status = "READY"
                job.save(update_fields=["status"])
                logger.warning("job lease expired; job queued again", extra={"fields": fields})
    return len(expired)


class Worker(DBWorker):
    """The django-tasks-db worker with a heartbeat, a lease on its running job, reclaiming, and backoff on
    database errors. Outside `batch` (one pass, for tests and `--batch`) it never exits on a database error."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._stop_beating = threading.Event()
        self._job_to_release = False

    def run(self) -> None:
        logger.info("worker started", extra={"fields": {"worker": self.worker_id}})
        beater = None
        if not self.batch:
            beater = threading.Thread(target=self._beat_forever, daemon=True, name="worker-heartbeat")
            beater.start()
        failures = 0
        try:
            while self.running:
                try:
                    close_old_connections()
                    if self._job_to_release:
                        beat(self.worker_id, job_id=None, set_job=True)
                        self._job_to_release = False
                    reclaim_expired()
                    job = self._claim()
                except DatabaseError as error:
                    if self.batch:
                        raise
                    failures += 1
                    delay = backoff_delay(failures)
                    logger.warning(
                        "database unavailable; worker waits",
                        extra={"fields": {"failures": failures, "delay": delay, "error": type(error).__name__}},
                    )
                    self._drop_connection()
                    time.sleep(delay)
                    continue
                if failures:
                    logger.warning("database back; worker resumes", extra={"fields": {"failures": failures}})
                    failures = 0
                if job is None:
                    if self.batch:
                        return
                    time.sleep(self.interval)
                    continue
                self._run(job)
        finally:
            self._stop_beating.set()
            if beater is not None:
                beater.join(timeout=5)
            with contextlib.suppress(DatabaseError):  # else its lease expires on its own
                WorkerHeartbeat.objects.filter(pk=self.worker_id).delete()

    def _claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(tasks.db):
            job = tasks.get_locked()
            if job is not None:
                job.claim(self.worker_id)
                beat(self.worker_id, job_id=job.id, set_job=True)  # the lease, in the claim's transaction
            else:
                beat(self.worker_id)
        return job

    def _run(self, job: DBTaskResult) -> None:
        self._job_to_release = True
        try:
            self.run_task(job)  # records the job's own failure; raises only when the database is gone
        except DatabaseError as error:
            logger.warning(
                "job outcome not recorded; database unavailable",
                extra={"fields": {"id": str(job.id), "error": type(error).__name__}},
            )
            self._drop_connection()
            return
        try:
            beat(self.worker_id, job_id=None, set_job=True)
            self._job_to_release = False
        except DatabaseError:
            self._drop_connection()

    @staticmethod
    def _drop_connection() -> None:
        with contextlib.suppress(DatabaseError):
            connection.close()

    def _beat_forever(self) -> None:
        """Heartbeat thread (its own connection): keeps the running job's lease while the job runs."""
        while not self._stop_beating.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                close_old_connections()
                beat(self.worker_id)
            except DatabaseError as error:
                logger.warning("worker heartbeat failed", extra={"fields": {"error": type(error).__name__}})
                self._drop_connection()
        self._drop_connection()
