"""A seeded database: `seed(scale)` runs `manage.py seed_demo` (files: the MEDIA_ROOT of tests/conftest.py)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

PASSWORD = "seed-secret-2026"


@pytest.fixture
def seed(tmp_path):

    def run(scale: str = "small", seed: int = 1) -> tuple[dict, str]:
        output = tmp_path / "logins.json"
        out = StringIO()
        call_command("seed_demo", scale=scale, seed=seed, password=PASSWORD, output=str(output), stdout=out)
        return json.loads(output.read_text()), out.getvalue()

    return run
