from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data of every app at any scale (`manage.py seed_demo`, `demo/seeding/`), built through the apps' public
    models and functions. The top layer: it imports every app and no app imports it."""

    name = "demo"
    verbose_name = "Demo data"
