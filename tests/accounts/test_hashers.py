"""Passwords are hashed with Argon2id at OWASP's parameters (accounts/hashers.py); older Argon2 hashes still work."""

import pytest
from django.conf import settings as project_settings
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2
from django.contrib.auth.hashers import make_password

from tests.accounts.factories import StudentFactory

PROJECT_HASHERS = list(project_settings.PASSWORD_HASHERS)
PASSWORD = "correct-horse-battery-2026"

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_hashers(settings):
    settings.PASSWORD_HASHERS = PROJECT_HASHERS  # the suite's autouse fixture sets a fast hash


def _parameters(encoded: str) -> str:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
    algorithm, variety, version, parameters, *_ = encoded.split("$")
    assert (algorithm, variety, version) == ("argon2", "argon2id", "v=19")
    return parameters


@pytest.mark.usefixtures("project_hashers")
def test_new_passwords_use_owasp_argon2id_parameters():
    assert _parameters(make_password(PASSWORD)) == "m=19456,t=2,p=1"


@pytest.mark.usefixtures("project_hashers")
def test_a_hash_with_djangos_parameters_still_logs_in_and_is_rehashed(api_client):
    student = StudentFactory()
    student.password = DjangoArgon2().encode(PASSWORD, DjangoArgon2().salt())
    student.save(update_fields=["password"])
    assert _parameters(student.password) == "m=102400,t=2,p=8"

    response = api_client.post("/api/auth/login/", {"email": student.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    student.refresh_from_db()
    assert _parameters(student.password) == "m=19456,t=2,p=1"
    assert student.check_password(PASSWORD)
