from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"

    def ready(self) -> None:
        # Imported here, where Django allows importing models (AppConfig.ready); an enrollments module only.
        from enrollments import profiles

        profiles.register()
