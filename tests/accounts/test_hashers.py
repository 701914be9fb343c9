"""Passwords are hashed with Argon2id at OWASP's parameters (accounts/hashers.py); older Argon2 hashes still work.

The run hashes with a fast hasher set once for all tests (tests/conftest.py), the project's hashers behind it: these
tests use the project's preferred hasher by name, and check the rehash at login against the run's preferred one."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.utils.module_loading import import_string

from config import settings as project_settings
from tests.accounts.factories import StudentFactory

PROJECT_PREFERRED = import_string(project_settings.PASSWORD_HASHERS[0])()  # what production hashes new passwords with
PASSWORD = "correct-horse-battery-2026"

pytestmark = pytest.mark.django_db


def _parameters(encoded: str) -> str:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
    algorithm, variety, version, parameters, *_ = encoded.split("$")
    assert (algorithm, variety, version) == ("argon2", "argon2id", "v=19")
    return parameters


def test_new_passwords_use_owasp_argon2id_parameters():
    assert PROJECT_PREFERRED.algorithm == "argon2"
    assert _parameters(make_password(PASSWORD, hasher=PROJECT_PREFERRED)) == "m=19456,t=2,p=1"


def test_a_hash_with_djangos_parameters_still_logs_in_and_is_rehashed(api_client):
    student = StudentFactory()
    student.password = DjangoArgon2().encode(PASSWORD, DjangoArgon2().salt())
    student.save(update_fields=["password"])
    assert _parameters(student.password) == "m=102400,t=2,p=8"
    # Production's preferred hasher asks for such a hash to be replaced at the next login (with its parameters,
    # shown by the test above); the run's preferred hasher is another one, which asks it too.
    assert PROJECT_PREFERRED.must_update(student.password)
    old_hash = student.password

    response = api_client.post("/api/auth/login/", {"email": student.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    student.refresh_from_db()
    assert student.password != old_hash
    assert identify_hasher(student.password).algorithm == get_hasher("default").algorithm
    assert student.check_password(PASSWORD)
