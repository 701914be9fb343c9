from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide plumbing: API errors, pagination, throttles, health, the job worker command."""

    name = "config"
    verbose_name = "Platform"
