"""No double booking, guaranteed by PostgreSQL even under concurrent requests.

Two exclusion constraints over `tstzrange(start, end, '[)')` (half-open: a lesson may start when the previous one
ends) for the teacher and for the student, limited to scheduled lessons so that cancelling frees the slot. They
need the `btree_gist` extension (equality on the bigint column inside a GiST index).

They are created here with SQL, on PostgreSQL only, rather than declared in `Lesson.Meta`: Meta is the same on every
database and SQLite has no exclusion constraints, so a declared one would either break SQLite or make
`makemigrations --check` disagree between the two. On SQLite the service serializes check and insert instead (its
transactions begin IMMEDIATE, see settings). The constraint names live in `scheduling.models`.
"""

from django.db import migrations

CONSTRAINTS = {
    "lesson_teacher_no_overlap": "teacher_id",
    "lesson_student_no_overlap": "student_id",
}


def create_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f'ALTER TABLE scheduling_lesson ADD CONSTRAINT {name} EXCLUDE USING gist '
            f'({column} WITH =, tstzrange(start, "end", \'[)\') WITH &&) WHERE (status = \'scheduled\')'
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_lesson DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(create_constraints, drop_constraints, elidable=False)]
