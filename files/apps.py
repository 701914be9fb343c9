from django.apps import AppConfig


class FilesConfig(AppConfig):
    """Private uploaded files, shared by materials, assignments and chat: checks, storage names, downloads."""

    name = "files"
