"""Background jobs of accounts."""

import logging

from django_tasks import task

from accounts import tokens

logger = logging.getLogger("thebot.jobs")


@task()
def tokens_prune_expired_job() -> int:
    """Delete expired tokens. Knox only sweeps a user's expired tokens when that user authenticates again,
    so sessions of people who never come back would otherwise stay in the table for ever."""
    deleted = tokens.prune_expired()
    logger.info("expired tokens pruned", extra={"fields": {"deleted": deleted}})
    return deleted


# Periodic jobs of accounts, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {"accounts_prune_expired_tokens": {"task": tokens_prune_expired_job, "every": 60 * 60}}
