"""Backups of PostgreSQL and the media folder (`make backup`, `make restore`; docs/operations.md "Backup and restore").

A backup is a folder `BACKUP_DIR/<UTC time>/` holding:

- `database.dump`: `pg_dump --format=custom` of DATABASE_URL, taken in a snapshot this module exports
  (`pg_export_snapshot()` in a REPEATABLE READ transaction held open until pg_dump ends, `pg_dump --snapshot`), so
  the row count of every table, read in that same transaction, is exactly what the dump holds, however busy the
  database is;
- `media.tar`: every file under MEDIA_ROOT, each read once into memory, hashed and archived from the same bytes;
- `manifest.json`: the dump's and the archive's SHA-256, every table's row count, every file's SHA-256 and size.

The media archive is read after the snapshot is taken: a file uploaded meanwhile is archived without its row (an
orphan, harmless); a file deleted meanwhile (files are deleted after the commit of their row's deletion) is missing
from the archive though its row is in the dump. Restoring checks everything the manifest says, and fails loudly.

Restore goes into an EMPTY database (DATABASE_URL: create it first) and an empty or missing MEDIA_ROOT, never over
live data: `pg_restore --single-transaction --exit-on-error --no-owner --no-privileges`, then every table's row
count and every file's checksum are compared with the manifest.
"""

import datetime
import glob
import hashlib
import io
import json
import shutil
import subprocess  # nosec B404  # pg_dump / pg_restore with argument lists
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import psycopg
from psycopg import sql

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot proceed or does not verify: the message says what and why."""


def pg_tool(name: str) -> str:
    """The newest installed pg_dump/pg_restore (it must be at least the server's version), else the one on PATH."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} is missing (Debian: apt-get install postgresql-client)")
    return found


def check_postgres(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        raise BackupError("backup and restore need PostgreSQL (DATABASE_URL=postgres://...); SQLite: copy its file")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    return cursor.fetchall()


def row_counts(cursor) -> dict[str, int]:
    counts = {}
    for schema, table in _tables(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


@dataclass
class Backup:
    folder: Path
    manifest: dict = field(default_factory=dict)


def _dump(database_url: str, target: Path) -> tuple[dict[str, int], str]:
    """pg_dump in an exported snapshot; the row counts read in it. (counts, snapshot id)"""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        command = [
            pg_tool("pg_dump"),
            "--format=custom",
            f"--snapshot={snapshot}",
            f"--file={target}",
            f"--dbname={database_url}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=24 * 3600)  # noqa: S603  # nosec B603
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        with conn.cursor() as cursor:
            counts = row_counts(cursor)
        conn.execute("COMMIT")
    return counts, snapshot


def _archive_media(media_root: Path, target: Path) -> dict[str, dict]:
    files = {}
    with tarfile.open(target, "w") as archive:
        if media_root.is_dir():
            for path in sorted(p for p in media_root.rglob("*") if p.is_file() and not p.is_symlink()):
                name = path.relative_to(media_root).as_posix()
                try:
                    data = path.read_bytes()  # once: hashed and archived from the same bytes
                except FileNotFoundError:  # deleted between the listing and the read
                    continue
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(path.stat().st_mtime) if path.exists() else 0
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
                files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return files


def backup(*, database_url: str, media_root: Path, backup_dir: Path, now: datetime.datetime | None = None) -> Backup:
    check_postgres(database_url)
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    folder = backup_dir / stamp
    folder.mkdir(parents=True, exist_ok=False)
    try:
        counts, snapshot = _dump(database_url, folder / DUMP)
        files = _archive_media(media_root, folder / MEDIA)
        manifest = {
            "format": FORMAT,
            "created": stamp,
            "database": {"file": DUMP, "sha256": _sha256_file(folder / DUMP), "snapshot": snapshot, "tables": counts},
            "media": {"file": MEDIA, "sha256": _sha256_file(folder / MEDIA), "files": files},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Backup(folder, manifest)


def newest(backup_dir: Path) -> Path:
    found = sorted(p.parent for p in backup_dir.glob(f"*/{MANIFEST}"))
    if not found:
        raise BackupError(f"no backup in {backup_dir}")
    return found[-1]


def _load_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder / MANIFEST}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST}: unknown format {manifest.get('format')!r}")
    for part in ("database", "media"):
        path = folder / manifest[part]["file"]
        if not path.is_file() or _sha256_file(path) != manifest[part]["sha256"]:
            raise BackupError(f"{path}: missing or its checksum differs from the manifest")
    return manifest


def _safe_member(member: tarfile.TarInfo, files: dict) -> bool:
    name = PurePosixPath(member.name)
    return member.isfile() and not name.is_absolute() and ".." not in name.parts and member.name in files


def restore(*, folder: Path, database_url: str, media_root: Path) -> dict:
    """Into an empty database and an empty (or missing) media folder; verified against the manifest. What was
    compared: {"tables": n, "rows": n, "files": n}."""
    check_postgres(database_url)
    manifest = _load_manifest(folder)
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
        if _tables(cursor):
            raise BackupError("the target database is not empty: restore goes into a new database (createdb)")
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"the target media folder {media_root} is not empty")
    command = [
        pg_tool("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={database_url}",
        str(folder / manifest["database"]["file"]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=24 * 3600)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
        counts = row_counts(cursor)
    expected = manifest["database"]["tables"]
    if counts != expected:
        differ = sorted(t for t in set(counts) | set(expected) if counts.get(t) != expected.get(t))
        raise BackupError(f"row counts differ from the manifest after pg_restore: {differ[:20]}")

    files = manifest["media"]["files"]
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / manifest["media"]["file"]) as archive:
        members = [member for member in archive.getmembers() if _safe_member(member, files)]
        archive.extractall(media_root, members=members, filter="data")  # members checked above
    for name, expected_file in files.items():
        path = media_root / name
        if not path.is_file() or _sha256_file(path) != expected_file["sha256"]:
            raise BackupError(f"{path}: missing or its checksum differs from the manifest after extraction")
    return {"tables": len(counts), "rows": sum(counts.values()), "files": len(files)}
