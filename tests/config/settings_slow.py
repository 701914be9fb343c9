"""The project's settings with tests/config/urls_slow.py's extra view, for a server process started by a test."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.config.urls_slow"
