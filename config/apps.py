from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Configuration and API plumbing: settings, the error contract, pagination, parsing, throttles, health.

    No models (its old migrations end by handing the job models to `jobs`), no commands."""

    name = "config"
    verbose_name = "Platform"

    def ready(self):
        from django.urls import register_converter

        from config.parsing import IdConverter

        # `<id:pk>` in URL patterns: a bounded id (config.parsing), never an unbounded `<int:...>`.
        register_converter(IdConverter, "id")
