"""`manage.py backup` (`make backup`): PostgreSQL and the media folder into BACKUP_DIR (backups/archive.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.archive import BackupError, backup


class Command(BaseCommand):
    help = "Back up DATABASE_URL (pg_dump, one snapshot) and MEDIA_ROOT (tar) into BACKUP_DIR, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="where the backup folder is made (default: BACKUP_DIR)")

    def handle(self, *args, **options):
        try:
            made = backup(
                database_url=settings.DATABASE_URL,
                media_root=Path(settings.MEDIA_ROOT),
                backup_dir=Path(options["dir"] or settings.BACKUP_DIR),
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        tables = made.manifest["database"]["tables"]
        files = made.manifest["media"]["files"]
        self.stdout.write(
            f"backup {made.folder}: {len(tables)} tables, {sum(tables.values())} rows, {len(files)} media files"
        )
