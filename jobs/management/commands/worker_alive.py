"""`manage.py worker_alive`: the worker container's health check. Exit 0 when a `run_worker` of this host (the
container) touched its heartbeat row within READINESS_WORKER_MAX_AGE_SECONDS, else 1."""

import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.selectors import worker_alive_on


class Command(BaseCommand):
    help = "Exit 0 when a worker of this host has a fresh heartbeat (compose's worker health check), else 1."

    def handle(self, *args, **options) -> None:
        host = socket.gethostname()
        if not worker_alive_on(host, max_age_seconds=settings.READINESS_WORKER_MAX_AGE_SECONDS):
            raise CommandError(f"no worker of {host} beat in the last {settings.READINESS_WORKER_MAX_AGE_SECONDS} s")
        self.stdout.write(f"a worker of {host} is alive")
