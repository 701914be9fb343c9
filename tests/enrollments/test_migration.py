"""Subject and Enrollment moved from materials to enrollments: rows, references, content types and permissions kept.

In a child process on a scratch SQLite file: the database as main left it (every migration, then enrollments
unapplied), rows written there, a group granted the models' permissions and an admin log entry about a subject;
then `migrate` moves the models. (The same chain on PostgreSQL: the "migrate a seeded database" test.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MOVE = """
import json, django
django.setup()
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

call_command("migrate", verbosity=0)
call_command("migrate", "enrollments", "zero", verbosity=0)  # materials owns the tables again, as on main

from accounts.models import Role, User

teacher = User.objects.create(email="teacher@example.test", role=Role.TEACHER)
student = User.objects.create(email="student@example.test", role=Role.STUDENT)
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO materials_subject (id, name, description) VALUES (7, 'Algebra', '')")
    cursor.execute(
        "INSERT INTO materials_enrollment (id, student_id, subject_id, teacher_id, is_active, started_at, created_at)"
        " VALUES (9, %s, 7, %s, 1, '2026-01-10', '2026-01-10 10:00:00')",
        [student.pk, teacher.pk],
    )
old_types = {
    model: ContentType.objects.get(app_label="materials", model=model).pk for model in ("subject", "enrollment")
}
group = Group.objects.create(name="registrars")
group.permissions.add(*Permission.objects.filter(content_type_id__in=old_types.values()))
LogEntry.objects.create(
    user=teacher, content_type_id=old_types["subject"], object_id="7", object_repr="Algebra", action_flag=1
)

call_command("migrate", verbosity=0)

from enrollments.models import Enrollment, Subject

enrollment = Enrollment.objects.select_related("subject", "student", "teacher").get()
tables = connection.introspection.table_names()
print(json.dumps({
    "subjects": list(Subject.objects.values_list("pk", "name")),
    "enrollment": [enrollment.pk, enrollment.subject.name, enrollment.student.email, enrollment.teacher.email],
    "tables": sorted(t for t in tables if t.endswith(("_subject", "_enrollment"))),
    "types": {
        model: list(ContentType.objects.filter(model=model).values_list("pk", "app_label"))
        for model in ("subject", "enrollment")
    },
    "old_types": old_types,
    "granted": sorted(
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    ),
    "logged": [LogEntry.objects.get().content_type.app_label],
}))
"""


@pytest.mark.slow
def test_subject_and_enrollment_move_with_their_rows_content_types_and_permissions(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'move.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("REDIS_URL", None)
    completed = subprocess.run(
        [sys.executable, "-c", MOVE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    moved = json.loads(completed.stdout.strip().splitlines()[-1])
    assert moved["subjects"] == [[7, "Algebra"]]
    assert moved["enrollment"] == [9, "Algebra", "student@example.test", "teacher@example.test"]
    assert moved["tables"] == ["enrollments_enrollment", "enrollments_subject"]
    # The very content type rows moved (same ids), so what was granted on them or logged about them follows.
    assert moved["types"] == {
        "subject": [[moved["old_types"]["subject"], "enrollments"]],
        "enrollment": [[moved["old_types"]["enrollment"], "enrollments"]],
    }
    assert moved["granted"] == sorted(
        f"enrollments.{action}_{model}"
        for action in ("add", "change", "delete", "view")
        for model in ("subject", "enrollment")
    )
    assert moved["logged"] == ["enrollments"]
