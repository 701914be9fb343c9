from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Configuration and API plumbing: settings, the error contract, pagination, parsing, throttles, health.

    No models (its old migrations end by handing the job models to `jobs`), no commands."""

    name = "config"
    verbose_name = "Platform"
