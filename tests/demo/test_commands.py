"""`seed_demo` refused in production (its data: tests/demo/test_seed_demo.py)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_production(settings, tmp_path):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo", output=str(tmp_path / "x.json"), stdout=StringIO())
    assert not User.objects.exists()
