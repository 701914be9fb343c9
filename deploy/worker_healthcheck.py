"""The worker container's health check: exit 0 when a `run_worker` of this host (container) has touched its
heartbeat row within READINESS_WORKER_MAX_AGE_SECONDS, else 1.

TODO(issue 17): replace with the `jobs` app's heartbeat command once the lead adds it after the refactor
(config/jobs.py and config.WorkerHeartbeat move to the app `jobs`); until then the model is looked up by name so
that the move does not break this check.
"""

import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.utils import timezone

    heartbeat = next(model for model in apps.get_models() if model.__name__ == "WorkerHeartbeat")
    since = timezone.now() - timedelta(seconds=settings.READINESS_WORKER_MAX_AGE_SECONDS)
    # run_worker names its row `<hostname>-<pid>-<random>`.
    fresh = heartbeat.objects.filter(worker_id__startswith=socket.gethostname() + "-", beat_at__gte=since).exists()
    return 0 if fresh else 1


if __name__ == "__main__":
    sys.exit(main())
