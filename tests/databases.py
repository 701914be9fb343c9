"""Test databases from a template: the ~60 migrations run once per test run, not once per xdist worker.

The controlling process (`pytest_sessionstart` in tests/conftest.py; under xdist the controller, serially the only
process) migrates a template database once: `test_<name>_template` on PostgreSQL, the file
`db.sqlite3-test_template` on SQLite. Each worker's `django_db_setup` (tests/conftest.py) then copies it to its own
test database, whose name pytest-django suffixes with the worker id (`test_<name>_gw0`, `db.sqlite3-test_gw0`):
`CREATE DATABASE … TEMPLATE …` on PostgreSQL, a file copy on SQLite. Workers drop their copies at the end and the
controller the template.
"""

import os
import shutil
import time

from django.conf import settings
from django.db import connections

ALIAS = "default"
TEMPLATE_SUFFIX = "_template"


def template_name() -> str:
    """The template's name: the test database's (before any worker suffix) with `_template`."""
    return connections[ALIAS].creation._get_test_db_name() + TEMPLATE_SUFFIX


def template_build(name: str) -> None:
    """Migrate a fresh template database `name` (an old one is replaced), then close every connection to it."""
    connection = connections[ALIAS]
    original_name, original_test_name = connection.settings_dict["NAME"], connection.settings_dict["TEST"]["NAME"]
    connection.settings_dict["TEST"]["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        if connection.vendor == "sqlite":
            # A plain file that workers can copy while nobody writes it (the test settings use WAL).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=DELETE")
    finally:
        _close(connection)
        connection.settings_dict["TEST"]["NAME"] = original_test_name
        connection.settings_dict["NAME"] = settings.DATABASES[ALIAS]["NAME"] = original_name


def template_drop(name: str) -> None:
    connection = connections[ALIAS]
    if connection.vendor == "sqlite":
        _remove_sqlite_file(name)
        return
    _close(connection)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


def clone(template: str, target: str) -> None:
    """Copy the template to `target` (replacing an old `target`)."""
    connection = connections[ALIAS]
    _close(connection)
    if connection.vendor == "sqlite":
        _remove_sqlite_file(target)
        shutil.copyfile(template, target)
        return
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)} WITH (FORCE)")
        # Workers clone at the same moment; PostgreSQL refuses a copy while another session is connected to the
        # template (none should be: the controller closed its connections), so retry that case for a while.
        deadline = time.monotonic() + 30
        while True:
            try:
                cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(template)}")
                return
            except Exception as error:
                if "is being accessed by other users" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def use(target: str) -> str:
    """Point the connection at the test database `target`; returns the name it pointed at before."""
    connection = connections[ALIAS]
    _close(connection)
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = settings.DATABASES[ALIAS]["NAME"] = target
    return old_name


def _close(connection) -> None:
    connection.close()
    if hasattr(connection, "close_pool"):  # PostgreSQL's pool keeps connections open otherwise
        connection.close_pool()


def _remove_sqlite_file(name: str) -> None:
    for path in (name, f"{name}-wal", f"{name}-shm", f"{name}-journal"):
        if os.path.exists(path):
            os.remove(path)
