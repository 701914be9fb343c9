"""config holds configuration and API plumbing only: no models, no commands, no seeding, no worker (issue 17)."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

CONFIG = Path(settings.BASE_DIR) / "config"


def test_config_has_no_models_commands_seeding_or_worker():
    assert list(apps.get_app_config("config").get_models()) == []
    assert not (CONFIG / "management").exists()
    assert not (CONFIG / "seeding").exists()
    assert not (CONFIG / "jobs.py").exists()
    assert not (CONFIG / "models.py").exists()


@pytest.mark.django_db
def test_the_job_models_live_in_jobs_tables():
    assert {model._meta.db_table for model in apps.get_app_config("jobs").get_models()} == {
        "jobs_periodicrun",
        "jobs_workerheartbeat",
        "jobs_jobeffect",
    }
    tables = set(connection.introspection.table_names())
    assert {"jobs_periodicrun", "jobs_workerheartbeat", "jobs_jobeffect"} <= tables
    assert not {name for name in tables if name.startswith("config_")}
