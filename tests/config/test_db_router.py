"""config.db_router on real databases: the test database is the primary, and a second database copied from the
migrated template (an empty schema) plays the replica, so where a read went shows in what it sees: rows written to
the primary are not on the "replica". SQLite: two files; PostgreSQL: two databases on the same server."""

import copy
import socket
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.handlers.exception import convert_exception_to_response
from django.db import connections, router, transaction
from django.http import JsonResponse
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from knox.models import AuthToken

from accounts.models import User
from chat.models import ChatRoom, Message
from config import db_router
from tests import databases
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.conftest import TEMPLATE

ALIAS = "replica_0"


pytestmark = pytest.mark.django_db(transaction=True, databases=["default", ALIAS])


@pytest.fixture(scope="module", autouse=True)
def replica_database(django_db_setup, django_db_blocker, pytestconfig):
    """`replica_0`: a copy of the empty migrated template. Module-scoped, so it is registered before each test's
    database setup (which then allows it) and removed after the module."""
    with django_db_blocker.unblock():
        primary = connections["default"]
        name = primary.settings_dict["NAME"] + ("-replica" if primary.vendor == "sqlite" else "_replica")
        databases.clone(pytestconfig.stash[TEMPLATE], name)
        connections.settings[ALIAS] = copy.deepcopy(connections.settings["default"]) | {"NAME": name}
    yield name
    with django_db_blocker.unblock():
        connection = connections[ALIAS]
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
        del connections[ALIAS]
        del connections.settings[ALIAS]
        databases.template_drop(name)


@pytest.fixture
def replica(settings):
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    settings.DATABASE_STICKY_SECONDS = 5
    db_router.health.forget()
    yield
    db_router.health.forget()


def count_users(request):
    return JsonResponse({"users": User.objects.count()})


def write_then_count(request):
    StudentFactory()
    return JsonResponse({"users": User.objects.count()})


def count_in_transaction(request):
    with transaction.atomic():
        return JsonResponse({"users": User.objects.count()})


def serve(view, method: str = "get", user=None, path: str = "/x/"):
    """One request through the middleware, as Django's handler runs it (exceptions become 500 responses)."""
    request = getattr(RequestFactory(), method)(path)
    if user is not None:
        request.user = user  # what DRF's authentication does to the Django request
    middleware = db_router.ReplicaRoutingMiddleware(convert_exception_to_response(view))
    return middleware(request)


def users_seen(view=count_users, **kwargs) -> int:
    response = serve(view, **kwargs)
    assert response.status_code == 200, response.content
    return int(response.content.decode().split(":")[1].strip(" }"))


def test_without_replicas_the_middleware_passes_through(settings):
    settings.DATABASE_REPLICAS = []
    StudentFactory()
    assert users_seen() == 1


def test_a_request_reads_the_replica_and_everything_else_reads_the_primary(replica):
    StudentFactory.create_batch(2)  # on the primary only
    assert users_seen() == 0  # the request's read: the (empty) replica
    assert User.objects.count() == 2  # outside a request (worker, commands, sockets): the primary


def test_a_non_safe_request_reads_the_primary(replica):
    StudentFactory()
    for method in ("post", "put", "patch", "delete"):
        assert users_seen(method=method) == 1


def test_a_request_that_writes_reads_the_primary_from_then_on(replica):
    StudentFactory()
    assert users_seen(write_then_count) == 2


def test_reads_in_a_transaction_stay_on_the_primary(replica):
    StudentFactory()
    assert users_seen(count_in_transaction) == 1


def test_token_session_and_chat_reads_go_to_the_primary(replica):
    request_state = db_router.RequestState(request=RequestFactory().get("/"))
    token = db_router._state.set(request_state)
    try:
        for model in (AuthToken, Session, Message, ChatRoom):
            assert router.db_for_read(model) == "default", model
        assert router.db_for_read(User) == ALIAS
    finally:
        db_router._state.reset(token)


def test_migrations_only_on_the_primary(replica):
    assert router.allow_migrate("default", "accounts")
    assert not router.allow_migrate(ALIAS, "accounts")


def test_the_writer_reads_the_primary_for_the_sticky_seconds_others_the_replica(replica, settings):
    settings.DATABASE_STICKY_SECONDS = 1
    writer, other = TeacherFactory(), TeacherFactory()
    assert users_seen(method="post", user=writer) == 2
    assert cache.get(db_router.STICKY_KEY.format(user_id=writer.pk)) is not None  # in the shared cache
    assert users_seen(user=writer) == 2  # read-your-writes: the primary
    assert users_seen(user=other) == 0  # the replica
    deadline = time.monotonic() + 30
    while users_seen(user=writer) != 0:  # once the marker expires, back to the replica
        assert time.monotonic() < deadline, "the sticky marker did not expire"
        time.sleep(0.05)


def test_a_failed_non_safe_request_does_not_make_its_user_sticky(replica):
    user = TeacherFactory()

    def refuse(request):
        return JsonResponse({"detail": "no"}, status=400)

    assert serve(refuse, method="post", user=user).status_code == 400
    assert cache.get(db_router.STICKY_KEY.format(user_id=user.pk)) is None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broken_replica(replica):
    """The replica's address made unreachable (a folder that does not exist, a closed port); restored after."""
    connection = connections[ALIAS]
    saved = dict(connection.settings_dict)

    def close():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()

    close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-folder/replica.sqlite3"
    else:
        connection.settings_dict["PORT"] = _closed_port()
    yield
    close()
    connection.settings_dict.update(saved)


def test_a_replica_that_does_not_answer_is_skipped(broken_replica):
    StudentFactory()
    assert users_seen() == 1  # the primary, no error
    assert not db_router.health.usable(ALIAS)  # remembered: the next requests do not try it
    assert users_seen() == 1


def test_a_replica_that_fails_mid_request_is_marked_down_and_the_request_answered_from_the_primary(replica):
    """A connection that dies under a request (a stopped replica terminates its backends): the request is run again
    on the primary and the replica skipped from then on."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("terminates the replica's backend: PostgreSQL")
    StudentFactory()
    runs = []

    def count_twice(request):
        runs.append(User.objects.count())
        if len(runs) == 1:
            replica_pid = connections[ALIAS].connection.info.backend_pid
            with connections["default"].cursor() as cursor:  # outside the router: a plain cursor on the primary
                cursor.execute("SELECT pg_terminate_backend(%s)", [replica_pid])
        return JsonResponse({"users": User.objects.count()})

    assert users_seen(count_twice) == 1
    connections[ALIAS].close()  # as Django does at the end of every request (request_finished)
    assert runs == [0, 1]  # first run on the replica until it failed, the second on the primary
    assert not db_router.health.usable(ALIAS)


def test_the_health_check_is_cached_per_process(replica, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3
    now = [1000.0]
    health = db_router.ReplicaHealth(clock=lambda: now[0])
    assert health.usable(ALIAS)
    health.mark_down(ALIAS)
    assert not health.usable(ALIAS)  # not rechecked before DATABASE_REPLICA_CHECK_SECONDS
    now[0] += 3
    assert health.usable(ALIAS)  # rechecked: it answers


def test_a_replica_lagging_past_the_bound_is_skipped(replica, settings):
    """The probe's answer (replay lag in seconds) against DATABASE_REPLICA_MAX_LAG; a database that is not in
    recovery (this test's stand-in) answers 0. A real streaming replica with replay paused: tests/deploy."""
    assert db_router.probe(ALIAS) == 0.0
    settings.DATABASE_REPLICA_MAX_LAG = -1  # any lag is too much
    assert not db_router.ReplicaHealth().usable(ALIAS)
    settings.DATABASE_REPLICA_MAX_LAG = 10
    assert db_router.ReplicaHealth().usable(ALIAS)


@hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["get", "head", "post", "patch", "delete"]), st.integers(0, 2), st.booleans()),
        max_size=8,
    )
)
def test_a_request_reads_the_replica_exactly_when_nothing_pins_it_to_the_primary(replica, steps):
    """Any sequence of requests by three users, each writing or not: a request reads the primary iff its method is
    not safe, it wrote before reading, or its user wrote in an earlier request (within the sticky seconds)."""
    users = TeacherFactory.create_batch(3)
    for user in users:
        cache.delete(db_router.STICKY_KEY.format(user_id=user.pk))
    sticky = [False, False, False]
    on_primary = User.objects.count()
    for method, who, writes in steps:
        if writes:
            on_primary += 1
        expected = on_primary if (method not in ("get", "head") or writes or sticky[who]) else 0
        response = serve(write_then_count if writes else count_users, method=method, user=users[who])
        assert response.status_code == 200
        if method != "head":
            assert int(response.content.decode().split(":")[1].strip(" }")) == expected
        sticky[who] = sticky[who] or writes or method not in ("get", "head")
    User.objects.all().delete()
