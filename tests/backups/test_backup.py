"""`make backup` / `make restore` (backups/archive.py, `manage.py backup` / `manage.py restore`).

The heavy proof: a database seeded by `seed_demo --scale small` plus media files, dumped while two writer processes
post chat messages (and write media files) through the service layer, restored into a fresh database and media
folder: every table's row count equals the count read in the dump's own snapshot, and every file's checksum equals
the source's. The writers keep writing through the whole backup, so the source's counts move on while the dump's
stay those of its snapshot; the test checks that they did move (the snapshot was taken under load).

PostgreSQL: the server of DATABASE_URL when it is PostgreSQL (databases `<its name>_bk_<pid>_*`, dropped after),
else a private cluster (tests/pgcluster.py).
"""

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings

from backups.archive import BackupError, restore
from tests.faults.stack import wait_until
from tests.pgcluster import PrivateCluster, unavailable_reason

ROOT = Path(settings.BASE_DIR)

WRITER = """
import os, pathlib, uuid
from chat.models import Participant
from chat.services import message_post
index = int(os.environ["WRITER_INDEX"])
stop = pathlib.Path(os.environ["WRITER_STOP"])
media = pathlib.Path(os.environ["MEDIA_ROOT"]) / "load"
media.mkdir(parents=True, exist_ok=True)
member = Participant.objects.filter(read_only=False, user__is_active=True).select_related("user").order_by("id")[index]
sent = 0
while not stop.exists():
    message_post(sender=member.user, room_id=member.room_id, text=f"load {index} {sent}", client_id=str(uuid.uuid4()))
    sent += 1
    if sent % 10 == 0:
        (media / f"w{index}-{sent}.bin").write_bytes(os.urandom(2048))
"""


def app_env(database_url: str, media_root: Path, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "REDIS_", "CACHE_", "DATABASE_", "MEDIA_", "BACKUP_"))
    }
    return env | {
        "THEBOT_DOTENV": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DATABASE_POOL": "0",
        "MEDIA_ROOT": str(media_root),
        "LOG_LEVEL": "WARNING",
        "REQUEST_LOG_LEVEL": "WARNING",
        **extra,
    }


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, ROOT / "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    if check:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608  # our table names


def checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@contextlib.contextmanager
def two_databases():
    """(source url, target url) on the DATABASE_URL server if PostgreSQL, else on a private cluster."""
    if settings.DATABASE_URL.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(settings.DATABASE_URL)
        name = f"{parts.path.lstrip('/')}_bk_{os.getpid()}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        names = [f"{name}_source", f"{name}_restored"]
        with psycopg.connect(admin, autocommit=True) as conn:
            for database in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
                conn.execute(f'CREATE DATABASE "{database}"')
        try:
            yield [urlunsplit(parts._replace(path=f"/{database}")) for database in names]
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                for database in names:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        return
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = PrivateCluster()
    try:
        yield [cluster.create_database("source"), cluster.create_database("restored")]
    finally:
        cluster.remove()


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_backup_taken_under_load_restores_every_row_and_file(tmp_path):
    with two_databases() as (source, target):
        media, restored_media, backups = tmp_path / "media", tmp_path / "restored-media", tmp_path / "backups"
        env = app_env(source, media)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--scale", "small", "--output", str(tmp_path / "logins.json"))
        extra = {"nested/deeper/zero.bin": b"", "nested/блок.txt": "юникод".encode(), "big.bin": os.urandom(300_000)}
        for name, data in extra.items():
            (media / name).parent.mkdir(parents=True, exist_ok=True)
            (media / name).write_bytes(data)
        seeded_files = checksums(media)
        assert len(seeded_files) > len(extra)  # seed_demo stored files of its own

        stop = tmp_path / "stop"
        started = count(source, "chat_message")
        writers = [
            subprocess.Popen(
                [sys.executable, ROOT / "manage.py", "shell", "-c", WRITER],
                env=env | {"WRITER_INDEX": str(index), "WRITER_STOP": str(stop)},
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for index in (0, 1)
        ]
        try:
            wait_until(lambda: count(source, "chat_message") >= started + 50, "the writers posting")
            before = count(source, "chat_message")
            made = manage(env | {"BACKUP_DIR": str(backups)}, "backup")
            after = count(source, "chat_message")
            wait_until(lambda: count(source, "chat_message") > after, "writes after the backup")
        finally:
            stop.touch()
            for writer in writers:
                _, errors = writer.communicate(timeout=120)
                assert writer.returncode == 0, errors.decode()[-3000:]
        assert "backup " in made.stdout

        (folder,) = backups.iterdir()
        manifest = json.loads((folder / "manifest.json").read_text())
        tables = manifest["database"]["tables"]
        # The dump's snapshot fell inside the backup: at least what was there before it, at most what was after.
        assert before <= tables["public.chat_message"] <= after
        assert after > before, "the writers did not write during the backup"
        assert count(source, "chat_message") > tables["public.chat_message"]

        done = manage(app_env(target, restored_media), "restore", "--from", str(folder))
        assert "all equal to the manifest" in done.stdout
        # Checked again here, independently of the command: every table, every file.
        with psycopg.connect(target, autocommit=True) as conn:
            restored_tables = {
                f"{schema}.{table}"
                for schema, table in conn.execute(
                    "SELECT schemaname, tablename FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            }
        assert restored_tables == set(tables)
        assert len(tables) > 30
        for name, rows in tables.items():
            assert count(target, name.split(".", 1)[1]) == rows, name
        restored_files = checksums(restored_media)
        assert restored_files == {name: entry["sha256"] for name, entry in manifest["media"]["files"].items()}
        assert seeded_files.items() <= restored_files.items()  # every file there before the backup, byte for byte
        source_now = checksums(media)
        assert all(source_now[name] == digest for name, digest in restored_files.items())

        # Never over live data: the restored database is not empty now.
        again = manage(app_env(target, tmp_path / "other-media"), "restore", "--from", str(folder), check=False)
        assert again.returncode != 0
        assert "not empty" in again.stderr
        # A damaged archive is refused before anything is written.
        archive = folder / "media.tar"
        damaged = bytearray(archive.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        archive.write_bytes(bytes(damaged))
        with pytest.raises(BackupError, match="checksum differs"):
            restore(folder=folder, database_url=target, media_root=tmp_path / "never")
        assert not (tmp_path / "never").exists()


def test_backup_and_restore_refuse_sqlite_with_a_clear_error(tmp_path):
    env = app_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "media", BACKUP_DIR=str(tmp_path / "backups"))
    for command in ("backup", "restore"):
        done = manage(env, command, check=False)
        assert done.returncode != 0
        assert "need PostgreSQL" in done.stderr, done.stderr[-2000:]
