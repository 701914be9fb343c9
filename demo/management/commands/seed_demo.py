"""`manage.py seed_demo --scale small|medium|large [--seed N]`: demo data of every app, and the demo logins
(one per role, plus a pool per role for the load scripts) printed and written to a JSON file.

What is made, how fast and why it is idempotent: see `demo/seeding/__init__.py`.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import caching
from demo.seeding import SCALES, seed_demo

# bandit B105 (below): the documented password of the demo logins (README); seed_demo refuses to run in production.
DEFAULT_PASSWORD = "demo-pass-2026"  # noqa: S105  # nosec B105


class Command(BaseCommand):
    help = "Seed demo data at a scale (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--password", default=None, help="Demo password (default: DEMO_PASSWORD or built-in).")
        parser.add_argument("--output", default=str(settings.BASE_DIR / "var" / "demo_logins.json"))

    def handle(self, *args, scale: str, seed: int, password: str | None, output: str, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to seed demo users in production mode.")
        password = password or settings.DEMO_PASSWORD or DEFAULT_PASSWORD
        result = seed_demo(scale=scale, seed=seed, password=password)
        # Rows written in bulk, past the services: answers a shared cache holds are stale.
        caching.invalidate(caching.PEOPLE, caching.SUBJECTS, caching.ENROLLMENTS)
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = ("scale", "seed", "logins", "pool")
        path.write_text(json.dumps({key: result[key] for key in keys}, indent=2))

        if result["created"]:
            made = ", ".join(f"{count} {name}" for name, count in result["counts"].items())
            self.stdout.write(f"Seeded scale {result['scale']} (seed {seed}) in {result['seconds']} s: {made}.")
            if options["verbosity"] > 1:
                self.stdout.write("Seconds per step: " + ", ".join(f"{k} {v}" for k, v in result["steps"].items()))
        else:
            self.stdout.write(f"Demo data (scale {result['scale']}) already present: nothing added; password reset.")
        self.stdout.write(f"Demo logins (password for all: {password}):")
        for role, login in result["logins"].items():
            self.stdout.write(f"  {role:8} {login['email']}")
        pooled = sum(len(logins) for logins in result["pool"].values())
        self.stdout.write(f"Plus {pooled} pool logins for load tests. Written to {path}")
