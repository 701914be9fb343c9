from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Backups: `manage.py backup` / `manage.py restore` (`make backup` / `make restore`), PostgreSQL and the media
    folder in one consistent snapshot with a manifest of row counts and file checksums (backups/archive.py)."""

    name = "backups"
    verbose_name = "Backups"
