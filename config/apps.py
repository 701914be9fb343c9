from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide plumbing: API errors, pagination, throttles, health, the job worker command."""

    name = "config"
    verbose_name = "Platform"

    def ready(self):
        from django.urls import register_converter

        from config.parsing import IdConverter

        # `<id:pk>` in URL patterns: a bounded id (config.parsing), never an unbounded `<int:...>`.
        register_converter(IdConverter, "id")
