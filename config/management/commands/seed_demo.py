"""`manage.py seed_demo`: demo users of every role, linked to each other, printed and written to a JSON file.

Idempotent: a second run finds the same users (and resets their demo password). The QA issue grows this
into data at any scale; until then it seeds the small demo that `make run` needs.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User
from materials.models import Enrollment, Subject

DEMO_USERS = [
    ("admin@demo.thebot", Role.ADMIN, "Ada", "Admin"),
    ("teacher@demo.thebot", Role.TEACHER, "Tom", "Teacher"),
    ("tutor@demo.thebot", Role.TUTOR, "Tina", "Tutor"),
    ("parent@demo.thebot", Role.PARENT, "Paul", "Parent"),
    ("student@demo.thebot", Role.STUDENT, "Sam", "Student"),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo users of every role and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small"], default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--password", default=None, help="Demo password (default: DEMO_PASSWORD or built-in).")
        parser.add_argument("--output", default=str(settings.BASE_DIR / "var" / "demo_logins.json"))

    def handle(self, *args, scale: str, seed: int, password: str | None, output: str, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to seed demo users in production mode.")
        import os

        password = password or os.environ.get("DEMO_PASSWORD", "demo-pass-2026")
        with transaction.atomic():
            users = {}
            for email, role, first, last in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email, password, role=role, first_name=first, last_name=last)
                else:
                    user.set_password(password)
                    user.is_active = True
                    user.save(update_fields=["password", "is_active"])
                users[role] = user
            profile = users[Role.STUDENT].student_profile
            profile.tutor, profile.parent = users[Role.TUTOR], users[Role.PARENT]
            profile.save()
            subject, _ = Subject.objects.get_or_create(name="Mathematics", defaults={"description": "Demo subject"})
            Enrollment.objects.get_or_create(
                student=users[Role.STUDENT],
                subject=subject,
                is_active=True,
                defaults={"teacher": users[Role.TEACHER]},
            )
        logins = {role: {"email": user.email, "password": password, "id": user.pk} for role, user in users.items()}
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"scale": scale, "logins": logins}, indent=2))
        self.stdout.write(f"Demo logins (password for all: {password}):")
        for role, login in logins.items():
            self.stdout.write(f"  {role:8} {login['email']}")
        self.stdout.write(f"Written to {path}")
