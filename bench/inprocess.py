"""One endpoint served in-process by Django's handler (no server, no network), N times: the Django side of
`make bench-instructions` (bench/instructions.py), which runs it under callgrind to count CPU instructions.

Usage (from a tree's root, with that tree's DATABASE_URL): `python bench/inprocess.py <path> <email> <count>`.
The requests go through the whole middleware chain and the view, authenticated by a fresh token, exactly as a
client's would; only the HTTP server and the socket are left out.
"""

import gc
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402 - after setup, like every import here
from django.test import Client  # noqa: E402
from django.urls import get_resolver  # noqa: E402
from knox.models import AuthToken  # noqa: E402

# As config/asgi.py does in the server: every view module loaded, then the loaded objects taken out of the garbage
# collector's full passes (otherwise each pass walks every loaded module, and a tree with more apps would pay for
# that per request here, as it does not in production).
get_resolver().url_patterns  # noqa: B018
gc.collect()
gc.freeze()


def main(path: str, email: str, count: int) -> None:
    user = get_user_model().objects.get(email=email)
    _, token = AuthToken.objects.create(user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    client.get(path)  # warm: first-request imports and caches are not what is measured
    for _ in range(count):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
