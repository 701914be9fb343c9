from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: the worker (`manage.py run_worker`), the periodic scheduler that collects every app's
    `PERIODIC_JOBS`, worker heartbeats (the jobs' leases) and the record of jobs' external effects."""

    name = "jobs"
    verbose_name = "Background jobs"
