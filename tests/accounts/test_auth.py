"""Login, logout, logout-all and the token lifecycle (hashed, expiring, revocable)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken

from jobs.models import PeriodicRun
from tests.accounts.factories import DEFAULT_PASSWORD, StudentFactory, TeacherFactory, TutorFactory, link_student

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
LOGOUT = "/api/auth/logout/"
LOGOUT_ALL = "/api/auth/logout-all/"
ME = "/api/profile/me/"


def login(api_client, email, password=DEFAULT_PASSWORD):
    return api_client.post(LOGIN, {"email": email, "password": password}, format="json")


def authed(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api_client


def test_login_returns_token_expiry_and_user_with_profile(api_client, settings):
    tutor = TutorFactory()
    student = link_student(StudentFactory(email="Sam@Example.test"), tutor=tutor)

    response = login(api_client, "  SAM@example.TEST ")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"]["id"] == student.pk
    assert body["user"]["role"] == "student"
    assert body["user"]["profile"]["tutor"]["id"] == tutor.pk
    token = AuthToken.objects.get(user=student)
    expected = timezone.now() + settings.TOKEN_TTL
    assert abs(token.expiry - expected) < timedelta(minutes=1)
    assert authed(api_client, body["token"]).get(ME).json()["id"] == student.pk
    student.refresh_from_db()
    assert student.last_login is not None


def test_login_token_is_stored_hashed_only(api_client):
    student = StudentFactory()
    token = login(api_client, student.email).json()["token"]

    row = AuthToken.objects.filter(user=student).values().get()
    stored = [str(value) for value in row.values()]
    assert token not in stored
    assert not any(token in value for value in stored)
    # Only the short lookup prefix is kept in clear; the rest is a digest.
    assert row["token_key"] == token[: len(row["token_key"])]
    assert len(row["token_key"]) < len(token) // 2
    assert row["digest"] != token


@pytest.mark.parametrize(
    "payload, missing",
    [({}, {"email", "password"}), ({"email": "a@b.test"}, {"password"}), ({"password": "x"}, {"email"})],
)
def test_login_missing_fields_is_400_with_fields(api_client, payload, missing):
    response = api_client.post(LOGIN, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == missing


def test_login_wrong_password_unknown_email_and_inactive_user_are_401_alike(api_client):
    active = StudentFactory()
    inactive = StudentFactory(is_active=False)
    answers = [
        login(api_client, active.email, "wrong-password-1"),
        login(api_client, "nobody@example.test"),
        login(api_client, inactive.email),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.json() == {"detail": "Wrong email or password.", "code": "invalid_credentials"}
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not AuthToken.objects.exists()


def test_login_only_accepts_post(api_client):
    response = api_client.get(LOGIN)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_each_login_is_a_separate_session(api_client):
    student = StudentFactory()
    first = login(api_client, student.email).json()["token"]
    second = login(api_client, student.email).json()["token"]
    assert first != second
    assert AuthToken.objects.filter(user=student).count() == 2


def test_no_token_bad_token_and_malformed_header_are_401(api_client):
    StudentFactory()
    assert api_client.get(ME).status_code == 401
    assert api_client.get(ME).json()["code"] == "not_authenticated"
    for header in ["Token nonsense-token-value", "Token", "Token a b", "Bearer abc"]:
        api_client.credentials(HTTP_AUTHORIZATION=header)
        response = api_client.get(ME)
        assert response.status_code == 401, header
        assert response.json()["code"] in {"authentication_failed", "invalid_auth_header"}


def test_logout_revokes_only_this_token(api_client, make_client):
    student = StudentFactory()
    kept = make_client(student)
    token = login(api_client, student.email).json()["token"]
    authed(api_client, token)

    response = api_client.post(LOGOUT)

    assert response.status_code == 204
    assert api_client.get(ME).status_code == 401
    assert kept.get(ME).status_code == 200
    assert AuthToken.objects.filter(user=student).count() == 1


def test_logout_all_revokes_every_token_of_the_user_only(make_client):
    student, other = StudentFactory(), StudentFactory()
    first, second, others = make_client(student), make_client(student), make_client(other)

    assert first.post(LOGOUT_ALL).status_code == 204

    assert first.get(ME).status_code == 401
    assert second.get(ME).status_code == 401
    assert others.get(ME).status_code == 200


def test_logout_needs_a_token(api_client):
    assert api_client.post(LOGOUT).status_code == 401
    assert api_client.post(LOGOUT_ALL).status_code == 401


def test_logout_only_accepts_post(make_client):
    client = make_client(StudentFactory())
    assert client.get(LOGOUT).status_code == 405
    assert client.get(LOGOUT_ALL).status_code == 405
    assert client.get(ME).status_code == 200


def test_expired_token_is_refused(make_client, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    client = make_client(StudentFactory())
    assert client.get(ME).status_code == 200
    time_machine.shift(settings.TOKEN_TTL - timedelta(seconds=1))
    assert client.get(ME).status_code == 200  # a second before it expires
    time_machine.shift(timedelta(seconds=2))  # a second after

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.filter(user=client.user).exists()  # deleted when presented, as knox does


def test_a_request_does_not_load_the_users_other_sessions(make_client, django_assert_num_queries):
    """One query authenticates (the token by its digest, with its user); the user's other sessions, expired ones
    included, are left to the hourly prune job instead of being loaded on every request."""
    student = StudentFactory()
    client, other = make_client(student), make_client(student)
    AuthToken.objects.exclude(digest=hash_token(client.token)).update(expiry=timezone.now() - timedelta(minutes=1))

    with django_assert_num_queries(2):  # the token with its user; its deletion
        response = client.post(LOGOUT)

    assert response.status_code == 204
    assert other.get(ME).status_code == 401  # expired: refused when presented


@pytest.mark.parametrize("value", ["zz" * 32, "abc", "00" * 32])
def test_tokens_that_are_not_ours_are_401(api_client, value):
    StudentFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {value}")

    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_of_a_deactivated_user_is_refused(make_client):
    client = make_client(TeacherFactory())
    # Deactivated behind the services' back: authentication itself must refuse the token.
    type(client.user).objects.filter(pk=client.user.pk).update(is_active=False)

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


# The worker closes and reopens connections between jobs, which a test transaction cannot survive on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_worker_prunes_expired_tokens_of_users_who_never_come_back(make_client):
    stale, fresh = make_client(StudentFactory()), make_client(StudentFactory())
    AuthToken.objects.filter(user=stale.user).update(expiry=timezone.now() - timedelta(minutes=1))

    call_command("run_worker", batch=True)

    assert not AuthToken.objects.filter(user=stale.user).exists()
    assert AuthToken.objects.filter(user=fresh.user).count() == 1
    assert PeriodicRun.objects.filter(name="accounts_prune_expired_tokens").exists()
