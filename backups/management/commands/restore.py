"""`manage.py restore` (`make restore`): a backup of backups/archive.py into an empty database and media folder."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.archive import BackupError, check_postgres, newest, restore


class Command(BaseCommand):
    help = (
        "Restore a backup (default: the newest in BACKUP_DIR) into DATABASE_URL, which must be an empty database, "
        "and MEDIA_ROOT, which must be empty or missing; verify every row count and file checksum."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", help="the backup folder (default: the newest in BACKUP_DIR)")

    def handle(self, *args, **options):
        try:
            check_postgres(settings.DATABASE_URL)
            folder = Path(options["source"]) if options["source"] else newest(Path(settings.BACKUP_DIR))
            checked = restore(folder=folder, database_url=settings.DATABASE_URL, media_root=Path(settings.MEDIA_ROOT))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"restored {folder}: {checked['tables']} tables and {checked['rows']} rows, "
            f"{checked['files']} media files, all equal to the manifest"
        )
