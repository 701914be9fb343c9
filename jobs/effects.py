"""External effects of jobs recorded before they happen, so that a job run again does not repeat them.

Jobs whose effect leaves the database (a Telegram message) record it first with `effect_once(key)`: a re-run after
its worker died finds the record and skips the effect.
"""

import logging

from django.db import IntegrityError, transaction

from jobs.models import JobEffect

logger = logging.getLogger("thebot.jobs")


def effect_once(key: str) -> bool:
    """Record, committed, that the effect named `key` is about to happen; False when it was recorded before.

    Call it right before an effect outside the database (a Telegram message) and skip the effect on False: a job
    re-run after its worker died mid-way then does not repeat it. What remains is a crash between this commit
    and the effect itself: the effect is then lost rather than repeated (at most once)."""
    try:
        with transaction.atomic():
            JobEffect.objects.create(key=key)
    except IntegrityError:
        logger.warning("job effect already done; not repeated", extra={"fields": {"key": key}})
        return False
    return True


def forget_effect(key: str) -> None:
    """The effect recorded under `key` did not happen (the call was refused before sending): allow it again."""
    JobEffect.objects.filter(key=key).delete()
