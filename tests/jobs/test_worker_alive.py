"""`manage.py worker_alive`, compose's worker health check: this host's fresh heartbeat, and nothing else, passes."""

import socket
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jobs.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def beat(worker_id: str, *, ago: timedelta) -> None:
    WorkerHeartbeat.objects.create(worker_id=worker_id, beat_at=timezone.now() - ago)


def test_a_fresh_heartbeat_of_this_host_passes():
    beat(f"{socket.gethostname()}-123-abc", ago=timedelta(seconds=1))
    call_command("worker_alive")


def test_no_heartbeat_a_stale_one_or_another_hosts_fails(settings):
    with pytest.raises(CommandError):
        call_command("worker_alive")
    beat(f"{socket.gethostname()}-123-abc", ago=timedelta(seconds=settings.READINESS_WORKER_MAX_AGE_SECONDS + 5))
    beat("another-host-9-xyz", ago=timedelta(seconds=0))
    with pytest.raises(CommandError):
        call_command("worker_alive")
