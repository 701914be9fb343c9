"""A database made before the layout of issue 17 migrates to it with every row kept.

The tree of BEFORE_LAYOUT (the last commit before the refactor, taken with `git archive`, no worktree) migrates a
scratch database and seeds it (`seed_demo --scale small`) with its own code; the current tree then migrates that
database. Every table of the old database must still hold its rows: under the same name, or under the name it was
moved to (models moved between apps keep their class name, so a table is matched by the part after its app label's
`_`: `config_periodicrun` became `jobs_periodicrun`). Content types of moved models move with them, so every old
permission row still exists and points at the same content type. Runs on a scratch SQLite file, and also on a
scratch PostgreSQL database when the test run itself is on PostgreSQL.
"""

import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.conf import settings

BEFORE_LAYOUT = "936d6cb"
ROOT = Path(settings.BASE_DIR)
# Rows the migration itself adds: one per migration applied.
GROWS_WITH_MIGRATIONS = {"django_migrations"}
# Rows post_migrate adds for models that are new in the layout (checked row by row below instead of by count).
GROWS_WITH_NEW_MODELS = {"django_content_type", "auth_permission"}

pytestmark = pytest.mark.slow


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory) -> Path:
    """The project as it was at BEFORE_LAYOUT, extracted into a temporary folder."""
    if _git("cat-file", "-e", f"{BEFORE_LAYOUT}^{{commit}}").returncode != 0:
        pytest.skip(f"git history with commit {BEFORE_LAYOUT} is not available (a shallow clone or an archive)")
    archive = _git("archive", "--format=tar", BEFORE_LAYOUT)
    assert archive.returncode == 0, archive.stderr.decode()[-2000:]
    tree = tmp_path_factory.mktemp("before_layout")
    tar_path = tree.parent / f"{tree.name}.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(tree, filter="data")
    tar_path.unlink()
    return tree


class Scratch:
    """A scratch database of one vendor: its URL for the subprocesses, and its tables with their row counts."""

    def __init__(self, vendor: str, tmp_path: Path):
        self.vendor = vendor
        if vendor == "sqlite":
            self.path = tmp_path / "before_layout.sqlite3"
            self.url = f"sqlite:///{self.path}"
            return
        db = settings.DATABASES["default"]
        self.name = f"thebot_layout_{uuid.uuid4().hex[:12]}"
        self.params = {
            "host": db["HOST"] or "127.0.0.1",
            "port": int(db["PORT"] or 5432),
            "user": db["USER"],
            "password": db["PASSWORD"] or None,
        }
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        self.url = f"postgres://{auth}@{self.params['host']}:{self.params['port']}/{self.name}"
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, sql: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            with sqlite3.connect(self.path) as conn:
                return conn.execute(sql).fetchall()
        with psycopg.connect(dbname=self.name, **self.params) as conn:
            return conn.execute(sql).fetchall()

    def row_counts(self) -> dict[str, int]:
        if self.vendor == "sqlite":
            tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        names = [name for (name,) in self.query(tables)]
        union = " UNION ALL ".join(f"SELECT '{name}', COUNT(*) FROM \"{name}\"" for name in names)  # noqa: S608  # names from the catalog
        return dict(self.query(union))


def _vendors() -> list:
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not on_postgres, reason="the test run is on SQLite (DATABASE_URL unset)"),
        ),
    ]


@pytest.fixture(params=_vendors())
def scratch(request, tmp_path):
    database = Scratch(request.param, tmp_path)
    yield database
    database.drop()


def _manage(tree: Path, scratch: Scratch, tmp_path: Path, *args: str) -> None:
    dropped = {"REDIS_URL", "DATABASE_URL", "CACHE_KEY_PREFIX", "DJANGO_ENV", "DEBUG", "SECRET_KEY", "MEDIA_ROOT"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env |= {
        "DATABASE_URL": scratch.url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "THEBOT_DOTENV": "0",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=tree, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{tree}: manage.py {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def _suffix(table: str) -> str:
    return table.split("_", 1)[1] if "_" in table else table


def _becomes(old: dict[str, int], new: dict[str, int]) -> dict[str, str]:
    """Each old table and the table it became: itself if it is still there, else the one new table (not an old one)
    whose name ends the same after the app label."""
    arrived = [table for table in new if table not in old]
    became = {}
    for table in old:
        if table in new:
            became[table] = table
            continue
        matches = [candidate for candidate in arrived if _suffix(candidate) == _suffix(table)]
        assert len(matches) == 1, f"old table {table} has {len(matches)} successors: {matches}"
        became[table] = matches[0]
    return became


def test_a_database_seeded_before_the_layout_migrates_with_every_row_kept(old_tree, scratch, tmp_path):
    _manage(old_tree, scratch, tmp_path, "migrate", "--noinput", "-v", "0")
    _manage(old_tree, scratch, tmp_path, "seed_demo", "--scale", "small", "--output", str(tmp_path / "logins.json"))
    before = scratch.row_counts()
    old_content_types = dict(scratch.query("SELECT id, model FROM django_content_type"))
    old_permissions = dict(scratch.query("SELECT id, content_type_id FROM auth_permission"))
    assert before["accounts_user"] > 0 and before["config_periodicrun"] == 0, "the old tree seeded its demo data"

    _manage(ROOT, scratch, tmp_path, "migrate", "--noinput", "-v", "0")
    after = scratch.row_counts()

    became = _becomes(before, after)
    counted = {
        table: (before[table], after[new]) for table, new in became.items() if table not in GROWS_WITH_MIGRATIONS
    }
    lost = {
        table: counts
        for table, counts in counted.items()
        if table not in GROWS_WITH_NEW_MODELS and len(set(counts)) > 1
    }
    assert lost == {}, f"row counts changed (old table: before, after): {lost}"
    assert all(new >= old for old, new in counted.values())
    assert all(new.startswith("jobs_") for table, new in became.items() if table.startswith("config_"))

    content_types = {row[0]: row[1:] for row in scratch.query("SELECT id, app_label, model FROM django_content_type")}
    assert {id_: content_types.get(id_, (None, None))[1] for id_ in old_content_types} == old_content_types
    permissions = dict(scratch.query("SELECT id, content_type_id FROM auth_permission"))
    assert {id_: permissions.get(id_) for id_ in old_permissions} == old_permissions
    installed = {(model._meta.app_label, model._meta.model_name) for model in apps.get_models()}
    stale = sorted(set(content_types.values()) - installed)
    assert stale == [], f"content types left behind by a moved model: {stale}"
