# ruff: noqa: RUF001 - Russian text is the point of these assertions
"""Self-service password reset by email, end to end through a real SMTP server: request (the same answer whether
or not the account exists), the mail and its link, confirm (validators, single use, expiry), every session
revoked, the new password signs in; the limits per client address and per email address."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from people.password_reset import reset_link, uid_of
from tests.accounts.factories import DEFAULT_PASSWORD, ParentFactory
from tests.notifications.smtp import text_of

NEW_PASSWORD = "a-brand-new-passphrase-42"
RESET_JOB = "people.tasks.password_reset_send"


def _ask(api_client, email, **extra):
    return api_client.post("/api/auth/password-reset/", {"email": email}, format="json", **extra)


def _confirm(api_client, uid, token, password=NEW_PASSWORD, **extra):
    body = {"uid": uid, "token": token, "new_password": password}
    return api_client.post("/api/auth/password-reset/confirm/", body, format="json", **extra)


def _login(api_client, email, password):
    return api_client.post("/api/auth/login/", {"email": email, "password": password}, format="json")


def _link(message) -> tuple[str, str]:
    line = next(line for line in text_of(message).splitlines() if "reset-password?" in line)
    query = parse_qs(urlparse(line.split(": ", 1)[1]).query)
    return query["uid"][0], query["token"][0]


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_reset_end_to_end_revokes_every_session(api_client, smtp_server, settings):
    user = ParentFactory(email="Parent.Reset@example.test")
    old_sessions = [_login(api_client, user.email, DEFAULT_PASSWORD).json()["token"] for _ in range(2)]
    response = _ask(api_client, "  parent.reset@EXAMPLE.test ")
    assert response.status_code == 202
    assert smtp_server.messages == []  # the lookup and the mail are the job's
    call_command("run_worker", batch=True, no_scheduler=True)
    (message,) = smtp_server.to(user.email)
    assert message["Subject"] == "Password reset"
    assert "List-Unsubscribe" not in message  # asked for: nothing to unsubscribe from
    uid, token = _link(message)

    assert _confirm(api_client, uid, token, password="short").json()["code"] == "weak_password"
    assert _confirm(api_client, uid, token).status_code == 204
    for old in old_sessions:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
        assert api_client.get("/api/profile/me/").status_code == 401
    api_client.credentials()
    assert _login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401
    assert _login(api_client, user.email, NEW_PASSWORD).status_code == 200
    # Single use: the link is spent once the password changed.
    again = _confirm(api_client, uid, token, password="yet-another-passphrase-7")
    assert again.status_code == 400 and again.json()["code"] == "invalid_reset_token"


@pytest.mark.django_db(transaction=True)
def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_mail(api_client, smtp_server):
    known = ParentFactory()
    inactive = ParentFactory(is_active=False)
    answers = [_ask(api_client, email) for email in (known.email, inactive.email, "nobody@example.test")]
    assert {(answer.status_code, answer.content) for answer in answers} == {
        (answers[0].status_code, answers[0].content)
    }
    assert DBTaskResult.objects.filter(task_path=RESET_JOB).count() == 3  # the same work on the request path
    call_command("run_worker", batch=True, no_scheduler=True)
    assert [recipients for _, recipients, _ in smtp_server.messages] == [[known.email]]


@pytest.mark.django_db
def test_a_link_expires_and_a_forged_one_is_refused(api_client, settings):
    user = ParentFactory()
    query = parse_qs(urlparse(reset_link(user)).query)
    uid, token = query["uid"][0], query["token"][0]
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)):
        assert _confirm(api_client, uid, token).json()["code"] == "invalid_reset_token"
    other = ParentFactory()
    for bad_uid, bad_token in (
        (uid_of(other), token),  # another user's id with this token
        (uid, token[:-1] + "x"),
        ("!!", token),
        ("OTk5OTk5OTk5OTk5OTk5OTk5OTk5", token),
    ):
        response = _confirm(api_client, bad_uid, bad_token)
        assert response.status_code == 400 and response.json()["code"] == "invalid_reset_token"
    russian = _confirm(api_client, "MQ", "x", HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.json() == {
        "detail": "Ссылка для сброса пароля недействительна или устарела.",
        "code": "invalid_reset_token",
    }
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_requests_are_limited_per_email_address_the_same_whether_it_exists(api_client, settings):
    settings.PASSWORD_RESET_PER_EMAIL = 2
    known = ParentFactory()
    for email in (known.email, "nobody@example.test"):
        statuses = [_ask(api_client, email).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
    refused = _ask(api_client, known.email.upper())
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert DBTaskResult.objects.filter(task_path=RESET_JOB).count() == 4  # refused requests queue nothing


@pytest.mark.django_db
def test_requests_are_limited_per_client_address(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset": "3/hour"},
    }
    statuses = [_ask(api_client, f"someone-{n}@example.test").status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]
    assert _confirm(api_client, "MQ", "x").status_code == 429  # the same budget guards the confirmations


@pytest.mark.django_db
def test_bad_requests_are_400_not_500(api_client):
    for body in ({}, {"email": "not-an-email"}, {"email": "x" * 300 + "@example.test"}, {"email": ["a@b.c"]}):
        response = api_client.post("/api/auth/password-reset/", body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    for body in ({}, {"uid": "MQ", "token": "x"}, {"uid": "x" * 100, "token": "y", "new_password": NEW_PASSWORD}):
        response = api_client.post("/api/auth/password-reset/confirm/", body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert User.objects.count() == 0
