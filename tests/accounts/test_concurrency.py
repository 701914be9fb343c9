"""Races on PostgreSQL (SQLite serializes writers, so these only mean something on a real server)."""

import threading

import pytest
from django.db import connection, connections

from accounts.errors import AccountError
from accounts.models import User
from people import services


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_admins_creating_one_email_at_once_get_one_user_and_the_others_a_400():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    barrier = threading.Barrier(4)
    outcomes = []

    def create(spelling: str) -> None:
        try:
            barrier.wait()
            services.user_create(email=spelling, role="student", password="race-secret-password-1")
            outcomes.append("created")
        except AccountError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    spellings = ["race@example.test", "RACE@example.test", "Race@Example.test", "race@EXAMPLE.test"]
    threads = [threading.Thread(target=create, args=(spelling,)) for spelling in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "email_taken", "email_taken", "email_taken"]
    assert User.objects.filter(email__iexact="race@example.test").count() == 1
