"""Our ASGI application with Django's stock ASGI handler instead of config.asgi_handler (for comparison:
`BENCH_SERVERS=daphne,daphne-stock,gunicorn make bench`)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from config.health import HealthFastPath  # noqa: E402

application = HealthFastPath(django_asgi_app)
