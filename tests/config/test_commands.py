"""`seed_demo` (idempotent, refused in production) and the periodic scheduler (each slot enqueued once)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from accounts.models import Role, User
from config.jobs import schedule_due
from config.models import PeriodicRun
from materials.models import Enrollment

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_links_the_demo_people(tmp_path, api_client):
    output = tmp_path / "logins.json"
    for _ in range(2):
        call_command("seed_demo", output=str(output), password="demo-secret-2026", stdout=StringIO())

    logins = json.loads(output.read_text())["logins"]
    assert set(logins) == set(Role.values)
    assert User.objects.count() == 5
    assert Enrollment.objects.filter(is_active=True).count() == 1
    student = User.objects.get(pk=logins["student"]["id"])
    assert student.student_profile.tutor_id == logins["tutor"]["id"]
    assert student.student_profile.parent_id == logins["parent"]["id"]
    response = api_client.post(
        "/api/auth/login/", {"email": logins["teacher"]["email"], "password": "demo-secret-2026"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["user"]["profile"]["subjects"][0]["name"] == "Mathematics"


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
