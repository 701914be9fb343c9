"""The job worker that `manage.py run_worker` runs: django-tasks-db's worker made to outlive the database and its
own kind.

A database error never ends it (it waits 1, 2, 4 … s up to WORKER_BACKOFF_MAX_SECONDS, logging each wait at WARNING,
and goes on), and a job whose worker died is taken back through a lease (`reclaim_expired`): each worker touches its
`WorkerHeartbeat` row, which names the job it runs.

On SIGTERM (or SIGINT) it claims no more jobs, lets the running one finish for at most WORKER_SHUTDOWN_GRACE_SECONDS,
and exits 0. A job still running then is interrupted (`ShutdownGraceOver`, raised in the job like a
KeyboardInterrupt: its transactions roll back) and given back to the queue at once, its run not counted among
WORKER_JOB_MAX_ATTEMPTS: another worker runs it again from the start (jobs are written to be re-run: `effect_once`).
"""

import contextlib
import logging
import signal
import threading
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from jobs.models import WorkerHeartbeat

logger = logging.getLogger("thebot.jobs")


def backoff_delay(failures: int) -> float:
    """Seconds to wait after the n-th database failure in a row: 1, 2, 4 … capped at WORKER_BACKOFF_MAX_SECONDS."""
    return min(float(settings.WORKER_BACKOFF_MAX_SECONDS), 2.0 ** min(failures - 1, 30))


class ShutdownGraceOver(BaseException):
    """Raised in the running job when WORKER_SHUTDOWN_GRACE_SECONDS passed since SIGTERM: the job is released. A
    BaseException, as KeyboardInterrupt is, so that a job's own `except Exception` does not swallow it."""


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
        self._stopping = threading.Event()
        self._job_to_release = False
        self._in_job_call = False

    def configure_signals(self) -> None:
        """SIGTERM and SIGINT stop the worker gracefully (the main thread only: the command's)."""
        signal.signal(signal.SIGTERM, self.shutdown)
        signal.signal(signal.SIGINT, self.shutdown)

    def shutdown(self, signum, frame) -> None:
        if not self.running:
            return  # stopping already: the grace decides
        self.running = False
        self._stopping.set()
        grace = float(settings.WORKER_SHUTDOWN_GRACE_SECONDS)
        logger.info(
            "worker stopping",
            extra={"fields": {"signal": signal.Signals(signum).name, "job_running": self.running_task, "grace": grace}},
        )
        # Armed even when idle: a job claimed in the same instant runs under the same grace.
        signal.signal(signal.SIGALRM, self._grace_over)
        signal.setitimer(signal.ITIMER_REAL, max(grace, 0.001))

    def _grace_over(self, signum, frame) -> None:
        if self._in_job_call:
            raise ShutdownGraceOver

    def _wait(self, seconds: float) -> None:
        """Sleep, cut short by SIGTERM."""
        self._stopping.wait(seconds)

    def run(self) -> None:
        logger.info("worker started", extra={"fields": {"worker": self.worker_id}})
        beater = None
        if not self.batch:
            if threading.current_thread() is threading.main_thread():
                self.configure_signals()
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
                    self._wait(delay)
                    continue
                if failures:
                    logger.warning("database back; worker resumes", extra={"fields": {"failures": failures}})
                    failures = 0
                if job is None:
                    if self.batch:
                        return
                    self._wait(self.interval)
                    continue
                self._run(job)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
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
        if not self.running:  # SIGTERM came while it was being claimed: not started, given back
            self._release(job)
            return
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

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """django-tasks-db's `Worker.run_task` (0.13.0), with the job interrupted at the end of the shutdown grace
        given back to the queue instead of recorded as failed."""
        self.running_task = True
        try:
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=task_result)
            self._in_job_call = True
            try:
                if task.takes_context:
                    args = (TaskContext(task_result=task_result), *task_result.args)
                else:
                    args = tuple(task_result.args)
                return_value = task.call(*args, **task_result.kwargs)
            finally:
                self._in_job_call = False
            db_task_result.set_successful(return_value)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except ShutdownGraceOver:
            self._release(db_task_result)
        except BaseException as error:  # noqa: BLE001 - a job's failure of any kind is recorded, as django-tasks-db does
            db_task_result.set_failed(error)
            try:
                sender = type(db_task_result.task.get_backend())
                task_result = db_task_result.task_result
            except (ImportError, SuspiciousOperation):
                logger.exception("job failed unexpectedly", extra={"fields": {"id": str(db_task_result.id)}})
            else:
                task_finished.send(sender=sender, task_result=task_result)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _release(self, job: DBTaskResult) -> None:
        """The job back in the queue, as if never claimed by this worker (its run is not counted as an attempt)."""
        self._drop_connection()  # the interrupted job may have left it mid-query
        worker_ids = list(job.worker_ids)
        if worker_ids and worker_ids[-1] == self.worker_id:
            worker_ids.pop()
        fields = {"job": job.task_path, "id": str(job.id)}
        try:
            DBTaskResult.objects.filter(pk=job.pk, status="RUNNING").update(
                status="READY", started_at=None, worker_ids=worker_ids
            )
            beat(self.worker_id, job_id=None, set_job=True)
            self._job_to_release = False
        except DatabaseError:  # its lease expires on its own
            self._drop_connection()
            logger.warning("job not released; database unavailable", extra={"fields": fields})
            return
        logger.warning("shutdown grace over; job released to the queue", extra={"fields": fields})

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
