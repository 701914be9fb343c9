"""The worker's lease on its running job (jobs/worker.py): a job whose worker stopped beating goes back to the
queue, or fails after WORKER_JOB_MAX_ATTEMPTS runs; two workers never reclaim the same job; a re-run does not
repeat an external effect; readiness reads the workers' heartbeats. Real processes: test_worker_outages.py."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs.effects import effect_once
from jobs.models import JobEffect, WorkerHeartbeat
from jobs.worker import beat, reclaim_expired
from notifications.tasks import telegram_send_message


def _running(job_result, *, worker: str = "dead-worker", ago: timedelta = timedelta(hours=1), runs: int = 1):
    """The row a worker leaves when it claimed the job `ago` and then died (or still runs it)."""
    DBTaskResult.objects.filter(pk=job_result.id).update(
        status="RUNNING", started_at=timezone.now() - ago, worker_ids=[worker] * runs
    )
    return DBTaskResult.objects.get(pk=job_result.id)


@pytest.fixture
def lease(settings):
    settings.WORKER_LEASE_SECONDS = 60
    settings.WORKER_JOB_MAX_ATTEMPTS = 3
    return settings


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_beating_is_queued_again(lease):
    orphan = _running(telegram_send_message.enqueue(7, "x"))
    assert reclaim_expired() == 1
    orphan.refresh_from_db()
    assert orphan.status == "READY"
    assert reclaim_expired() == 0


@pytest.mark.django_db
def test_a_job_whose_worker_still_beats_is_left_alone_however_long_it_runs(lease):
    job = _running(telegram_send_message.enqueue(7, "x"), worker="busy")
    beat("busy", job_id=job.id, set_job=True)
    assert reclaim_expired() == 0
    job.refresh_from_db()
    assert job.status == "RUNNING"


@pytest.mark.django_db
def test_a_stale_heartbeat_does_not_hold_its_job(lease):
    job = _running(telegram_send_message.enqueue(7, "x"), worker="gone")
    WorkerHeartbeat.objects.create(worker_id="gone", beat_at=timezone.now() - timedelta(hours=1), job_id=job.id)
    assert reclaim_expired() == 1
    assert not WorkerHeartbeat.objects.filter(pk="gone").exists()


@pytest.mark.django_db
def test_a_job_that_outlived_its_workers_max_attempts_times_fails(lease):
    job = _running(telegram_send_message.enqueue(7, "x"), runs=3)
    assert reclaim_expired() == 1
    job.refresh_from_db()
    assert job.status == "FAILED"
    assert job.exception_class_path == "jobs.worker.LeaseExpired"
    assert job.finished_at is not None


@pytest.mark.django_db
def test_effect_once_answers_true_once_per_key():
    assert effect_once("k:1") is True
    assert effect_once("k:1") is False
    assert effect_once("k:2") is True
    assert JobEffect.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_reclaim_the_same_job(lease):
    """One reclaimer holds a job's row lock (another real connection, mid-transaction): a second one skips that
    row (SKIP LOCKED) and takes only the other; each job is reclaimed once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serializes the reclaimers with its write lock)")
    held, free = (_running(telegram_send_message.enqueue(7, str(n))) for n in range(2))
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                DBTaskResult.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(60)
    try:
        assert reclaim_expired() == 1
        assert DBTaskResult.objects.get(pk=free.pk).status == "READY"
        assert DBTaskResult.objects.get(pk=held.pk).status == "RUNNING"
    finally:
        release.set()
        thread.join()
    assert reclaim_expired() == 1
    assert DBTaskResult.objects.get(pk=held.pk).status == "READY"
    assert reclaim_expired() == 0


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_an_invoice_message_is_not_sent_again_when_its_job_is_rerun(fake_telegram, lease):
    """What a worker killed right after sending leaves behind: the job RUNNING, the attempt recorded. Another
    worker reclaims the job and runs it; the parent gets no second message."""
    job = _running(telegram_send_message.enqueue(8080, "New invoice #5", key="invoice:5"))
    assert effect_once("telegram:invoice:5#1")  # recorded by the dead worker before its call

    call_command("run_worker", batch=True, no_scheduler=True)

    job.refresh_from_db()
    assert (job.status, len(job.worker_ids)) == ("SUCCESSFUL", 2)
    assert fake_telegram.calls == []


@pytest.mark.django_db(transaction=True)
def test_a_keyed_message_goes_out_once_and_a_retry_is_a_new_attempt(fake_telegram):
    fake_telegram.script = [{"status": 502, "body": None}] * 3  # the first attempt fails: nothing was sent
    telegram_send_message.enqueue(7, "x", key="reminder:1")
    call_command("run_worker", batch=True, no_scheduler=True)
    (retry,) = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"] == {"attempt": 2, "key": "reminder:1"}
    assert set(JobEffect.objects.values_list("key", flat=True)) == {"telegram:reminder:1#1"}


@pytest.mark.django_db(transaction=True)
def test_readiness_reports_the_worker_when_one_is_expected(api_client, settings):
    settings.READINESS_EXPECT_WORKER = True
    settings.READINESS_WORKER_MAX_AGE_SECONDS = 60
    response = api_client.get("/api/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "failing: RuntimeError"
    assert response.json()["detail"] == "Failing: worker"

    WorkerHeartbeat.objects.create(worker_id="old", beat_at=timezone.now() - timedelta(hours=1))
    assert api_client.get("/api/health/ready/").status_code == 503

    beat("alive")
    response = api_client.get("/api/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok", "worker": "ok"}
