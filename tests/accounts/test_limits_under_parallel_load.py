"""Failed-login and password-change limits against real parallel clients: threads sending at once to a live server
(tests/parallel.py: a real socket, each request in its own thread with its own database connection), on
the configured cache (the embedded cache on SQLite, Redis in the PostgreSQL run).

A counting hasher holds every request that reaches the password hash until all the others have answered, so
whatever the scheduling, a limit checked before the hash but counted after it would let all of them in.
"""

import httpx
import pytest
from knox.models import AuthToken

from tests.accounts.counting_hasher import CountingMD5PasswordHasher
from tests.accounts.factories import DEFAULT_PASSWORD, AdminFactory, StudentFactory
from tests.parallel import at_once, live_server_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server_url():
    with live_server_url() as url:
        yield url


@pytest.fixture
def hasher():
    """The run's password hasher (tests/conftest.py), its gate open before and after the test."""
    CountingMD5PasswordHasher.open()
    yield CountingMD5PasswordHasher
    CountingMD5PasswordHasher.open()


def through_the_gate(count: int, send) -> list:
    """`count` parallel calls of `send()`, the hashes held until every call has answered or is waiting at the
    hash; then the hashes go on. The answers' status codes, in order of arrival."""
    settled = []

    def meanwhile(answers: list) -> None:
        settled.append(CountingMD5PasswordHasher.wait_until(lambda waiting: len(answers) + waiting >= count))
        CountingMD5PasswordHasher.open()

    answers = at_once(count, send, after_each=CountingMD5PasswordHasher.notify, meanwhile=meanwhile)
    assert settled == [True], f"{len(answers)} answers of {count}, {CountingMD5PasswordHasher.waiting} at the hash"
    return answers


def test_sixty_parallel_wrong_logins_reach_the_hash_at_most_the_limit_and_lock_the_account(
    server_url, hasher, settings
):
    student = StudentFactory()
    url = server_url + "/api/auth/login/"
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    hasher.hold()

    statuses = through_the_gate(
        60, lambda: httpx.post(url, json={"email": student.email, "password": "wrong"}, timeout=120).status_code
    )

    assert hasher.calls == limit
    assert sorted(statuses) == [401] * limit + [429] * (60 - limit)
    # The account is locked: the right password is refused too, before any hash.
    right = httpx.post(url, json={"email": student.email, "password": DEFAULT_PASSWORD}, timeout=120)
    assert right.status_code == 429
    assert 1 <= int(right.headers["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert hasher.calls == limit


def test_parallel_wrong_logins_from_one_address_reach_the_hash_at_most_its_limit(server_url, hasher, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 7
    url = server_url + "/api/auth/login/"
    hasher.hold()

    # Every guess names another account (unknown ones are hashed too, against a dummy hash).
    emails = iter([f"nobody{number}@example.test" for number in range(40)])
    statuses = through_the_gate(
        40, lambda: httpx.post(url, json={"email": next(emails), "password": "x"}, timeout=120).status_code
    )

    assert hasher.calls == 7
    assert sorted(statuses) == [401] * 7 + [429] * 33


def test_parallel_correct_and_wrong_logins_never_let_more_than_the_limit_of_failures_through(
    server_url, hasher, settings
):
    """The owner's correct logins hold a place while they are checked and give it back: the failures that reach the
    hash stay within the limit, and the owner is refused only when the places were full at that instant."""
    student = StudentFactory()
    url = server_url + "/api/auth/login/"
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    hasher.hold()
    passwords = iter(([DEFAULT_PASSWORD] * 2 + ["wrong"] * 8) * 3)

    statuses = through_the_gate(
        30, lambda: httpx.post(url, json={"email": student.email, "password": next(passwords)}, timeout=120).status_code
    )

    assert hasher.calls == limit  # the first `limit` places of 30 at once, whichever requests took them
    assert statuses.count(401) + statuses.count(200) == limit
    assert statuses.count(429) == 30 - limit


def test_parallel_wrong_admin_logins_reach_the_hash_at_most_the_limit_and_share_the_lock(server_url, hasher, settings):
    staff = AdminFactory(email="boss@example.test", password="boss-secret-password-1")
    login_page = server_url + "/admin/login/"
    csrf = httpx.get(login_page, timeout=120).cookies["csrftoken"]
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    hasher.hold()

    def guess() -> int:
        form = {"username": staff.email, "password": "wrong", "csrfmiddlewaretoken": csrf}
        return httpx.post(login_page, data=form, cookies={"csrftoken": csrf}, timeout=120).status_code

    statuses = through_the_gate(30, guess)

    assert hasher.calls == limit
    assert sorted(statuses) == [200] * limit + [429] * (30 - limit)  # the admin shows its form again on a failure
    api = httpx.post(
        server_url + "/api/auth/login/",
        json={"email": staff.email, "password": "boss-secret-password-1"},
        timeout=120,
    )
    assert api.status_code == 429


def test_fifty_parallel_password_change_guesses_reach_the_hash_at_most_the_rate(server_url, hasher, settings):
    student = StudentFactory()
    _, token = AuthToken.objects.create(user=student)
    url = server_url + "/api/profile/me/password/"
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["password_change"].split("/")[0])
    hasher.hold()

    def guess() -> int:
        body = {"old_password": "a-guess", "new_password": "a-new-long-password-42"}
        return httpx.post(url, json=body, headers={"Authorization": f"Token {token}"}, timeout=120).status_code

    statuses = through_the_gate(50, guess)

    assert sorted(statuses, key=str) == [400] * rate + [429] * (50 - rate)
    assert hasher.calls == rate
    student.refresh_from_db()
    assert student.check_password(DEFAULT_PASSWORD)
