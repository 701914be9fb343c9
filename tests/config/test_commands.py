"""`seed_demo` refused in production (its data: tests/seeding) and the periodic scheduler (each slot enqueued once)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from config.jobs import schedule_due
from config.models import PeriodicRun

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_production(settings, tmp_path):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo", output=str(tmp_path / "x.json"), stdout=StringIO())
    assert not User.objects.exists()


def test_each_periodic_slot_is_enqueued_once(settings):
    settings.PERIODIC_TASKS = {"prune": {"task": "accounts.tasks.tokens_prune_expired_job", "every": 3600}}
    slot_start = 1_800_000_000 // 3600 * 3600

    assert schedule_due(now=slot_start + 5) == ["prune"]
    assert schedule_due(now=slot_start + 3599) == []
    assert schedule_due(now=slot_start + 3600) == ["prune"]

    assert PeriodicRun.objects.filter(name="prune").count() == 2
    assert DBTaskResult.objects.count() == 2
